package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/config"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/auditlog"
	"github.com/parleyhq/parley/audit/forward"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// AuditSigningKey is the transit key that signs audit checkpoints when Vault is configured.
const AuditSigningKey = "parley-audit"

// OpenAuditSigner returns the signer of audit checkpoints and export manifests: an Ed25519 key
// in Vault transit when Vault is configured (so someone with database access cannot re-sign a
// rewritten history), else a local key file in the data folder whose public half is written
// beside it (audit-signing.pub) for publication.
func OpenAuditSigner(ctx context.Context, cfg *config.Config, keys vault.KeyProvider, rnd io.Reader) (audit.Signer, error) {
	if cfg.Vault.Enabled() {
		sk, ok := keys.(vault.SigningKeys)
		if !ok {
			return nil, fmt.Errorf("audit signer: key provider %s cannot sign", keys.Kind())
		}
		s, err := vault.NewKeySigner(ctx, sk, AuditSigningKey)
		if err != nil {
			return nil, fmt.Errorf("audit signer in Vault transit: %w", err)
		}
		return s, nil
	}
	path := filepath.Join(cfg.DataDir, "audit-signing.key")
	s, err := audit.LoadOrCreateFileSigner(path, rnd)
	if err != nil {
		return nil, fmt.Errorf("local audit signing key: %w", err)
	}
	if err := s.WritePublicKey(filepath.Join(cfg.DataDir, "audit-signing.pub")); err != nil {
		return nil, fmt.Errorf("publish audit signing key: %w", err)
	}
	return s, nil
}

// OpenAuditLog assembles the audit log over db with the configured signer.
func OpenAuditLog(ctx context.Context, cfg *config.Config, db *migrations.DB, keys vault.KeyProvider, alerts *Alerts,
	log *slog.Logger, rnd io.Reader, now func() time.Time) (*auditlog.Log, error) {
	signer, err := OpenAuditSigner(ctx, cfg, keys, rnd)
	if err != nil {
		return nil, err
	}
	m, err := pan.NewMasker(pan.Options{Mode: pan.ModeLast4})
	if err != nil {
		return nil, err
	}
	return auditlog.New(auditlog.Config{
		DB: db, Signer: signer, Masker: panMasker{m}, Alerter: alerts, Logger: log, Now: now, Node: cfg.NodeID,
		Retention: cfg.AuditRetention,
	})
}

// OpenAuditForwarder assembles the forwarding of the audit log to the configured syslog
// collector and JSON-lines file (PCI DSS 10.3.3), or returns nil when none is configured.
// Events and signed checkpoints go to each destination in sequence order; progress is a cursor
// per destination and tenant in the database, so a restarted node resumes where forwarding
// stopped. Destinations are named by their address or path, not by node: on several nodes a
// lease lets one node at a time forward to each, and another takes over from the same cursor
// when it stops. A failing destination raises AlertForwardFailed through alerts (error log,
// /readyz, console banner, count) and the alert clears when it accepts events again.
func OpenAuditForwarder(cfg *config.Config, db *migrations.DB, l *auditlog.Log, alerts *Alerts, log *slog.Logger, now func() time.Time) (*forward.Forwarder, error) {
	f := cfg.AuditForward
	if !f.Enabled() {
		return nil, nil
	}
	var sinks []forward.Sink
	if f.SyslogAddr != "" {
		tc, err := f.SyslogTLS()
		if err != nil {
			return nil, fmt.Errorf("audit forwarding: %w", err)
		}
		s, err := forward.NewSyslogSink(forward.SyslogConfig{Name: syslogDestination(f), Addr: f.SyslogAddr, TLS: tc, Hostname: cfg.NodeID})
		if err != nil {
			return nil, fmt.Errorf("audit forwarding: %w", err)
		}
		sinks = append(sinks, s)
	}
	if f.File != "" {
		s, err := forward.NewFileSink(fileDestination(f), f.File)
		if err != nil {
			return nil, fmt.Errorf("audit forwarding: %w", err)
		}
		sinks = append(sinks, s)
	}
	return forward.New(forward.Config{
		DB: db, Source: l, Recorder: l, Sinks: sinks, Alerter: alerts, Logger: log, Now: now, Node: cfg.NodeID,
		Interval: f.Interval, BatchSize: f.Batch, MinBackoff: f.Interval,
	})
}

