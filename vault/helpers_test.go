package vault

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault/vaulttest"
)

// newTenant inserts a tenant row and returns its id.
func newTenant(t testing.TB, db *migrations.DB) string {
	t.Helper()
	id := vaulttest.Name("t")
	now := time.Now().UTC()
	err := migratetest.Beneath(t, db).Gorm.Exec("INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
		id, "Tenant "+id, id, now, now).Error
	if err != nil {
		t.Fatalf("insert tenant: %v", err)
	}
	return id
}

// newLocal opens a local provider in a fresh directory.
func newLocal(t testing.TB) *Local {
	t.Helper()
	l, err := OpenLocal(LocalConfig{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("OpenLocal: %v", err)
	}
	return l
}

// newTransit returns a transit provider on the Vault dev server with the root token.
func newTransit(t testing.TB, srv *vaulttest.Server, mod func(*TransitConfig)) *Transit {
	t.Helper()
	cfg := TransitConfig{Address: srv.Addr, Token: srv.Token}
	if mod != nil {
		mod(&cfg)
	}
	tr, err := NewTransit(cfg)
	if err != nil {
		t.Fatalf("NewTransit: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// providerCase is one key provider the envelope tests run against.
type providerCase struct {
	name string
	open func(t *testing.T) KeyProvider
}

func providerCases() []providerCase {
	return []providerCase{
		{name: "local", open: func(t *testing.T) KeyProvider { return newLocal(t) }},
		{name: "transit", open: func(t *testing.T) KeyProvider { return newTransit(t, vaulttest.Require(t), nil) }},
	}
}

// eachProvider runs fn on every dialect and every provider: sqlite/local, sqlite/transit, ...
func eachProvider(t *testing.T, fn func(t *testing.T, db *migrations.DB, p KeyProvider)) {
	t.Helper()
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			for _, pc := range providerCases() {
				t.Run(pc.name, func(t *testing.T) {
					db := openDB(t, d)
					fn(t, db, pc.open(t))
				})
			}
		})
	}
}

// counting wraps a provider and counts the data key calls the envelope makes.
type counting struct {
	KeyProvider
	generated, unwrapped atomic.Int64
}

func (c *counting) GenerateDataKey(ctx context.Context, tenantID string) (DataKey, error) {
	c.generated.Add(1)
	return c.KeyProvider.GenerateDataKey(ctx, tenantID)
}

func (c *counting) UnwrapDataKey(ctx context.Context, tenantID, wrapped string) ([]byte, error) {
	c.unwrapped.Add(1)
	return c.KeyProvider.UnwrapDataKey(ctx, tenantID, wrapped)
}

// newEnvelope returns an envelope over p and db, closed when the test ends.
func newEnvelope(t testing.TB, db *migrations.DB, p KeyProvider) *Envelope {
	t.Helper()
	e, err := NewEnvelope(EnvelopeConfig{Provider: p, Store: NewStore(db, nil)})
	if err != nil {
		t.Fatalf("NewEnvelope: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func openDB(t testing.TB, d migrations.Dialect) *migrations.DB { return migratetest.Open(t, d) }
