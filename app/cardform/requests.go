package cardform

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/secureform"
	"github.com/parleyhq/parley/migrations"
)

func userActor(p *api.Principal) audit.Actor { return audit.Actor{ID: p.UserID, Kind: audit.ActorUser} }

// conversation loads a conversation of the principal's tenant.
func (s *Service) conversation(ctx context.Context, tenantID, convID string) (chat.Conversation, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	c, err := s.chat.Lookup(ctx, tenantID, convID)
	if errors.Is(err, chat.ErrNotFound) {
		return c, ErrNotFound
	}
	return c, err
}

// Request asks the visitor of a conversation for card data: the agent must be the one handling
// the open conversation. The request is stored and audited in one transaction, then announced
// in the chat (card_form_requested).
func (s *Service) Request(ctx context.Context, p *api.Principal, convID string, o Origin) (Request, error) {
	c, err := s.conversation(ctx, p.TenantID, convID)
	if err != nil {
		return Request{}, err
	}
	switch {
	case !c.Open():
		return Request{}, ErrEnded
	case c.AgentID == nil || *c.AgentID != p.UserID:
		return Request{}, ErrForbidden
	}
	now := s.now().UTC()
	row := requestRow{ID: uuid.Must(uuid.NewV7()).String(), TenantID: p.TenantID, ConversationID: c.ID, RequestedBy: p.UserID,
		Status: StatusRequested, CreatedAt: now, ExpiresAt: now.Add(s.ttl)}
	err = migrations.Transaction(s.db.WithContext(ctx), func(tx *gorm.DB) error {
		var open int64
		if err := tx.Model(&requestRow{}).Where("tenant_id = ? AND conversation_id = ? AND status = ? AND expires_at > ?",
			p.TenantID, c.ID, StatusRequested, now).Count(&open).Error; err != nil {
			return err
		}
		if int(open) >= s.maxOpen {
			return ErrTooMany
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, s.event(p.TenantID, userActor(p), audit.ActionCardFormRequest, c.ID, o,
			map[string]string{"request_id": row.ID, "expires_at": row.ExpiresAt.Format(time.RFC3339)}))
	})
	if err != nil {
		return Request{}, err
	}
	err = s.chat.Announce(ctx, p.TenantID, c.ID, chat.Actor{Kind: chat.SenderAgent, ID: p.UserID},
		chat.EventCardFormRequested, map[string]string{"request_id": row.ID, "expires_at": row.ExpiresAt.Format(time.RFC3339)})
	if err != nil {
		// The visitor never learnt of it: withdraw the request.
		_, _ = s.closeRow(context.WithoutCancel(ctx), s.db, row.ID, StatusExpired, StatusRequested)
		if errors.Is(err, chat.ErrEnded) {
			return Request{}, ErrEnded
		}
		return Request{}, err
	}
	return row.view(), nil
}

// List returns the requests of a conversation, newest first, without card data.
func (s *Service) List(ctx context.Context, p *api.Principal, convID string) ([]Request, error) {
	if _, err := s.conversation(ctx, p.TenantID, convID); err != nil {
		return nil, err
	}
	var rows []requestRow
	if err := s.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ?", p.TenantID, convID).
		Order("created_at DESC, id DESC").Limit(100).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Request, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.view())
	}
	return out, nil
}

// held loads a request the principal made whose card is held; closed requests answer ErrPurged
// with their row.
func (s *Service) held(ctx context.Context, p *api.Principal, convID, id string) (requestRow, error) {
	r, err := s.row(ctx, s.db, p.TenantID, convID, id)
	if err != nil {
		return r, err
	}
	if r.RequestedBy != p.UserID {
		return r, ErrForbidden
	}
	if r.Status != StatusSubmitted {
		return r, ErrPurged
	}
	if r.HeldUntil != nil && !s.now().Before(*r.HeldUntil) {
		s.expire(ctx, r)
		r.Status = StatusExpired
		return r, ErrPurged
	}
	return r, nil
}

// View returns a request with its masked card while it is held, for the agent who made it. Each
// view of card data is audited (card.view, without the data) before the data is returned.
func (s *Service) View(ctx context.Context, p *api.Principal, convID, id string, o Origin) (Request, error) {
	r, err := s.held(ctx, p, convID, id)
	switch {
	case errors.Is(err, ErrPurged):
		return r.view(), nil
	case err != nil:
		return Request{}, err
	}
	mode, err := s.modes.MaskMode(ctx, p.TenantID)
	if err != nil {
		return Request{}, err
	}
	var card secureform.Masked
	if r.HolderNode == s.instance {
		card, _, err = s.cards.View(r.key(), p.UserID, mode)
	} else {
		var req secureform.PeerRequest
		var reply []byte
		req, reply, err = s.peerCall(ctx, r.HolderURL, secureform.PeerRequest{Op: secureform.OpView, Tenant: r.TenantID,
			Conversation: r.ConversationID, Request: r.ID, Agent: p.UserID, Mode: mode.String()})
		if err == nil {
			card, _, err = s.peer.OpenView(ctx, req, reply)
		}
	}
	if err = s.cardErr(ctx, r, err); err != nil {
		if errors.Is(err, ErrPurged) {
			r.Status = StatusExpired
			return r.view(), nil
		}
		return Request{}, err
	}
	if err := s.audit.Record(ctx, s.event(p.TenantID, userActor(p), audit.ActionCardView, r.ConversationID, o,
		map[string]string{"request_id": r.ID, "brand": card.Brand, "mode": mode.String()})); err != nil {
		return Request{}, err
	}
	v := r.view()
	v.Card = &card
	return v, nil
}