// AuditForwardDestinations returns the names of the configured forwarding destinations, the
// names OpenAuditForwarder gives them and their cursors carry: `parley audit archive` refuses
// while one of them, reached yet or not, has not received the events it would remove.
func AuditForwardDestinations(cfg *config.Config) []string {
	f := cfg.AuditForward
	var names []string
	if f.SyslogAddr != "" {
		names = append(names, syslogDestination(f))
	}
	if f.File != "" {
		names = append(names, fileDestination(f))
	}
	return names
}

func syslogDestination(f config.AuditForward) string { return "syslog:" + f.SyslogAddr }

func fileDestination(f config.AuditForward) string { return "file:" + f.File }

// panMasker adapts the PAN masker to the audit log's Masker.
type panMasker struct{ m *pan.Masker }

func (p panMasker) Mask(s string) string { return p.m.MaskString(s) }

// Alerts collects the alerts of the audit controls (PCI DSS 10.7.2): each is logged at error level
// when raised, shown in /readyz and on the console banner while it stands, and counted.
type Alerts struct {
	Log *slog.Logger

	mu     sync.Mutex
	active map[string]audit.Alert
	raised map[audit.AlertKind]int64
}

var _ audit.Alerter = (*Alerts)(nil)

// Alert implements audit.Alerter.
func (a *Alerts) Alert(ctx context.Context, al audit.Alert) {
	key := string(al.Kind) + "|" + al.Tenant + "|" + al.Sink
	a.mu.Lock()
	if a.active == nil {
		a.active, a.raised = map[string]audit.Alert{}, map[audit.AlertKind]int64{}
	}
	if al.Cleared {
		delete(a.active, key)
	} else {
		a.active[key] = al
		a.raised[al.Kind]++
	}
	a.mu.Unlock()
	if al.Cleared {
		a.Log.WarnContext(ctx, "audit alert cleared", "alert", string(al.Kind), "tenant", al.Tenant, "sink", al.Sink)
		return
	}
	a.Log.ErrorContext(ctx, "AUDIT ALERT", "alert", string(al.Kind), "tenant", al.Tenant, "sink", al.Sink,
		"seq", al.Seq, "message", al.Message)
}

// Active returns the standing alerts, oldest first.
func (a *Alerts) Active() []audit.Alert {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]audit.Alert, 0, len(a.active))
	for _, al := range a.active {
		out = append(out, al)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// Raised returns how many alerts of each kind were raised since start (a metric).
func (a *Alerts) Raised() map[audit.AlertKind]int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[audit.AlertKind]int64, len(a.raised))
	for k, v := range a.raised {
		out[k] = v
	}
	return out
}

// auditCheck is the readiness probe of the audit log: the log's tables answer and no alert
// stands. Standing alerts are listed in the detail, with how many of each kind were raised since
// start. A forwarding failure is shown but keeps the node ready: events stay in the database
// and are sent when the destination is back, and taking nodes out of service would not bring
// it back sooner.
func auditCheck(l *auditlog.Log, alerts *Alerts) func(ctx context.Context) (map[string]any, error) {
	return func(ctx context.Context) (map[string]any, error) {
		pending, err := l.Pending(ctx)
		if err != nil {
			return nil, err
		}
		d := map[string]any{"pending": pending}
		if raised := alerts.Raised(); len(raised) > 0 {
			d["alerts_raised"] = raised
		}
		act := alerts.Active()
		if len(act) == 0 {
			return d, nil
		}
		kinds := make([]string, 0, len(act))
		var failing []string
		for _, al := range act {
			kinds = append(kinds, string(al.Kind))
			if al.Kind != audit.AlertForwardFailed {
				failing = append(failing, string(al.Kind))
			}
		}
		d["alerts"] = kinds
		if len(failing) > 0 {
			return d, fmt.Errorf("audit alerts standing: %v", failing)
		}
		return d, nil
	}
}

