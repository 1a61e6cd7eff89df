package cobrowse

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// conversation loads a conversation of the tenant.
func (s *Service) conversation(ctx context.Context, tenantID, convID string) (chat.Conversation, error) {
	c, err := s.chat.Lookup(migrations.WithTenant(ctx, tenantID), tenantID, convID)
	if errors.Is(err, chat.ErrNotFound) {
		return c, ErrNotFound
	}
	return c, err
}

// Request asks the visitor of the agent's open conversation to share their page: it needs the
// site's co-browsing on and no session running in the chat (a request still unanswered is
// replaced). Stored and audited in one transaction, then announced (cobrowse_requested).
func (s *Service) Request(ctx context.Context, p *api.Principal, convID string, o Origin) (Info, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	c, err := s.conversation(ctx, p.TenantID, convID)
	if err != nil {
		return Info{}, err
	}
	switch {
	case !c.Open():
		return Info{}, ErrEnded
	case c.AgentID == nil || *c.AgentID != p.UserID:
		return Info{}, ErrForbidden
	}
	set, err := s.SiteSettings(ctx, p.TenantID, c.SiteID)
	if err != nil {
		return Info{}, err
	}
	if !set.Enabled {
		return Info{}, ErrDisabled
	}
	now := s.now().UTC()
	row := sessionRow{ID: uuid.Must(uuid.NewV7()).String(), TenantID: p.TenantID, ConversationID: c.ID, SiteID: c.SiteID,
		AgentID: p.UserID, Status: statusRequested, CreatedAt: now}
	var replaced []sessionRow
	err = migrations.Transaction(s.db.WithContext(ctx), func(tx *gorm.DB) error {
		var open []sessionRow
		if err := tx.Where("tenant_id = ? AND conversation_id = ? AND status <> ?", p.TenantID, c.ID, statusEnded).Find(&open).Error; err != nil {
			return err
		}
		for _, r := range open {
			if r.Status == statusActive {
				return ErrActive
			}
			if _, err := s.closeRow(ctx, tx, p.TenantID, r.ID, ReasonReplaced); err != nil {
				return err
			}
			replaced = append(replaced, r)
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, s.event(p.TenantID, userActor(p.UserID), audit.ActionCobrowseRequest, c.ID, o,
			map[string]string{"session_id": row.ID, "scope": ModeView}))
	})
	if err != nil {
		return Info{}, err
	}
	agent := chat.Actor{Kind: chat.SenderAgent, ID: p.UserID}
	for _, r := range replaced {
		_ = s.chat.Announce(ctx, p.TenantID, c.ID, agent, EventEnded, map[string]string{"session_id": r.ID, "reason": ReasonReplaced})
	}
	if err := s.chat.Announce(ctx, p.TenantID, c.ID, agent, EventRequested, map[string]string{"session_id": row.ID}); err != nil {
		_, _ = s.closeRow(context.WithoutCancel(ctx), s.db, p.TenantID, row.ID, ReasonChatEnded)
		if errors.Is(err, chat.ErrEnded) {
			return Info{}, ErrEnded
		}
		return Info{}, err
	}
	return row.info(), nil
}

// Latest returns the newest session of a conversation (ErrNotFound when none).
func (s *Service) Latest(ctx context.Context, p *api.Principal, convID string) (Info, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if _, err := s.conversation(ctx, p.TenantID, convID); err != nil {
		return Info{}, err
	}
	var r sessionRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ?", p.TenantID, convID).
		Order("created_at DESC, id DESC").Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Info{}, ErrNotFound
	}
	return r.info(), err
}

// EndByAgent ends a session the agent asked for: at once when this node holds it, otherwise
// its row is closed and the holder ends it at its next sweep.
func (s *Service) EndByAgent(ctx context.Context, p *api.Principal, convID, id string, o Origin) error {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	r, err := s.row(ctx, p.TenantID, convID, id)
	if err != nil {
		return err
	}
	if r.AgentID != p.UserID {
		return ErrForbidden
	}
	if l, ok := s.Held(id); ok {
		l.End(ctx, ReasonAgentEnded)
		return nil
	}
	return s.finish(ctx, r, ReasonAgentEnded, userActor(p.UserID), o)
}

// finish closes a session's row, audits cobrowse.end and announces it, once.
func (s *Service) finish(ctx context.Context, r sessionRow, reason string, actor audit.Actor, o Origin) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	var ended bool
	err := migrations.Transaction(s.db.WithContext(ctx), func(tx *gorm.DB) error {
		var err error
		if ended, err = s.closeRow(ctx, tx, r.TenantID, r.ID, reason); err != nil || !ended {
			return err
		}
		return s.audit.Append(ctx, tx, s.event(r.TenantID, actor, audit.ActionCobrowseEnd, r.ConversationID, o,
			map[string]string{"session_id": r.ID, "reason": reason}))
	})
	if err != nil || !ended {
		return err
	}
	_ = s.chat.Announce(ctx, r.TenantID, r.ConversationID, chat.Actor{Kind: chat.SenderSystem}, EventEnded,
		map[string]string{"session_id": r.ID, "reason": reason})
	return nil
}

// Decline records the visitor's refusal of a request (cobrowse.consent, outcome failure) and
// ends it.
func (s *Service) Decline(ctx context.Context, siteKey, token, convID, id string, o Origin) error {
	_, c, err := s.chat.VisitorConversation(ctx, siteKey, token, convID)
	if errors.Is(err, chat.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	ctx = migrations.WithTenant(ctx, c.TenantID)
	r, err := s.row(ctx, c.TenantID, c.ID, id)
	if err != nil {
		return err
	}
	if r.Status != statusRequested {
		return ErrClosed
	}
	ev := s.event(c.TenantID, visitorActor(c.VisitorID), audit.ActionCobrowseConsent, c.ID, o,
		map[string]string{"session_id": id, "scope": ModeView, "decision": "declined"})
	ev.Outcome = audit.Failure
	if err := s.audit.Record(ctx, ev); err != nil {
		return err
	}
	return s.finish(ctx, r, ReasonDeclined, visitorActor(c.VisitorID), o)
}
