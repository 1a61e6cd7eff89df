// Package chat is Parley's chat engine: conversations between a site's visitors and a tenant's
// agents over WebSocket (with a long-polling fallback), the widget's HTTP API, routing of queued
// chats to agents, bans and rate limits, files, offline messages and surveys.
//
// Every message follows one path (DESIGN.md §3): sanitize to plain text → mask card numbers →
// seal with the conversation's data key → store with the next per-conversation seq in one
// transaction → ack → fan out through the hub (in-process, and to other nodes as ids only). The
// delivery contract — acked means durable; every receiver gets every event exactly once and in
// seq order; reconnects replay the gap from the database — is kept by the follower that each
// socket and long poll runs (follow.go). The wire format is docs/chat-protocol.md.
package chat

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/limit"
	"github.com/parleyhq/parley/app/redaction"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// Sealer is envelope encryption of a conversation's sensitive fields; *vault.Envelope satisfies
// it. Failures wrap vault.ErrUnavailable when the key provider is unreachable: the chat then
// refuses the operation (nothing is stored in clear) with a retryable error.
type Sealer interface {
	SealString(ctx context.Context, b vault.Binding, plaintext string) (string, error)
	OpenString(ctx context.Context, b vault.Binding, ciphertext string) (string, error)
	Seal(ctx context.Context, b vault.Binding, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, b vault.Binding, ciphertext []byte) ([]byte, error)
	// Forget drops a scope's data key from memory.
	Forget(tenantID, scopeID string)
}

// Auditor appends lifecycle events (start, assign, transfer, end, file download) inside the
// transaction of the change they record; *audit.Log satisfies it. An error fails the change.
type Auditor interface {
	Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error
}

// Authorizer answers whether a console user holds a permission tenant-wide (departmentID "") or
// in a department. The app wires the RBAC policy; an error means deny.
type Authorizer interface {
	Allowed(ctx context.Context, p *api.Principal, permission, departmentID string) (bool, error)
}

// Names resolves the display name of a console user shown to visitors and other agents.
type Names interface {
	DisplayName(ctx context.Context, tenantID, userID string) (string, error)
}

// NamesFunc adapts a function to Names.
type NamesFunc func(ctx context.Context, tenantID, userID string) (string, error)

// DisplayName implements Names.
func (f NamesFunc) DisplayName(ctx context.Context, tenantID, userID string) (string, error) {
	return f(ctx, tenantID, userID)
}

// Decider is the RBAC policy's question; *rbac.Enforcer satisfies it.
type Decider interface {
	Allowed(ctx context.Context, tenantID, userID, departmentID, permission string) (bool, error)
}

// DeciderAuthorizer answers Authorizer's question with a Decider.
type DeciderAuthorizer struct{ Decider Decider }

var _ Authorizer = DeciderAuthorizer{}

// Allowed implements Authorizer.
func (d DeciderAuthorizer) Allowed(ctx context.Context, p *api.Principal, permission, departmentID string) (bool, error) {
	if p == nil || d.Decider == nil {
		return false, nil
	}
	return d.Decider.Allowed(ctx, p.TenantID, p.UserID, departmentID, permission)
}

// ErrNoAuditor means the engine was assembled without an audit log: every audited action
// (starting, accepting, transferring, ending a chat, downloading a file) is refused.
var ErrNoAuditor = errors.New("chat: no audit log configured")

type noAuditor struct{}

func (noAuditor) Append(context.Context, *gorm.DB, audit.Event) error { return ErrNoAuditor }

// SessionChecker tells whether the console session an agent socket was opened with is still
// live: not signed out or revoked, not rotated by a role change, not past its absolute lifetime,
// its user neither disabled nor removed. An open socket is re-checked on an interval and closed
// (4401 unauthenticated) when it is not; an error (the database is unreachable) keeps it until
// the next check. Sending and receiving over the socket is the agent at work, so the idle timeout
// is the console's HTTP requests' concern, not the socket's.
type SessionChecker interface {
	SessionLive(ctx context.Context, p *api.Principal) (bool, error)
}

// SessionFunc adapts a function to SessionChecker.
type SessionFunc func(ctx context.Context, p *api.Principal) (bool, error)

// SessionLive calls f.
func (f SessionFunc) SessionLive(ctx context.Context, p *api.Principal) (bool, error) {
	return f(ctx, p)
}