// Reveal returns the full card for the agent who requested it; the route checked card.view_full.
// The view is audited (card.view_full, without the data) before the data is returned; the caller
// writes it with Reveal.WriteJSON and wipes it.
func (s *Service) Reveal(ctx context.Context, p *api.Principal, convID, id string, o Origin) (Request, *secureform.Reveal, error) {
	r, err := s.held(ctx, p, convID, id)
	if err != nil {
		return r.view(), nil, err
	}
	var rev *secureform.Reveal
	if r.HolderNode == s.instance {
		rev, _, err = s.cards.Reveal(r.key(), p.UserID)
	} else {
		var req secureform.PeerRequest
		var reply []byte
		req, reply, err = s.peerCall(ctx, r.HolderURL, secureform.PeerRequest{Op: secureform.OpReveal, Tenant: r.TenantID,
			Conversation: r.ConversationID, Request: r.ID, Agent: p.UserID})
		if err == nil {
			rev, err = s.peer.OpenReveal(ctx, req, reply)
		}
	}
	if err = s.cardErr(ctx, r, err); err != nil {
		return r.view(), nil, err
	}
	if err := s.audit.Record(ctx, s.event(p.TenantID, userActor(p), audit.ActionCardViewFull, r.ConversationID, o,
		map[string]string{"request_id": r.ID, "brand": rev.Brand().String()})); err != nil {
		rev.Wipe()
		return r.view(), nil, err
	}
	return r.view(), rev, nil
}

// cardErr maps a store or node error for a request whose row says submitted: a card the holder
// no longer has (expired, or lost with a restarted node) closes the request.
func (s *Service) cardErr(ctx context.Context, r requestRow, err error) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, secureform.ErrNotFound), errors.Is(err, secureform.ErrExpired):
		s.expire(ctx, r)
		return ErrPurged
	case errors.Is(err, secureform.ErrForbidden):
		return ErrForbidden
	}
	return err
}

// expire closes a submitted request whose card is gone, with its audit record.
func (s *Service) expire(ctx context.Context, r requestRow) {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	ctx = context.WithoutCancel(ctx)
	err := migrations.Transaction(s.db.WithContext(ctx), func(tx *gorm.DB) error {
		ok, err := s.closeRow(ctx, tx, r.ID, StatusExpired, StatusSubmitted)
		if err != nil || !ok {
			return err
		}
		return s.audit.Append(ctx, tx, s.event(r.TenantID, s.systemActor(), audit.ActionCardPurge, r.ConversationID, Origin{},
			map[string]string{"request_id": r.ID, "reason": "ttl"}))
	})
	if err != nil {
		s.log.ErrorContext(ctx, "close expired card form request", "request_id", r.ID, "cause", err.Error())
	}
}

// Done wipes the card of a request (or withdraws a request not yet answered) at the agent's
// word. The request is closed and the purge audited in one transaction; the node holding the
// card wipes it at once, or within its sweep if it cannot be reached now.
func (s *Service) Done(ctx context.Context, p *api.Principal, convID, id string, o Origin) (Request, error) {
	r, err := s.row(ctx, s.db, p.TenantID, convID, id)
	if err != nil {
		return Request{}, err
	}
	if r.RequestedBy != p.UserID {
		return Request{}, ErrForbidden
	}
	if r.Status != StatusRequested && r.Status != StatusSubmitted {
		return r.view(), nil
	}
	held := r.Status == StatusSubmitted
	err = migrations.Transaction(s.db.WithContext(ctx), func(tx *gorm.DB) error {
		ok, err := s.closeRow(ctx, tx, r.ID, StatusDone, StatusRequested, StatusSubmitted)
		if err != nil {
			return err
		}
		if !ok {
			return ErrUsed
		}
		action, details := audit.ActionCardPurge, map[string]string{"request_id": r.ID, "reason": "done"}
		if !held {
			details["reason"] = "withdrawn"
		}
		return s.audit.Append(ctx, tx, s.event(p.TenantID, userActor(p), action, r.ConversationID, o, details))
	})
	if errors.Is(err, ErrUsed) {
		r, err = s.row(ctx, s.db, p.TenantID, convID, id)
		return r.view(), err
	}
	if err != nil {
		return Request{}, err
	}
	if held {
		s.wipe(ctx, r, p.UserID)
	}
	_ = s.chat.Announce(ctx, p.TenantID, r.ConversationID, chat.Actor{Kind: chat.SenderAgent, ID: p.UserID},
		chat.EventCardFormClosed, map[string]string{"request_id": r.ID, "reason": "done"})
	r, err = s.row(ctx, s.db, p.TenantID, convID, id)
	return r.view(), err
}

// wipe purges a card here or on the node holding it.
func (s *Service) wipe(ctx context.Context, r requestRow, agent string) {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	if r.HolderNode == s.instance || r.HolderNode == "" {
		s.cards.Purge(r.key())
		return
	}
	req, reply, err := s.peerCall(ctx, r.HolderURL, secureform.PeerRequest{Op: secureform.OpPurge, Tenant: r.TenantID,
		Conversation: r.ConversationID, Request: r.ID, Agent: agent})
	if err == nil {
		err = s.peer.OpenPurge(ctx, req, reply)
	}
	if err != nil && !errors.Is(err, secureform.ErrNotFound) {
		s.log.WarnContext(ctx, "card data on another node not wiped at once; its sweep will",
			"request_id", r.ID, "holder", r.HolderNode, "cause", fmt.Sprint(err))
	}
}
