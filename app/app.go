// Package app assembles Parley from its configuration: it opens the database, builds every store
// and service with its dependencies as struct fields, and the HTTP server over them. `parley
// serve` and the test harness build the application through the same New.
package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounthttp"
	"github.com/parleyhq/parley/app/account/captcha"
	"github.com/parleyhq/parley/app/account/passhash"
	"github.com/parleyhq/parley/app/account/totp"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/auditapi"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/canned"
	"github.com/parleyhq/parley/app/canned/cannedhttp"
	"github.com/parleyhq/parley/app/cardform"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/chathttp"
	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/limit"
	"github.com/parleyhq/parley/app/cobrowse"
	"github.com/parleyhq/parley/app/compliancehttp"
	"github.com/parleyhq/parley/app/config"
	"github.com/parleyhq/parley/app/console"
	"github.com/parleyhq/parley/app/evidencehttp"
	"github.com/parleyhq/parley/app/integrity"
	"github.com/parleyhq/parley/app/keysapi"
	"github.com/parleyhq/parley/app/redaction"
	"github.com/parleyhq/parley/app/redaction/redactionhttp"
	"github.com/parleyhq/parley/app/report"
	"github.com/parleyhq/parley/app/report/reporthttp"
	"github.com/parleyhq/parley/app/retention"
	"github.com/parleyhq/parley/app/retention/retentionhttp"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/setup"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/tenant/tenanthttp"
	"github.com/parleyhq/parley/app/transcript"
	"github.com/parleyhq/parley/app/transcript/transcripthttp"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/app/visitor/visitorhttp"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/auditlog"
	"github.com/parleyhq/parley/audit/forward"
	"github.com/parleyhq/parley/compliance/evidence"
	"github.com/parleyhq/parley/compliance/mode"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/password"
	"github.com/parleyhq/parley/policy/rbac"
	"github.com/parleyhq/parley/vault"
	"github.com/parleyhq/parley/web"
)

// Options are the parts of the application a caller may replace (tests inject a clock).
type Options struct {
	Log  *slog.Logger
	Now  func() time.Time
	Rand io.Reader
	// AccountAuditor records sign-in and account events in the audit log. Without it every
	// audited account action is refused (fail closed).
	AccountAuditor account.Auditor
	// MFASealer encrypts TOTP secrets with the key provider. Without it MFA cannot be enrolled
	// or checked; there is no plaintext fallback.
	MFASealer account.SecretSealer
	// AuthzAuditor records role changes, access denials, escalation attempts and access review
	// sign-offs. Without it role changes and sign-offs are refused (fail closed).
	AuthzAuditor authz.Auditor
	// Keys replaces the configured key provider (Vault transit or the local dev provider).
	Keys vault.KeyProvider
	// CardForms are the secure card form's deployment choices: the URL other nodes reach this
	// node at for card data it holds (empty on a single node), a shared node-to-node secret
	// instead of the key provider's per-tenant one, a tokenization endpoint, the TTL.
	CardForms cardform.Options
	// Cobrowse are co-browsing's deployment choices (queue and rate limits, sweep interval); its
	// node URL is the card form's.
	Cobrowse cobrowse.Options
	// Version is the build's version, published by GET /metrics ("dev" when empty).
	Version string
}

