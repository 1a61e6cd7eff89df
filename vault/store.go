package vault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/migrations"
)

// Store keeps the wrapped data keys in the data_keys table. Every query is scoped by tenant.
type Store struct {
	db  *gorm.DB
	now func() time.Time
}

// NewStore returns a store over db; now defaults to time.Now.
func NewStore(db *migrations.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db.Gorm, now: now}
}

// In returns a store that works inside the caller's transaction tx.
func (s *Store) In(tx *gorm.DB) *Store { return &Store{db: tx, now: s.now} }

// StoredKey is one row of data_keys.
type StoredKey struct {
	TenantID string
	ScopeID  string
	// Wrapped is the data key wrapped under the tenant key; empty once shredded.
	Wrapped string
	// KeyVersion is the tenant key version that wrapped it; 0 once shredded.
	KeyVersion  int
	CreatedAt   time.Time
	RewrappedAt *time.Time
	ShreddedAt  *time.Time
}

// Shredded reports whether the scope was crypto-shredded.
func (k StoredKey) Shredded() bool { return k.ShreddedAt != nil }

// dataKeyRow maps data_keys.
type dataKeyRow struct {
	TenantID    string `gorm:"primaryKey"`
	ScopeID     string `gorm:"primaryKey"`
	WrappedKey  string
	KeyVersion  int
	CreatedAt   time.Time
	RewrappedAt *time.Time
	ShreddedAt  *time.Time
}

func (dataKeyRow) TableName() string { return "data_keys" }

func (r dataKeyRow) stored() StoredKey {
	return StoredKey{
		TenantID: r.TenantID, ScopeID: r.ScopeID, Wrapped: r.WrappedKey, KeyVersion: r.KeyVersion,
		CreatedAt: r.CreatedAt, RewrappedAt: r.RewrappedAt, ShreddedAt: r.ShreddedAt,
	}
}

// Get returns the scope's row, or ErrNotFound.
func (s *Store) Get(ctx context.Context, tenantID, scopeID string) (StoredKey, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r dataKeyRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND scope_id = ?", tenantID, scopeID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return StoredKey{}, ErrNotFound
	}
	if err != nil {
		return StoredKey{}, fmt.Errorf("read data key: %w", err)
	}
	return r.stored(), nil
}

// Insert stores a new wrapped key unless the scope already has a row (a key, or a shredding
// tombstone); it reports whether it inserted.
func (s *Store) Insert(ctx context.Context, tenantID, scopeID, wrapped string, keyVersion int) (bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	r := dataKeyRow{TenantID: tenantID, ScopeID: scopeID, WrappedKey: wrapped, KeyVersion: keyVersion, CreatedAt: s.now().UTC()}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&r)
	if res.Error != nil {
		return false, fmt.Errorf("store data key: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// Shred deletes the scope's wrapped key and leaves a tombstone, so the scope's ciphertext can
// never be decrypted again and the scope never gets a new key. Shredding twice is a no-op.
func (s *Store) Shred(ctx context.Context, tenantID, scopeID string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	now := s.now().UTC()
	r := dataKeyRow{TenantID: tenantID, ScopeID: scopeID, CreatedAt: now, ShreddedAt: &now}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "tenant_id"}, {Name: "scope_id"}},
		DoUpdates: clause.Set{
			{Column: clause.Column{Name: "wrapped_key"}, Value: ""},
			{Column: clause.Column{Name: "key_version"}, Value: 0},
			{Column: clause.Column{Name: "shredded_at"}, Value: gorm.Expr("COALESCE(data_keys.shredded_at, ?)", now)},
		},
	}).Create(&r).Error
	if err != nil {
		return fmt.Errorf("shred data key: %w", err)
	}
	return nil
}

// DeleteTenant removes every row of the tenant (offboarding, after its tenant key is destroyed).
func (s *Store) DeleteTenant(ctx context.Context, tenantID string) (int64, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	res := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Delete(&dataKeyRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("delete data keys: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// ListBelowVersion returns up to limit live keys of the tenant wrapped under a version below
// version, with scope ids after afterScope, in scope id order: the pages a resumable rewrap walks.
func (s *Store) ListBelowVersion(ctx context.Context, tenantID string, version int, afterScope string, limit int) ([]StoredKey, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []dataKeyRow
	err := s.db.WithContext(ctx).
		Where("tenant_id = ? AND shredded_at IS NULL AND key_version < ? AND scope_id > ?", tenantID, version, afterScope).
		Order("scope_id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list data keys: %w", err)
	}
	out := make([]StoredKey, len(rows))
	for i, r := range rows {
		out[i] = r.stored()
	}
	return out, nil
}

// ReplaceWrapped swaps a scope's wrapped key for its rewrapped form, only if the row still holds
// old (it may have been shredded or rewrapped meanwhile); it reports whether it replaced.
func (s *Store) ReplaceWrapped(ctx context.Context, tenantID, scopeID, old, wrapped string, keyVersion int) (bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	now := s.now().UTC()
	res := s.db.WithContext(ctx).Model(&dataKeyRow{}).
		Where("tenant_id = ? AND scope_id = ? AND wrapped_key = ? AND shredded_at IS NULL", tenantID, scopeID, old).
		Updates(map[string]any{"wrapped_key": wrapped, "key_version": keyVersion, "rewrapped_at": now})
	if res.Error != nil {
		return false, fmt.Errorf("replace data key: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// VersionCounts tallies the tenant's rows: live keys per tenant key version, and tombstones.
type VersionCounts struct {
	ByVersion map[int]int
	Shredded  int
}

// CountByVersion counts the tenant's wrapped keys per key version and its shredded scopes.
func (s *Store) CountByVersion(ctx context.Context, tenantID string) (VersionCounts, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []struct {
		KeyVersion int
		Shredded   bool
		N          int
	}
	err := s.db.WithContext(ctx).Model(&dataKeyRow{}).
		Select("key_version, shredded_at IS NOT NULL AS shredded, COUNT(*) AS n").
		Where("tenant_id = ?", tenantID).
		Group("key_version, shredded_at IS NOT NULL").Scan(&rows).Error
	if err != nil {
		return VersionCounts{}, fmt.Errorf("count data keys: %w", err)
	}
	out := VersionCounts{ByVersion: map[int]int{}}
	for _, r := range rows {
		if r.Shredded {
			out.Shredded += r.N
			continue
		}
		out.ByVersion[r.KeyVersion] += r.N
	}
	return out, nil
}
