package vault

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/migrations"
)

// InstallationTenant is the key provider's tenant id for keys that belong to the installation
// rather than to one organisation (the sign-in identity key). Real tenant ids never start with an
// underscore.
const InstallationTenant = "_installation"

// InstallationKeys gives the installation's own secret keys by name: each is a data key generated
// by the key provider under the installation's key, stored only wrapped (installation_keys) and
// unwrapped into memory on first use by every node. Reading the database alone yields none of
// them. A key provider that does not answer makes Key fail (fail closed); nothing falls back to a
// key kept in clear.
type InstallationKeys struct {
	db       *gorm.DB
	provider KeyProvider
	now      func() time.Time

	mu    sync.Mutex
	cache map[string][]byte
}

// NewInstallationKeys returns the installation keys kept in db and wrapped by provider.
func NewInstallationKeys(db *migrations.DB, provider KeyProvider, now func() time.Time) *InstallationKeys {
	if now == nil {
		now = time.Now
	}
	return &InstallationKeys{db: db.Gorm, provider: provider, now: now, cache: map[string][]byte{}}
}

type installationKeyRow struct {
	Name       string `gorm:"primaryKey"`
	WrappedKey string
	CreatedAt  time.Time
}

func (installationKeyRow) TableName() string { return "installation_keys" }

// Key returns the 32-byte key called name, creating it on first use. Callers must not modify or
// keep references beyond their use; the slice is shared.
func (k *InstallationKeys) Key(ctx context.Context, name string) ([]byte, error) {
	if err := validKeyName(name); err != nil {
		return nil, err
	}
	k.mu.Lock()
	key, ok := k.cache[name]
	k.mu.Unlock()
	if ok {
		return key, nil
	}
	if k.provider == nil {
		return nil, fmt.Errorf("installation key %s: %w: no key provider", name, ErrUnavailable)
	}
	var row installationKeyRow
	err := k.db.WithContext(ctx).Where("name = ?", name).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		if err := k.provider.CreateTenantKey(ctx, InstallationTenant); err != nil {
			return nil, fmt.Errorf("installation key %s: %w", name, err)
		}
		dk, gerr := k.provider.GenerateDataKey(ctx, InstallationTenant)
		if gerr != nil {
			return nil, fmt.Errorf("installation key %s: %w", name, gerr)
		}
		clear(dk.Plaintext)
		// Two nodes may race to create it; the first row wins and both use it.
		if err := k.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
			Create(&installationKeyRow{Name: name, WrappedKey: dk.Wrapped, CreatedAt: k.now().UTC()}).Error; err != nil {
			return nil, fmt.Errorf("installation key %s: %w", name, err)
		}
		err = k.db.WithContext(ctx).Where("name = ?", name).Take(&row).Error
	}
	if err != nil {
		return nil, fmt.Errorf("installation key %s: %w", name, err)
	}
	key, err = k.provider.UnwrapDataKey(ctx, InstallationTenant, row.WrappedKey)
	if err != nil {
		return nil, fmt.Errorf("installation key %s: %w", name, err)
	}
	if len(key) != 32 {
		clear(key)
		return nil, fmt.Errorf("installation key %s: unwrapped key is %d bytes, want 32", name, len(key))
	}
	k.mu.Lock()
	if cur, ok := k.cache[name]; ok {
		clear(key)
		key = cur
	} else {
		k.cache[name] = key
	}
	k.mu.Unlock()
	return key, nil
}
