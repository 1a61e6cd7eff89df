package chat

import (
	"context"
	"github.com/parleyhq/parley/migrations"
	"time"
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
}

func (offlineRow) TableName() string { return "offline_messages" }

// addOffline stores an offline message.
func (st *store) addOffline(ctx context.Context, row offlineRow) error {
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
