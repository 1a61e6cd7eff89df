package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestAuditAndKeysCommands drives `parley audit verify/export` and `parley keys` against a real
// database (and the local key provider): an intact chain verifies, an exported bundle verifies
// offline and fails once tampered, a modified event is named by its sequence number, and key
// rotation and rewrap run and are audited.
func TestAuditAndKeysCommands(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dir := t.TempDir()
			dbURL := migratetest.URL(t, d)
			env := map[string]string{"PARLEY_DATA_DIR": dir, "PARLEY_DATABASE_URL": dbURL, "USER": "ops"}
			if r := runCmd(t, env, "", "migrate", "up"); r.code != 0 {
				t.Fatalf("migrate: %+v", r)
			}
			if r := runCmd(t, env, "Tr1cky-Lantern-Harbour\n", "user", "create", "--tenant", "Acme Bank", "--email", "o@acme.test", "--role", "owner", "--password-stdin"); r.code != 0 {
				t.Fatalf("user create: %+v", r)
			}
			r := runCmd(t, env, "", "audit", "verify")
			if r.code != 0 || !strings.Contains(r.stdout, "intact") {
				t.Fatalf("verify intact chain: %+v", r)
			}

			// Keys: status, rotate, rewrap.
			if r := runCmd(t, env, "", "keys", "status", "--tenant", "acme-bank"); r.code != 0 || !strings.Contains(r.stdout, `"latest_version": 1`) {
				t.Fatalf("keys status: %+v", r)
			}
			if r := runCmd(t, env, "", "keys", "rotate", "--tenant", "acme-bank"); r.code != 0 || !strings.Contains(r.stdout, "version 2") {
				t.Fatalf("keys rotate: %+v", r)
			}
			if r := runCmd(t, env, "", "keys", "rewrap", "--tenant", "acme-bank"); r.code != 0 {
				t.Fatalf("keys rewrap: %+v", r)
			}
			if r := runCmd(t, env, "", "keys", "rotate", "--tenant", "no-such-org"); r.code != 2 {
				t.Fatalf("keys for an unknown tenant: %+v", r)
			}

			// Export, verify offline, tamper, verify again.
			bundle := filepath.Join(dir, "acme.tar")
			r = runCmd(t, env, "", "audit", "export", "--tenant", "acme-bank", "--out", bundle)
			if r.code != 0 || !strings.Contains(r.stdout, "wrote") {
				t.Fatalf("export: %+v", r)
			}
			pub := filepath.Join(dir, "audit-signing.pub")
			if r := runCmd(t, nil, "", "audit", "verify", "--bundle", bundle, "--trusted-key", pub); r.code != 0 || !strings.Contains(r.stdout, "signed with the trusted key") {
				t.Fatalf("verify bundle: %+v", r)
			}
			b, err := os.ReadFile(bundle)
			if err != nil {
				t.Fatal(err)
			}
			i := strings.Index(string(b), "key.rotate")
			if i < 0 {
				t.Fatal("bundle does not hold the key rotation event")
			}
			tampered := []byte(strings.Replace(string(b), "key.rotate", "key.rotaTE", 1))
			bad := filepath.Join(dir, "tampered.tar")
			if err := os.WriteFile(bad, tampered, 0o600); err != nil {
				t.Fatal(err)
			}
			if r := runCmd(t, nil, "", "audit", "verify", "--bundle", bad); r.code != 1 || !strings.Contains(r.stdout, "DAMAGED") {
				t.Fatalf("verify tampered bundle: %+v", r)
			}

			// Someone with database access edits an event: verify names its sequence number.
			if d == migrations.SQLite {
				db := migratetest.OpenEmpty(t, d)
				_ = db.Close()
				raw, err := migrations.Open(context.Background(), dbURL, migrations.Options{})
				if err != nil {
					t.Fatal(err)
				}
				for _, q := range []string{
					"DROP TRIGGER audit_events_no_update",
					"UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 2 AND tenant_id <> '_system'",
				} {
					if err := raw.Gorm.Exec(q).Error; err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				_ = raw.Close()
				r := runCmd(t, env, "", "audit", "verify", "--tenant", "acme-bank")
				if r.code != 1 || !strings.Contains(r.stdout, "first bad sequence number 2") {
					t.Fatalf("verify tampered chain: %+v", r)
				}
			}
		})
	}
}
