package cardform

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/compliance/secureform"
	"github.com/parleyhq/parley/migrations"
)

// requestRow is one row of card_form_requests: ids, state and times, never card data.
type requestRow struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	ConversationID string
	RequestedBy    string
	Status         string
	TokenHash      *string
	HolderNode     string
	HolderURL      string `gorm:"column:holder_url"`
	CreatedAt      time.Time
	ExpiresAt      time.Time
	SubmittedAt    *time.Time
	HeldUntil      *time.Time
	ClosedAt       *time.Time
}

func (requestRow) TableName() string { return "card_form_requests" }

func (r requestRow) key() secureform.Key {
	return secureform.Key{Tenant: r.TenantID, Conversation: r.ConversationID, Request: r.ID}
}

// Request is a card form request as the agent's API shows it. Card is the masked card while it
// is held and the caller may see it.
type Request struct {
	ID             string             `json:"request_id"`
	ConversationID string             `json:"conversation_id"`
	RequestedBy    string             `json:"requested_by"`
	Status         string             `json:"status"`
	CreatedAt      time.Time          `json:"created_at"`
	ExpiresAt      time.Time          `json:"expires_at"`
	SubmittedAt    *time.Time         `json:"submitted_at,omitempty"`
	HeldUntil      *time.Time         `json:"held_until,omitempty"`
	ClosedAt       *time.Time         `json:"closed_at,omitempty"`
	Card           *secureform.Masked `json:"card,omitempty"`
}

func (r requestRow) view() Request {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	return Request{ID: r.ID, ConversationID: r.ConversationID, RequestedBy: r.RequestedBy, Status: r.Status,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), SubmittedAt: utc(r.SubmittedAt), HeldUntil: utc(r.HeldUntil),
		ClosedAt: utc(r.ClosedAt)}
}

// row loads a request of a tenant's conversation.
func (s *Service) row(ctx context.Context, db *gorm.DB, tenantID, convID, id string) (requestRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r requestRow
	err := db.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ? AND id = ?", tenantID, convID, id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return requestRow{}, ErrNotFound
	}
	return r, err
}

// rowByToken loads the request a form token was issued for.
func (s *Service) rowByToken(ctx context.Context, hash string) (requestRow, error) {
	var r requestRow
	// Resolution: which tenant a form token belongs to (SECURITY.md, the narrow path).
	err := s.db.WithContext(migrations.AcrossTenants(ctx)).Where("token_hash = ?", hash).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return requestRow{}, ErrNotFound
	}
	return r, err
}

// close moves a request to a closed status if it is in one of from, and reports whether it did.
func (s *Service) closeRow(ctx context.Context, tx *gorm.DB, id, status string, from ...string) (bool, error) {
	res := tx.WithContext(ctx).Model(&requestRow{}).Where("id = ? AND status IN ?", id, from).
		Updates(map[string]any{"status": status, "closed_at": s.now().UTC()})
	return res.RowsAffected == 1, res.Error
}

// jsonMarshal encodes a request view.
func jsonMarshal(r Request) ([]byte, error) { return json.Marshal(r) }