// auditWriter appends to the audit log inside the caller's transaction, or in its own when the
// event changes nothing else. Errors are returned so the audited action fails (fail closed).
type auditWriter struct{ log *auditlog.Log }

func (w auditWriter) write(ctx context.Context, tx *gorm.DB, ev audit.Event) error {
	if ev.Tenant == "" {
		ev.Tenant = audit.SystemTenant
	}
	if tx != nil {
		return w.log.Append(ctx, tx, ev)
	}
	return w.log.Record(ctx, ev)
}

// accountAuditor adapts account events to the audit log.
type accountAuditor struct{ auditWriter }

var _ account.Auditor = accountAuditor{}

func (a accountAuditor) Record(ctx context.Context, tx *gorm.DB, e account.Event) error {
	kind := audit.ActorUser
	if e.ActorKind == account.ActorSystem {
		kind = audit.ActorSystem
	}
	return a.write(ctx, tx, audit.Event{
		Tenant: e.TenantID, Actor: audit.Actor{ID: e.ActorID, Kind: kind},
		Origin: audit.Origin{IP: e.ClientIP, UserAgent: e.UserAgent},
		Action: audit.Action(e.Action), Target: audit.Target{Kind: e.Target.Kind, ID: e.Target.ID},
		Outcome: audit.Outcome(e.Outcome), Reason: e.Reason, RequestID: e.RequestID, Details: e.Details,
	})
}

// authzAuditor adapts authorization events to the audit log.
type authzAuditor struct{ auditWriter }

var _ authz.Auditor = authzAuditor{}

func (a authzAuditor) Record(ctx context.Context, tx *gorm.DB, e authz.Event) error {
	return a.write(ctx, tx, audit.Event{
		Tenant: e.TenantID, Actor: audit.Actor{ID: e.ActorID, Kind: audit.ActorUser},
		Origin: audit.Origin{IP: e.ClientIP, UserAgent: e.UserAgent},
		Action: audit.Action(e.Action), Target: audit.Target{Kind: e.TargetKind, ID: e.TargetID},
		Outcome: audit.Outcome(e.Outcome), Reason: e.Reason, RequestID: e.RequestID, Details: e.Details,
	})
}

// TenantCreated runs inside the transaction that creates a tenant (setup, `parley user create`):
// it creates the tenant's transit key and records the creation in the audit log, so a tenant
// exists only with its key and its record.
func (a *App) TenantCreated(ctx context.Context, tx *gorm.DB, t tenant.Tenant, owner account.User) error {
	ctx = migrations.WithTenant(ctx, t.ID)
	tx = tx.WithContext(ctx)
	if err := a.Envelope.CreateTenantKey(ctx, t.ID); err != nil {
		return fmt.Errorf("create the tenant's encryption key: %w", err)
	}
	return a.Audit.Append(ctx, tx, audit.Event{
		Tenant: t.ID, Actor: audit.Actor{ID: owner.ID, Role: "owner", Kind: audit.ActorUser},
		Action: audit.ActionSetupCompleted, Target: audit.Target{Kind: "tenant", ID: t.ID},
		Outcome: audit.Success, Details: map[string]string{"owner_email": owner.Email},
	})
}

