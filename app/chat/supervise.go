package chat

import (
	"context"
	"errors"

	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/identity"
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
func (s *Service) supervised(ctx context.Context, p *identity.Principal, convID, permission string, o Origin) (Conversation, error) {
	c, err := s.store.conversation(ctx, p.TenantID, convID)
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
func (s *Service) auditDenied(ctx context.Context, p *identity.Principal, convID, permission, dept, reason string, o Origin) {
	ev := s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionPermissionDenied, convID, o,
		map[string]string{"permission": permission, "department": dept})
	ev.Outcome, ev.Reason = audit.Failure, reason
	if err := s.store.record(ctx, ev); err != nil {
		s.log.ErrorContext(ctx, "refused supervision not audited", "conversation", convID, "error", err.Error())
	}
}

// recordSupervision audits that p monitors or whispers in c (chat.monitor, with the mode and
// the department; never message content). An error refuses the action.
func (s *Service) recordSupervision(ctx context.Context, p *identity.Principal, c Conversation, mode string, o Origin) error {
	return s.store.record(ctx, s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionChatMonitor, c.ID, o,
		map[string]string{"mode": mode, "department": c.Department()}))
}

// Monitor lets p watch an open conversation without the visitor seeing it: it checks
// chat.monitor in the conversation's department and audits the start. The caller follows the
// conversation.
func (s *Service) Monitor(ctx context.Context, p *identity.Principal, convID string, o Origin) (Conversation, error) {
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
func (s *Service) Join(ctx context.Context, p *identity.Principal, name, convID string, o Origin) (Conversation, error) {
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
	row, joined, err := s.store.join(ctx, c, p.UserID, name, newEvent{Kind: KindSystem, SenderKind: SenderAgent, SenderID: p.UserID,
		Event: EventJoined, Data: map[string]string{"role": ParticipantSupervisor}}, func(st seqState) error {
		switch err := stillOpen(st); {
		case err != nil:
			return err
		case st.Status != StatusActive:
			return errJoinInactive
		case deref(st.AgentID) == p.UserID:
			return errJoinOwn
		}
		return nil
	}, s.auditEvent(c.TenantID, userActor(p.UserID), audit.ActionConversationJoin, c.ID, o,
		map[string]string{"department": c.Department(), "role": ParticipantSupervisor}))
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
func (s *Service) Leave(ctx context.Context, p *identity.Principal, name, convID string) error {
	c, err := s.store.conversation(ctx, p.TenantID, convID)
	if err != nil {
		return err
	}
	row, err := s.store.leave(ctx, c, p.UserID, newEvent{Kind: KindSystem, SenderKind: SenderAgent, SenderID: p.UserID,
		Event: EventLeft, Data: map[string]string{"role": ParticipantSupervisor}}, stillOpen)
	if errors.Is(err, ErrEnded) {
		// The conversation is over: the participation ends without an event.
		return s.store.leaveQuietly(ctx, c, p.UserID)
	}
	if err != nil {
		return err
	}
	s.publish(wire(row, "", &protocol.Sender{Kind: SenderAgent, ID: p.UserID, Name: name}, nil))
	return nil
}

// supervisesSomewhere reports whether the user may monitor, whisper or join somewhere: such a
// user may open the agent socket without chat.accept (and is then no agent for routing).
func (s *Service) supervisesSomewhere(ctx context.Context, p *identity.Principal) (bool, error) {
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
