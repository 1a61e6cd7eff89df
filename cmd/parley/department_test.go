package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestDepartmentCreate: parley department create adds a department, prints its id and records
// department.create in the organisation's audit chain; problems with the flags are one line each
// and exit 2, and a card number in the name is refused naming --name without repeating it.
func TestDepartmentCreate(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbURL := migratetest.URL(t, d)
			env := map[string]string{"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_DATABASE_URL": dbURL}
			migrateWithOwner(t, env)

			r := runCmd(t, env, "", "department", "create", "--tenant", "acme-bank", "--name", "  Card services ")
			m := regexp.MustCompile(`(?m)^created department "Card services", id ([0-9a-f-]{36})$`).FindStringSubmatch(r.stdout)
			if r.code != 0 || m == nil {
				t.Fatalf("department create = %+v, want exit 0 and the id", r)
			}
			if got := departments(t, dbURL, "acme-bank"); len(got) != 1 || got[0].ID != m[1] || got[0].Name != "Card services" {
				t.Errorf("stored departments %+v, want one with id %s", got, m[1])
			}
			if n := countAudit(t, dbURL, "department.create", m[1]); n != 1 {
				t.Errorf("department.create events for %s: got %d, want 1", m[1], n)
			}

			tests := []struct {
				name   string
				args   []string
				code   int
				stderr []string
			}{
				{"no subcommand", nil, 2, []string{"usage: parley department create"}},
				{"other subcommand", []string{"delete"}, 2, []string{"usage: parley department create"}},
				{"no flags", []string{"create"}, 2, []string{"department create: --tenant is required", "department create: --name is required"}},
				{"no name", []string{"create", "--tenant", "acme-bank"}, 2, []string{"department create: --name is required"}},
				{"unknown tenant", []string{"create", "--tenant", "nope", "--name", "Sales"}, 2, []string{`--tenant: no organisation "nope"`}},
				{"system tenant", []string{"create", "--tenant", "_system", "--name", "Sales"}, 2, []string{"--tenant: no organisation"}},
				{"short name", []string{"create", "--tenant", "acme-bank", "--name", "x"}, 2, []string{"--name: name must be"}},
				{"card number", []string{"create", "--tenant", "acme-bank", "--name", "Desk 4111 1111 1111 1111"}, 2, []string{"--name: a card number is not allowed"}},
				{"card number with dashes", []string{"create", "--tenant", "acme-bank", "--name", "Desk 5500-0000-0000-0004"}, 2, []string{"--name: a card number is not allowed"}},
				{"taken", []string{"create", "--tenant", "acme-bank", "--name", "Card services"}, 1, []string{`already has a department "Card services"`}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := runCmd(t, env, "", append([]string{"department"}, tt.args...)...)
					if r.code != tt.code {
						t.Errorf("exit %d, want %d: %+v", r.code, tt.code, r)
					}
					for _, want := range tt.stderr {
						if !strings.Contains(r.stderr, want) {
							t.Errorf("stderr %q, want it to contain %q", r.stderr, want)
						}
					}
					for _, digits := range []string{"4111 1111", "5500-0000"} {
						if strings.Contains(r.stdout+r.stderr, digits) {
							t.Errorf("output repeats the card number: %+v", r)
						}
					}
				})
			}
			if got := departments(t, dbURL, "acme-bank"); len(got) != 1 {
				t.Errorf("after the refusals: %d departments, want 1", len(got))
			}
			if r := runCmd(t, env, "", "audit", "verify", "--tenant", "acme-bank"); r.code != 0 {
				t.Errorf("audit chain after department create: %+v", r)
			}
		})
	}
}

// departments returns an organisation's departments, read straight from the database.
func departments(t *testing.T, dbURL, slug string) []tenant.Department {
	t.Helper()
	ctx := context.Background()
	db, err := migrations.Open(ctx, dbURL, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	store := tenant.NewStore(db.Gorm, nil)
	tn, err := store.BySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	out, err := store.Departments(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// countAudit counts the audit events of an action on a target.
func countAudit(t *testing.T, dbURL, action, target string) int64 {
	t.Helper()
	db, err := migrations.Open(context.Background(), dbURL, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	var n int64
	if err := migratetest.Beneath(t, db).Gorm.Table("audit_events").Where("action = ? AND target_id = ?", action, target).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
