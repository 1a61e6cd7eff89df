// Package migratetest gives a test a freshly migrated Parley database on SQLite and, when
// PARLEY_TEST_POSTGRES_URL is set, on PostgreSQL too: each call gets its own SQLite file or its own
// Postgres schema, so test packages can run in parallel against one server.
//
// With PARLEY_TEST_REQUIRE_SERVICES=1 (as in CI) a missing PostgreSQL is a test failure, never a
// silent skip.
package migratetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
)

// Environment variables the harness reads.
const (
	EnvPostgresURL     = "PARLEY_TEST_POSTGRES_URL"
	EnvRequireServices = "PARLEY_TEST_REQUIRE_SERVICES"
)

// RequireServices reports whether missing test services must fail the test run.
func RequireServices() bool { return os.Getenv(EnvRequireServices) == "1" }

// Dialects lists the databases a store test should run on: SQLite always, Postgres when configured
// or required.
func Dialects() []migrations.Dialect {
	if os.Getenv(EnvPostgresURL) == "" && !RequireServices() {
		return []migrations.Dialect{migrations.SQLite}
	}
	return []migrations.Dialect{migrations.SQLite, migrations.Postgres}
}

// Each runs fn as a subtest named after each dialect ("sqlite", "postgres") with a freshly
// migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *migrations.DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a migrated database of the given dialect, removed when the test ends. A Postgres
// database is skipped (or failed, when services are required) if PARLEY_TEST_POSTGRES_URL is unset.
// On PostgreSQL the handle connects as the server's role (AppRole): row-level security applies.
func Open(t testing.TB, d migrations.Dialect) *migrations.DB {
	t.Helper()
	u := URL(t, d)
	db := open(t, u)
	if d == migrations.SQLite {
		migrate(t, db)
	}
	return db
}

// OpenEmpty returns an empty database, without the migrations; on PostgreSQL it connects as the
// schema's owner (OwnerRole), as `parley migrate up` does in production.
func OpenEmpty(t testing.TB, d migrations.Dialect) *migrations.DB {
	t.Helper()
	owner, _ := EmptyURLs(t, d)
	return open(t, owner)
}

func open(t testing.TB, u string) *migrations.DB {
	t.Helper()
	return openWith(t, u, migrations.Options{MaxOpenConns: 10})
}

