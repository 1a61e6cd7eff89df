package chat

import (
	"context"
	"time"

	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// SetStatus sets an agent online or away (reason ReasonManual or ReasonIdle), audited when it
// changes; the agent's sockets are told with a status frame, and an agent back online is routed
// chats.
func (s *Service) SetStatus(ctx context.Context, p *identity.Principal, status, reason string, o Origin) error {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if (status != AgentOnline && status != AgentAway) || (reason != ReasonManual && reason != ReasonIdle) {
		return invalid("status", "The status is online or away.")
	}
	actor := userActor(p.UserID)
	if reason == ReasonIdle {
		actor = routingActor()
	}
	rec := audit.Event{Tenant: p.TenantID, Actor: actor, Origin: audit.Origin{IP: o.IP, UserAgent: o.UserAgent, Node: s.node},
		Action: audit.ActionAgentStatus, Target: audit.Target{Kind: "user", ID: p.UserID}, Outcome: audit.Success, RequestID: o.RequestID,
		Details: map[string]string{"status": status, "reason": reason}}
	changed, err := s.store.setStatus(ctx, p.TenantID, p.UserID, status, reason, rec)
	if err != nil {
		return err
	}
	s.signal(userSignal(p.UserID, ""))
	if changed && status == AgentOnline {
		s.routeLater(ctx, p.TenantID)
	}
	return nil
}

// sweepIdle sets away the agents of this node's sockets who were inactive for their tenant's
// idle minutes.
func (s *Service) sweepIdle(ctx context.Context) error {
	type key struct{ tenant, user string }
	active := map[key]time.Time{}
	principals := map[key]*identity.Principal{}
	s.agents.Range(func(k, _ any) bool {
		a := k.(*AgentSession)
		if a.socketID == "" {
			return true
		}
		kk := key{a.p.TenantID, a.p.UserID}
		t := time.Unix(0, a.lastActive.Load())
		if cur, ok := active[kk]; !ok || t.After(cur) {
			active[kk] = t
		}
		principals[kk] = a.p
		return true
	})
	now := s.now()
	idle := map[string]time.Duration{}
	for k, t := range active {
		d, ok := idle[k.tenant]
		if !ok {
			set, err := s.store.routingSettings(ctx, k.tenant)
			if err != nil {
				return err
			}
			d = time.Duration(set.IdleMinutes) * time.Minute
			idle[k.tenant] = d
		}
		if now.Sub(t) < d {
			continue
		}
		cur, err := s.store.agentRouting(ctx, k.tenant, k.user)
		if err != nil {
			return err
		}
		if cur.Status != AgentOnline {
			continue
		}
		if err := s.SetStatus(ctx, principals[k], AgentAway, ReasonIdle, Origin{}); err != nil {
			return err
		}
	}
	return nil
}
