package cobrowse

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
)

// Session statuses in cobrowse_sessions.
const (
	statusRequested = "requested"
	statusActive    = "active"
	statusEnded     = "ended"
)

// sessionRow is a session's ids, state and times: nothing of the shared page.
type sessionRow struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	ConversationID string
	SiteID         string
	AgentID        string
	Status         string
	HolderNode     string
	HolderURL      string
	EndReason      string
	CreatedAt      time.Time
	StartedAt      *time.Time
	EndedAt        *time.Time
}

func (sessionRow) TableName() string { return "cobrowse_sessions" }

// Info is a session as the API shows it.
type Info struct {
	ID             string     `json:"id"`
	ConversationID string     `json:"conversation_id"`
	AgentID        string     `json:"agent_id"`
	Status         string     `json:"status"`
	EndReason      string     `json:"end_reason,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	StartedAt      *time.Time `json:"started_at,omitempty"`
	EndedAt        *time.Time `json:"ended_at,omitempty"`
}

func (r sessionRow) info() Info {
	return Info{ID: r.ID, ConversationID: r.ConversationID, AgentID: r.AgentID, Status: r.Status, EndReason: r.EndReason,
		CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, EndedAt: r.EndedAt}
}

func (s *Service) row(ctx context.Context, tenantID, convID, id string) (sessionRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r sessionRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ? AND id = ?", tenantID, convID, id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrNotFound
	}
	return r, err
}

// closeRow marks a session ended (once); it reports whether this call ended it.
func (s *Service) closeRow(ctx context.Context, tx *gorm.DB, tenantID, id, reason string) (bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	now := s.now().UTC()
	res := tx.WithContext(ctx).Model(&sessionRow{}).Where("tenant_id = ? AND id = ? AND status <> ?", tenantID, id, statusEnded).
		Updates(map[string]any{"status": statusEnded, "end_reason": reason, "ended_at": now})
	return res.RowsAffected == 1, res.Error
}

// settingsRow is a site's co-browsing settings.
type settingsRow struct {
	SiteID         string `gorm:"primaryKey"`
	TenantID       string
	Enabled        bool
	InputAllowlist string
	IdleSeconds    int
	UpdatedBy      string
	UpdatedAt      time.Time
}

func (settingsRow) TableName() string { return "site_cobrowse_settings" }