func openWith(t testing.TB, u string, opts migrations.Options) *migrations.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := migrations.Open(ctx, u, opts)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func migrate(t testing.TB, db *migrations.DB) {
	t.Helper()
	m, err := migrations.NewMigrator(db)
	if err != nil {
		t.Fatalf("migrator: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("migrate up on %s: %v", db.Dialect, err)
	}
}

// The PostgreSQL roles the harness uses, as in production (README): the owner of the tables, which
// runs the migrations, and the server's role, which owns nothing and does not bypass row-level
// security. The harness creates them (without passwords; the test server trusts loopback) when
// they are missing.
const (
	OwnerRole = "parley_owner"
	AppRole   = "parley_app"
)

// URL returns a database URL for a fresh database of dialect d: an empty SQLite file in the
// test's temporary folder, or a new schema on the configured Postgres server (dropped at cleanup),
// migrated by OwnerRole, for the server's role AppRole. Migrating it again finds nothing pending.
func URL(t testing.TB, d migrations.Dialect) string {
	t.Helper()
	owner, app := EmptyURLs(t, d)
	if d == migrations.Postgres {
		db := open(t, owner)
		migrate(t, db)
		_ = db.Close()
	}
	return app
}

// EmptyURLs returns two URLs of one fresh, empty database: the owner's, to migrate it, and the
// server's. They are the same SQLite file.
func EmptyURLs(t testing.TB, d migrations.Dialect) (owner, app string) {
	t.Helper()
	switch d {
	case migrations.SQLite:
		u := "sqlite://" + filepath.Join(t.TempDir(), "parley.db")
		return u, u
	case migrations.Postgres:
		base := os.Getenv(EnvPostgresURL)
		if base == "" {
			if RequireServices() {
				t.Fatalf("%s is not set but %s=1: PostgreSQL is required", EnvPostgresURL, EnvRequireServices)
			}
			t.Skipf("PostgreSQL not configured (%s unset)", EnvPostgresURL)
		}
		return postgresSchema(t, base)
	default:
		t.Fatalf("unknown dialect %q", d)
		return "", ""
	}
}

// ensureRoles creates OwnerRole and AppRole when missing; concurrent test packages take turns on
// an advisory lock.
func ensureRoles(ctx context.Context, admin *migrations.DB) error {
	return admin.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(730173)").Error; err != nil {
			return err
		}
		for _, r := range []string{OwnerRole, AppRole} {
			var n int64
			if err := tx.Raw("SELECT count(*) FROM pg_roles WHERE rolname = ?", r).Scan(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				if err := tx.Exec("CREATE ROLE " + r + " LOGIN NOSUPERUSER NOBYPASSRLS").Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func postgresSchema(t testing.TB, base string) (owner, app string) {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := migrations.Open(ctx, base, migrations.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("connect to PostgreSQL at %s: %v", EnvPostgresURL, err)
	}
	defer func() { _ = admin.Close() }()
	if err := ensureRoles(ctx, admin); err != nil {
		t.Fatalf("create roles: %v", err)
	}
	for _, q := range []string{
		"CREATE SCHEMA " + schema + " AUTHORIZATION " + OwnerRole,
		"GRANT USAGE ON SCHEMA " + schema + " TO " + AppRole,
		"ALTER DEFAULT PRIVILEGES FOR ROLE " + OwnerRole + " IN SCHEMA " + schema + " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO " + AppRole,
		"ALTER DEFAULT PRIVILEGES FOR ROLE " + OwnerRole + " IN SCHEMA " + schema + " GRANT USAGE, SELECT ON SEQUENCES TO " + AppRole,
	} {
		if err := admin.Gorm.WithContext(ctx).Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		a, err := migrations.Open(ctx, base, migrations.Options{MaxOpenConns: 1})
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer func() { _ = a.Close() }()
		if err := a.Gorm.WithContext(ctx).Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	return schemaURL(t, base, schema, url.User(OwnerRole)), schemaURL(t, base, schema, url.User(AppRole))
}

// schemaURL is the server URL base with its search path set to schema, as user (base's own user
// when nil).
func schemaURL(t testing.TB, base, schema string, user *url.Userinfo) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgresURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	if user != nil {
		u.User = user
	}
	return u.String()
}

// Beneath returns a handle on db's database that row-level security does not bind: db itself on
// SQLite, a superuser connection to the same schema on PostgreSQL. Tests use it to look at what is
// stored whatever its tenant, or to tamper as someone with database access would.
func Beneath(t testing.TB, db *migrations.DB) *migrations.DB {
	t.Helper()
	if db.Dialect != migrations.Postgres {
		return db
	}
	beneathMu.Lock()
	defer beneathMu.Unlock()
	if b, ok := beneath[db]; ok {
		return b
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var schema string
	if err := db.Gorm.WithContext(ctx).Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatalf("current schema: %v", err)
	}
	b := openWith(t, schemaURL(t, os.Getenv(EnvPostgresURL), schema, nil), migrations.Options{MaxOpenConns: 10, Unbound: true})
	beneath[db] = b
	t.Cleanup(func() {
		beneathMu.Lock()
		delete(beneath, db)
		beneathMu.Unlock()
	})
	return b
}

var (
	beneathMu sync.Mutex
	beneath   = map[*migrations.DB]*migrations.DB{}
)

// BeneathURL is Beneath for a database URL: the same PostgreSQL schema as the server's superuser
// (row-level security does not bind it), or an SQLite URL unchanged. Benchmarks use it to measure
// what row-level security costs.
func BeneathURL(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return dbURL
	}
	base, err := url.Parse(os.Getenv(EnvPostgresURL))
	if err != nil {
		t.Fatal(err)
	}
	u.User = base.User
	return u.String()
}
