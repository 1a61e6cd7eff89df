package chat

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/tenant"
)

// System events of the secure card form (app/cardform). Their data carries ids only, never card
// data: request_id, and expires_at or reason.
const (
	EventCardFormRequested = "card_form_requested"
	EventCardFormSubmitted = "card_form_submitted"
	EventCardFormClosed    = "card_form_closed"
)

// Lookup returns a tenant's conversation (ErrNotFound when it is not the tenant's).
func (s *Service) Lookup(ctx context.Context, tenantID, id string) (Conversation, error) {
	if !protocol.ValidID(id) {
		return Conversation{}, ErrNotFound
	}
	return s.store.conversation(ctx, s.db, tenantID, id)
}

// VisitorConversation authenticates a widget request: the site key, the visitor token and the
// conversation, which must be that visitor's on that site. An unknown site or another visitor's
// conversation is ErrNotFound; a bad token wraps visitor.ErrUnauthenticated.
func (s *Service) VisitorConversation(ctx context.Context, siteKey, token, convID string) (tenant.Site, Conversation, error) {
	if !siteKeyPattern.MatchString(siteKey) || !protocol.ValidID(convID) {
		return tenant.Site{}, Conversation{}, ErrNotFound
	}
	site, err := s.tenants.SiteByKey(ctx, siteKey)
	if errors.Is(err, tenant.ErrNotFound) {
		return tenant.Site{}, Conversation{}, ErrNotFound
	}
	if err != nil {
		return tenant.Site{}, Conversation{}, err
	}
	v, err := s.visitors.Authenticate(ctx, site.ID, token)
	if err != nil {
		return site, Conversation{}, err
	}
	c, err := s.store.conversation(ctx, s.db, site.TenantID, convID)
	if err != nil {
		return site, Conversation{}, err
	}
	if c.VisitorID != v.ID || c.SiteID != site.ID {
		return site, Conversation{}, ErrNotFound
	}
	return site, c, nil
}

// Announce appends a system event to an open conversation and delivers it to the visitor and
// the agents like any other event. It fails with ErrEnded once the conversation has ended.
func (s *Service) Announce(ctx context.Context, tenantID, convID string, a Actor, event string, data map[string]string) error {
	var row eventRow
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		row, err = s.appendEvent(ctx, tx, tenantID, convID, newEvent{Kind: KindSystem, SenderKind: a.Kind, SenderID: a.ID,
			Event: event, Data: data}, func(st seqState) error {
			if st.Status == StatusEnded || st.Status == StatusMissed {
				return ErrEnded
			}
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	s.publish(wire(row, "", &protocol.Sender{Kind: a.Kind, ID: a.ID, Name: a.Name}, nil))
	return nil
}
