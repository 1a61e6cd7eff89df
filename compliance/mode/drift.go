package mode

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/compliance/evidence"
)

// Item is one drifting check of an organisation: an automated check that fails while the mode
// covers one of its controls.
type Item struct {
	Check    string   `json:"check"`
	Title    string   `json:"title"`
	Controls []string `json:"controls"`
	Evidence string   `json:"evidence"`
	Details  []string `json:"details,omitempty"`
	// Fix says how to bring the check back; Link is the console page that does it ("" when
	// the fix is outside the console: the installation's configuration, the shell).
	Fix  string `json:"fix"`
	Link string `json:"link,omitempty"`
}

// Drift is an organisation's drift as last computed.
type Drift struct {
	Mode  Mode   `json:"mode"`
	Items []Item `json:"items"`
	// ComputedAt is zero until the first computation after the mode was turned on.
	ComputedAt time.Time `json:"computed_at,omitzero"`
}

// Pending reports that the mode is on and its drift not computed yet.
func (d Drift) Pending() bool { return d.Mode.On() && d.ComputedAt.IsZero() }

// fixes says, per check, how to fix it and where.
var fixes = map[string][2]string{
	evidence.CheckPasswordPolicy:   {"Raise the password policy to the pci-dss-4 profile (12 characters, letters and digits, history 4) or the NIST profile (15 characters).", "/security"},
	evidence.CheckLockout:          {"Lock accounts after at most 10 failed sign-ins for at least 30 minutes.", "/security"},
	evidence.CheckIdleTimeout:      {"Set the idle timeout to 15 minutes or less.", "/security"},
	evidence.CheckMFA:              {"Require MFA of every console user, and have those not enrolled set it up (or disable their accounts).", "/security"},
	evidence.CheckInactiveAccounts: {"Disable accounts unused for 90 days, and set automatic disabling to 90 days or less.", "/users"},
	evidence.CheckAccessReview:     {"Sign off an access review.", "/access-review"},
	evidence.CheckTLS:              {"Serve TLS (PARLEY_TLS_CERT, PARLEY_TLS_KEY) or declare the TLS proxy (PARLEY_TRUSTED_PROXIES with an https:// PARLEY_PUBLIC_URL).", ""},
	evidence.CheckKeyProvider:      {"Configure Vault transit (VAULT_ADDR with VAULT_TOKEN or an AppRole) instead of the development key provider.", "/keys"},
	evidence.CheckKeyRotation:      {"Rotate the organisation's key, then rewrap the data keys (`parley keys rewrap`).", "/keys"},
	evidence.CheckAuditChain:       {"Investigate the audit chain: verify it, export a bundle, and keep the server's logs.", "/audit"},
	evidence.CheckAuditRetention:   {"Keep audit events at least 365 days (PARLEY_AUDIT_RETENTION_DAYS) and forward them to a central store (PARLEY_AUDIT_FORWARD_SYSLOG or PARLEY_AUDIT_FORWARD_FILE).", ""},
	evidence.CheckPANScan:          {"Run a PAN discovery scan (`parley scan`) at least every 90 days and remove any card number it finds.", ""},
	evidence.CheckTranscriptEmail:  {"Turn transcript e-mail off on every site.", "/sites"},
	evidence.CheckRetention:        {"Set a retention period for every kind of data.", "/retention"},
	evidence.CheckCardMasking:      {"Mask card numbers (BIN and last four, or last four) and keep the secure card form available.", "/redaction"},
	evidence.CheckTimeSource:       {"Synchronise the host clock with NTP and write timestamps in UTC.", ""},
}

// Fix returns how to fix a check and the console page that does it.
func Fix(check string) (text, link string) {
	f := fixes[check]
	return f[0], f[1]
}

// Compute runs, under m, every automated check that supports one of m's controls, except those in
// skip, and returns the failing ones as drift. Checks that need a person (manual) are not drift.
func Compute(ctx context.Context, in evidence.Input, m Mode, skip []string) Drift {
	d := Drift{Mode: m, ComputedAt: in.Now.UTC()}
	for _, c := range evidence.Checks() {
		if slices.Contains(skip, c.ID) {
			continue
		}
		controls := m.Controls(c.ID)
		if len(controls) == 0 {
			continue
		}
		res := c.Run(ctx, in)
		if res.Status != evidence.Fail {
			continue
		}
		fix, link := Fix(c.ID)
		d.Items = append(d.Items, Item{Check: c.ID, Title: c.Title, Controls: controls, Evidence: res.Evidence,
			Details: res.Details, Fix: fix, Link: link})
	}
	return d
}

// Modes reads organisations' modes (Store).
type Modes interface {
	Get(ctx context.Context, tenantID string) (State, error)
	InMode(ctx context.Context) (map[string]Mode, error)
}

