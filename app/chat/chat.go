// Package chat is Parley's chat engine: conversations between a site's visitors and a tenant's
// agents and their lifecycle, messages, the routing of queued chats to agents (accept, refuse,
// transfer), supervision (monitor, whisper, join), bans and rate limits, files, offline messages
// and surveys, agent-to-agent chat (team.go) and proactive invitations (invite.go), and the
// followers that deliver a conversation's events to each live connection.
// It knows nothing of HTTP or WebSocket: package chathttp serves it (the widget's HTTP API and
// long poll, the visitor and agent sockets, the console's chat API). Every SQL statement is in
// the store (store*.go).
//
// Every message follows one path (DESIGN.md §3), in this order:
//
//  1. Post sanitizes the text to plain text and masks card numbers (the tenant's mode, with the
//     detector of numbers split over the sender's recent messages) and the tenant's redaction
//     rules.
//  2. The group commit (store_batch.go) puts the message in the next batch: one transaction
//     for the messages posted meanwhile, of any conversations and tenants, that locks their
//     conversation rows, gives each message its conversation's next seq, seals its text bound
//     to that seq — the store calls the service's seal callback while the row is locked —
//     inserts the events and commits. Post returns then.
//  3. The transport sends the sender's ack (a WebSocket ack frame, or the long poll's answer)
//     and only then calls PostResult.Deliver.
//  4. Deliver hands the message's delivery to its conversation's queue, which runs the
//     deliveries of one conversation one at a time, in the order they were handed over: the
//     fan-out of the event through the hub (in-process with the decoded event, to other nodes
//     as ids only) and, when the message completed a card number split over the sender's
//     messages, the amend of the earlier ones (open, re-mask, re-seal, a second transaction, an
//     amend event, its fan-out).
//
// The sender's ack therefore never waits for the fan-out or the amend, and an amend reaches
// the sender after the ack of the message that caused it. The delivery contract — acked means
// durable; every receiver gets every event exactly once and in seq order; reconnects replay the
// gap from the database — is kept by the follower that each connection runs (follow.go): it
// delivers by seq and reads from the database whatever a signal skipped, so the order in which
// deliveries publish never changes what a receiver sees. The wire format is
// docs/chat-protocol.md.
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

	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/limit"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/compliance/mode"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
)

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
	// Sessions re-checks open agent sessions; nil leaves them open until they close.
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
	// Batch bounds the group commit of messages (store_batch.go); the zero value takes the
	// defaults.
	Batch BatchOptions
	// Closed, when set, is called after a conversation ended or was missed (the secure card form
	// purges the card data it holds for it).
	Closed func(tenantID, conversationID string)
	// Metrics receives the engine's measurements (messages stored, delivered, group-commit
	// batches); nil records nothing.
	Metrics Metrics
	// Compliance is the organisations' compliance mode: a site setting that would break one of
	// its controls (transcript e-mail) is refused. Nil enforces no mode.
	Compliance ComplianceModes
}

// ComplianceModes reads an organisation's compliance mode and hears of changes that bear on its
// drift (the app's compliance mode store and drift monitor).
type ComplianceModes interface {
	Mode(ctx context.Context, tenantID string) (mode.Mode, error)
	Changed(tenantID string)
}

// Service is the chat engine of one node.
type Service struct {
	store    *store
	tenants  *tenant.Store
	visitors *visitor.Store
	hub      *hub.Hub
	sealer   Sealer
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
	// deliveries runs each conversation's deliveries (fan-out, amends) in order, after the acks.
	deliveries *deliveries
	log        *slog.Logger
	now        func() time.Time
	rand       io.Reader
	node       string
	origin     string
	limits     Limits
	closed     func(tenantID, conversationID string)
	compliance ComplianceModes
	metrics    Metrics

	visitorMsgs, visitorStarts, visitorViews, visitorConns, visitorPolls *limit.Limiter
	ipMsgs, ipStarts, ipViews, ipConns                                   *limit.Limiter
	agentMsgs                                                            *limit.Limiter
	// siteLimits are the limiters of the sites that tighten the visitor limits.
	siteLimits siteLimitsCache
	// routing caches each tenant's automatic departments; routeMu runs one routing pass at a
	// time on this node; agents holds this node's open agent sessions (idle sweep).
	routing routingCache
	routeMu sync.Mutex
	agents  sync.Map
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
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	// Every group-commit transaction reaches the metrics, and the caller's own observer.
	observe, m := cfg.Batch.Observe, cfg.Metrics
	cfg.Batch.Observe = func(size int, commit time.Duration) {
		m.BatchCommitted(size)
		if observe != nil {
			observe(size, commit)
		}
	}
	if u, err := url.Parse(cfg.PublicOrigin); err == nil && u.Scheme != "" && u.Host != "" {
		cfg.PublicOrigin = strings.ToLower(u.Scheme + "://" + u.Host)
	}
	l := cfg.Limits.withDefaults()
	s := &Service{
		store: newStore(cfg.DB, cfg.Audit, cfg.Now, cfg.Batch), tenants: cfg.Tenants, visitors: cfg.Visitors, hub: cfg.Hub,
		sealer: cfg.Sealer, authz: cfg.Authz, names: cfg.Names, policies: cfg.Policies, sessions: cfg.Sessions,
		deliveries: newDeliveries(), log: cfg.Log, now: cfg.Now, rand: cfg.Rand, node: cfg.Node, origin: cfg.PublicOrigin,
		limits: l, closed: cfg.Closed, compliance: cfg.Compliance, metrics: cfg.Metrics,
	}
	if err := s.initMasking(cfg.Split); err != nil {
		return nil, errors.Join(ErrConfig, err)
	}
	mk := func(r limit.Rate) *limit.Limiter { return limit.New(r, l.MaxKeys, cfg.Now) }
	s.visitorMsgs, s.visitorStarts, s.visitorViews, s.visitorConns = mk(l.VisitorMessages), mk(l.VisitorStarts), mk(l.VisitorPageViews), mk(l.VisitorConnects)
	s.visitorPolls = mk(l.VisitorPolls)
	s.ipMsgs, s.ipStarts, s.ipViews, s.ipConns = mk(l.IPMessages), mk(l.IPStarts), mk(l.IPPageViews), mk(l.IPConnects)
	s.agentMsgs = mk(l.AgentMessages)
	return s, nil
}

// Shutdown waits until every delivery handed over so far (fan-out, amends) has run, or ctx
// ends. Call it after the transport closed its connections (chathttp.Module.Shutdown): their
// last acks hand over deliveries too.
func (s *Service) Shutdown(ctx context.Context) error { return s.deliveries.wait(ctx) }

// Hub returns the service's hub.
func (s *Service) Hub() *hub.Hub { return s.hub }

// Limits returns the engine's limits, defaults filled in (the transport reads its timeouts).
func (s *Service) Limits() Limits { return s.limits }

// Strikes returns Limits' ThrottleStrikes and ThrottleStrikeDecay without copying the limits (a
// socket's reader keeps them for its whole life).
func (s *Service) Strikes() (int, time.Duration) {
	return s.limits.ThrottleStrikes, s.limits.ThrottleStrikeDecay
}

// PublicOrigin returns Parley's own origin, lower-case (scheme://host[:port]).
func (s *Service) PublicOrigin() string { return s.origin }

// Now returns the engine's clock reading.
func (s *Service) Now() time.Time { return s.now() }
