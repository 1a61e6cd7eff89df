package chat

import (
	"context"
	"errors"

	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/vault"
)

// replayBatch is how many events one database read returns.
const replayBatch = 200

// viewer is who events are rendered for: their own messages carry the idempotency key.
type viewer struct {
	kind, id string
}

// names caches the display names of a conversation's senders.
type names struct {
	conv    Conversation
	byID    map[string]string
	visitor *string
}

func (s *Service) senderOf(ctx context.Context, n *names, kind, id string) *protocol.Sender {
	switch kind {
	case SenderSystem:
		return &protocol.Sender{Kind: SenderSystem}
	case SenderVisitor:
		if n.visitor == nil {
			name, err := s.open(ctx, n.conv.TenantID, n.conv.ID, vault.FieldVisitorName, 0, n.conv.VisitorName)
			if err != nil {
				name = ""
			}
			n.visitor = &name
		}
		return &protocol.Sender{Kind: SenderVisitor, ID: id, Name: *n.visitor}
	default:
		name, ok := n.byID[id]
		if !ok {
			ps, err := s.store.participants(ctx, n.conv.TenantID, n.conv.ID)
			if err == nil {
				if n.byID == nil {
					n.byID = map[string]string{}
				}
				for _, p := range ps {
					if p.Kind != SenderVisitor {
						n.byID[p.ParticipantID] = p.DisplayName
					}
				}
			}
			name = n.byID[id]
		}
		if name == "" && s.names != nil {
			// A supervisor who whispers without having joined is no participant.
			if dn, err := s.names.DisplayName(ctx, n.conv.TenantID, id); err == nil && dn != "" {
				if n.byID == nil {
					n.byID = map[string]string{}
				}
				name, n.byID[id] = dn, dn
			}
		}
		return &protocol.Sender{Kind: kind, ID: id, Name: name}
	}
}

// visitor reports whether v sees the conversation as its visitor: only the events of audience
// AudienceAll, numbered by their visitor_seq.
func (v viewer) visitor() bool { return v.kind == SenderVisitor }

// visitorView renders an event the visitor sees in the visitor's numbering.
func visitorView(ev protocol.Event) protocol.Event {
	ev.Seq, ev.TargetSeq, ev.Audience = ev.VisitorSeq, ev.TargetVisitorSeq, ""
	if _, ok := ev.Data["note"]; ok {
		// A transfer's note is for agents only.
		d := make(map[string]string, len(ev.Data))
		for k, v := range ev.Data {
			if k != "note" {
				d[k] = v
			}
		}
		ev.Data = d
	}
	return ev
}

// render turns stored rows into delivered events for v. A visitor is never given an event of
// audience AudienceAgents, and sees the others numbered by their visitor_seq.
func (s *Service) render(ctx context.Context, n *names, v viewer, rows []eventRow) ([]protocol.Event, error) {
	out := make([]protocol.Event, 0, len(rows))
	for _, r := range rows {
		if v.visitor() && !r.visible() {
			continue
		}
		if v.visitor() && r.Kind == KindAmend && r.TargetSeq != nil {
			t, err := s.store.visitorSeqAt(ctx, r.ConversationID, *r.TargetSeq)
			if err != nil {
				return nil, err
			}
			r.targetVisitorSeq = t
		}
		var text string
		var file *protocol.File
		var err error
		switch r.Kind {
		case KindMessage, KindAmend:
			if text, err = s.open(ctx, r.TenantID, r.ConversationID, vault.FieldMessageBody, r.Seq, r.Body); err != nil {
				return nil, err
			}
		case KindFile:
			if file, err = s.fileMeta(ctx, r); err != nil {
				return nil, err
			}
		}
		ev := wire(r, text, s.senderOf(ctx, n, r.SenderKind, r.SenderID), file)
		if r.Kind == KindSystem && r.Body != "" && !v.visitor() {
			// A transfer's note, sealed with its event: opened for agents only.
			note, err := s.open(ctx, r.TenantID, r.ConversationID, vault.FieldMessageBody, r.Seq, r.Body)
			if err != nil {
				return nil, err
			}
			withNote(&ev, note)
		}
		if r.SenderKind != v.kind || r.SenderID != v.id {
			ev.Key = ""
		}
		if v.visitor() {
			ev = visitorView(ev)
		}
		out = append(out, ev)
	}
	return out, nil
}