// Background runs the application's background work until ctx ends: the audit log's sealer and
// checkpointer (which records audit start and stop), the audit verifier, the audit forwarding
// when configured, the authorization policy's reload poller, the evidence reports' six-year
// sweep, the evidence report runner and the retention job (each of the last two on one node
// at a time). If one part stops with an error the others are stopped and the error is
// returned, so the caller can stop serving rather than run without its audit controls.
func (a *App) Background(ctx context.Context) error {
	fwd, err := OpenAuditForwarder(a.Config, a.DB, a.Audit, a.Alerts, a.Log, a.Now)
	if err != nil {
		return err
	}
	if fwd != nil { // GET /metrics reports its destinations while it runs
		a.auditForwarder.Store(fwd)
		defer a.auditForwarder.Store(nil)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts := 8
	errc := make(chan error, parts+1)
	if fwd != nil {
		parts++
		go func() { errc <- fwd.Run(ctx) }()
	}
	go func() { errc <- a.Audit.Run(ctx) }()
	go func() { errc <- a.AuditMonitor.Run(ctx) }()
	go func() { a.Enforcer.Run(ctx); errc <- nil }()
	go func() { a.Accounts.RunHousekeeping(ctx, time.Hour); errc <- nil }()
	go func() { errc <- a.Retention.Run(ctx) }()
	go func() { a.RunEvidenceSweep(ctx, 24*time.Hour); errc <- nil }()
	go func() { a.ComplianceDrift.Run(ctx, DriftEvery); errc <- nil }()
	go func() { a.EvidenceJobs.Run(ctx, 30*time.Second); errc <- nil }()
	go func() {
		err := a.RunChat(ctx)
		// Sockets are hijacked connections the HTTP server's Shutdown does not track: close them
		// with 1001 (going away) so clients reconnect to another node at once.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = a.ChatHTTP.Shutdown(sctx)
		// The engine then runs the deliveries (fan-out, amends) the last acks handed over.
		_ = a.Chat.Shutdown(sctx)
		errc <- err
	}()
	var first error
	for range parts {
		err := <-errc
		if err != nil && ctx.Err() == nil && first == nil {
			first = err
			cancel()
		}
	}
	return first
}

// escalation adapts the authorization service's grant and outrank rules to the account service.
type escalation struct{ s *authz.Service }

var _ account.Escalation = escalation{}

func (e escalation) CheckGrant(ctx context.Context, by account.Actor, role, departmentID string) error {
	return e.s.CheckGrant(ctx, authzActor(by), role, departmentID)
}

func (e escalation) CheckOutranks(ctx context.Context, by account.Actor, userID string) error {
	return e.s.CheckOutranks(ctx, authzActor(by), userID)
}

func authzActor(by account.Actor) authz.Actor {
	return authz.Actor{TenantID: by.TenantID, UserID: by.UserID, ClientIP: by.Origin.IP,
		UserAgent: by.Origin.UserAgent, RequestID: by.Origin.RequestID}
}

// auditCardRefused records a card number refused where it would have been stored in clear
// (card_number_not_allowed): who sent it, from where, the route and the field, never the value.
// The refusal already stands; a failure to record it is logged.
func (a *App) auditCardRefused(c echo.Context, e *api.Error) {
	req := c.Request()
	ev := audit.Event{
		Tenant: audit.SystemTenant, Actor: audit.Actor{ID: "anonymous", Kind: audit.ActorVisitor},
		Origin: audit.Origin{IP: c.RealIP(), UserAgent: req.UserAgent()},
		Action: audit.ActionCardRefused, Target: audit.Target{Kind: "field", ID: e.Field},
		Outcome: audit.Failure, Reason: "card number refused in a field stored in clear", RequestID: api.RequestID(c),
		Details: map[string]string{"method": req.Method, "route": c.Path()},
	}
	if p := api.PrincipalOf(c); p != nil {
		ev.Tenant, ev.Actor = p.TenantID, audit.Actor{ID: p.UserID, Kind: audit.ActorUser}
	}
	if err := a.Audit.Record(req.Context(), ev); err != nil {
		a.Log.ErrorContext(req.Context(), "audit card refusal", "request_id", ev.RequestID, "cause", err.Error())
	}
}

// integrityDrift is the Integrity page's compliance drift panel: read-only (the fixes are linked
// from the administrator's overview, which the auditor does not reach).
func (a *App) integrityDrift(ctx context.Context, tenantID string) (any, error) {
	d, err := a.ComplianceDrift.For(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	d = d.WithLinks(nil)
	return &d, nil
}
