// Package hub fans chat signals out to the sockets that follow them: in-process to every
// subscriber on this node and, with PostgreSQL, to the other nodes through LISTEN/NOTIFY. A signal
// carries ids only (a conversation id and seq, a typing flag, a queue change); subscribers load
// the content from the database, except that a signal published on this node may carry the
// already-decoded event so local subscribers can skip the read. Subscribers never block
// publishers: each has a bounded mailbox that, when full, collapses into "resynchronise from the
// database".
package hub

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
)

// Kind says what a signal announces.
type Kind string

// The kinds of signal.
const (
	// KindEvent: the conversation's log has a new event with Seq.
	KindEvent Kind = "e"
	// KindTyping: a participant (SenderKind) started or stopped typing.
	KindTyping Kind = "t"
	// KindRead: a participant (SenderKind) read up to Seq.
	KindRead Kind = "r"
	// KindQueue: the tenant's queue changed (a chat was queued, taken, transferred, ended).
	KindQueue Kind = "q"
	// KindUser: something changed for one user (a chat was assigned or transferred to them).
	KindUser Kind = "u"
	// KindTeam: a team thread (Conversation) has a new message with Seq.
	KindTeam Kind = "m"
	// KindInvite: an invitation (Conversation holds its id) the user sent changed state.
	KindInvite Kind = "i"
)

// Signal is one notification on a topic.
type Signal struct {
	Topic        string `json:"t"`
	Kind         Kind   `json:"k"`
	Conversation string `json:"c,omitempty"`
	Seq          int64  `json:"s,omitempty"`
	SenderKind   string `json:"sk,omitempty"`
	Typing       bool   `json:"ty,omitempty"`
	// Node is the publishing node; a node ignores its own notifications coming back.
	Node string `json:"n,omitempty"`
	// Local is an in-process payload (the decoded event) for subscribers on the publishing node;
	// it never leaves the process.
	Local any `json:"-"`
}

// ConversationTopic is the topic of a conversation's events and ephemeral signals.
func ConversationTopic(id string) string { return "c:" + id }

// QueueTopic is the topic of a tenant's queue.
func QueueTopic(tenant string) string { return "q:" + tenant }

// UserTopic is the topic of one console user.
func UserTopic(user string) string { return "u:" + user }

// TeamTopic is the topic of one console user's team threads and invitations.
func TeamTopic(user string) string { return "tm:" + user }

// DefaultMailbox is how many signals a subscriber holds before it must resynchronise.
const DefaultMailbox = 512

// Hub is the in-process fan-out. It is safe for concurrent use.
type Hub struct {
	remote  atomic.Pointer[remoteHolder]
	node    string
	mailbox int
	mu      sync.RWMutex
	topics  map[string]map[*Sub]struct{}
	subs    map[*Sub]struct{}
}

// New returns a hub with a fresh random node id.
func New() *Hub {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &Hub{
		node: hex.EncodeToString(b[:]), mailbox: DefaultMailbox,
		topics: map[string]map[*Sub]struct{}{}, subs: map[*Sub]struct{}{},
	}
}

// Node returns the hub's node id.
func (h *Hub) Node() string { return h.node }

// Remote carries signals to the other nodes.
type Remote interface {
	// Notify queues s for the other nodes; it never blocks. A signal may be lost (the queue is
	// full, the connection drops): subscribers of a hub with a remote therefore re-check the
	// database periodically (see HasRemote).
	Notify(s Signal)
}

type remoteHolder struct{ r Remote }

// Attach connects the hub to the other nodes. Call it once, before the hub is used.
func (h *Hub) Attach(r Remote) { h.remote.Store(&remoteHolder{r: r}) }

// HasRemote reports whether the hub relays to other nodes; their signals may be lost, so
// subscribers then poll the database now and then as a safety net.
func (h *Hub) HasRemote() bool { return h.remote.Load() != nil }

// Publish delivers s on this node (with its Local payload) and queues it, without the payload,
// for the other nodes. Call it after the change it announces has committed.
func (h *Hub) Publish(s Signal) {
	h.PublishLocal(s)
	if rh := h.remote.Load(); rh != nil {
		s.Node, s.Local = h.node, nil
		rh.r.Notify(s)
	}
}

// PublishLocal delivers s to this node's subscribers of s.Topic.
func (h *Hub) PublishLocal(s Signal) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for sub := range h.topics[s.Topic] {
		sub.push(s)
	}
}

// Resync tells every subscriber that signals may have been lost (the cross-node listener
// reconnected) so they reload from the database.
func (h *Hub) Resync() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for sub := range h.subs {
		sub.overflowNow()
	}
}

// Subscribers returns how many subscribers the hub has.
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.subs)
}

// Subscribe returns a subscriber following topics.
func (h *Hub) Subscribe(topics ...string) *Sub {
	s := &Sub{hub: h, notify: make(chan struct{}, 1), topics: map[string]struct{}{}, max: h.mailbox}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	for _, t := range topics {
		s.Follow(t)
	}
	return s
}

// Sub is one subscriber: a socket or a waiting long poll.
type Sub struct {
	hub    *Hub
	notify chan struct{}
	max    int

	mu       sync.Mutex
	topics   map[string]struct{}
	queue    []Signal
	overflow bool
	closed   bool
}

// Follow adds a topic.
func (s *Sub) Follow(topic string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.topics[topic] = struct{}{}
	s.mu.Unlock()
	h := s.hub
	h.mu.Lock()
	m := h.topics[topic]
	if m == nil {
		m = map[*Sub]struct{}{}
		h.topics[topic] = m
	}
	m[s] = struct{}{}
	h.mu.Unlock()
}

// Unfollow removes a topic.
func (s *Sub) Unfollow(topic string) {
	s.mu.Lock()
	delete(s.topics, topic)
	s.mu.Unlock()
	h := s.hub
	h.mu.Lock()
	if m := h.topics[topic]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(h.topics, topic)
		}
	}
	h.mu.Unlock()
}

// Follows reports whether the subscriber follows topic.
func (s *Sub) Follows(topic string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.topics[topic]
	return ok
}

// C is signalled when the mailbox has something.
func (s *Sub) C() <-chan struct{} { return s.notify }

// Drain empties the mailbox. overflow reports that signals were dropped since the last Drain:
// the subscriber must reload everything it follows from the database.
func (s *Sub) Drain() (signals []Signal, overflow bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	signals, overflow = s.queue, s.overflow
	s.queue, s.overflow = nil, false
	return signals, overflow
}

// Close unsubscribes from every topic.
func (s *Sub) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	topics := s.topics
	s.topics = map[string]struct{}{}
	s.queue = nil
	s.mu.Unlock()
	h := s.hub
	h.mu.Lock()
	for t := range topics {
		if m := h.topics[t]; m != nil {
			delete(m, s)
			if len(m) == 0 {
				delete(h.topics, t)
			}
		}
	}
	delete(h.subs, s)
	h.mu.Unlock()
}

func (s *Sub) push(sig Signal) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= s.max {
		s.queue, s.overflow = nil, true
	} else if !s.overflow {
		s.queue = append(s.queue, sig)
	}
	s.mu.Unlock()
	s.wake()
}

func (s *Sub) overflowNow() {
	s.mu.Lock()
	s.queue, s.overflow = nil, true
	s.mu.Unlock()
	s.wake()
}

func (s *Sub) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}
