package chat

import (
	"context"
	"errors"
	"time"

	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// VisitorSession is a visitor's live connection to one conversation (the visitor socket): it
// follows the conversation and takes the visitor's frames. Post, Typing, Read and End run on the
// connection's reader; Wake, Drain and Recheck on its writer, which owns the follower.
type VisitorSession struct {
	s      *Service
	conv   Conversation
	actor  Actor
	ip     string
	origin Origin
	f      *follower
	// The queue frame last sent, when, and whether a change waits for the 5 s spacing (writer
	// goroutine); done once the conversation left the queue.
	queue     protocol.Queue
	queueAt   time.Time
	queueDue  bool
	queueDone bool
}

// queueEvery is the shortest spacing of a visitor's queue frames.
const queueEvery = 5 * time.Second

// OpenVisitor opens the session a visitor socket's hello asks for: the visitor of token on site,
// its conversation convID, replayed above lastSeq (the visitor's numbering). It returns the
// frames that open the socket — the welcome, then the replay — and errors with:
// visitor.ErrUnauthenticated for a bad token, a RateError when the visitor connects too often,
// ErrBanned, and ErrNotFound when the conversation is not the visitor's on the site. Close the
// session when the connection ends.
func (s *Service) OpenVisitor(ctx context.Context, site tenant.Site, token, convID string, lastSeq int64, ip string, o Origin) (*VisitorSession, []any, error) {
	ctx = migrations.WithTenant(ctx, site.TenantID)
	v, err := s.visitors.Authenticate(ctx, site.ID, token)
	if err != nil {
		return nil, nil, err
	}
	if ok, wait := s.visitorConns.Allow(v.ID); !ok {
		return nil, nil, &RateError{RetryAfter: wait}
	}
	if banned, err := s.Banned(ctx, site.TenantID, v.ID, ip); err != nil {
		return nil, nil, err
	} else if banned {
		return nil, nil, ErrBanned
	}
	c, err := s.store.conversation(ctx, site.TenantID, convID)
	if err != nil || c.VisitorID != v.ID || c.SiteID != site.ID {
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
		return nil, nil, ErrNotFound
	}
	_ = s.visitors.Seen(ctx, v.ID, ip)
	f := s.newFollower(viewer{kind: SenderVisitor, id: v.ID}, hub.QueueTopic(site.TenantID))
	replay, err := f.follow(ctx, c, lastSeq)
	if err != nil {
		f.close()
		return nil, nil, err
	}
	name, _ := s.open(ctx, c.TenantID, c.ID, vault.FieldVisitorName, 0, c.VisitorName)
	vs := &VisitorSession{s: s, conv: c, actor: Actor{Kind: SenderVisitor, ID: v.ID, Name: name, SiteID: c.SiteID}, ip: ip, origin: o, f: f}
	frames := make([]any, 0, len(replay)+1)
	frames = append(frames, protocol.Welcome{Type: protocol.TypeWelcome, Protocol: protocol.Version,
		Conversation: c.Summary(f.convs[c.ID].delivered), ServerTime: s.now().UTC()})
	for _, ev := range replay {
		frames = append(frames, ev)
	}
	q, err := vs.queued(ctx, true)
	if err != nil {
		f.close()
		return nil, nil, err
	}
	return vs, append(frames, q...), nil
}

// Close lets go of the conversation.
func (v *VisitorSession) Close() { v.f.close() }

// ConversationID is the conversation the session follows.
func (v *VisitorSession) ConversationID() string { return v.conv.ID }

// Post stores the visitor's message (Service.Post); the ack carries the result's VisitorSeq.
func (v *VisitorSession) Post(ctx context.Context, key, text string) (PostResult, error) {
	return v.s.Post(ctx, v.conv.TenantID, v.conv.ID, v.actor, key, text, v.ip)
}

// Submit hands the visitor's message to the group commit without waiting (Service.Submit).
func (v *VisitorSession) Submit(ctx context.Context, key, text string) (*Pending, error) {
	return v.s.Submit(ctx, v.conv.TenantID, v.conv.ID, v.actor, key, text, v.ip)
}

// Typing relays the visitor's typing signal.
func (v *VisitorSession) Typing(ctx context.Context, typing bool) {
	v.s.VisitorTyping(ctx, v.actor.ID, v.conv.ID, typing)
}

// Read records how far the visitor has read (vseq in the visitor's numbering).
func (v *VisitorSession) Read(ctx context.Context, vseq int64) error {
	return v.s.VisitorRead(ctx, v.conv.TenantID, v.conv.ID, v.actor, vseq)
}

// End ends the conversation on the visitor's behalf.
func (v *VisitorSession) End(ctx context.Context) error {
	return v.s.End(ctx, v.conv.TenantID, v.conv.ID, v.actor, nil, v.origin)
}

// Wake is signalled when the conversation has news for Drain.
func (v *VisitorSession) Wake() <-chan struct{} { return v.f.sub.C() }

// Drain returns the frames due to the visitor: the conversation's new events in order, and the
// agent's typing and read signals.
func (v *VisitorSession) Drain(ctx context.Context) ([]any, error) {
	p, err := v.f.drain(ctx)
	for _, fr := range p.frames {
		if ev, ok := fr.(protocol.Event); ok && ev.Kind == KindSystem && ev.Event == EventTransferred {
			// Back in a queue: its place is told again.
			v.queueDone, v.queueDue, v.queue, v.queueAt = false, true, protocol.Queue{}, time.Time{}
		}
	}
	if err != nil || (!p.queue && !v.queueDue) {
		return p.frames, err
	}
	q, err := v.queued(ctx, false)
	return append(p.frames, q...), err
}

// queued returns the visitor's queue frame while the conversation waits for an agent, when the
// position or estimate changed and the last one is at least queueEvery old (a change sooner is
// sent by a later Drain or Recheck).
func (v *VisitorSession) queued(ctx context.Context, first bool) ([]any, error) {
	if v.queueDone {
		return nil, nil
	}
	now := v.s.now()
	if !first && now.Sub(v.queueAt) < queueEvery {
		v.queueDue = true
		return nil, nil
	}
	c, err := v.s.store.conversation(ctx, v.conv.TenantID, v.conv.ID)
	if err != nil {
		return nil, err
	}
	if c.Status != StatusQueued && c.Status != StatusAssigned {
		// Taken or closed: nothing more to tell until a transfer queues it again (Drain).
		v.queueDone, v.queueDue = true, false
		return nil, nil
	}
	q, err := v.s.QueueInfo(ctx, c)
	if err != nil {
		return nil, err
	}
	v.queueDue = false
	if q == v.queue {
		return nil, nil
	}
	v.queue, v.queueAt = q, now
	return []any{q}, nil
}

// QueueInfo is a waiting conversation's queue frame: its position in its department's queue (1
// is next) and the estimated wait, the average wait of the department's last 20 chats accepted
// in the past day times the position, shared among the department's online agents (30 s a place
// when there is no history).
func (s *Service) QueueInfo(ctx context.Context, c Conversation) (protocol.Queue, error) {
	ctx = migrations.WithTenant(ctx, c.TenantID)
	now := s.now().UTC()
	ahead, avg, err := s.store.queuePosition(ctx, c, now.Add(-24*time.Hour))
	if err != nil {
		return protocol.Queue{}, err
	}
	agents, err := s.store.agentsOnline(ctx, c.TenantID, c.Department(), s.onlineSince())
	if err != nil {
		return protocol.Queue{}, err
	}
	if avg <= 0 {
		avg = 30 * time.Second
	}
	pos := ahead + 1
	est := avg * time.Duration(pos) / time.Duration(max(agents, 1))
	return protocol.Queue{Type: protocol.TypeQueue, Position: pos, EstimatedWaitSeconds: int64((est + time.Second - 1) / time.Second)}, nil
}

// Recheck compares the visitor's cursor with the database and returns what a lost signal
// skipped.
func (v *VisitorSession) Recheck(ctx context.Context) ([]any, error) {
	p, err := v.f.recheck(ctx)
	if err != nil || !v.queueDue {
		return p.frames, err
	}
	q, err := v.queued(ctx, false)
	return append(p.frames, q...), err
}
