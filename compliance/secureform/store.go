package secureform

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parleyhq/parley/compliance/pan"
)

// Store defaults.
const (
	// DefaultTTL is how long a submitted card is held unless the agent marks it done or the
	// conversation ends first.
	DefaultTTL = 15 * time.Minute
	// DefaultMaxEntries bounds the cards one node holds.
	DefaultMaxEntries = 10000
)

// Key names a held card: the tenant, the conversation and the form request.
type Key struct {
	Tenant       string
	Conversation string
	Request      string
}

// Config configures a Store. Zero values take the defaults.
type Config struct {
	// TTL is how long a card is held after submission.
	TTL time.Duration
	// MaxEntries bounds the cards held.
	MaxEntries int
	// Now is the clock.
	Now func() time.Time
	// Tokenizer, when set, receives every card at submission; the card is then wiped and only
	// its brand, last four digits and the masked token reference are held, so agents never see
	// the number.
	Tokenizer Tokenizer
}

// Holding describes a held card without any card data.
type Holding struct {
	Key
	// Agent is the requesting agent, the only one who may see the card.
	Agent       string
	SubmittedAt time.Time
	HeldUntil   time.Time
	Brand       pan.Brand
	Tokenized   bool
}

type entry struct {
	card *Card
	held Holding
}

// Store holds submitted cards in memory, each for its TTL, and zeroes them when they are
// purged. It is safe for concurrent use.
type Store struct {
	ttl  time.Duration
	max  int
	now  func() time.Time
	tok  Tokenizer
	mu   sync.Mutex
	held map[Key]*entry
}

// NewStore returns an empty store.
func NewStore(cfg Config) (*Store, error) {
	switch {
	case cfg.TTL < 0:
		return nil, fmt.Errorf("%w: negative TTL", ErrConfig)
	case cfg.MaxEntries < 0:
		return nil, fmt.Errorf("%w: negative MaxEntries", ErrConfig)
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{ttl: cfg.TTL, max: cfg.MaxEntries, now: cfg.Now, tok: cfg.Tokenizer, held: map[Key]*entry{}}, nil
}

// TTL returns how long a card is held after submission.
func (s *Store) TTL() time.Duration { return s.ttl }

// Put takes ownership of c, a card submitted for k and visible to agent only. With a Tokenizer
// the card is forwarded first and wiped. On any error c is wiped: ErrExists when k already holds
// a card, ErrFull when the store is full, ErrTokenizer when forwarding failed.
func (s *Store) Put(ctx context.Context, k Key, agent string, c *Card) (Holding, error) {
	if s.tok != nil {
		ref, err := s.tok.Tokenize(ctx, c, k.Request)
		if err != nil {
			c.Wipe()
			return Holding{}, err
		}
		c.replaceWithToken(ref)
	}
	now := s.now()
	h := Holding{Key: k, Agent: agent, SubmittedAt: now, HeldUntil: now.Add(s.ttl), Brand: c.Brand(), Tokenized: c.Tokenized()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.held[k]; ok {
		c.Wipe()
		return Holding{}, ErrExists
	}
	if len(s.held) >= s.max {
		s.sweepLocked(now)
		if len(s.held) >= s.max {
			c.Wipe()
			return Holding{}, ErrFull
		}
	}
	s.held[k] = &entry{card: c, held: h}
	return h, nil
}

// get returns k's entry for agent, purging it when its time is up.
func (s *Store) get(k Key, agent string) (*entry, error) {
	e, ok := s.held[k]
	if !ok {
		return nil, ErrNotFound
	}
	if !s.now().Before(e.held.HeldUntil) {
		s.dropLocked(k, e)
		return nil, ErrExpired
	}
	if e.held.Agent != agent {
		return nil, ErrForbidden
	}
	return e, nil
}

// View returns the masked card held for k, for its requesting agent: ErrNotFound, ErrExpired
// (and the card is purged) or ErrForbidden otherwise.
func (s *Store) View(k Key, agent string, mode pan.Mode) (Masked, Holding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.get(k, agent)
	if err != nil {
		return Masked{}, Holding{}, err
	}
	return e.card.masked(mode), e.held, nil
}

// Reveal returns a full copy of the card held for k, for its requesting agent; the caller
// checked card.view_full, writes it with Reveal.WriteJSON and wipes it. A tokenized card has no
// number to reveal: ErrNotFound.
func (s *Store) Reveal(k Key, agent string) (*Reveal, Holding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.get(k, agent)
	if err != nil {
		return nil, Holding{}, err
	}
	if e.card.tokenized {
		return nil, Holding{}, ErrNotFound
	}
	r := &Reveal{}
	r.d.copyFrom(&e.card.d)
	return r, e.held, nil
}

// Holding returns the description of the card held for k.
func (s *Store) Holding(k Key) (Holding, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.held[k]
	if !ok {
		return Holding{}, false
	}
	return e.held, true
}

// Purge wipes and forgets the card held for k and reports whether there was one.
func (s *Store) Purge(k Key) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.held[k]
	if ok {
		s.dropLocked(k, e)
	}
	return ok
}

// PurgeConversation wipes every card of a conversation (when it ends) and returns their keys.
func (s *Store) PurgeConversation(tenantID, conversationID string) []Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Key
	for k, e := range s.held {
		if k.Tenant == tenantID && k.Conversation == conversationID {
			s.dropLocked(k, e)
			out = append(out, k)
		}
	}
	return out
}

// Sweep wipes every card whose TTL has passed and returns their keys.
func (s *Store) Sweep() []Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sweepLocked(s.now())
}

func (s *Store) sweepLocked(now time.Time) []Key {
	var out []Key
	for k, e := range s.held {
		if !now.Before(e.held.HeldUntil) {
			s.dropLocked(k, e)
			out = append(out, k)
		}
	}
	return out
}

func (s *Store) dropLocked(k Key, e *entry) {
	e.card.Wipe()
	delete(s.held, k)
}

// Holdings lists the cards held, without their data.
func (s *Store) Holdings() []Holding {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Holding, 0, len(s.held))
	for _, e := range s.held {
		out = append(out, e.held)
	}
	return out
}

// Len returns the number of cards held.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held)
}

// Close wipes every card (at shutdown).
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.held {
		s.dropLocked(k, e)
	}
}
