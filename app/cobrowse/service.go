package cobrowse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/nodeauth"
)

// Chat is what co-browsing needs from the chat engine; *chat.Service satisfies it.
type Chat interface {
	Lookup(ctx context.Context, tenantID, id string) (chat.Conversation, error)
	VisitorConversation(ctx context.Context, siteKey, token, convID string) (tenant.Site, chat.Conversation, error)
	Announce(ctx context.Context, tenantID, convID string, a chat.Actor, event string, data map[string]string) error
	SiteByKey(ctx context.Context, key string) (tenant.Site, error)
}

var _ Chat = (*chat.Service)(nil)

// Sites reads a tenant's site (its origins); *tenant.Store satisfies it.
type Sites interface {
	Site(ctx context.Context, tenantID, id string) (tenant.Site, error)
}

// Auditor records co-browsing events; *auditlog.Log satisfies it. An error fails the action.
type Auditor interface {
	Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error
	Record(ctx context.Context, ev audit.Event) error
}

// System events co-browsing puts into the chat. Their data carries ids and reasons only.
const (
	EventRequested = "cobrowse_requested"
	EventStarted   = "cobrowse_started"
	EventEnded     = "cobrowse_ended"
)

// Reasons a session ends.
const (
	ReasonVisitorStopped = "visitor_stopped"
	ReasonVisitorLeft    = "visitor_left"
	ReasonDeclined       = "declined"
	ReasonAgentEnded     = "agent_ended"
	ReasonAgentIdle      = "agent_idle"
	ReasonAgentSlow      = "agent_too_slow"
	ReasonChatEnded      = "chat_ended"
	ReasonExpired        = "expired"
	ReasonReplaced       = "replaced"
	ReasonLimit          = "limit_exceeded"
	ReasonShutdown       = "shutdown"
)

// Modes of a session.
const (
	ModeView    = "view"
	ModeControl = "control"
)

// Errors of the service; http.go maps them.
var (
	ErrNotFound    = errors.New("cobrowse: not found")
	ErrForbidden   = errors.New("cobrowse: not the agent of this chat or session")
	ErrDisabled    = errors.New("cobrowse: co-browsing is off for this site")
	ErrEnded       = errors.New("cobrowse: the conversation has ended")
	ErrActive      = errors.New("cobrowse: a session is already running in this chat")
	ErrClosed      = errors.New("cobrowse: the session is over")
	ErrUnavailable = errors.New("cobrowse: the node holding the session cannot be reached")
	ErrConfig      = errors.New("cobrowse: incomplete configuration")
	ErrNoAuditor   = errors.New("cobrowse: no audit log configured")
)

// Options are the deployment's choices.
type Options struct {
	// NodeURL is the base URL other nodes reach this node at; empty on a single node.
	NodeURL string
	// RequestTTL is how long a visitor may take to answer a request; zero means 2 minutes.
	RequestTTL time.Duration
	// SweepEvery is how often live sessions are checked (agent idle, chat ended, ended on
	// another node); zero means 5 seconds.
	SweepEvery time.Duration
	// QueueFrames bounds the frames waiting for an agent; an agent that falls this far behind
	// ends the session (agent_too_slow). Zero means 256.
	QueueFrames int
	// VisitorRate and VisitorBurst bound the frames per second a visitor's page may send; zero
	// means 60 and 240.
	VisitorRate, VisitorBurst int
}

// Config is what a Service is built from.
type Config struct {
	DB    *gorm.DB
	Chat  Chat
	Sites Sites
	Audit Auditor
	// Keys gives each tenant's node-to-node secret (the card form's; co-browsing derives its
	// own keys from it).
	Keys nodeauth.Keys
	// Node names this node in audit records.
	Node string
	Now  func() time.Time
	Rand io.Reader
	Log  *slog.Logger
	Options
}

// Service is co-browsing on one node: the sessions it holds, in memory.
type Service struct {
	db       *gorm.DB
	chat     Chat
	sites    Sites
	audit    Auditor
	keys     nodeauth.Keys
	node     string
	instance string
	nodeURL  string
	now      func() time.Time
	rand     io.Reader
	log      *slog.Logger
	opts     Options
	replay   nodeauth.Replay

	mu   sync.Mutex
	live map[string]*Session

	stop     context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
}