// App is an assembled Parley: its database, services and HTTP server.
type App struct {
	Config   *config.Config
	Log      *slog.Logger
	DB       *migrations.DB
	Now      func() time.Time
	Tenants  *tenant.Store
	Users    *account.Store
	Accounts *account.Service
	// AccountSessions is the session middleware; the authorization guard runs its Authenticate
	// before any permission check.
	AccountSessions *accounthttp.Sessions
	// Enforcer decides every permission from the cached policy; Authz edits roles and
	// assignments; AccessReviews runs PCI DSS 7.2.4 reviews; Guard enforces each route's
	// permission after the session middleware.
	Enforcer      *rbac.Enforcer
	Authz         *authz.Service
	AccessReviews *authz.Reviews
	Guard         *authz.Guard
	Setup         *setup.Service
	// Keys is the key provider; Envelope seals every sensitive field with per-scope data keys;
	// KeyTools rotates, rewraps and reports on tenant keys.
	Keys     vault.KeyProvider
	Envelope *vault.Envelope
	KeyTools *vault.Keys
	// InstallationKeys are the installation's own keys, wrapped by the key provider (the sign-in
	// identity key).
	InstallationKeys *vault.InstallationKeys
	Server           *server.Server
	Pages            *web.Pages

	// Audit is the hash-chained audit log; AuditMonitor verifies it in the background; Alerts
	// holds the audit controls' standing alerts.
	Audit        *auditlog.Log
	AuditMonitor *auditlog.Monitor
	Alerts       *Alerts
	// auditForwarder is the forwarder Background runs (nil when forwarding is off or stopped),
	// for GET /metrics.
	auditForwarder atomic.Pointer[forward.Forwarder]

	// Redaction holds each tenant's PAN masking mode and redaction rules; RedactionPolicies is
	// their compiled, cached form for the chat path (RedactionPolicies.For, MaskMode).
	Redaction         *redaction.Store
	RedactionPolicies *redaction.Policies
	// CardForms is the secure card form: card data held in this node's memory only.
	CardForms *cardform.Service
	// Cobrowse relays co-browsing sessions, sanitised, in memory only.
	Cobrowse *cobrowse.Service

	// Chat is the chat engine and ChatHTTP serves it (widget API, sockets, console chat API);
	// ChatHub fans its signals out on this node and ChatRelay carries them to the other nodes
	// (PostgreSQL LISTEN/NOTIFY, or NATS with PARLEY_FANOUT_URL; nil on SQLite); Visitors tracks the sites' visitors. RunChat runs their
	// background work; call ChatHTTP.Shutdown, then Chat.Shutdown, before the HTTP server's.
	Chat      *chat.Service
	ChatHTTP  *chathttp.Module
	ChatHub   *hub.Hub
	ChatRelay hub.Relay
	Visitors  *visitor.Store
	// Transcripts reads, searches, exports and annotates conversations within each user's scope;
	// its Holds are the retention service's legal holds.
	Transcripts *transcript.Service

	// Retention holds the retention periods and legal holds, deletes conversations by
	// crypto-shredding and runs the retention job (Background, one node at a time).
	Retention *retention.Service

	// Canned keeps the canned messages (personal, department and shared) the composer offers.
	Canned *canned.Service

	// ComplianceModes keeps each organisation's compliance mode (PCI DSS, HIPAA); under it the
	// account and chat services refuse settings that break a control. ComplianceDrift computes,
	// in the background, the checks that fail while the mode is on.
	ComplianceModes *mode.Store
	ComplianceDrift *mode.Monitor
	// Integrity runs the Integrity page's background verifications of the audit chain;
	// EvidenceJobs generates the evidence reports the console queues (Background runs it on
	// one node at a time).
	Integrity    *integrity.Service
	EvidenceJobs *evidence.Runner
	// instruments are the node's running measurements, published by GET /metrics.
	instruments *instruments

	closeKeys func()
}

// ErrSchema is returned by OpenDatabase when the schema is not current and migrating was not asked for.
var ErrSchema = errors.New("database schema is not current")

