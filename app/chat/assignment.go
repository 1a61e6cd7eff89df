package chat

import (
	"context"
	"strconv"

	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// Accept gives a queued conversation (or one offered to this agent) to the agent. The first agent
// wins; later ones get ErrTaken.
func (s *Service) Accept(ctx context.Context, p *identity.Principal, name, convID string, o Origin) (Conversation, error) {
	c, err := s.store.conversation(ctx, p.TenantID, convID)
	if err != nil {
		return Conversation{}, err
	}
	if ok, err := s.authz.Allowed(ctx, p, permAccept, c.Department()); err != nil || !ok {
		return Conversation{}, ErrForbidden
	}
	if c.Status == StatusActive && deref(c.AgentID) == p.UserID {
		return c, nil
	}
	joined, err := s.store.accept(ctx, c, p.UserID, name,
		newEvent{Kind: KindSystem, SenderKind: SenderAgent, SenderID: p.UserID, Event: EventJoined},
		s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionConversationAssign, convID, o,
			map[string]string{"department": c.Department()}))
	if err != nil {
		return Conversation{}, err
	}
	s.publish(wire(joined, "", &protocol.Sender{Kind: SenderAgent, ID: p.UserID, Name: name}, nil))
	s.signal(queueSignal(p.TenantID, convID), userSignal(p.UserID, convID))
	return s.store.conversation(ctx, p.TenantID, convID)
}

// Refuse hides a queued conversation from the agent, or hands one offered to them back to its
// department's queue. Only an open offer may be refused: a closed conversation is ErrEnded, one
// another agent holds or was offered is ErrTaken. The refusal is audited with it.
func (s *Service) Refuse(ctx context.Context, p *identity.Principal, convID string, o Origin) error {
	c, err := s.store.conversation(ctx, p.TenantID, convID)
	if err != nil {
		return err
	}
	if ok, err := s.authz.Allowed(ctx, p, permRefuse, c.Department()); err != nil || !ok {
		return ErrForbidden
	}
	if !c.Open() {
		return ErrEnded
	}
	if c.Status != StatusQueued && (c.Status != StatusAssigned || deref(c.OfferedTo) != p.UserID) {
		return ErrTaken
	}
	if err := s.store.refuse(ctx, c, p.UserID, s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionConversationRefuse, convID, o,
		map[string]string{"department": c.Department(), "status": c.Status})); err != nil {
		return err
	}
	s.signal(queueSignal(p.TenantID, convID), userSignal(p.UserID, convID))
	// In automatic mode the chat goes on to the next agent.
	s.routeLater(ctx, p.TenantID)
	return nil
}

// Transfer moves an agent's conversation to another department's queue or offers it to another
// agent, who must be online (not away) with chat.accept in the conversation's department and
// below capacity (ErrAgentNotOnline, ErrAgentAtCapacity). A department whose online agents are
// all at capacity refuses it (ErrDepartmentAtCapacity); one with nobody online takes it into its
// queue. The note, if any, is for agents only: sanitized, card numbers masked, sealed with the
// transferred event, never delivered to the visitor. A refused transfer leaves the chat as it
// was.
func (s *Service) Transfer(ctx context.Context, p *identity.Principal, convID, toDept, toAgent, note string, o Origin) error {
	c, err := s.store.conversation(ctx, p.TenantID, convID)
	if err != nil {
		return err
	}
	if ok, err := s.authz.Allowed(ctx, p, permTransfer, c.Department()); err != nil || !ok {
		return ErrForbidden
	}
	if !c.Open() {
		return ErrEnded
	}
	if c.Status != StatusActive || deref(c.AgentID) != p.UserID {
		return ErrForbidden
	}
	if note, err = s.noteText(ctx, p.TenantID, note); err != nil {
		return err
	}
	data := map[string]string{"from_agent_id": p.UserID}
	dept := c.Department()
	target := transferTarget{Department: toDept, Agent: toAgent}
	switch {
	case toDept != "":
		if _, err := s.tenants.Department(ctx, p.TenantID, toDept); err != nil {
			return invalid("department_id", "No such department.")
		}
		rs, err := s.routingState(ctx, p.TenantID)
		if err != nil {
			return err
		}
		if rs.departmentFull(toDept, p.UserID) {
			return ErrDepartmentAtCapacity
		}
		dr := rs.department(toDept)
		target.Priority, target.Skills = &dr.Priority, joinSkills(dr.RequiredSkills)
		data["to_department_id"] = toDept
		dept = toDept
	case toAgent != "":
		if toAgent == p.UserID {
			return invalid("agent_id", "Choose another agent.")
		}
		target := &identity.Principal{TenantID: p.TenantID, UserID: toAgent}
		if ok, err := s.authz.Allowed(ctx, target, permAccept, dept); err != nil || !ok {
			return ErrAgentNotOnline
		}
		if n, err := s.store.userOnline(ctx, p.TenantID, toAgent, s.onlineSince()); err != nil {
			return err
		} else if n == 0 {
			return ErrAgentNotOnline
		}
		rs, err := s.routingState(ctx, p.TenantID)
		if err != nil {
			return err
		}
		if rs.agents[toAgent].Status == AgentAway {
			return ErrAgentNotOnline
		}
		if rs.loads[toAgent] >= rs.capacity(toAgent, dept) {
			return ErrAgentAtCapacity
		}
		data["to_agent_id"] = toAgent
	default:
		return invalid("department_id", "Name a department or an agent.")
	}
	var leaving []string
	if toDept != "" {
		if leaving, err = s.supervisorsWithout(ctx, p.TenantID, convID, toDept); err != nil {
			return err
		}
	}
	// Supervisors who joined and may not join in the new department leave with it.
	var seal sealFunc
	if note != "" {
		seal = s.sealWith(ctx, p.TenantID, convID, vault.FieldMessageBody, note)
	}
	row, left, err := s.store.transfer(ctx, c, p.UserID, target,
		newEvent{Kind: KindSystem, SenderKind: SenderAgent, SenderID: p.UserID, Event: EventTransferred, Data: data}, seal, leaving,
		s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionConversationTransfer, convID, o,
			map[string]string{"to_department": toDept, "to_agent": toAgent, "from_department": c.Department(), "note": strconv.FormatBool(note != "")}))
	if err != nil {
		return err
	}
	ev := wire(row, "", &protocol.Sender{Kind: SenderAgent, ID: p.UserID}, nil)
	withNote(&ev, note)
	s.publish(ev)
	for _, l := range left {
		s.publish(wire(l, "", &protocol.Sender{Kind: SenderAgent, ID: l.SenderID}, nil))
	}
	s.signal(queueSignal(p.TenantID, convID), userSignal(p.UserID, convID))
	if toAgent != "" {
		s.signal(userSignal(toAgent, convID))
	} else {
		s.routeLater(ctx, p.TenantID)
	}
	return nil
}

// supervisorsWithout lists the supervisors taking part in a conversation (joined, not left) who
// may not join in dept.
func (s *Service) supervisorsWithout(ctx context.Context, tenantID, convID, dept string) ([]string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	ps, err := s.store.participants(ctx, tenantID, convID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, pt := range ps {
		if pt.Kind != ParticipantSupervisor || pt.LeftAt != nil {
			continue
		}
		if ok, err := s.authz.Allowed(ctx, &identity.Principal{TenantID: tenantID, UserID: pt.ParticipantID}, permJoin, dept); err != nil || !ok {
			out = append(out, pt.ParticipantID)
		}
	}
	return out, nil
}
