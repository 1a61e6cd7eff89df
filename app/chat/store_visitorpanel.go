package chat

import (
	"context"

	"github.com/parleyhq/parley/migrations"
)

// earlier returns the visitor's conversations other than except, newest first, at most limit,
// and how many there are.
func (st *store) earlier(ctx context.Context, tenantID, visitorID, except string, limit int) ([]Conversation, int64, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	q := st.db.WithContext(ctx).Model(&Conversation{}).Where("tenant_id = ? AND visitor_id = ? AND id <> ?", tenantID, visitorID, except)
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return nil, 0, err
	}
	var out []Conversation
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND visitor_id = ? AND id <> ?", tenantID, visitorID, except).
		Order("queued_at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, n, err
}
