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
	"testing"
	"time"

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
func Open(t testing.TB, d migrations.Dialect) *migrations.DB {
	t.Helper()
	db := OpenEmpty(t, d)
	m, err := migrations.NewMigrator(db)
	if err != nil {
		t.Fatalf("migrator: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("migrate up on %s: %v", d, err)
	}
	return db
}

// OpenEmpty is Open without the migrations.
func OpenEmpty(t testing.TB, d migrations.Dialect) *migrations.DB {
	t.Helper()
	u := URL(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := migrations.Open(ctx, u, migrations.Options{MaxOpenConns: 10})
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// URL returns a database URL for a fresh, empty database of dialect d: an SQLite file in the
// test's temporary folder, or a new schema on the configured Postgres server (dropped at cleanup).
func URL(t testing.TB, d migrations.Dialect) string {
	t.Helper()
	switch d {
	case migrations.SQLite:
		return "sqlite://" + filepath.Join(t.TempDir(), "parley.db")
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
		return ""
	}
}

func postgresSchema(t testing.TB, base string) string {
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
	if err := admin.Gorm.WithContext(ctx).Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
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
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgresURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
