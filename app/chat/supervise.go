package chat

import (
	"context"
	"errors"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/audit"
)

// Supervision of live chats (DESIGN.md: supervisors monitor, whisper and join), on the agent
// socket:
//
//   - monitor (chat.monitor): the socket follows a conversation like its agent's does — replay,
//     then live — while the visitor sees nothing of it: no event, no participant, no typing or
//     read receipt. Each start is audited (chat.monitor).
//   - whisper (chat.whisper): a message of audience AudienceAgents, on the message path (sanitized,
//     masked, sealed, stored with the next seq, acked, exactly once) but never delivered to the
//     visitor, whose view of the log has its own gapless numbering (visitor_seq) without it.
//   - join (chat.join): the supervisor becomes a participant of another agent's active chat; the
//     visitor sees a joined event with the supervisor's name, and the supervisor may write.
//     Audited (chat.join). leave ends it with a left event.
//
// Each permission is checked in the conversation's department. Another tenant's conversation,
// or an unknown one, is not_found; a refusal is audited as access.denied.

// maxWatched bounds the conversations one socket monitors or joined at once.
const maxWatched = protocol.MaxResume

// supervised loads a conversation of p's tenant for a supervision action and checks permission
// in its department. An unknown id, or another tenant's, is ErrNotFound; a refusal is
// ErrForbidden. Both are audited as access.denied.
func (s *Service) supervised(ctx context.Context, p *api.Principal, convID, permission string, o Origin) (Conversation, error) {
	c, err := s.store.conversation(ctx, s.db, p.TenantID, convID)
	if errors.Is(err, ErrNotFound) {
		s.auditDenied(ctx, p, convID, permission, "", "not_found", o)
	}
	if err != nil {
		return Conversation{}, err
	}
	ok, err := s.authz.Allowed(ctx, p, permission, c.Department())
	if err != nil || !ok {
		reason := "permission"
		if err != nil {
			reason = "policy_error"
		}
		s.auditDenied(ctx, p, convID, permission, c.Department(), reason, o)
		return Conversation{}, ErrForbidden
	}
	return c, nil
}

// auditDenied records a refused supervision (PCI DSS 10.2.1.4). The refusal stands whether or
// not the record is written.
func (s *Service) auditDenied(ctx context.Context, p *api.Principal, convID, permission, dept, reason string, o Origin) {
	ev := s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionPermissionDenied, convID, o,
		map[string]string{"permission": permission, "department": dept})
	ev.Outcome, ev.Reason = audit.Failure, reason
	if err := s.tx(ctx, func(tx *gorm.DB) error { return s.audit.Append(ctx, tx, ev) }); err != nil {
		s.log.ErrorContext(ctx, "refused supervision not audited", "conversation", convID, "error", err.Error())
	}
}

// recordSupervision audits that p monitors or whispers in c (chat.monitor, with the mode and
// the department; never message content). An error refuses the action.
func (s *Service) recordSupervision(ctx context.Context, p *api.Principal, c Conversation, mode string, o Origin) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		return s.audit.Append(ctx, tx, s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionChatMonitor, c.ID, o,
			map[string]string{"mode": mode, "department": c.Department()}))
	})
}

// Monitor lets p watch an open conversation without the visitor seeing it: it checks
// chat.monitor in the conversation's department and audits the start. The caller follows the
// conversation.
func (s *Service) Monitor(ctx context.Context, p *api.Principal, convID string, o Origin) (Conversation, error) {
	c, err := s.supervised(ctx, p, convID, permMonitor, o)
	if err != nil {
		return Conversation{}, err
	}
	if !c.Open() {
		return Conversation{}, ErrEnded
	}
	if err := s.recordSupervision(ctx, p, c, protocol.ModeMonitor, o); err != nil {
		return Conversation{}, err
	}
	return c, nil
}

// Errors of joining and leaving.
var (
	errJoinInactive = invalid("conversation_id", "Only a chat an agent is handling can be joined.")
	errJoinOwn      = invalid("conversation_id", "You are handling this chat.")
	errNotJoined    = invalid("conversation_id", "You have not joined this chat.")
	errNotMonitored = invalid("conversation_id", "You are not monitoring this chat.")
	errJoinedNotMon = invalid("conversation_id", "You have joined this chat: leave it instead.")
	errTooMany      = invalid("conversation_id", "You are supervising too many chats; stop monitoring one first.")
)

