package chat

import (
	"context"

	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// SweepRouting does the routing's periodic work: automatic offers not accepted in time go back
// to the queue (their agent is not offered them again), chats of agents gone offline for longer
// than the presence TTL return to the queue, agents inactive for their tenant's idle minutes on
// this node are set away, and every tenant with queued chats is routed again.
func (s *Service) SweepRouting(ctx context.Context) error {
	ctx = migrations.AcrossTenants(ctx) // housekeeping spans tenants (SECURITY.md)
	now := s.now().UTC()
	tenants := map[string]bool{}
	expired, err := s.store.expiredOffers(ctx, now)
	if err != nil {
		return err
	}
	for _, c := range expired {
		agent := deref(c.OfferedTo)
		ok, err := s.store.withdrawOffer(ctx, c, agent, s.auditEvent(c.TenantID, routingActor(), audit.ActionOfferTimeout, c.ID, Origin{},
			map[string]string{"department": c.Department(), "agent_id": agent}))
		if err != nil {
			return err
		}
		if ok {
			tenants[c.TenantID] = true
			s.signal(queueSignal(c.TenantID, c.ID), userSignal(agent, c.ID))
		}
	}
	orphans, err := s.store.orphaned(ctx, s.onlineSince(), now.Add(-s.limits.PresenceTTL))
	if err != nil {
		return err
	}
	for _, c := range orphans {
		if err := s.requeue(ctx, c, "agent_offline"); err != nil {
			return err
		}
		tenants[c.TenantID] = true
	}
	if err := s.sweepIdle(ctx); err != nil {
		return err
	}
	queued, err := s.store.queuedTenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range queued {
		tenants[t] = true
	}
	for t := range tenants {
		if _, err := s.Route(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// requeue hands a conversation back to its department's queue from the agent who holds it or
// was offered it (reason: agent_offline, signed_out).
func (s *Service) requeue(ctx context.Context, c Conversation, reason string) error {
	agent := deref(c.AgentID)
	if c.Status == StatusAssigned {
		agent = deref(c.OfferedTo)
	}
	var ev *newEvent
	if c.Status == StatusActive {
		ev = &newEvent{Kind: KindSystem, SenderKind: SenderSystem, Event: EventTransferred,
			Data: map[string]string{"from_agent_id": agent, "reason": reason}}
	}
	row, ok, err := s.store.requeue(ctx, c, ev, s.auditEvent(c.TenantID, routingActor(), audit.ActionConversationRequeue, c.ID, Origin{},
		map[string]string{"department": c.Department(), "agent_id": agent, "reason": reason, "status": c.Status}))
	if err != nil || !ok {
		return err
	}
	if ev != nil {
		s.publish(wire(row, "", &protocol.Sender{Kind: SenderSystem}, nil))
	}
	s.signal(queueSignal(c.TenantID, c.ID), userSignal(agent, c.ID))
	return nil
}

// RequeueAgent returns every chat a user handles or was offered to the queue (their console
// session ended: signed out, revoked, or the user disabled) and routes the tenant's queue.
func (s *Service) RequeueAgent(ctx context.Context, tenantID, userID, reason string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	held, err := s.store.heldBy(ctx, tenantID, userID)
	if err != nil {
		return err
	}
	for _, c := range held {
		if err := s.requeue(ctx, c, reason); err != nil {
			return err
		}
	}
	if len(held) > 0 {
		s.routeLater(ctx, tenantID)
	}
	return nil
}
