package chat

import (
	"context"
	"errors"
	"slices"

	"github.com/parleyhq/parley/app/chat/protocol"
)

// The agent session's side of supervision. The reader checks and records each request; the
// follower belongs to the writer, so following and letting go run there, as Steps queued behind
// the replies already sent.

// Monitor answers a monitor frame: it checks chat.monitor in the conversation's department and
// audits the start (Service.Monitor); the Step follows the conversation from lastSeq.
func (a *AgentSession) Monitor(ctx context.Context, convID string, lastSeq int64) (Step, error) {
	c, err := a.s.Monitor(ctx, a.p, convID, a.o)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) ([]any, error) {
		return a.watchStart(ctx, c, protocol.ModeMonitor, lastSeq)
	}, nil
}

// Unmonitor answers an unmonitor frame: the Step stops following a monitored conversation.
func (a *AgentSession) Unmonitor(convID string) Step {
	return func(context.Context) ([]any, error) {
		switch a.watch[convID] {
		case protocol.ModeMonitor:
			return []any{a.watchStop(convID, protocol.ModeMonitor, "requested")}, nil
		case protocol.ModeJoin:
			return []any{Refusal{Err: errJoinedNotMon, ConversationID: convID}}, nil
		}
		return []any{Refusal{Err: errNotMonitored, ConversationID: convID}}, nil
	}
}

// Join answers a join frame. It all runs on the writer, which owns the watch list: a socket at
// its limit of supervised chats is refused before anything is joined, recorded or audited.
func (a *AgentSession) Join(convID string, lastSeq int64) Step {
	return func(ctx context.Context) ([]any, error) {
		if _, watched := a.watch[convID]; !watched && len(a.watch) >= maxWatched {
			return []any{Refusal{Err: errTooMany, ConversationID: convID}}, nil
		}
		c, err := a.s.Join(ctx, a.p, a.name, convID, a.o)
		if err != nil {
			return []any{Refusal{Err: err, ConversationID: convID}}, nil
		}
		a.joined.Store(c.ID, true)
		return a.watchStart(ctx, c, protocol.ModeJoin, lastSeq)
	}
}

// Leave answers a leave frame (Service.Leave); the Step delivers the left event before it lets
// go of the conversation.
func (a *AgentSession) Leave(ctx context.Context, convID string) (Step, error) {
	if err := a.s.Leave(ctx, a.p, a.name, convID); err != nil {
		return nil, err
	}
	a.joined.Delete(convID)
	return func(ctx context.Context) ([]any, error) {
		var frames []any
		if cur, ok := a.f.convs[convID]; ok {
			evs, err := a.f.catchUp(ctx, convID, cur)
			for _, ev := range evs {
				frames = append(frames, ev)
			}
			if err != nil {
				return frames, err
			}
		}
		if _, ok := a.watch[convID]; ok {
			frames = append(frames, a.watchStop(convID, protocol.ModeJoin, "left"))
		}
		return frames, nil
	}, nil
}

// Whisper answers a whisper frame: a message of the supervisor (chat.whisper in the
// conversation's department) that agents and supervisors following the conversation receive and
// its visitor never does. It takes the message path and contract of Post — the caller acks the
// result's Seq, then calls its Deliver; the same key again is acked with the original seq. The
// socket's first whisper into a conversation is audited.
func (a *AgentSession) Whisper(ctx context.Context, convID, key, text string) (PostResult, error) {
	s := a.s
	c, err := s.supervised(ctx, a.p, convID, permWhisper, a.o)
	if err != nil {
		return PostResult{}, err
	}
	if !a.whispered[c.ID] {
		if err := s.recordSupervision(ctx, a.p, c, "whisper", a.o); err != nil {
			return PostResult{}, err
		}
		a.whispered[c.ID] = true
	}
	dept := c.Department()
	return s.Post(ctx, a.p.TenantID, c.ID, Actor{Kind: SenderAgent, ID: a.p.UserID, Name: a.name, Whisper: true, Department: &dept}, key, text, "")
}

// author is who writes a message: the agent, or a supervisor who joined the conversation and
// still holds chat.join in its current department (checked on every message; a refusal is
// audited as access.denied and the message refused as forbidden).
func (a *AgentSession) author(ctx context.Context, me Actor, convID string) Actor {
	if _, ok := a.joined.Load(convID); !ok {
		return me
	}
	s := a.s
	c, err := s.store.conversation(ctx, a.p.TenantID, convID)
	if err != nil || deref(c.AgentID) == a.p.UserID {
		return me
	}
	if j, err := s.store.isJoined(ctx, a.p.TenantID, convID, a.p.UserID); err != nil || !j {
		return me
	}
	ok, err := s.authz.Allowed(ctx, a.p, permJoin, c.Department())
	if err != nil || !ok {
		reason := "permission"
		if err != nil {
			reason = "policy_error"
		}
		s.auditDenied(ctx, a.p, convID, permJoin, c.Department(), reason, a.o)
		return me
	}
	dept := c.Department()
	me.Joined, me.Department = true, &dept
	return me
}

