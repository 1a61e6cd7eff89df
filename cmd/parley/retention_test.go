package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestRetentionRun: parley retention run --dry-run lists what would go and changes nothing; the
// real run removes it, records retention.run in the organisation's chain and leaves the chain
// intact; it refuses while another node holds the job's lease, and an unknown organisation.
func TestRetentionRun(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbURL := migratetest.URL(t, d)
			env := map[string]string{"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_DATABASE_URL": dbURL}
			migrateWithOwner(t, env)
			if r := runCmd(t, env, "", "site", "create", "--tenant", "acme-bank", "--name", "Main", "--origin", "https://www.acme.test"); r.code != 0 {
				t.Fatalf("site create: %+v", r)
			}
			db, err := migrations.Open(context.Background(), dbURL, migrations.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = db.Close() }()
			raw := migratetest.Beneath(t, db).Gorm
			var site struct{ ID, TenantID string }
			if err := raw.Raw("SELECT id, tenant_id FROM sites").Scan(&site).Error; err != nil || site.ID == "" {
				t.Fatalf("site: %v", err)
			}
			// A conversation that ended eight years ago: past the default seven.
			conv, old := uuid.Must(uuid.NewV7()).String(), time.Now().UTC().AddDate(-8, 0, 0)
			if err := raw.Exec(`INSERT INTO conversations (id, tenant_id, site_id, visitor_id, status, queued_at, ended_at, created_at, updated_at)
				VALUES (?, ?, ?, ?, 'ended', ?, ?, ?, ?)`, conv, site.TenantID, site.ID, uuid.Must(uuid.NewV7()).String(), old, old, old, old).Error; err != nil {
				t.Fatal(err)
			}
			left := func() int64 {
				var n int64
				if err := raw.Table("conversations").Where("id = ?", conv).Count(&n).Error; err != nil {
					t.Fatal(err)
				}
				return n
			}

			r := runCmd(t, env, "", "retention", "run", "--tenant", "acme-bank", "--dry-run")
			if r.code != 0 || !strings.Contains(r.stdout, "would remove 1 transcripts") || !strings.Contains(r.stdout, "transcript "+conv) {
				t.Fatalf("dry run = %+v", r)
			}
			if left() != 1 {
				t.Fatal("the dry run removed the conversation")
			}

			for _, tt := range []struct {
				name string
				args []string
				code int
				want string
			}{
				{"no subcommand", nil, 2, "usage: parley retention run"},
				{"other subcommand", []string{"purge"}, 2, "usage: parley retention run"},
				{"unknown tenant", []string{"run", "--tenant", "nope"}, 2, `--tenant: no organisation "nope"`},
				{"stray argument", []string{"run", "now"}, 2, "unexpected argument"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					r := runCmd(t, env, "", append([]string{"retention"}, tt.args...)...)
					if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
						t.Errorf("exit %d stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.want)
					}
				})
			}

			// Another node holds the lease.
			if err := raw.Exec("INSERT INTO job_leases (name, owner, until_us) VALUES ('retention', 'node-b', ?)", time.Now().Add(time.Hour).UnixMicro()).Error; err != nil {
				t.Fatal(err)
			}
			if r := runCmd(t, env, "", "retention", "run"); r.code != 1 || !strings.Contains(r.stderr, "another node is running") || left() != 1 {
				t.Fatalf("run under another node's lease = %+v", r)
			}
			if err := raw.Exec("DELETE FROM job_leases").Error; err != nil {
				t.Fatal(err)
			}

			r = runCmd(t, env, "", "retention", "run")
			if r.code != 0 || !strings.Contains(r.stdout, "removed 1 transcripts") {
				t.Fatalf("run = %+v", r)
			}
			if left() != 0 {
				t.Error("the run kept the expired conversation")
			}
			var n int64
			if err := raw.Table("audit_events").Where("action = 'retention.run' AND tenant_id = ?", site.TenantID).Count(&n).Error; err != nil || n != 1 {
				t.Errorf("retention.run events = %d, %v; want 1", n, err)
			}
			if r := runCmd(t, env, "", "audit", "verify", "--tenant", "acme-bank"); r.code != 0 {
				t.Errorf("audit chain after the run: %+v", r)
			}
		})
	}
}
