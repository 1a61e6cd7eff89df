package chat

import (
	"context"
	"time"

	"github.com/parleyhq/parley/migrations"
)

// statusCount is one row of a count of a tenant's conversations by status.
type statusCount struct {
	Status string
	N      int64
}

// openByStatus counts the tenant's open conversations by status.
func (st *store) openByStatus(ctx context.Context, tenantID string) ([]statusCount, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []statusCount
	err := st.db.WithContext(ctx).Model(&Conversation{}).Select("status, COUNT(*) AS n").
		Where("tenant_id = ? AND status IN ?", tenantID, openStatuses).Group("status").Scan(&out).Error
	return out, err
}

// oldestQueued returns when the tenant's longest-waiting conversation was queued (nil when none
// waits).
func (st *store) oldestQueued(ctx context.Context, tenantID string) (*time.Time, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var c []Conversation
	err := st.db.WithContext(ctx).Select("queued_at").
		Where("tenant_id = ? AND status IN ?", tenantID, []string{StatusQueued, StatusAssigned}).
		Order("queued_at").Limit(1).Find(&c).Error
	if err != nil || len(c) == 0 {
		return nil, err
	}
	t := c[0].QueuedAt
	return &t, nil
}

// agentsOnlineDistinct counts the tenant's users with an agent connection seen since after.
func (st *store) agentsOnlineDistinct(ctx context.Context, tenantID string, after time.Time) (int64, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var n int64
	err := st.db.WithContext(ctx).Model(&presenceRow{}).Where("tenant_id = ? AND seen_at > ?", tenantID, after).
		Distinct("user_id").Count(&n).Error
	return n, err
}
