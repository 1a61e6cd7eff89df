package chat

import (
	"context"
	"github.com/parleyhq/parley/migrations"
	"strings"
	"time"
)

type presenceRow struct {
	SocketID    string `gorm:"primaryKey"`
	TenantID    string
	UserID      string
	NodeID      string
	Departments string
	SeenAt      time.Time
}

func (presenceRow) TableName() string { return "agent_presence" }

// presenceUp records an agent connection of this node as online for the departments it serves.
func (st *store) presenceUp(ctx context.Context, socketID, tenantID, userID, node string, depts []string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	return st.db.WithContext(ctx).Create(&presenceRow{SocketID: socketID, TenantID: tenantID, UserID: userID, NodeID: node,
		Departments: " " + strings.Join(depts, " ") + " ", SeenAt: st.now().UTC()}).Error
}

// presenceBeat keeps an agent connection online.
func (st *store) presenceBeat(ctx context.Context, socketID string) error {
	return st.db.WithContext(ctx).Model(&presenceRow{}).Where("socket_id = ?", socketID).Update("seen_at", st.now().UTC()).Error
}

// presenceDown removes an agent connection.
func (st *store) presenceDown(ctx context.Context, socketID string) error {
	return st.db.WithContext(ctx).Where("socket_id = ?", socketID).Delete(&presenceRow{}).Error
}

// agentsOnline counts the agent connections seen since after that serve dept ("" = any agent
// who serves chats without a department).
func (st *store) agentsOnline(ctx context.Context, tenantID, dept string, after time.Time) (int64, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var n int64
	q := st.db.WithContext(ctx).Model(&presenceRow{}).Where("tenant_id = ? AND seen_at > ?", tenantID, after)
	if dept != "" {
		q = q.Where("(departments LIKE ? OR departments LIKE ?)", "% "+dept+" %", "% "+anyDepartment+" %")
	} else {
		q = q.Where("departments LIKE ?", "% "+anyDepartment+" %")
	}
	err := q.Count(&n).Error
	return n, err
}

// tenantAgentsOnline counts the tenant's agent connections seen since after, whatever they
// serve.
func (st *store) tenantAgentsOnline(ctx context.Context, tenantID string, after time.Time) (int64, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var n int64
	err := st.db.WithContext(ctx).Model(&presenceRow{}).Where("tenant_id = ? AND seen_at > ?", tenantID, after).Count(&n).Error
	return n, err
}

// userOnline counts a user's agent connections seen since after.
func (st *store) userOnline(ctx context.Context, tenantID, userID string, after time.Time) (int64, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var n int64
	err := st.db.WithContext(ctx).Model(&presenceRow{}).
		Where("tenant_id = ? AND user_id = ? AND seen_at > ?", tenantID, userID, after).Count(&n).Error
	return n, err
}

// purgePresence removes the presence rows not seen since before.
func (st *store) purgePresence(ctx context.Context, before time.Time) error {
	return st.db.WithContext(ctx).Where("seen_at < ?", before).Delete(&presenceRow{}).Error
}

// usersOnline returns the users of the tenant with a presence row seen after after.
func (st *store) usersOnline(ctx context.Context, tenantID string, after time.Time) (map[string]bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var ids []string
	err := st.db.WithContext(ctx).Model(&presenceRow{}).Distinct("user_id").
		Where("tenant_id = ? AND seen_at > ?", tenantID, after).Pluck("user_id", &ids).Error
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}