// Policies gives each tenant's text policy — its card-number masking mode (BIN and last four, or
// last four only) and its enabled redaction rules; *redaction.Policies satisfies it. An error
// (the policy cannot be read) refuses the text: nothing is stored unmasked.
type Policies interface {
	For(ctx context.Context, tenantID string) (*redaction.Policy, error)
}

// Service errors. Handlers map them to HTTP errors and error frames (errors.go).
var (
	ErrNotFound    = errors.New("chat: not found")
	ErrEnded       = errors.New("chat: conversation has ended")
	ErrForbidden   = errors.New("chat: not allowed")
	ErrTaken       = errors.New("chat: conversation taken by another agent")
	ErrEmpty       = errors.New("chat: message is empty")
	ErrTooLong     = errors.New("chat: message is too long")
	ErrUnavailable = errors.New("chat: key provider unavailable")
	// ErrUnreadable means a stored ciphertext did not open under its binding: moved to another
	// row, field or tenant, altered, or its conversation crypto-shredded. It is audited.
	ErrUnreadable     = errors.New("chat: stored data cannot be read")
	ErrBanned         = errors.New("chat: visitor may not chat")
	ErrRateLimited    = errors.New("chat: rate limited")
	ErrSurveyDone     = errors.New("chat: survey already submitted")
	ErrStillOpen      = errors.New("chat: conversation has not ended")
	ErrInvalid        = errors.New("chat: invalid input")
	ErrFilesDisabled  = errors.New("chat: file transfer is disabled")
	ErrFileType       = errors.New("chat: file type not allowed")
	ErrFileTooLarge   = errors.New("chat: file too large")
	ErrFileInvalid    = errors.New("chat: file is invalid")
	ErrAgentNotOnline = errors.New("chat: target agent is not available")
)

// OfflineError means no chat can start now; Reason is "outside_hours" or "no_agents".
type OfflineError struct{ Reason string }

func (e *OfflineError) Error() string { return "chat: offline: " + e.Reason }

// InvalidError names the input field at fault.
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return "chat: invalid " + e.Field + ": " + e.Message }

// Unwrap lets errors.Is match ErrInvalid.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// ErrCardNumber is wrapped by CardNumberError.
var ErrCardNumber = errors.New("chat: card number not allowed")

// CardNumberError means a field stored in clear (a message key, a ban value, a language tag, a
// setting's key or name) holds a card number: it is refused, never stored, and answered as
// card_number_not_allowed naming Field.
type CardNumberError struct{ Field string }

func (e *CardNumberError) Error() string { return "chat: card number in " + e.Field }

// Unwrap lets errors.Is match ErrCardNumber.
func (e *CardNumberError) Unwrap() error { return ErrCardNumber }

// noCardNumber returns a CardNumberError naming field when value holds a card number.
func noCardNumber(field, value string) error {
	if pan.Contains(value) {
		return &CardNumberError{Field: field}
	}
	return nil
}

// RateError means a token bucket is empty.
type RateError struct{ RetryAfter time.Duration }

func (e *RateError) Error() string { return "chat: rate limited" }

// Unwrap lets errors.Is match ErrRateLimited.
func (e *RateError) Unwrap() error { return ErrRateLimited }

// Limits are the engine's throttles and sizes. Zero fields take DefaultLimits' values.
type Limits struct {
	// Per visitor.
	VisitorMessages, VisitorStarts, VisitorPageViews, VisitorConnects, VisitorPolls limit.Rate
	// Per source IP (several visitors behind one NAT share them, so they are larger).
	IPMessages, IPStarts, IPPageViews, IPConnects limit.Rate
	// Per agent.
	AgentMessages limit.Rate
	// MaxKeys bounds the memory of each limiter.
	MaxKeys int
	// ThrottleStrikes is how many refused frames a socket may send before it is closed (4429).
	ThrottleStrikes int
	// QueueSweep is how often queued chats are checked for their timeout.
	QueueSweep time.Duration
	// LongPollWait is the longest a long poll waits.
	LongPollWait time.Duration
	// HelloTimeout is how long a socket may stay silent before its hello.
	HelloTimeout time.Duration
	// Ping is the keepalive interval of sockets.
	Ping time.Duration
	// PresenceTTL is how long an agent socket counts as online after its last heartbeat.
	PresenceTTL time.Duration
	// SessionCheck is how often an open agent socket re-checks its session (Config.Sessions).
	SessionCheck time.Duration
	// Recheck is how often a socket compares its cursors with the database when there are other
	// nodes (a lost notification is made good within this time).
	Recheck time.Duration
}