// eventsAfter returns up to limit events of a conversation after the viewer's cursor, rendered
// for the viewer, whether more follow, and the seq of the last event read (the log's numbering,
// whichever numbering the viewer has; 0 when none). after and the events' seqs are in the
// viewer's numbering: visitor_seq for the visitor, seq for everyone else.
func (s *Service) eventsAfter(ctx context.Context, n *names, v viewer, after int64, limit int) ([]protocol.Event, bool, int64, error) {
	read := s.store.events
	if v.visitor() {
		read = s.store.visitorEvents
	}
	rows, err := read(ctx, n.conv.TenantID, n.conv.ID, after, limit+1)
	if err != nil {
		return nil, false, 0, err
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	var last int64
	if len(rows) > 0 {
		last = rows[len(rows)-1].Seq
	}
	evs, err := s.render(ctx, n, v, rows)
	return evs, more, last, err
}

// cursor is a follower's position in one conversation.
type cursor struct {
	// delivered is the last seq delivered, in the viewer's numbering.
	delivered int64
	// seen is the last seq of the log the cursor has passed: delivered itself for agents; for
	// the visitor, whose numbering skips whispers, it also passes the whispers.
	seen int64
	// read is the last read receipt given the visitor, in its numbering: a receipt is given only
	// when it moves forward (an agent reading up to a whisper would otherwise repeat the last
	// one, and tell the visitor something was read it never saw).
	read  int64
	names *names
}

// follower delivers the events of the conversations one connection follows: every event exactly
// once, in seq order. It is used by one goroutine (the connection's writer).
type follower struct {
	s     *Service
	sub   *hub.Sub
	v     viewer
	convs map[string]*cursor
}

func (s *Service) newFollower(v viewer, topics ...string) *follower {
	return &follower{s: s, sub: s.hub.Subscribe(topics...), v: v, convs: map[string]*cursor{}}
}

func (f *follower) close() { f.sub.Close() }

// follow starts following c from after (the client's last seen seq) and returns the replay:
// every event above after. The subscription starts before the read, so nothing committed in
// between is missed; signals for seqs the replay covered are skipped later.
func (f *follower) follow(ctx context.Context, c Conversation, after int64) ([]protocol.Event, error) {
	if cur, ok := f.convs[c.ID]; ok {
		return f.catchUp(ctx, c.ID, cur)
	}
	f.sub.Follow(hub.ConversationTopic(c.ID))
	cur := &cursor{delivered: after, seen: after, names: &names{conv: c}}
	if f.v.visitor() {
		// The visitor has every event it sees up to c's last seq when it has all of its view; c
		// was read before the subscription, so anything newer still comes.
		cur.seen = 0
		if after >= c.VisitorLastSeq {
			cur.seen = c.LastSeq
		}
	}
	f.convs[c.ID] = cur
	return f.catchUp(ctx, c.ID, cur)
}

func (f *follower) unfollow(convID string) {
	delete(f.convs, convID)
	f.sub.Unfollow(hub.ConversationTopic(convID))
}

// catchUp loads every event after the cursor from the database.
func (f *follower) catchUp(ctx context.Context, convID string, cur *cursor) ([]protocol.Event, error) {
	var out []protocol.Event
	for {
		evs, more, last, err := f.s.eventsAfter(ctx, cur.names, f.v, cur.delivered, replayBatch)
		if err != nil {
			return out, err
		}
		for _, ev := range evs {
			if ev.Seq != cur.delivered+1 {
				return out, errGap
			}
			cur.delivered = ev.Seq
		}
		if f.v.visitor() {
			cur.seen = max(cur.seen, last)
		} else {
			cur.seen = cur.delivered
		}
		out = append(out, evs...)
		if !more {
			return out, nil
		}
	}
}

// errGap would mean the database holds a gap in a conversation's seq: impossible while the
// schema's constraints and appendEvent hold. The connection is closed rather than skip an event.
var errGap = errors.New("chat: gap in conversation seq")

// pending is what a drain produced.
type pending struct {
	frames []any
	// queue and user report queue and user signals (agents re-read their offers and chats).
	queue, user bool
	resync      bool
}

// drain turns the mailbox into frames: events in order (from the in-process copy when it is the
// next one, else from the database), and typing and read signals from the other side.
func (f *follower) drain(ctx context.Context) (pending, error) {
	sigs, overflow := f.sub.Drain()
	var p pending
	if overflow {
		p.resync, p.queue, p.user = true, true, true
		for id, cur := range f.convs {
			evs, err := f.catchUp(ctx, id, cur)
			for _, ev := range evs {
				p.frames = append(p.frames, ev)
			}
			if err != nil {
				return p, err
			}
		}
		return p, nil
	}
	for _, sig := range sigs {
		switch sig.Kind {
		case hub.KindEvent:
			cur, ok := f.convs[sig.Conversation]
			if !ok || sig.Seq <= cur.seen {
				continue
			}
			ev, local := sig.Local.(protocol.Event)
			if local && sig.Seq == cur.seen+1 && f.v.visitor() {
				switch {
				case ev.Audience == AudienceAgents:
					cur.seen = sig.Seq // a whisper: not the visitor's
					continue
				case ev.VisitorSeq == cur.delivered+1:
					ev = visitorView(ev)
				default:
					local = false
				}
			}
			if local && sig.Seq == cur.seen+1 {
				if ev.Sender != nil && ev.Sender.Name == "" && ev.Sender.Kind != SenderSystem {
					ev.Sender = f.s.senderOf(ctx, cur.names, ev.Sender.Kind, ev.Sender.ID)
				}
				if ev.Sender == nil || ev.Sender.Kind != f.v.kind || ev.Sender.ID != f.v.id {
					ev.Key = ""
				}
				cur.delivered, cur.seen = ev.Seq, sig.Seq
				p.frames = append(p.frames, ev)
				continue
			}
			evs, err := f.catchUp(ctx, sig.Conversation, cur)
			for _, ev := range evs {
				p.frames = append(p.frames, ev)
			}
			if err != nil {
				return p, err
			}
		case hub.KindTyping:
			if _, ok := f.convs[sig.Conversation]; ok && sig.SenderKind != f.v.kind {
				p.frames = append(p.frames, protocol.Typing{Type: protocol.TypeTyping, ConversationID: sig.Conversation,
					SenderKind: sig.SenderKind, Typing: sig.Typing})
			}
		case hub.KindRead:
			if cur, ok := f.convs[sig.Conversation]; ok && sig.SenderKind != f.v.kind {
				seq := sig.Seq
				if f.v.visitor() {
					var err error
					if seq, err = f.s.store.visitorSeqAt(ctx, sig.Conversation, sig.Seq); err != nil {
						return p, err
					}
					if seq <= cur.read {
						continue
					}
					cur.read = seq
				}
				p.frames = append(p.frames, protocol.Read{Type: protocol.TypeRead, ConversationID: sig.Conversation,
					ReaderKind: sig.SenderKind, Seq: seq})
			}
		case hub.KindQueue:
			p.queue = true
		case hub.KindUser:
			p.user = true
		}
	}
	f.s.delivered(f.v, p.frames)
	return p, nil
}

// recheck is the safety net for signals lost between nodes: it compares each followed
// conversation's last seq in the database with the cursor and catches up where it lags. Agents
// also re-read their offers and conversations.
func (f *follower) recheck(ctx context.Context) (pending, error) {
	p := pending{queue: true, user: true}
	if len(f.convs) == 0 {
		return p, nil
	}
	ids := make([]string, 0, len(f.convs))
	for id := range f.convs {
		ids = append(ids, id)
	}
	rows, err := f.s.store.cursors(ctx, ids)
	if err != nil {
		return p, err
	}
	for _, r := range rows {
		cur := f.convs[r.ID]
		last := r.LastSeq
		if f.v.visitor() {
			last = r.VisitorLastSeq
		}
		if cur == nil || last <= cur.delivered {
			continue
		}
		evs, err := f.catchUp(ctx, r.ID, cur)
		for _, ev := range evs {
			p.frames = append(p.frames, ev)
		}
		if err != nil {
			return p, err
		}
	}
	return p, nil
}
