package cardform

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/secureform"
	"github.com/parleyhq/parley/migrations"
)

// run sweeps every interval until ctx ends.
func (s *Service) run(ctx context.Context, every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "card form sweep", "cause", err.Error())
			}
		}
	}
}

// Sweep enforces the card data's life on this node: cards past their TTL are wiped (and their
// requests closed, audited), cards whose request was closed on any node or whose conversation
// ended are wiped, and requests nobody answered in time are closed. It runs every SweepEvery;
// tests call it directly.
func (s *Service) Sweep(ctx context.Context) error {
	ctx = migrations.AcrossTenants(ctx) // housekeeping spans tenants (SECURITY.md)
	for _, k := range s.cards.Sweep() {
		s.expire(ctx, requestRow{ID: k.Request, TenantID: k.Tenant, ConversationID: k.Conversation})
	}
	if err := s.sweepHeld(ctx); err != nil {
		return err
	}
	return s.db.WithContext(ctx).Model(&requestRow{}).Where("status = ? AND expires_at <= ?", StatusRequested, s.now().UTC()).
		Updates(map[string]any{"status": StatusExpired, "closed_at": s.now().UTC()}).Error
}

// heldState is a held card's request and conversation as the database has them.
type heldState struct {
	ID                 string
	Status             string
	ConversationStatus string
}

// sweepHeld wipes the cards this node holds whose request is no longer submitted (closed on
// another node) or whose conversation ended (closing the request, audited).
func (s *Service) sweepHeld(ctx context.Context) error {
	ctx = migrations.AcrossTenants(ctx) // housekeeping spans tenants (SECURITY.md)
	holdings := s.cards.Holdings()
	if len(holdings) == 0 {
		return nil
	}
	ids := make([]string, 0, len(holdings))
	for _, h := range holdings {
		ids = append(ids, h.Request)
	}
	var states []heldState
	for start := 0; start < len(ids); start += 500 {
		var part []heldState
		if err := s.db.WithContext(ctx).Table("card_form_requests r").
			Select("r.id, r.status, c.status AS conversation_status").
			Joins("JOIN conversations c ON c.id = r.conversation_id AND c.tenant_id = r.tenant_id").
			Where("r.id IN ?", ids[start:min(start+500, len(ids))]).Scan(&part).Error; err != nil {
			return err
		}
		states = append(states, part...)
	}
	byID := make(map[string]heldState, len(states))
	for _, st := range states {
		byID[st.ID] = st
	}
	for _, h := range holdings {
		st, ok := byID[h.Request]
		switch {
		case !ok || st.Status != StatusSubmitted:
			s.cards.Purge(h.Key)
		case st.ConversationStatus == "ended" || st.ConversationStatus == "missed":
			s.cards.Purge(h.Key)
			s.closeEnded(ctx, h.Key, true)
		}
	}
	return nil
}

// closeEnded closes a request whose conversation ended, with the purge's audit record when it
// held a card.
func (s *Service) closeEnded(ctx context.Context, k secureform.Key, held bool) {
	ctx = migrations.WithTenant(context.WithoutCancel(ctx), k.Tenant)
	err := migrations.Transaction(s.db.WithContext(ctx), func(tx *gorm.DB) error {
		ok, err := s.closeRow(ctx, tx, k.Request, StatusEnded, StatusSubmitted, StatusRequested)
		if err != nil || !ok || !held {
			return err
		}
		return s.audit.Append(ctx, tx, s.event(k.Tenant, s.systemActor(), audit.ActionCardPurge, k.Conversation, Origin{},
			map[string]string{"request_id": k.Request, "reason": "conversation_ended"}))
	})
	if err != nil {
		s.log.ErrorContext(ctx, "close card form request of an ended conversation", "request_id", k.Request, "cause", err.Error())
	}
}

// ConversationClosed wipes the card data of a conversation that ended or was missed and closes
// its requests: the chat engine calls it (chat.Config.Closed) on the node that closed the
// conversation. Cards held by other nodes are wiped there at once when they can be reached, and
// by their sweep otherwise.
func (s *Service) ConversationClosed(tenantID, conversationID string) {
	ctx, cancel := context.WithTimeout(migrations.WithTenant(context.Background(), tenantID), 5*time.Second)
	defer cancel()
	s.cards.PurgeConversation(tenantID, conversationID)
	var rows []requestRow
	if err := s.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ? AND status IN ?", tenantID, conversationID,
		[]string{StatusRequested, StatusSubmitted}).Find(&rows).Error; err != nil {
		s.log.ErrorContext(ctx, "card form requests of an ended conversation", "conversation_id", conversationID, "cause", err.Error())
		return
	}
	for _, r := range rows {
		s.closeEnded(ctx, r.key(), r.Status == StatusSubmitted)
		if r.Status == StatusSubmitted && r.HolderNode != s.instance && r.HolderURL != "" {
			go func(r requestRow) {
				pctx, pcancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer pcancel()
				s.wipe(pctx, r, r.RequestedBy)
			}(r)
		}
	}
}