// Join makes p (chat.join in the conversation's department) a participant of another agent's
// active conversation under name: the visitor and the agent see a joined system event, and p may
// write into the conversation. Joining while joined changes nothing. Audited (chat.join).
func (s *Service) Join(ctx context.Context, p *api.Principal, name, convID string, o Origin) (Conversation, error) {
	c, err := s.supervised(ctx, p, convID, permJoin, o)
	if err != nil {
		return Conversation{}, err
	}
	switch {
	case !c.Open():
		return Conversation{}, ErrEnded
	case c.Status != StatusActive:
		return Conversation{}, errJoinInactive
	case deref(c.AgentID) == p.UserID:
		return Conversation{}, errJoinOwn
	}
	now := s.now().UTC()
	var row eventRow
	joined := false
	err = s.tx(ctx, func(tx *gorm.DB) error {
		back := tx.Model(&participant{}).
			Where("conversation_id = ? AND kind = ? AND participant_id = ? AND left_at IS NOT NULL", c.ID, ParticipantSupervisor, p.UserID).
			Updates(map[string]any{"left_at": nil, "display_name": name, "joined_at": now})
		if back.Error != nil {
			return back.Error
		}
		if back.RowsAffected == 0 {
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&participant{ConversationID: c.ID, TenantID: c.TenantID,
				Kind: ParticipantSupervisor, ParticipantID: p.UserID, DisplayName: name, JoinedAt: now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return nil // joined already
			}
		}
		var err error
		row, err = s.appendEvent(ctx, tx, c.TenantID, c.ID, newEvent{Kind: KindSystem, SenderKind: SenderAgent, SenderID: p.UserID,
			Event: EventJoined, Data: map[string]string{"role": ParticipantSupervisor}}, func(st seqState) error {
			switch {
			case st.Status == StatusEnded || st.Status == StatusMissed:
				return ErrEnded
			case st.Status != StatusActive:
				return errJoinInactive
			case deref(st.AgentID) == p.UserID:
				return errJoinOwn
			}
			return nil
		})
		if err != nil {
			return err
		}
		joined = true
		return s.audit.Append(ctx, tx, s.auditEvent(c.TenantID, userActor(p.UserID), audit.ActionConversationJoin, c.ID, o,
			map[string]string{"department": c.Department(), "role": ParticipantSupervisor}))
	})
	if err != nil {
		return Conversation{}, err
	}
	if joined {
		s.publish(wire(row, "", &protocol.Sender{Kind: SenderAgent, ID: p.UserID, Name: name}, nil))
	}
	return c, nil
}

// Leave ends p's participation in a conversation they joined as a supervisor: the visitor and the
// agent see a left system event (none once the conversation has ended). No permission is needed
// to leave.
func (s *Service) Leave(ctx context.Context, p *api.Principal, name, convID string) error {
	c, err := s.store.conversation(ctx, s.db, p.TenantID, convID)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	leave := func(tx *gorm.DB) error {
		res := tx.Model(&participant{}).
			Where("conversation_id = ? AND kind = ? AND participant_id = ? AND left_at IS NULL", c.ID, ParticipantSupervisor, p.UserID).
			Update("left_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errNotJoined
		}
		return nil
	}
	var row eventRow
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := leave(tx); err != nil {
			return err
		}
		var err error
		row, err = s.appendEvent(ctx, tx, c.TenantID, c.ID, newEvent{Kind: KindSystem, SenderKind: SenderAgent, SenderID: p.UserID,
			Event: EventLeft, Data: map[string]string{"role": ParticipantSupervisor}}, func(st seqState) error {
			if st.Status == StatusEnded || st.Status == StatusMissed {
				return ErrEnded
			}
			return nil
		})
		return err
	})
	if errors.Is(err, ErrEnded) {
		// The conversation is over: the participation ends without an event.
		return s.tx(ctx, leave)
	}
	if err != nil {
		return err
	}
	s.publish(wire(row, "", &protocol.Sender{Kind: SenderAgent, ID: p.UserID, Name: name}, nil))
	return nil
}

