package cardform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/compliance/secureform"
	"github.com/parleyhq/parley/vault"
)

// Chat is what the secure form needs from the chat engine; *chat.Service satisfies it.
type Chat interface {
	Lookup(ctx context.Context, tenantID, id string) (chat.Conversation, error)
	VisitorConversation(ctx context.Context, siteKey, token, convID string) (tenant.Site, chat.Conversation, error)
	Announce(ctx context.Context, tenantID, convID string, a chat.Actor, event string, data map[string]string) error
}

var _ Chat = (*chat.Service)(nil)

// Sites resolves a public site key; *tenant.Store satisfies it.
type Sites interface {
	SiteByKey(ctx context.Context, key string) (tenant.Site, error)
}

// Auditor records the form's events: Append inside the transaction of a change, Record for
// views. *auditlog.Log satisfies it. An error fails the action (and no card data is shown).
type Auditor interface {
	Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error
	Record(ctx context.Context, ev audit.Event) error
}

// MaskModes gives a tenant's PAN masking mode; *redaction.Policies satisfies it.
type MaskModes interface {
	MaskMode(ctx context.Context, tenantID string) (pan.Mode, error)
}

// Errors of the service. Handlers map them to API errors (http.go).
var (
	ErrNotFound    = errors.New("cardform: not found")
	ErrForbidden   = errors.New("cardform: not the requesting agent")
	ErrEnded       = errors.New("cardform: conversation has ended")
	ErrExpired     = errors.New("cardform: form expired")
	ErrUsed        = errors.New("cardform: form already submitted or closed")
	ErrPurged      = errors.New("cardform: card data no longer held")
	ErrTooMany     = errors.New("cardform: too many open forms in the conversation")
	ErrUnavailable = errors.New("cardform: the node holding the card data cannot be reached")
	ErrConfig      = errors.New("cardform: incomplete configuration")
)

// Request statuses.
const (
	StatusRequested = "requested"
	StatusSubmitted = "submitted"
	StatusDone      = "done"
	StatusExpired   = "expired"
	StatusEnded     = "ended"
)

// Options are the deployment's choices for the secure form.
type Options struct {
	// TTL is how long a form can be submitted after the request and how long submitted card data
	// is held; zero means 15 minutes.
	TTL time.Duration
	// MaxEntries bounds the cards this node holds; zero means secureform.DefaultMaxEntries.
	MaxEntries int
	// NodeURL is the base URL (http(s)://host:port) other nodes reach this node's
	// /internal/v1/card-forms at; empty on a single node.
	NodeURL string
	// PeerSecret, when set (at least 32 bytes, the same on every node), authenticates
	// node-to-node calls; otherwise each tenant's secret comes from the key provider.
	PeerSecret []byte
	// Tokenizer forwards card data to a payment or tokenization endpoint at submission; agents
	// then never see the number.
	Tokenizer secureform.Tokenizer
	// SweepEvery is how often held cards are checked against their TTL, their request and their
	// conversation; zero means 5 seconds.
	SweepEvery time.Duration
	// PeerClient makes node-to-node calls; nil means a client with a 5-second timeout.
	PeerClient *http.Client
	// MaxOpen bounds the forms awaiting submission in one conversation; zero means 3.
	MaxOpen int
}

// Config is what a Service is built from.
type Config struct {
	DB    *gorm.DB
	Chat  Chat
	Sites Sites
	Audit Auditor
	Modes MaskModes
	// Keys is the key provider the per-tenant peer secrets are wrapped by (unless
	// Options.PeerSecret is set).
	Keys vault.KeyProvider
	// Node names this node in audit records.
	Node string
	Now  func() time.Time
	Rand io.Reader
	Log  *slog.Logger
	Options
}

// Service is the secure card form of one node.
type Service struct {
	db       *gorm.DB
	chat     Chat
	sites    Sites
	audit    Auditor
	modes    MaskModes
	node     string
	instance string
	nodeURL  string
	now      func() time.Time
	rand     io.Reader
	log      *slog.Logger
	ttl      time.Duration
	maxOpen  int
	cards    *secureform.Store
	peer     *secureform.Peer
	client   *http.Client

	stop     context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
}

// New checks cfg, builds the service and starts its sweeper; Close stops it.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.DB == nil || cfg.Chat == nil || cfg.Sites == nil || cfg.Modes == nil:
		return nil, fmt.Errorf("%w: database, chat, sites and masking modes are required", ErrConfig)
	case cfg.Keys == nil && len(cfg.PeerSecret) == 0:
		return nil, fmt.Errorf("%w: a key provider or a peer secret is required", ErrConfig)
	case cfg.PeerSecret != nil && len(cfg.PeerSecret) < 32:
		return nil, fmt.Errorf("%w: the peer secret must be at least 32 bytes", ErrConfig)
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
	if cfg.TTL <= 0 {
		cfg.TTL = secureform.DefaultTTL
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = 5 * time.Second
	}
	if cfg.MaxOpen <= 0 {
		cfg.MaxOpen = 3
	}
	if cfg.PeerClient == nil {
		cfg.PeerClient = &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	cards, err := secureform.NewStore(secureform.Config{TTL: cfg.TTL, MaxEntries: cfg.MaxEntries, Now: cfg.Now, Tokenizer: cfg.Tokenizer})
	if err != nil {
		return nil, err
	}
	var id [6]byte
	if _, err := io.ReadFull(cfg.Rand, id[:]); err != nil {
		return nil, err
	}
	var keys secureform.PeerKeys = &ProviderPeerKeys{DB: cfg.DB, Provider: cfg.Keys, Now: cfg.Now}
	if len(cfg.PeerSecret) > 0 {
		keys = secureform.StaticPeerKeys{Secret: cfg.PeerSecret}
	}
	s := &Service{
		db: cfg.DB, chat: cfg.Chat, sites: cfg.Sites, audit: cfg.Audit, modes: cfg.Modes, node: cfg.Node,
		instance: cfg.Node + "#" + hex.EncodeToString(id[:]), nodeURL: cfg.NodeURL, now: cfg.Now, rand: cfg.Rand,
		log: cfg.Log, ttl: cfg.TTL, maxOpen: cfg.MaxOpen, cards: cards, client: cfg.PeerClient,
		peer: &secureform.Peer{Keys: keys, Node: cfg.Node, Now: cfg.Now, Rand: cfg.Rand},
		done: make(chan struct{}),
	}
	if s.audit == nil {
		s.audit = noAuditor{}
	}
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.run(ctx, cfg.SweepEvery)
	return s, nil
}

// Close stops the sweeper and wipes every card this node holds.
func (s *Service) Close() {
	s.stopOnce.Do(func() {
		s.stop()
		<-s.done
		s.cards.Close()
	})
}

// PeerKeys returns the per-tenant node-to-node secrets this service authenticates nodes with;
// co-browsing derives its own keys from the same secrets (compliance/nodeauth).
func (s *Service) PeerKeys() secureform.PeerKeys { return s.peer.Keys }

// Holding reports how many cards this node holds (for readiness and tests; never the data).
func (s *Service) Holding() int { return s.cards.Len() }

// ErrNoAuditor means the service was built without an audit log: every audited action is
// refused.
var ErrNoAuditor = errors.New("cardform: no audit log configured")

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
	return audit.Actor{ID: "card-form@" + s.node, Kind: audit.ActorSystem}
}
