package chat

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// addBan stores a ban with its audit record (ErrBanExists when the tenant bans that value
// already).
func (st *store) addBan(ctx context.Context, b Ban, rec audit.Event) error {
	return st.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&b).Error; err != nil {
			if migrations.IsUniqueViolation(err) {
				return ErrBanExists
			}
			return err
		}
		return st.audit.Append(ctx, tx, rec)
	})
}

// removeBan deletes a tenant's ban with its audit record (ErrNotFound when there is none).
func (st *store) removeBan(ctx context.Context, tenantID, id string, rec audit.Event) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	return st.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("tenant_id = ? AND id = ?", tenantID, id).Delete(&Ban{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return st.audit.Append(ctx, tx, rec)
	})
}

// bans lists a tenant's bans, expired ones included, newest first.
func (st *store) bans(ctx context.Context, tenantID string) ([]Ban, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []Ban
	err := st.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("created_at DESC").Limit(1000).Find(&out).Error
	return out, err
}

// activeBans lists the tenant's bans in force at now that may match visitorID or addr: the
// visitor's, the address's and every network ban.
func (st *store) activeBans(ctx context.Context, tenantID, visitorID, addr string, now time.Time) ([]Ban, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []Ban
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND (expires_at IS NULL OR expires_at > ?)", tenantID, now).
		Where("(kind = ? AND value = ?) OR (kind = ? AND value = ?) OR kind = ?", BanVisitor, visitorID, BanIP, addr, BanCIDR).
		Limit(10000).Find(&out).Error
	return out, err
}