// joinedConversations lists the active conversations a user has joined as a supervisor and not
// left.
func (st *store) joinedConversations(ctx context.Context, tenantID, userID string) ([]Conversation, error) {
	var out []Conversation
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND status = ? AND id IN (?)", tenantID, StatusActive,
		st.db.Model(&participant{}).Select("conversation_id").
			Where("tenant_id = ? AND kind = ? AND participant_id = ? AND left_at IS NULL", tenantID, ParticipantSupervisor, userID)).
		Order("queued_at").Limit(maxWatched).Find(&out).Error
	return out, err
}

// isJoined reports whether a user takes part in a conversation as a supervisor who joined it.
func (st *store) isJoined(ctx context.Context, tenantID, convID, userID string) (bool, error) {
	var n int64
	err := st.db.WithContext(ctx).Model(&participant{}).
		Where("tenant_id = ? AND conversation_id = ? AND kind = ? AND participant_id = ? AND left_at IS NULL", tenantID, convID, ParticipantSupervisor, userID).
		Count(&n).Error
	return n > 0, err
}

// visitorRead records how far the visitor has read; vseq counts in the visitor's view.
func (s *Service) visitorRead(ctx context.Context, tenantID, convID string, a Actor, vseq int64) error {
	if vseq == 0 {
		return nil
	}
	seq, err := s.store.seqOfVisitorSeq(ctx, convID, vseq)
	if err != nil || seq == 0 {
		return err // a seq beyond the log records nothing, as Read does
	}
	return s.Read(ctx, tenantID, convID, a, seq)
}

// supervisesSomewhere reports whether the user may monitor, whisper or join somewhere: such a
// user may open the agent socket without chat.accept (and is then no agent for routing).
func (s *Service) supervisesSomewhere(ctx context.Context, p *api.Principal) (bool, error) {
	depts, err := s.tenants.Departments(ctx, p.TenantID)
	if err != nil {
		return false, err
	}
	for _, perm := range []string{permMonitor, permJoin, permWhisper} {
		if ok, err := s.authz.Allowed(ctx, p, perm, ""); err == nil && ok {
			return true, nil
		}
		for _, d := range depts {
			if ok, err := s.authz.Allowed(ctx, p, perm, d.ID); err == nil && ok {
				return true, nil
			}
		}
	}
	return false, nil
}

// The agent socket's side of supervision. The reader goroutine checks and records each request;
// the follower belongs to the writer goroutine, so following and letting go run there, as tasks
// queued behind the replies already sent.

// monitor answers a monitor frame.
func (a *agentSession) monitor(ctx context.Context, sk *socket, in protocol.Inbound, o Origin) error {
	c, err := a.s.Monitor(ctx, a.p, in.ConversationID, o)
	if err != nil {
		return err
	}
	sk.reply(ctx, task(func(ctx context.Context) ([]any, error) {
		return a.watchStart(ctx, c, protocol.ModeMonitor, in.LastSeq)
	}))
	return nil
}

// unmonitor answers an unmonitor frame.
func (a *agentSession) unmonitor(ctx context.Context, sk *socket, convID string) {
	sk.reply(ctx, task(func(context.Context) ([]any, error) {
		switch a.watch[convID] {
		case protocol.ModeMonitor:
			return []any{a.watchStop(convID, protocol.ModeMonitor, "requested")}, nil
		case protocol.ModeJoin:
			return []any{errorFrame(errJoinedNotMon, convID)}, nil
		}
		return []any{errorFrame(errNotMonitored, convID)}, nil
	}))
}

