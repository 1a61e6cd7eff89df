package migrations_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		dialect migrations.Dialect
		path    string
		wantErr error
	}{
		{name: "postgres", in: "postgres://u@127.0.0.1:5432/parley?sslmode=disable", dialect: migrations.Postgres},
		{name: "postgresql", in: "postgresql://u@db/parley", dialect: migrations.Postgres},
		{name: "sqlite absolute", in: "sqlite:///var/lib/parley/parley.db", dialect: migrations.SQLite, path: "/var/lib/parley/parley.db"},
		{name: "sqlite relative", in: "sqlite://data/parley.db", dialect: migrations.SQLite, path: "data/parley.db"},
		{name: "sqlite empty", in: "sqlite://", wantErr: migrations.ErrEmptyPath},
		{name: "mysql", in: "mysql://root@localhost/parley", wantErr: migrations.ErrUnknownScheme},
		{name: "bare path", in: "/tmp/parley.db", wantErr: migrations.ErrUnknownScheme},
		{name: "empty", in: "", wantErr: migrations.ErrUnknownScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := migrations.ParseURL(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseURL(%q) error = %v, want %v", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.in, err)
			}
			if loc.Dialect != tt.dialect || loc.Path != tt.path {
				t.Errorf("ParseURL(%q) = %s %q, want %s %q", tt.in, loc.Dialect, loc.Path, tt.dialect, tt.path)
			}
		})
	}
}

func TestMigrateUpAndCheck(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := migratetest.OpenEmpty(t, d)
			m, err := migrations.NewMigrator(db)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Check(ctx); !errors.Is(err, migrations.ErrPending) {
				t.Fatalf("Check on empty database = %v, want ErrPending", err)
			}
			applied, err := m.Up(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) == 0 {
				t.Fatal("Up applied nothing on an empty database")
			}
			if err := m.Check(ctx); err != nil {
				t.Fatalf("Check after Up = %v, want nil", err)
			}
			again, err := m.Up(ctx)
			if err != nil || len(again) != 0 {
				t.Fatalf("second Up = %d applied, %v; want 0, nil", len(again), err)
			}
			st, err := m.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range st {
				if !s.Applied {
					t.Errorf("migration %d (%s) not applied", s.Version, s.Name)
				}
			}
			// A database migrated by a newer binary is refused.
			if err := db.Gorm.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", 99999999, true).Error; err != nil {
				t.Fatal(err)
			}
			if err := m.Check(ctx); !errors.Is(err, migrations.ErrUnknownVersion) {
				t.Fatalf("Check on newer schema = %v, want ErrUnknownVersion", err)
			}
		})
	}
}

// TestDialectsMatch keeps the two dialect folders in step: the same versions and names.
func TestDialectsMatch(t *testing.T) {
	pg, err := migrations.FS.ReadDir("postgres")
	if err != nil {
		t.Fatal(err)
	}
	lite, err := migrations.FS.ReadDir("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) != len(lite) {
		t.Fatalf("postgres has %d migrations, sqlite %d", len(pg), len(lite))
	}
	for i := range pg {
		if pg[i].Name() != lite[i].Name() {
			t.Errorf("migration %d: postgres %q, sqlite %q", i, pg[i].Name(), lite[i].Name())
		}
	}
}
