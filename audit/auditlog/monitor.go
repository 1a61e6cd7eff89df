package auditlog

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley/audit"
)

// MonitorConfig tunes the background verifier.
type MonitorConfig struct {
	// Interval between verification runs (default 5 minutes). Each run re-verifies every
	// chain from its latest signed checkpoint before the previously verified head.
	Interval time.Duration
	// FullInterval between runs that recompute every chain from its start (default 24 hours).
	FullInterval time.Duration
	// Alerter receives audit.AlertChainDamaged and audit.AlertVerifyFailed, and their clearing; the Log's
	// alerter when nil.
	Alerter audit.Alerter
}

// MonitorStatus is the background verifier's latest finding, for /readyz, metrics and the
// console banner.
type MonitorStatus struct {
	LastRun  time.Time `json:"last_run"`
	LastFull time.Time `json:"last_full"`
	// Healthy is false while any chain is damaged or the last run failed.
	Healthy bool `json:"healthy"`
	// Damaged lists the damaged chains' reports.
	Damaged []Report `json:"damaged,omitempty"`
	// Error is why the last run could not complete, if it could not.
	Error string `json:"error,omitempty"`
	// Verified counts the events recomputed by the last run.
	Verified int64 `json:"verified"`
}

// Monitor verifies every chain periodically and raises an alert when one is damaged
// (PCI DSS 10.3.4, 10.7.2). It records audit.ActionAuditVerifyFailed in the damaged tenant's chain
// once per incident.
type Monitor struct {
	l            *Log
	interval     time.Duration
	fullInterval time.Duration
	alerter      audit.Alerter

	mu       sync.Mutex
	status   MonitorStatus
	verified map[string]int64
	damaged  map[string]Report
	known    map[string]bool
}

// NewMonitor returns a Monitor over l.
func NewMonitor(l *Log, cfg MonitorConfig) *Monitor {
	m := &Monitor{l: l, interval: cfg.Interval, fullInterval: cfg.FullInterval, alerter: cfg.Alerter,
		verified: map[string]int64{}, damaged: map[string]Report{}, known: map[string]bool{}}
	if m.interval <= 0 {
		m.interval = 5 * time.Minute
	}
	if m.fullInterval <= 0 {
		m.fullInterval = 24 * time.Hour
	}
	if m.alerter == nil {
		m.alerter = l.alerter
	}
	if m.alerter == nil {
		m.alerter = audit.AlertFunc(nil)
	}
	m.status.Healthy = true
	return m
}

// Run verifies at once and then every Interval until ctx ends.
func (m *Monitor) Run(ctx context.Context) error {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		_, _ = m.Check(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Status returns the latest finding.
func (m *Monitor) Status() MonitorStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.status
	s.Damaged = append([]Report(nil), s.Damaged...)
	return s
}

// Check runs one verification pass over every chain and returns the reports.
func (m *Monitor) Check(ctx context.Context) ([]Report, error) {
	now := m.l.nowUTC()
	m.mu.Lock()
	full := now.Sub(m.status.LastFull) >= m.fullInterval
	m.mu.Unlock()
	tenants, err := m.l.Tenants(ctx)
	if err != nil {
		m.fail(ctx, now, err)
		return nil, err
	}
	// A chain seen before is verified even if its head and checkpoints have vanished since.
	m.mu.Lock()
	for t := range m.known {
		if !slices.Contains(tenants, t) {
			tenants = append(tenants, t)
		}
	}
	for _, t := range tenants {
		m.known[t] = true
	}
	m.mu.Unlock()
	var (
		reports  []Report
		verified int64
	)
	for _, tenant := range tenants {
		m.mu.Lock()
		from := m.verified[tenant] + 1
		_, wasDamaged := m.damaged[tenant]
		m.mu.Unlock()
		if full || wasDamaged {
			from = 0
		}
		r, err := m.l.Verify(ctx, tenant, from)
		if err != nil {
			m.fail(ctx, now, fmt.Errorf("tenant %q: %w", tenant, err))
			return reports, err
		}
		m.mu.Lock()
		seen, ok := m.verified[tenant]
		m.mu.Unlock()
		if ok && r.OK() && r.Head < seen {
			// The head never moves back: events this node verified before were cut off,
			// together with the head record and any checkpoint after them.
			r.Damage = &audit.Damage{Kind: audit.DamageTruncated, Seq: r.Head + 1,
				Detail: fmt.Sprintf("the chain head went back from %d to %d since the last verification", seen, r.Head)}
		}
		verified += r.Events
		reports = append(reports, r)
		m.record(ctx, r)
	}
	m.mu.Lock()
	if m.status.Error != "" {
		m.status.Error = ""
		defer m.alerter.Alert(ctx, audit.Alert{Kind: audit.AlertVerifyFailed, Cleared: true, Message: "verification runs again", At: now})
	}
	m.status.LastRun, m.status.Verified = now, verified
	if full {
		m.status.LastFull = now
	}
	m.status.Damaged = m.status.Damaged[:0]
	for _, r := range m.damaged {
		m.status.Damaged = append(m.status.Damaged, r)
	}
	m.status.Healthy = len(m.damaged) == 0
	m.mu.Unlock()
	return reports, nil
}

// record updates the per-tenant state from a report and alerts on changes.
func (m *Monitor) record(ctx context.Context, r Report) {
	m.mu.Lock()
	_, was := m.damaged[r.Tenant]
	if r.OK() {
		delete(m.damaged, r.Tenant)
		m.verified[r.Tenant] = r.ToSeq
	} else {
		m.damaged[r.Tenant] = r
		delete(m.verified, r.Tenant)
	}
	m.mu.Unlock()
	switch {
	case !r.OK() && !was:
		msg := "audit chain damaged: " + r.Damage.String()
		m.l.log.ErrorContext(ctx, "audit chain verification failed", "tenant", r.Tenant, "seq", r.Damage.Seq, "kind", string(r.Damage.Kind))
		m.alerter.Alert(ctx, audit.Alert{Kind: audit.AlertChainDamaged, Tenant: r.Tenant, Seq: r.Damage.Seq, Message: msg, At: m.l.nowUTC()})
		err := m.l.Record(ctx, audit.Event{
			Tenant: r.Tenant, Actor: audit.Actor{ID: m.l.node, Kind: audit.ActorSystem}, Origin: audit.Origin{Node: m.l.node},
			Action: audit.ActionAuditVerifyFailed, Target: audit.Target{Kind: "audit_chain", ID: r.Tenant}, Outcome: audit.Failure,
			Reason:  string(r.Damage.Kind),
			Details: map[string]string{"first_bad_seq": strconv.FormatInt(r.Damage.Seq, 10), "detail": r.Damage.Detail},
		})
		if err != nil {
			m.l.log.ErrorContext(ctx, "audit verification failure could not be recorded", "tenant", r.Tenant, "err", err)
		}
	case r.OK() && was:
		m.alerter.Alert(ctx, audit.Alert{Kind: audit.AlertChainDamaged, Tenant: r.Tenant, Cleared: true, Message: "audit chain verifies again", At: m.l.nowUTC()})
	}
}

func (m *Monitor) fail(ctx context.Context, now time.Time, err error) {
	m.mu.Lock()
	first := m.status.Error == ""
	m.status.Error, m.status.Healthy, m.status.LastRun = err.Error(), false, now
	m.mu.Unlock()
	m.l.log.ErrorContext(ctx, "audit verification could not run", "err", err)
	if first {
		m.alerter.Alert(ctx, audit.Alert{Kind: audit.AlertVerifyFailed, Message: "audit verification could not run: " + err.Error(), At: now})
	}
}