// New checks cfg, builds the service and starts its sweeper; Close stops it.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Chat == nil || cfg.Sites == nil || cfg.Keys == nil {
		return nil, fmt.Errorf("%w: database, chat, sites and node keys are required", ErrConfig)
	}
	if cfg.NodeURL != "" {
		u, err := url.Parse(cfg.NodeURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return nil, fmt.Errorf("%w: the node URL must be http(s)://host[:port]", ErrConfig)
		}
		cfg.NodeURL = strings.TrimSuffix(u.String(), "/")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	o := &cfg.Options
	if o.RequestTTL <= 0 {
		o.RequestTTL = 2 * time.Minute
	}
	if o.SweepEvery <= 0 {
		o.SweepEvery = 5 * time.Second
	}
	if o.QueueFrames <= 0 {
		o.QueueFrames = 256
	}
	if o.VisitorRate <= 0 {
		o.VisitorRate = 60
	}
	if o.VisitorBurst <= 0 {
		o.VisitorBurst = 240
	}
	var id [6]byte
	if _, err := io.ReadFull(cfg.Rand, id[:]); err != nil {
		return nil, err
	}
	s := &Service{db: cfg.DB, chat: cfg.Chat, sites: cfg.Sites, audit: cfg.Audit, keys: cfg.Keys, node: cfg.Node,
		instance: cfg.Node + "#" + hex.EncodeToString(id[:]), nodeURL: cfg.NodeURL, now: cfg.Now, rand: cfg.Rand,
		log: cfg.Log, opts: cfg.Options, live: map[string]*Session{}, done: make(chan struct{})}
	if s.audit == nil {
		s.audit = noAuditor{}
	}
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.run(ctx)
	return s, nil
}

// Close stops the sweeper and ends every session this node holds.
func (s *Service) Close() {
	s.stopOnce.Do(func() {
		s.stop()
		<-s.done
		for _, l := range s.sessions() {
			l.End(context.Background(), ReasonShutdown)
		}
	})
}

func (s *Service) run(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.opts.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Sweep(ctx)
		}
	}
}

// Holding reports how many sessions this node holds (for tests and readiness; never content).
func (s *Service) Holding() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// Held returns the session id holds on this node, if any (for tests).
func (s *Service) Held(id string) (*Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.live[id]
	return l, ok
}

func (s *Service) sessions() []*Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Session, 0, len(s.live))
	for _, l := range s.live {
		out = append(out, l)
	}
	return out
}

// Sweep ends the sessions this node holds whose agent has been idle past the site's limit,
// whose conversation ended, or which were ended on another node.
func (s *Service) Sweep(ctx context.Context) {
	now := s.now()
	for _, l := range s.sessions() {
		if l.idleSince(now) {
			l.End(ctx, ReasonAgentIdle)
			continue
		}
		c, err := s.chat.Lookup(ctx, l.tenant, l.conv)
		if errors.Is(err, chat.ErrNotFound) || err == nil && !c.Open() {
			l.End(ctx, ReasonChatEnded)
			continue
		}
		if r, err := s.row(ctx, l.tenant, l.conv, l.id); err == nil && r.Status == statusEnded {
			l.End(ctx, r.EndReason)
		}
	}
}

// ConversationClosed ends at once the sessions this node holds in a conversation that ended.
func (s *Service) ConversationClosed(tenantID, convID string) {
	for _, l := range s.sessions() {
		if l.tenant == tenantID && l.conv == convID {
			l.End(context.Background(), ReasonChatEnded)
		}
	}
}

// chatSite resolves a public site key.
func (s *Service) chatSite(ctx context.Context, key string) (tenant.Site, error) {
	site, err := s.chat.SiteByKey(ctx, key)
	if errors.Is(err, chat.ErrNotFound) {
		return site, ErrNotFound
	}
	return site, err
}

type noAuditor struct{}

func (noAuditor) Append(context.Context, *gorm.DB, audit.Event) error { return ErrNoAuditor }
func (noAuditor) Record(context.Context, audit.Event) error           { return ErrNoAuditor }

// Origin is where a request came from, for audit records.
type Origin struct {
	IP, UserAgent, RequestID string
}

func (s *Service) event(tenantID string, actor audit.Actor, action audit.Action, convID string, o Origin, details map[string]string) audit.Event {
	return audit.Event{
		Tenant: tenantID, Actor: actor, Origin: audit.Origin{IP: o.IP, UserAgent: o.UserAgent, Node: s.node},
		Action: action, Target: audit.Target{Kind: "conversation", ID: convID}, Outcome: audit.Success,
		RequestID: o.RequestID, Details: details,
	}
}

func (s *Service) systemActor() audit.Actor {
	return audit.Actor{ID: "cobrowse@" + s.node, Kind: audit.ActorSystem}
}

func userActor(id string) audit.Actor { return audit.Actor{ID: id, Kind: audit.ActorUser} }

func visitorActor(id string) audit.Actor { return audit.Actor{ID: id, Kind: audit.ActorVisitor} }
