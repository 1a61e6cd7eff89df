package migrations_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestWithTenant(t *testing.T) {
	bg := context.Background()
	a := migrations.WithTenant(bg, "a")
	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"unscoped", bg, ""},
		{"scoped", a, "a"},
		{"same tenant again", migrations.WithTenant(a, "a"), "a"},
		{"empty id changes nothing", migrations.WithTenant(a, ""), "a"},
		{"another tenant is a conflict", migrations.WithTenant(a, "b"), ""},
		{"a conflict stays one", migrations.WithTenant(migrations.WithTenant(a, "b"), "a"), ""},
		{"across narrows to a tenant", migrations.WithTenant(migrations.AcrossTenants(bg), "b"), "b"},
		{"across", migrations.AcrossTenants(a), ""},
		{"the audit log's own scope", migrations.AsTenant(a, "_system"), "_system"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := migrations.TenantOf(tc.ctx); got != tc.want {
				t.Errorf("TenantOf = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRowLevelSecurity shows, with the server's own role on PostgreSQL, that the database itself
// refuses cross-tenant access, whatever the query asks for: without a tenant it sees nothing,
// under one tenant it sees and writes only that tenant's rows, and two tenants at once are
// refused before the statement is sent.
func TestRowLevelSecurity(t *testing.T) {
	db := migratetest.Open(t, migrations.Postgres) // skipped, or failed in CI, without PostgreSQL
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g := db.Gorm

	if err := migrations.CheckIsolation(ctx, db); err != nil {
		t.Fatalf("the test's server role escapes row-level security: %v", err)
	}
	owner := migratetest.Beneath(t, db)
	if err := migrations.CheckIsolation(ctx, owner); !errors.Is(err, migrations.ErrIsolationBypassed) {
		t.Errorf("CheckIsolation(superuser) = %v, want ErrIsolationBypassed", err)
	}

	// Every table with a tenant_id column, and tenants, has row-level security enabled and forced.
	var unprotected []string
	if err := owner.Gorm.WithContext(ctx).Raw(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r'
		  AND (c.relname = 'tenants' OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
		  AND NOT (c.relrowsecurity AND c.relforcerowsecurity)`).Scan(&unprotected).Error; err != nil {
		t.Fatal(err)
	}
	if len(unprotected) > 0 {
		t.Errorf("tables without forced row-level security: %v", unprotected)
	}

	now := time.Now().UTC()
	insert := func(ctx context.Context, tenant, id string) error {
		return g.WithContext(ctx).Exec("INSERT INTO departments (id, tenant_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			id, tenant, "Dept "+id, now, now).Error
	}
	for _, tn := range []string{"ta", "tb"} {
		tctx := migrations.WithTenant(ctx, tn)
		if err := g.WithContext(tctx).Exec("INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			tn, tn, tn, now, now).Error; err != nil {
			t.Fatalf("tenant %s: %v", tn, err)
		}
		if err := insert(tctx, tn, "d-"+tn); err != nil {
			t.Fatalf("department of %s: %v", tn, err)
		}
	}

	count := func(ctx context.Context, q string) int64 {
		t.Helper()
		var n int64
		if err := g.WithContext(ctx).Raw(q).Scan(&n).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	// The query forgets its WHERE tenant_id = ? in every case.
	const all = "SELECT count(*) FROM departments"
	if n := count(ctx, all); n != 0 {
		t.Errorf("without a tenant: %d rows, want none", n)
	}
	if n := count(migrations.WithTenant(ctx, "ta"), all); n != 1 {
		t.Errorf("under tenant ta: %d rows, want only ta's one", n)
	}
	var names []string
	if err := g.WithContext(migrations.WithTenant(ctx, "ta")).Raw("SELECT id FROM departments WHERE tenant_id = 'tb'").Scan(&names).Error; err != nil || len(names) != 0 {
		t.Errorf("tenant ta asking for tb's rows got %v (%v), want none", names, err)
	}
	if n := count(migrations.AcrossTenants(ctx), all); n != 2 {
		t.Errorf("across tenants: %d rows, want 2", n)
	}

	// Writes: another tenant's row is refused on insert; updates and deletes do not reach it.
	if err := insert(migrations.WithTenant(ctx, "ta"), "tb", "d-sneaky"); err == nil {
		t.Error("tenant ta inserted a row for tb")
	}
	if err := insert(ctx, "ta", "d-nobody"); err == nil {
		t.Error("an insert without a tenant was accepted")
	}
	res := g.WithContext(migrations.WithTenant(ctx, "ta")).Exec("UPDATE departments SET name = 'taken' WHERE id = 'd-tb'")
	if res.Error != nil || res.RowsAffected != 0 {
		t.Errorf("tenant ta updating tb's row: %d rows (%v), want none", res.RowsAffected, res.Error)
	}
	res = g.WithContext(migrations.WithTenant(ctx, "ta")).Exec("UPDATE departments SET tenant_id = 'tb' WHERE id = 'd-ta'")
	if res.Error == nil {
		t.Error("tenant ta moved its row to tb")
	}
	res = g.WithContext(migrations.WithTenant(ctx, "tb")).Exec("DELETE FROM departments")
	if res.Error != nil || res.RowsAffected != 1 {
		t.Errorf("tenant tb deleting every department: %d rows (%v), want only its own", res.RowsAffected, res.Error)
	}
	if n := count(migrations.WithTenant(ctx, "ta"), all); n != 1 {
		t.Errorf("ta's department after tb's delete: %d, want 1", n)
	}

	// A request of one tenant reaching a store with another tenant's id is refused outright.
	clash := migrations.WithTenant(migrations.WithTenant(ctx, "ta"), "tb")
	if err := g.WithContext(clash).Raw(all).Scan(new(int64)).Error; !errors.Is(err, migrations.ErrTenantConflict) {
		t.Errorf("query under two tenants: %v, want ErrTenantConflict", err)
	}
	if err := migrations.Transaction(g.WithContext(clash), func(*gorm.DB) error { return nil }); !errors.Is(err, migrations.ErrTenantConflict) {
		t.Errorf("transaction under two tenants: %v, want ErrTenantConflict", err)
	}

	// Inside a transaction the tenant is SET LOCAL: it ends with the transaction.
	err := migrations.Transaction(g.WithContext(migrations.WithTenant(ctx, "ta")), func(tx *gorm.DB) error {
		var s string
		if err := tx.Raw("SELECT current_setting('parley.tenant_id', true)").Scan(&s).Error; err != nil {
			return err
		}
		if s != "ta" {
			t.Errorf("tenant inside the transaction = %q, want ta", s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