// OpenDatabase opens the configured database and makes sure its schema is exactly the one this
// binary knows: with migrate it applies pending migrations, otherwise it refuses an outdated or
// unknown schema.
func OpenDatabase(ctx context.Context, cfg *config.Config, log *slog.Logger, migrate bool) (*migrations.DB, error) {
	db, err := migrations.Open(ctx, cfg.DatabaseURL, migrations.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	m, err := migrations.NewMigrator(db)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if migrate {
		applied, err := m.Up(ctx)
		if err != nil {
			_ = db.Close()
			return nil, err
		}
		for _, a := range applied {
			log.Info("migration applied", "version", a.Version, "name", a.Name)
		}
	}
	if err := m.Check(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	if err := migrations.CheckIsolation(ctx, db); err != nil {
		// Tenants stay apart through every store's filter, but the database's own isolation is
		// not in force (README, "Production deployment": migrate as the owner, serve as another role).
		log.Warn("PostgreSQL row-level security does not bind this server's role", "cause", err.Error())
	}
	return db, nil
}

// New assembles the application over an open, current database.
func New(ctx context.Context, cfg *config.Config, db *migrations.DB, opts Options) (_ *App, err error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	a := &App{Config: cfg, Log: opts.Log, DB: db, Now: opts.Now, instruments: newInstruments()}
	if err := a.openKeys(opts); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil { // release the key provider when assembly fails; the caller owns db
			if a.Cobrowse != nil {
				a.Cobrowse.Close()
			}
			if a.CardForms != nil {
				a.CardForms.Close()
			}
			a.Envelope.Close()
			if a.closeKeys != nil {
				a.closeKeys()
			}
		}
	}()
	if opts.MFASealer == nil {
		opts.MFASealer = mfaSealer{env: a.Envelope}
	}
	a.Alerts = &Alerts{Log: opts.Log}
	if a.Audit, err = OpenAuditLog(ctx, cfg, db, a.Keys, a.Alerts, opts.Log, opts.Rand, opts.Now); err != nil {
		return nil, err
	}
	a.AuditMonitor = auditlog.NewMonitor(a.Audit, auditlog.MonitorConfig{})
	if opts.AccountAuditor == nil {
		opts.AccountAuditor = accountAuditor{auditWriter{a.Audit}}
	}
	if opts.AuthzAuditor == nil {
		opts.AuthzAuditor = authzAuditor{auditWriter{a.Audit}}
	}
	pages, err := web.LoadPages()
	if err != nil {
		return nil, fmt.Errorf("load pages: %w", err)
	}
	a.Pages = pages
	hasher, err := passhash.New(passhash.Config{Rand: opts.Rand})
	if err != nil {
		return nil, err
	}
	a.Tenants = tenant.NewStore(db.Gorm, opts.Now)
	a.Users = account.NewStore(db.Gorm, opts.Now)
	captchaKey, err := account.SharedKey(ctx, db.Gorm, "captcha", opts.Rand, opts.Now())
	if err != nil {
		return nil, err
	}
	captchas, err := captcha.New(captcha.Config{
		Key: captchaKey, Store: &account.CaptchaStore{DB: db.Gorm, Now: opts.Now}, Rand: opts.Rand, Now: opts.Now,
	})
	if err != nil {
		return nil, err
	}
	a.InstallationKeys = vault.NewInstallationKeys(db, a.Keys, opts.Now)
	a.newCompliance()
	a.Accounts = &account.Service{
		Store: a.Users, Hasher: hasher, DB: db, Tenants: a.Tenants, Common: password.NewBlocklist(), IdentityKey: a.InstallationKeys.Key,
		Auditor: opts.AccountAuditor, Sealer: opts.MFASealer, Captcha: captchas, Enroller: totp.NewEnroller(opts.Rand),
		Now: opts.Now, Rand: opts.Rand, Log: opts.Log, Compliance: complianceModes{a},
	}
	a.AccountSessions = &accounthttp.Sessions{
		Accounts: a.Accounts, Log: opts.Log, Secure: cfg.TLS() || strings.HasPrefix(cfg.PublicURL, "https://"),
	}
	a.Setup = &setup.Service{DB: db.Gorm, Tenants: a.Tenants, Accounts: a.Accounts, Now: opts.Now, Rand: opts.Rand,
		Hooks: setup.Hooks{TenantCreated: a.TenantCreated}}
	rbacStore := authz.NewStore(db.Gorm)
	if a.Enforcer, err = rbac.NewEnforcer(ctx, rbacStore, rbac.Options{Log: opts.Log, Now: opts.Now}); err != nil {
		return nil, fmt.Errorf("authorization policy: %w", err)
	}
	a.Authz = &authz.Service{DB: db.Gorm, Store: rbacStore, Enforcer: a.Enforcer, Users: a.Accounts, Sessions: a.Accounts,
		Departments: a.Tenants, Auditor: opts.AuthzAuditor, Now: opts.Now, Log: opts.Log}
	a.Accounts.KnownRole = a.Authz.KnownRole
	a.Accounts.Escalation = escalation{a.Authz}
	a.AccessReviews = &authz.Reviews{DB: db.Gorm, Store: rbacStore, Users: a.Accounts, Departments: a.Tenants,
		Auditor: opts.AuthzAuditor, Now: opts.Now, Log: opts.Log}
	a.Guard = &authz.Guard{Authenticate: a.AccountSessions.Authenticate, Decider: a.Enforcer, Departments: a.Tenants,
		Auditor: opts.AuthzAuditor, Log: opts.Log}
	a.Redaction = &redaction.Store{DB: db.Gorm, Audit: a.Audit, Now: opts.Now, Node: cfg.NodeID}
	a.RedactionPolicies = &redaction.Policies{Store: a.Redaction, Now: opts.Now}
	a.Redaction.Changed = a.RedactionPolicies.Invalidate
	if err := a.newChat(cfg, db, opts); err != nil {
		return nil, err
	}
	if a.Retention, err = retention.New(retention.Config{DB: db.Gorm, Visitors: a.Visitors, Shredder: a.Envelope, Audit: a.Audit,
		HasCard: pan.Contains, Now: opts.Now, Log: opts.Log, Node: cfg.NodeID}); err != nil {
		return nil, err
	}
	a.Canned = &canned.Service{DB: db.Gorm, Decider: a.Enforcer, Departments: a.Tenants, Audit: a.Audit,
		Conversations: canned.ChatConversations{Chat: a.Chat, Decider: a.Enforcer}, Now: opts.Now, Node: cfg.NodeID, Log: opts.Log}
	if opts.CardForms.NodeURL == "" && opts.CardForms.PeerSecret == nil && opts.CardForms.Tokenizer == nil {
		if opts.CardForms, err = cardOptions(cfg.Cards); err != nil {
			return nil, err
		}
	}
	if a.CardForms, err = cardform.New(cardform.Config{DB: db.Gorm, Chat: a.Chat, Sites: a.Tenants, Audit: a.Audit,
		Modes: a.RedactionPolicies, Keys: a.Keys, Node: cfg.NodeID, Now: opts.Now, Rand: opts.Rand, Log: opts.Log,
		Options: opts.CardForms}); err != nil {
		return nil, err
	}
	if a.Cobrowse, err = cobrowse.New(cobrowse.Config{DB: db.Gorm, Chat: a.Chat, Sites: a.Tenants, Audit: a.Audit,
		Keys: a.CardForms.PeerKeys(), Node: cfg.NodeID, Now: opts.Now, Rand: opts.Rand, Log: opts.Log,
		Options: cobrowseOptions(opts)}); err != nil {
		return nil, err
	}

	a.Transcripts = &transcript.Service{DB: db.Gorm, Sealer: a.Envelope, Audit: a.Audit, Authz: a.Enforcer, Departments: a.Tenants,
		People: a.Users, Files: transcriptFiles{a.Chat}, Now: opts.Now, Node: cfg.NodeID, Log: opts.Log, Holds: a.Retention}

	a.newAuditorConsole(opts)

	checks := []server.Check{
		{Name: "database", Run: func(ctx context.Context) (map[string]any, error) {
			return map[string]any{"dialect": string(db.Dialect)}, db.Ping(ctx)
		}},
		{Name: "key_provider", Run: keyProviderCheck(a.Keys)},
		{Name: "audit_log", Run: auditCheck(a.Audit, a.Alerts)},
		{Name: "compliance_drift", Run: driftCheck(a.ComplianceDrift)},
	}
	met := &metrics{token: sha256.Sum256([]byte(cfg.MetricsToken)), enabled: cfg.MetricsToken != "", version: opts.Version,
		alerts: a.Alerts, audit: a.Audit, monitor: a.AuditMonitor, forwarder: a.auditForwarder.Load,
		hasher: hasher, keys: a.Keys, log: opts.Log, timeout: 3 * time.Second, drift: a.ComplianceDrift.Totals,
		instruments: a.instruments}
	shell := &console.Shell{People: a.Users, Organisations: a.Tenants, DevKeys: !a.Keys.Production(),
		Grants: func(ctx context.Context, tenantID, userID string) (rbac.Grants, error) {
			e, err := a.Authz.EffectivePermissions(ctx, tenantID, userID)
			return e.Grants, err
		},
		Alerts: a.Alerts.Active, CSRF: authz.SessionCSRF(a.AccountSessions.CookieName()), Log: opts.Log}
	srv, err := server.New(server.Deps{
		Config: cfg, Log: opts.Log, Now: opts.Now, Checks: checks, ErrorPage: pages.Template("error.html"),
		Modules: []server.Module{
			&console.Module{Pages: pages, Tenants: a.Tenants, PublicURL: cfg.PublicURL, Shell: shell, Overview: console.Overview{
				Chat: a.Chat.Overview, Settings: a.Accounts.Settings, Review: a.AccessReviews.Status,
				TLS:   cfg.TLS() || strings.HasPrefix(cfg.PublicURL, "https://") && len(cfg.TrustedProxies) > 0,
				Drift: a.ComplianceDrift.For,
			}},
			&setup.Module{Service: a.Setup, Pages: pages, PasswordHelp: "At least 12 characters with letters and digits; not a common password and not your name, e-mail or organisation.",
				Demo: &setup.Demo{DB: db.Gorm, Tenants: a.Tenants, Audit: a.Audit, Origin: cfg.PublicURL, Node: cfg.NodeID,
					DefaultDepartment: a.demoDepartment},
				CSRF: authz.SessionCSRF(a.AccountSessions.CookieName()), TakesChats: a.Chat.TakesChats},
			&accounthttp.Module{Accounts: a.Accounts, Sessions: a.AccountSessions, Tenants: a.Tenants, Pages: pages,
				PublicURL: cfg.PublicURL, Now: opts.Now, Rand: opts.Rand, Roles: a.Authz, Guard: a.Guard},
			&authz.Module{Service: a.Authz, Reviews: a.AccessReviews, Guard: a.Guard, Pages: pages,
				CSRF: authz.SessionCSRF(a.AccountSessions.CookieName())},
			&redactionhttp.Module{Store: a.Redaction, Pages: pages, CSRF: authz.SessionCSRF(a.AccountSessions.CookieName()),
				Allowed: a.Guard.Allowed},
			a.ChatHTTP,
			&cannedhttp.Module{Service: a.Canned, Departments: a.Tenants, Pages: pages,
				CSRF: authz.SessionCSRF(a.AccountSessions.CookieName()), CardRefused: a.auditCardRefused},
			&cardform.Module{Service: a.CardForms, Pages: pages},
			&cobrowse.Module{Service: a.Cobrowse, Pages: pages, Allowed: a.Guard.Allowed, PublicOrigin: cfg.PublicURL,
				CSRF: authz.SessionCSRF(a.AccountSessions.CookieName())},
			&keysapi.Module{Keys: a.KeyTools, Audit: a.Audit, Pages: pages, CSRF: authz.SessionCSRF(a.AccountSessions.CookieName()),
				Now: opts.Now, Node: cfg.NodeID, Allowed: a.Guard.Allowed},
			&integrity.Module{Service: a.Integrity, Pages: pages, CSRF: authz.SessionCSRF(a.AccountSessions.CookieName()),
				Drift: a.integrityDrift},
			&tenanthttp.Module{Tenants: a.Tenants, Admin: &tenant.Admin{DB: db.Gorm, Store: a.Tenants, Audit: a.Audit, Node: cfg.NodeID},
				Settings: a.Chat, Assignments: a.Authz.Store, People: a.Users, Pages: pages,
				CSRF: authz.SessionCSRF(a.AccountSessions.CookieName()), CardRefused: a.auditCardRefused, PublicURL: cfg.PublicURL},
			&auditapi.Module{Log: a.Audit, Pages: pages, Node: cfg.NodeID, People: a.Users, Now: opts.Now,
				CSRF: authz.SessionCSRF(a.AccountSessions.CookieName()), Allowed: a.Guard.Allowed, Status: func() (auditlog.MonitorStatus, []audit.Alert) {
					return a.AuditMonitor.Status(), a.Alerts.Active()
				}, Drift: a.ComplianceDrift.For},
			&visitorhttp.Module{Store: a.Visitors, DB: db.Gorm, Authz: chat.DeciderAuthorizer{Decider: a.Enforcer}, Audit: a.Audit, Node: cfg.NodeID},
			&transcripthttp.Module{Service: a.Transcripts, Pages: pages, CSRF: authz.SessionCSRF(a.AccountSessions.CookieName()),
				Allowed: a.Guard.Allowed},
			&retentionhttp.Module{Service: a.Retention, Sites: a.Tenants, People: a.Users, Pages: pages,
				CSRF: authz.SessionCSRF(a.AccountSessions.CookieName()), Allowed: a.Guard.Allowed, CardRefused: a.auditCardRefused},
			&reporthttp.Module{Reports: &report.Service{Store: &report.Store{DB: db.Gorm}, Directory: a.Tenants, People: a.Users},
				Departments: a.Tenants, Authz: chat.DeciderAuthorizer{Decider: a.Enforcer}, Audit: a.Audit, Pages: pages,
				Now: opts.Now, Node: cfg.NodeID},
			&compliancehttp.Module{Modes: a.ComplianceModes, Drift: a.ComplianceDrift.For, People: a.Users, Pages: pages,
				CSRF: authz.SessionCSRF(a.AccountSessions.CookieName()), Allowed: a.Guard.Allowed, Reaches: shell.Reaches, DevKeys: !a.Keys.Production(), Node: cfg.NodeID},
			&evidencehttp.Module{Generator: a.Evidence, Store: &evidence.Store{DB: db.Gorm}, Organisations: a.Tenants, Audit: a.Audit,
				Pages: pages, CSRF: authz.SessionCSRF(a.AccountSessions.CookieName()), Allowed: a.Guard.Allowed,
				Now: opts.Now, Rand: opts.Rand, Node: cfg.NodeID, Runner: a.EvidenceJobs},
			met,
		},
		ReadyDetails:   met.detailsAllowed,
		Guard:          a.Guard.Route,
		SessionCookies: []string{a.AccountSessions.CookieName()},
		CardRefused:    a.auditCardRefused,
		Requests:       a.instruments,
	})
	if err != nil {
		return nil, err
	}
	if err := authz.CheckRoutes(srv.Routes); err != nil {
		return nil, err
	}
	shell.SetRoutes(srv.Routes)
	pages.Shell = shell.For
	a.Server = srv
	return a, nil
}

// Close releases the application's resources.
func (a *App) Close() error {
	if a.Cobrowse != nil {
		a.Cobrowse.Close()
	}
	if a.CardForms != nil {
		a.CardForms.Close()
	}
	if a.Envelope != nil {
		a.Envelope.Close()
	}
	if a.closeKeys != nil {
		a.closeKeys()
	}
	return a.DB.Close()
}

// cobrowseOptions are the co-browsing options, on the card form's node URL.
func cobrowseOptions(opts Options) cobrowse.Options {
	o := opts.Cobrowse
	o.NodeURL = opts.CardForms.NodeURL
	return o
}

// newChat assembles the chat engine — PAN masking with split detection on every message,
// envelope encryption, the audit log, RBAC decisions, visitor tracking and the fan-out hub (with
// the LISTEN/NOTIFY or NATS relay on PostgreSQL) — and its HTTP transport.
func (a *App) newChat(cfg *config.Config, db *migrations.DB, opts Options) error {
	// Page URLs and titles, like every text of the chat, are masked in the tenant's mode and
	// through its redaction rules.
	a.Visitors = visitor.NewStore(db.Gorm, opts.Now, opts.Rand, visitor.MasksFunc(func(ctx context.Context, tenantID string) (visitor.Masker, error) {
		ctx = migrations.WithTenant(ctx, tenantID)
		p, err := a.RedactionPolicies.For(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		return p, nil
	}))
	a.ChatHub = hub.New()
	if cfg.Fanout.NATS() {
		relay, err := hub.NewNATS(a.ChatHub, hub.NATSConfig{URL: cfg.Fanout.URL, Credentials: cfg.Fanout.Credentials,
			CACert: cfg.Fanout.CACert, Prefix: cfg.Fanout.Prefix, Name: cfg.NodeID}, opts.Log)
		if err != nil {
			return err
		}
		a.ChatRelay = relay
	} else if db.Dialect == migrations.Postgres {
		sqlDB, err := db.SQL()
		if err != nil {
			return err
		}
		a.ChatRelay = hub.NewPostgres(a.ChatHub, sqlDB, opts.Log)
	}
	var err error
	a.Chat, err = chat.New(chat.Config{
		DB: db, Tenants: a.Tenants, Visitors: a.Visitors, Hub: a.ChatHub, Sealer: a.Envelope, Audit: a.Audit,
		Authz: chat.DeciderAuthorizer{Decider: a.Enforcer}, Policies: a.RedactionPolicies, Split: pan.SplitOptions{Now: opts.Now},
		Sessions: chat.SessionFunc(func(ctx context.Context, p *api.Principal) (bool, error) {
			return a.Accounts.SessionLive(ctx, p.TenantID, p.UserID, p.SessionID)
		}),
		Names: chat.NamesFunc(func(ctx context.Context, tenantID, userID string) (string, error) {
			ctx = migrations.WithTenant(ctx, tenantID)
			u, err := a.Users.ByID(ctx, tenantID, userID)
			return u.DisplayName, err
		}),
		Log: opts.Log, Now: opts.Now, Rand: opts.Rand, Node: cfg.NodeID, PublicOrigin: cfg.PublicURL, Metrics: a.instruments,
		Limits: chatLimits(cfg.ChatLimits),
		// The secure card form wipes the card data of a conversation that ends.
		Compliance: complianceModes{a},
		Closed: func(tenantID, convID string) {
			if a.CardForms != nil {
				a.CardForms.ConversationClosed(tenantID, convID)
			}
			if a.Cobrowse != nil {
				a.Cobrowse.ConversationClosed(tenantID, convID)
			}
		},
	})
	if err != nil {
		return err
	}
	a.ChatHTTP = chathttp.New(chathttp.Config{Service: a.Chat, Assets: web.WidgetAssets(), Log: opts.Log,
		Pages: a.Pages, CSRF: authz.SessionCSRF(a.AccountSessions.CookieName()), Tenants: a.Tenants, People: a.Users, Now: opts.Now,
		Agents: a.chatAgents})
	a.instruments.watchChat(a.Chat, a.ChatHTTP)
	return nil
}

// chatAgents lists a tenant's users who take chats (not disabled or invited, holding chat.accept
// somewhere) by display name, or e-mail address without one: the Routing page's agents.
func (a *App) chatAgents(ctx context.Context, tenantID string) (map[string]string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	users, err := a.Accounts.Users(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, u := range users {
		if u.Status == account.StatusDisabled || u.Status == account.StatusInvited {
			continue
		}
		ok, err := a.Chat.TakesChats(ctx, &api.Principal{TenantID: tenantID, UserID: u.ID})
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		name := u.DisplayName
		if name == "" {
			name = u.Email
		}
		out[u.ID] = name
	}
	return out, nil
}

// demoDepartment makes deptID the department the demo site's chats go to, unless it is already.
func (a *App) demoDepartment(ctx context.Context, p *api.Principal, site tenant.Site, deptID string, o setup.DemoOrigin) error {
	ctx = migrations.WithTenant(ctx, site.TenantID)
	set, err := a.Chat.SiteSettings(ctx, site.ID)
	if err != nil || set.DefaultDepartmentID == deptID {
		return err
	}
	set.DefaultDepartmentID = deptID
	return a.Chat.SetSiteSettings(ctx, p, site, set, chat.Origin{IP: o.IP, UserAgent: o.UserAgent, RequestID: o.RequestID})
}

// RunChat runs the chat's background work until ctx ends: the cross-node relay (PostgreSQL or NATS),
// queue timeouts, presence clean-up and visitor retention.
func (a *App) RunChat(ctx context.Context) error {
	if a.ChatRelay != nil {
		if n, ok := a.ChatRelay.(*hub.NATS); ok {
			a.Log.Info("chat fan-out through NATS", "server", hub.RedactNATSURL(a.Config.Fanout.URL), "subject", n.Subject())
		}
		go func() { _ = a.ChatRelay.Run(ctx) }()
	}
	return a.Chat.Run(ctx)
}

// chatLimits turns the configured visitor throttles into the engine's limits; a zero value keeps
// the engine's default.
func chatLimits(c config.ChatLimits) chat.Limits {
	var l chat.Limits
	if c.VisitorMessagesPerMinute > 0 && c.VisitorMessageBurst > 0 {
		l.VisitorMessages = limit.Every(time.Minute/time.Duration(c.VisitorMessagesPerMinute), c.VisitorMessageBurst)
	}
	if c.AddressMessagesPerMinute > 0 {
		l.IPMessages = limit.Every(time.Minute/time.Duration(c.AddressMessagesPerMinute), 200)
	}
	return l
}