// DefaultLimits are the limits of a standard installation.
func DefaultLimits() Limits {
	return Limits{
		VisitorMessages: limit.Every(time.Second, 10), VisitorStarts: limit.Every(time.Minute, 3),
		VisitorPageViews: limit.Every(2*time.Second, 30), VisitorConnects: limit.Every(2*time.Second, 20),
		VisitorPolls: limit.Every(250*time.Millisecond, 60),
		IPMessages:   limit.Every(100*time.Millisecond, 200), IPStarts: limit.Every(10*time.Second, 30),
		IPPageViews: limit.Every(100*time.Millisecond, 300), IPConnects: limit.Every(200*time.Millisecond, 100),
		AgentMessages: limit.Every(200*time.Millisecond, 30),
		MaxKeys:       100000, ThrottleStrikes: 20, QueueSweep: 15 * time.Second, LongPollWait: 25 * time.Second,
		HelloTimeout: 10 * time.Second, Ping: 25 * time.Second, PresenceTTL: 90 * time.Second, Recheck: 5 * time.Second,
		SessionCheck: 30 * time.Second,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	rate := func(r *limit.Rate, def limit.Rate) {
		if r.Burst == 0 {
			*r = def
		}
	}
	rate(&l.VisitorMessages, d.VisitorMessages)
	rate(&l.VisitorStarts, d.VisitorStarts)
	rate(&l.VisitorPageViews, d.VisitorPageViews)
	rate(&l.VisitorConnects, d.VisitorConnects)
	rate(&l.VisitorPolls, d.VisitorPolls)
	rate(&l.IPMessages, d.IPMessages)
	rate(&l.IPStarts, d.IPStarts)
	rate(&l.IPPageViews, d.IPPageViews)
	rate(&l.IPConnects, d.IPConnects)
	rate(&l.AgentMessages, d.AgentMessages)
	if l.MaxKeys <= 0 {
		l.MaxKeys = d.MaxKeys
	}
	if l.ThrottleStrikes <= 0 {
		l.ThrottleStrikes = d.ThrottleStrikes
	}
	if l.QueueSweep <= 0 {
		l.QueueSweep = d.QueueSweep
	}
	if l.LongPollWait <= 0 {
		l.LongPollWait = d.LongPollWait
	}
	if l.HelloTimeout <= 0 {
		l.HelloTimeout = d.HelloTimeout
	}
	if l.Ping <= 0 {
		l.Ping = d.Ping
	}
	if l.PresenceTTL <= 0 {
		l.PresenceTTL = d.PresenceTTL
	}
	if l.SessionCheck <= 0 {
		l.SessionCheck = d.SessionCheck
	}
	if l.Recheck <= 0 {
		l.Recheck = d.Recheck
	}
	return l
}

// Config is what a Service is built from.
type Config struct {
	DB       *migrations.DB
	Tenants  *tenant.Store
	Visitors *visitor.Store
	Hub      *hub.Hub
	Sealer   Sealer
	Audit    Auditor
	Authz    Authorizer
	Names    Names
	Policies Policies
	// Sessions re-checks open agent sockets' sessions; nil leaves them open until they close.
	Sessions SessionChecker
	// Split configures the detection of card numbers spread over several messages of one sender
	// (window, memory bounds); its clock defaults to Now.
	Split pan.SplitOptions
	Log   *slog.Logger
	Now   func() time.Time
	Rand  io.Reader
	// Node names this node in audit records and presence rows.
	Node string
	// PublicOrigin is Parley's own origin (scheme://host[:port]): the widget iframe's origin.
	PublicOrigin string
	Limits       Limits
	// Closed, when set, is called after a conversation ended or was missed (the secure card form
	// purges the card data it holds for it).
	Closed func(tenantID, conversationID string)
}

// Service is the chat engine of one node.
type Service struct {
	db       *gorm.DB
	dialect  migrations.Dialect
	tenants  *tenant.Store
	visitors *visitor.Store
	hub      *hub.Hub
	sealer   Sealer
	audit    Auditor
	authz    Authorizer
	names    Names
	policies Policies
	sessions SessionChecker
	// splits holds one split detector per masking mode.
	splits map[pan.Mode]*pan.SplitDetector
	// redacted remembers, for the split window, what recent messages read before the tenant's
	// redaction rules changed them, so that a card number completed later is masked at the
	// right offsets (amend).
	redacted *preRedaction
	log      *slog.Logger
	now      func() time.Time
	rand     io.Reader
	node     string
	origin   string
	limits   Limits
	closed   func(tenantID, conversationID string)
	store    *store
	// base ends when the node shuts down; every socket closes with 1001 then.
	base context.Context
	stop context.CancelFunc
	// sockets counts the open sockets so Shutdown can wait for them.
	sockets sync.WaitGroup
	// writeMu serialises this node's write transactions on SQLite.
	writeMu sync.Mutex

	visitorMsgs, visitorStarts, visitorViews, visitorConns, visitorPolls *limit.Limiter
	ipMsgs, ipStarts, ipViews, ipConns                                   *limit.Limiter
	agentMsgs                                                            *limit.Limiter
}

// ErrConfig means a required part of Config is missing.
var ErrConfig = errors.New("chat: incomplete configuration")

// New checks cfg and returns the engine. The sealer and authorizer are required: there is no
// plaintext mode. Without an auditor every audited action is refused (ErrNoAuditor).
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.DB == nil, cfg.Tenants == nil, cfg.Visitors == nil, cfg.Hub == nil:
		return nil, errors.Join(ErrConfig, errors.New("database, tenants, visitors and hub are required"))
	case cfg.Sealer == nil:
		return nil, errors.Join(ErrConfig, errors.New("a sealer (envelope encryption) is required"))
	case cfg.Authz == nil:
		return nil, errors.Join(ErrConfig, errors.New("an authorizer is required"))
	case cfg.Policies == nil:
		return nil, errors.Join(ErrConfig, errors.New("the tenants' masking policies are required"))
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Audit == nil {
		cfg.Audit = noAuditor{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if u, err := url.Parse(cfg.PublicOrigin); err == nil && u.Scheme != "" && u.Host != "" {
		cfg.PublicOrigin = strings.ToLower(u.Scheme + "://" + u.Host)
	}
	l := cfg.Limits.withDefaults()
	s := &Service{
		db: cfg.DB.Gorm, dialect: cfg.DB.Dialect, tenants: cfg.Tenants, visitors: cfg.Visitors, hub: cfg.Hub,
		sealer: cfg.Sealer, audit: cfg.Audit, authz: cfg.Authz, names: cfg.Names, policies: cfg.Policies, sessions: cfg.Sessions,
		log: cfg.Log, now: cfg.Now, rand: cfg.Rand, node: cfg.Node, origin: cfg.PublicOrigin,
		limits: l, closed: cfg.Closed,
	}
	s.store = &store{db: cfg.DB.Gorm, dialect: cfg.DB.Dialect}
	if err := s.initMasking(cfg.Split); err != nil {
		return nil, errors.Join(ErrConfig, err)
	}
	s.base, s.stop = context.WithCancel(context.Background())
	mk := func(r limit.Rate) *limit.Limiter { return limit.New(r, l.MaxKeys, cfg.Now) }
	s.visitorMsgs, s.visitorStarts, s.visitorViews, s.visitorConns = mk(l.VisitorMessages), mk(l.VisitorStarts), mk(l.VisitorPageViews), mk(l.VisitorConnects)
	s.visitorPolls = mk(l.VisitorPolls)
	s.ipMsgs, s.ipStarts, s.ipViews, s.ipConns = mk(l.IPMessages), mk(l.IPStarts), mk(l.IPPageViews), mk(l.IPConnects)
	s.agentMsgs = mk(l.AgentMessages)
	return s, nil
}

// Shutdown closes every socket of this node with 1001 (going away) so clients reconnect to
// another node, and waits until they are gone or ctx ends. Call it before the HTTP server's
// graceful shutdown, which does not track hijacked WebSocket connections.
func (s *Service) Shutdown(ctx context.Context) error {
	s.stop()
	done := make(chan struct{})
	go func() { s.sockets.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Hub returns the service's hub.
func (s *Service) Hub() *hub.Hub { return s.hub }

// allow takes a token from a per-visitor and a per-IP bucket; the IP bucket is only charged when
// the visitor's allowed it, so one abusive visitor cannot drain the address's budget.
func allow(visitorL, ipL *limit.Limiter, visitorKey, ip string) error {
	if visitorKey != "" {
		if ok, wait := visitorL.Allow(visitorKey); !ok {
			return &RateError{RetryAfter: wait}
		}
	}
	if ip != "" {
		if ok, wait := ipL.Allow(ip); !ok {
			return &RateError{RetryAfter: wait}
		}
	}
	return nil
}
