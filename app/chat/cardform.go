package chat

import (
	"context"

	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
)

// System events of the secure card form (app/cardform). Their data carries ids only, never card
// data: request_id, and expires_at or reason.
const (
	EventCardFormRequested = "card_form_requested"
	EventCardFormSubmitted = "card_form_submitted"
	EventCardFormClosed    = "card_form_closed"
)

// Lookup returns a tenant's conversation (ErrNotFound when it is not the tenant's, or id is not
// a conversation id).
func (s *Service) Lookup(ctx context.Context, tenantID, id string) (Conversation, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if !protocol.ValidID(id) {
		return Conversation{}, ErrNotFound
	}
	return s.store.conversation(ctx, tenantID, id)
}

// VisitorConversation authenticates a widget request: the site key, the visitor token and the
// conversation, which must be that visitor's on that site. An unknown site or another visitor's
// conversation is ErrNotFound; a bad token wraps visitor.ErrUnauthenticated.
func (s *Service) VisitorConversation(ctx context.Context, siteKey, token, convID string) (tenant.Site, Conversation, error) {
	if !protocol.ValidID(convID) {
		return tenant.Site{}, Conversation{}, ErrNotFound
	}
	site, err := s.SiteByKey(ctx, siteKey)
	if err != nil {
		return tenant.Site{}, Conversation{}, err
	}
	ctx = migrations.WithTenant(ctx, site.TenantID)
	v, err := s.visitors.Authenticate(ctx, site.ID, token)
	if err != nil {
		return site, Conversation{}, err
	}
	c, err := s.store.conversation(ctx, site.TenantID, convID)
	if err != nil {
		return site, Conversation{}, err
	}
	if c.VisitorID != v.ID || c.SiteID != site.ID {
		return site, Conversation{}, ErrNotFound
	}
	return site, c, nil
}
