package chat

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

type offlineRow struct {
	ID           string `gorm:"primaryKey"`
	TenantID     string
	SiteID       string
	DepartmentID *string
	VisitorID    string
	Name         string
	Email        string
	Body         string
	Consent      bool
	Language     string
	CreatedAt    time.Time
	ReadAt       *time.Time
	// The inbox: new or handled, by whom and when, and the sealed reply note.
	Status    string
	HandledBy string
	HandledAt *time.Time
	ReplyNote string
}

func (offlineRow) TableName() string { return "offline_messages" }

// addOffline stores an offline message.
func (st *store) addOffline(ctx context.Context, row offlineRow) error {
	ctx = migrations.WithTenant(ctx, row.TenantID)
	return st.db.WithContext(ctx).Create(&row).Error
}

// offline lists a tenant's offline messages, newest first, at most limit: those of the
// departments depts, or all of them when depts is nil.
func (st *store) offline(ctx context.Context, tenantID string, depts []string, limit int) ([]offlineRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	q := st.db.WithContext(ctx).Where("tenant_id = ?", tenantID)
	if depts != nil {
		q = q.Where("department_id IN ?", depts)
	}
	var rows []offlineRow
	err := q.Order("created_at DESC").Limit(limit).Find(&rows).Error
	return rows, err
}

// offlineInbox lists a tenant's offline messages as offline does, narrowed to status ("" for
// every status).
func (st *store) offlineInbox(ctx context.Context, tenantID string, depts []string, status string, limit int) ([]offlineRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	q := st.db.WithContext(ctx).Where("tenant_id = ?", tenantID)
	if depts != nil {
		q = q.Where("department_id IN ?", depts)
	}
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var rows []offlineRow
	err := q.Order("created_at DESC, id DESC").Limit(limit).Find(&rows).Error
	return rows, err
}

// offlineByID finds one offline message of a tenant.
func (st *store) offlineByID(ctx context.Context, tenantID, id string) (offlineRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r offlineRow
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrNotFound
	}
	return r, err
}

// handleOffline marks a new offline message handled, with its sealed note, and appends ev in the
// same transaction. A message handled meanwhile is left as it is (ErrInvalid on status).
func (st *store) handleOffline(ctx context.Context, tenantID, id, userID, note string, at time.Time, ev audit.Event) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	return st.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&offlineRow{}).Where("tenant_id = ? AND id = ? AND status = ?", tenantID, id, OfflineNew).
			Updates(map[string]any{"status": OfflineHandled, "handled_by": userID, "handled_at": at, "reply_note": note})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return invalid("status", "This message is already marked handled.")
		}
		return st.audit.Append(ctx, tx, ev)
	})
}