// watchStart follows a conversation as a supervisor (writer goroutine): the supervising frame,
// then the replay above after. A socket already following it (its agent, or monitoring before
// joining) continues from its cursor.
func (a *AgentSession) watchStart(ctx context.Context, c Conversation, mode string, after int64) ([]any, error) {
	prev, watched := a.watch[c.ID]
	if !watched && len(a.watch) >= maxWatched {
		if mode == protocol.ModeJoin {
			a.joined.Delete(c.ID)
		}
		return []any{Refusal{Err: errTooMany, ConversationID: c.ID}}, nil
	}
	if prev == protocol.ModeJoin {
		mode = protocol.ModeJoin // joined is monitoring and more
	}
	if at, ok := a.checked[c.ID]; !ok || c.LastSeq < at {
		a.checked[c.ID] = c.LastSeq
	}
	evs, err := a.f.follow(ctx, c, after)
	a.watch[c.ID] = mode
	if mode == protocol.ModeJoin {
		a.mine.Store(c.ID, true)
	}
	frames := []any{protocol.Supervising{Type: protocol.TypeSupervising, Mode: mode, Conversation: *a.summary(ctx, c)}}
	for _, ev := range evs {
		frames = append(frames, ev)
	}
	frames = a.guard(ctx, frames)
	if err != nil {
		return frames, err
	}
	return append(frames, a.closedWatches(frames)...), nil
}

// watchStop lets go of a supervised conversation (writer goroutine) unless the socket follows it
// as its agent.
func (a *AgentSession) watchStop(convID, mode, reason string) protocol.SupervisingEnded {
	delete(a.watch, convID)
	delete(a.checked, convID)
	a.joined.Delete(convID)
	if !a.assigned[convID] {
		a.f.unfollow(convID)
		a.mine.Delete(convID)
	}
	return protocol.SupervisingEnded{Type: protocol.TypeSupervisingEnded, Mode: mode, ConversationID: convID, Reason: reason}
}

// closedWatches lets go of the supervised conversations whose end is among the frames.
func (a *AgentSession) closedWatches(batches ...[]any) []any {
	var out []any
	for _, fr := range slices.Concat(batches...) {
		ev, ok := fr.(protocol.Event)
		if !ok || ev.Kind != KindSystem || (ev.Event != EventEnded && ev.Event != EventMissed) {
			continue
		}
		if mode, ok := a.watch[ev.ConversationID]; ok {
			out = append(out, a.watchStop(ev.ConversationID, mode, "ended"))
		}
	}
	return out
}

// guard checks the supervisor's permission again when a watched conversation is transferred to
// another department (an event above the seq it was last checked at): chat.monitor for a
// monitor, chat.join for a supervisor who joined. Refused, the socket lets go of the
// conversation after the transferred event with supervising_ended (forbidden) and drops the
// frames of it that follow; a supervisor who joined also leaves it (a left event for the others).
// The refusal is audited as access.denied.
func (a *AgentSession) guard(ctx context.Context, frames []any) []any {
	var stopped map[string]bool
	out := frames[:0:0]
	for _, fr := range frames {
		conv := frameConversation(fr)
		if stopped[conv] {
			continue
		}
		out = append(out, fr)
		ev, ok := fr.(protocol.Event)
		if !ok || ev.Kind != KindSystem || ev.Event != EventTransferred {
			continue
		}
		mode, watched := a.watch[conv]
		dept, moved := ev.Data["to_department_id"]
		if !watched || !moved || ev.Seq <= a.checked[conv] {
			continue
		}
		perm := permMonitor
		if mode == protocol.ModeJoin {
			perm = permJoin
		}
		allowed, err := a.s.authz.Allowed(ctx, a.p, perm, dept)
		if err == nil && allowed {
			a.checked[conv] = ev.Seq
			continue
		}
		reason := "permission"
		if err != nil {
			reason = "policy_error"
		}
		a.s.auditDenied(ctx, a.p, conv, perm, dept, reason, Origin{})
		if mode == protocol.ModeJoin {
			if err := a.s.Leave(ctx, a.p, a.name, conv); err != nil && !errors.Is(err, errNotJoined) {
				a.s.log.ErrorContext(ctx, "supervisor not removed from a transferred chat", "conversation", conv, "error", err.Error())
			}
		}
		if stopped == nil {
			stopped = map[string]bool{}
		}
		stopped[conv] = !a.assigned[conv]
		out = append(out, a.watchStop(conv, mode, "forbidden"))
	}
	return out
}

// frameConversation is the conversation a followed frame (event, typing, read) is about.
func frameConversation(fr any) string {
	switch f := fr.(type) {
	case protocol.Event:
		return f.ConversationID
	case protocol.Typing:
		return f.ConversationID
	case protocol.Read:
		return f.ConversationID
	}
	return ""
}

// resumeJoined follows again, after a reconnect, the conversations the user joined and has not
// left (while they still hold chat.join there): a supervising frame and the replay above the
// hello's seq for each.
func (a *AgentSession) resumeJoined(ctx context.Context, resume map[string]int64) ([]any, error) {
	s := a.s
	convs, err := s.store.joinedConversations(ctx, a.p.TenantID, a.p.UserID)
	if err != nil {
		return nil, err
	}
	var frames []any
	for _, c := range convs {
		if ok, err := s.authz.Allowed(ctx, a.p, permJoin, c.Department()); err != nil || !ok || deref(c.AgentID) == a.p.UserID {
			continue
		}
		a.joined.Store(c.ID, true)
		more, err := a.watchStart(ctx, c, protocol.ModeJoin, resume[c.ID])
		frames = append(frames, more...)
		if err != nil {
			return frames, err
		}
	}
	return frames, nil
}