// Monitor keeps every organisation's drift, computed in the background: on a timer and after
// each relevant change (Changed). Readers (the console, /readyz, /metrics) only read the cache,
// so no request ever waits for a computation.
type Monitor struct {
	Modes Modes
	// Input returns the evidence input of an organisation now (its sources and the platform).
	Input func(tenantID string) evidence.Input
	// Skip are checks left out of drift: the audit chain, whose background verifier raises its
	// own alerts (and whose check would write a checkpoint each time).
	Skip []string
	// Timeout bounds one organisation's computation.
	Timeout time.Duration
	Now     func() time.Time
	Log     *slog.Logger

	mu       sync.RWMutex
	byTenant map[string]Drift
	lastRun  time.Time
	kick     chan string
	once     sync.Once
}

func (m *Monitor) init() {
	m.once.Do(func() {
		m.kick = make(chan string, 64)
		if m.Log == nil {
			m.Log = slog.New(slog.DiscardHandler)
		}
		if m.Now == nil {
			m.Now = time.Now
		}
		if m.Timeout == 0 {
			m.Timeout = 30 * time.Second
		}
	})
}

// For returns an organisation's drift as last computed; a mode turned on and not computed yet
// is Pending.
func (m *Monitor) For(ctx context.Context, tenantID string) (Drift, error) {
	m.mu.RLock()
	d, ok := m.byTenant[tenantID]
	m.mu.RUnlock()
	st, err := m.Modes.Get(ctx, tenantID)
	if err != nil {
		return Drift{}, err
	}
	if !ok || d.Mode != st.Mode {
		// The mode changed since the last computation (here or on another node).
		return Drift{Mode: st.Mode}, nil
	}
	d.Items = slices.Clone(d.Items) // the caller's to change (links it may not show)
	return d, nil
}

// WithLinks returns d with only the fix links reaches accepts (a page the reader may open).
func (d Drift) WithLinks(reaches func(path string) bool) Drift {
	d.Items = slices.Clone(d.Items)
	for i := range d.Items {
		if d.Items[i].Link != "" && (reaches == nil || !reaches(d.Items[i].Link)) {
			d.Items[i].Link = ""
		}
	}
	return d
}

// Totals are the drift across organisations, for /readyz and /metrics: counts only.
type Totals struct {
	// Organisations are those in a mode; Drifting those with at least one drifting check;
	// Checks the drifting (organisation, check) pairs.
	Organisations int       `json:"organisations_in_mode"`
	Drifting      int       `json:"organisations_drifting"`
	Checks        int       `json:"drifting_checks"`
	ComputedAt    time.Time `json:"computed_at,omitzero"`
}

// Totals returns the drift across organisations as last computed.
func (m *Monitor) Totals() Totals {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t := Totals{ComputedAt: m.lastRun}
	for _, d := range m.byTenant {
		t.Organisations++
		if len(d.Items) > 0 {
			t.Drifting++
			t.Checks += len(d.Items)
		}
	}
	return t
}

// Changed asks for an organisation's drift to be computed again soon; it never blocks.
func (m *Monitor) Changed(tenantID string) {
	m.init()
	select {
	case m.kick <- tenantID:
	default: // a full refresh is already due; the timer catches up
	}
}

// Refresh computes the drift of every organisation in a mode and replaces the cache.
func (m *Monitor) Refresh(ctx context.Context) error {
	m.init()
	modes, err := m.Modes.InMode(ctx)
	if err != nil {
		return err
	}
	next := make(map[string]Drift, len(modes))
	for id, md := range modes {
		next[id] = m.compute(ctx, id, md)
	}
	m.mu.Lock()
	m.byTenant, m.lastRun = next, m.Now().UTC()
	m.mu.Unlock()
	return nil
}

// RefreshTenant computes one organisation's drift again.
func (m *Monitor) RefreshTenant(ctx context.Context, tenantID string) error {
	m.init()
	st, err := m.Modes.Get(ctx, tenantID)
	if err != nil {
		return err
	}
	var d Drift
	if st.Mode.On() {
		d = m.compute(ctx, tenantID, st.Mode)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byTenant == nil {
		m.byTenant = map[string]Drift{}
	}
	if st.Mode.On() {
		m.byTenant[tenantID] = d
	} else {
		delete(m.byTenant, tenantID)
	}
	return nil
}

func (m *Monitor) compute(ctx context.Context, tenantID string, md Mode) Drift {
	ctx, cancel := context.WithTimeout(ctx, m.Timeout)
	defer cancel()
	return Compute(ctx, m.Input(tenantID), md, m.Skip)
}

// Run refreshes every organisation's drift every period, and an organisation's at once after
// Changed, until ctx ends.
func (m *Monitor) Run(ctx context.Context, every time.Duration) {
	m.init()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
			m.Log.ErrorContext(ctx, "compliance drift: refresh", "cause", err.Error())
		}
		if !m.wait(ctx, t.C) {
			return
		}
	}
}

// wait serves Changed requests until the timer ticks (true) or ctx ends (false).
func (m *Monitor) wait(ctx context.Context, tick <-chan time.Time) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-tick:
			return true
		case id := <-m.kick:
			if err := m.RefreshTenant(ctx, id); err != nil && ctx.Err() == nil {
				m.Log.ErrorContext(ctx, "compliance drift: refresh", "tenant", id, "cause", err.Error())
			}
		}
	}
}