// join answers a join frame. It runs on the writer goroutine, which owns the watch list: a
// socket at its limit of supervised chats is refused before anything is joined, recorded or
// audited.
func (a *agentSession) join(ctx context.Context, sk *socket, in protocol.Inbound, o Origin) {
	sk.reply(ctx, task(func(ctx context.Context) ([]any, error) {
		if _, watched := a.watch[in.ConversationID]; !watched && len(a.watch) >= maxWatched {
			return []any{errorFrame(errTooMany, in.ConversationID)}, nil
		}
		c, err := a.s.Join(ctx, a.p, a.name, in.ConversationID, o)
		if err != nil {
			f, ok := frameError(err, "", in.ConversationID)
			if !ok {
				a.s.log.ErrorContext(ctx, "chat frame failed", "type", in.Type, "error", err.Error())
			}
			return []any{f}, nil
		}
		a.joined.Store(c.ID, true)
		return a.watchStart(ctx, c, protocol.ModeJoin, in.LastSeq)
	}))
}

// leave answers a leave frame: the socket delivers the left event before it lets go.
func (a *agentSession) leave(ctx context.Context, sk *socket, convID string) error {
	if err := a.s.Leave(ctx, a.p, a.name, convID); err != nil {
		return err
	}
	a.joined.Delete(convID)
	sk.reply(ctx, task(func(ctx context.Context) ([]any, error) {
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
	}))
	return nil
}

// whisper answers a whisper frame: a message of the supervisor (chat.whisper in the
// conversation's department) that agents and supervisors following the conversation receive and
// its visitor never does. It takes the message path and contract of Post: the same key again is
// acked with the original seq. The socket's first whisper into a conversation is audited.
func (a *agentSession) whisper(ctx context.Context, sk *socket, in protocol.Inbound, o Origin) error {
	s := a.s
	c, err := s.supervised(ctx, a.p, in.ConversationID, permWhisper, o)
	if err != nil {
		return err
	}
	if !a.whispered[c.ID] {
		if err := s.recordSupervision(ctx, a.p, c, "whisper", o); err != nil {
			return err
		}
		a.whispered[c.ID] = true
	}
	dept := c.Department()
	res, err := s.Post(ctx, a.p.TenantID, c.ID, Actor{Kind: SenderAgent, ID: a.p.UserID, Name: a.name, Whisper: true, Department: &dept}, in.Key, in.Text, "")
	if err != nil {
		return err
	}
	sk.reply(ctx, protocol.Ack{Type: protocol.TypeAck, ConversationID: in.ConversationID, Key: in.Key, Seq: res.Seq, Duplicate: res.Duplicate})
	return nil
}

// author is who writes a message: the agent, or a supervisor who joined the conversation and
// still holds chat.join in its current department (checked on every message; a refusal is
// audited as access.denied and the message refused as forbidden).
func (a *agentSession) author(ctx context.Context, me Actor, convID string, o Origin) Actor {
	if _, ok := a.joined.Load(convID); !ok {
		return me
	}
	s := a.s
	c, err := s.store.conversation(ctx, s.db, a.p.TenantID, convID)
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
		s.auditDenied(ctx, a.p, convID, permJoin, c.Department(), reason, o)
		return me
	}
	dept := c.Department()
	me.Joined, me.Department = true, &dept
	return me
}

// watchStart follows a conversation as a supervisor (writer goroutine): the supervising frame,
// then the replay above after. A socket already following it (its agent, or monitoring before
// joining) continues from its cursor.
func (a *agentSession) watchStart(ctx context.Context, c Conversation, mode string, after int64) ([]any, error) {
	prev, watched := a.watch[c.ID]
	if !watched && len(a.watch) >= maxWatched {
		if mode == protocol.ModeJoin {
			a.joined.Delete(c.ID)
		}
		return []any{errorFrame(errTooMany, c.ID)}, nil
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
func (a *agentSession) watchStop(convID, mode, reason string) protocol.SupervisingEnded {
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
func (a *agentSession) closedWatches(batches ...[]any) []any {
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
func (a *agentSession) guard(ctx context.Context, frames []any) []any {
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

// errorFrame is the error frame of a refused supervision request.
func errorFrame(err error, convID string) protocol.Error {
	f, _ := frameError(err, "", convID)
	return f
}

// resumeJoined follows again, after a reconnect, the conversations the user joined and has not
// left (while they still hold chat.join there): a supervising frame and the replay above the
// hello's seq for each.
func (a *agentSession) resumeJoined(ctx context.Context, resume map[string]int64) ([]any, error) {
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
