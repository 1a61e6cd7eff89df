package main

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/auditlog"
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
			migrateWithOwner(t, env)
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
					if err := migratetest.Beneath(t, raw).Gorm.Exec(q).Error; err != nil {
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

// TestAuditArchive drives `parley audit archive` against a real database: the installation
// chain starts with events two years old, written by a log whose clock was set back, and goes on
// with today's. Archiving inside the retention period (the default 12 months, or longer when
// configured) is refused and writes nothing; archiving the old events writes a bundle that
// verifies offline, removes them, is recorded in the chain naming the operator, and leaves a
// chain that still verifies from its signed anchor.
func TestAuditArchive(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			dbURL := migratetest.URL(t, d)
			env := map[string]string{"PARLEY_DATA_DIR": dir, "PARLEY_DATABASE_URL": dbURL, "USER": "ops"}
			if r := runCmd(t, env, "", "migrate", "up"); r.code != 0 {
				t.Fatalf("migrate: %+v", r)
			}
			now := time.Now().UTC()
			writeOldEvents(t, dbURL, dir, now.AddDate(-2, 0, 0), 5)
			if r := runCmd(t, env, "", "audit", "verify", "--tenant", "_system"); r.code != 0 || !strings.Contains(r.stdout, "intact") {
				t.Fatalf("verify before the archive: %+v", r)
			}
			bundle := filepath.Join(dir, "system-archive.tar")
			before := now.AddDate(-1, 0, -30).Format("2006-01-02")

			for _, tc := range []struct {
				name   string
				env    map[string]string
				args   []string
				stderr string
			}{
				{"inside the default retention", nil, []string{"--before", now.AddDate(0, -6, 0).Format("2006-01-02")}, "online for 365 days"},
				{"inside a longer retention", map[string]string{"PARLEY_AUDIT_RETENTION_DAYS": "800"}, []string{"--before", before}, "online for 800 days"},
				{"no --before", nil, nil, "--before is required"},
				{"unknown tenant", nil, []string{"--before", before, "--tenant", "no-such-org"}, "no organisation"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					e := map[string]string{}
					for k, v := range env {
						e[k] = v
					}
					for k, v := range tc.env {
						e[k] = v
					}
					args := append([]string{"audit", "archive", "--tenant", "_system", "--out", bundle}, tc.args...)
					if r := runCmd(t, e, "", args...); r.code != 2 || !strings.Contains(r.stderr, tc.stderr) {
						t.Fatalf("got %+v, want exit 2 saying %q", r, tc.stderr)
					}
					if _, err := os.Stat(bundle); !os.IsNotExist(err) {
						t.Fatalf("a refused archive left %s behind (%v)", bundle, err)
					}
				})
			}

			// A forwarding destination that has not received the events yet holds the archive back.
			execSQL(t, dbURL, "INSERT INTO audit_forward_cursors (sink, tenant_id, event_seq, checkpoint_seq, updated_us) VALUES ('syslog:siem.test:6514', '_system', 2, 0, 0)")
			if r := runCmd(t, env, "", "audit", "archive", "--tenant", "_system", "--before", before, "--out", bundle); r.code != 1 || !strings.Contains(r.stderr, "not yet forwarded") || !strings.Contains(r.stderr, "syslog:siem.test:6514") {
				t.Fatalf("archive ahead of forwarding: %+v", r)
			}
			if _, err := os.Stat(bundle); !os.IsNotExist(err) {
				t.Fatalf("a refused archive left %s behind (%v)", bundle, err)
			}
			execSQL(t, dbURL, "UPDATE audit_forward_cursors SET event_seq = 100")
			// A configured destination that never received anything (no cursor yet) holds it back too.
			fwdFile := filepath.Join(dir, "forward.jsonl")
			withFile := map[string]string{"PARLEY_AUDIT_FORWARD_FILE": fwdFile}
			for k, v := range env {
				withFile[k] = v
			}
			if r := runCmd(t, withFile, "", "audit", "archive", "--tenant", "_system", "--before", before, "--out", bundle); r.code != 1 || !strings.Contains(r.stderr, "not yet forwarded") || !strings.Contains(r.stderr, "file:"+fwdFile+" has received events up to 0") {
				t.Fatalf("archive with a file destination that never ran: %+v", r)
			}
			if _, err := os.Stat(bundle); !os.IsNotExist(err) {
				t.Fatalf("a refused archive left %s behind (%v)", bundle, err)
			}

			r := runCmd(t, env, "", "audit", "archive", "--tenant", "_system", "--before", before, "--out", bundle)
			if r.code != 0 || !strings.Contains(r.stdout, "5 events (seq 1–5)") || !strings.Contains(r.stdout, "now starts at seq 6") {
				t.Fatalf("archive: %+v", r)
			}
			if st, err := os.Stat(bundle); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("bundle: %v, want a 0600 file", err)
			}
			pub := filepath.Join(dir, "audit-signing.pub")
			if r := runCmd(t, nil, "", "audit", "verify", "--bundle", bundle, "--trusted-key", pub); r.code != 0 || !strings.Contains(r.stdout, "5 events (seq 1–5)") {
				t.Fatalf("verify the archive bundle offline: %+v", r)
			}
			if r := runCmd(t, env, "", "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, "_system: intact") {
				t.Fatalf("verify the remaining chain: %+v", r)
			}

			// The archive is in the chain, named after the operator, with the bundle's digest.
			l, db := openTestLog(t, dbURL, dir, time.Now)
			p, err := l.Search(ctx, auditlog.Query{Tenant: audit.SystemTenant, Actions: []audit.Action{audit.ActionAuditArchive}})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Entries) != 5 { // four refusals (retention twice, forwarding twice) and the archive
				t.Fatalf("got %d archive events, want 5: %+v", len(p.Entries), p.Entries)
			}
			var done *audit.Entry
			for i := range p.Entries {
				if p.Entries[i].Outcome == audit.Success {
					done = &p.Entries[i]
				}
			}
			if done == nil || done.Actor.ID != "cli:ops" || done.Details["last_seq"] != "5" || !strings.Contains(r.stdout, done.Details["bundle_sha256"]) {
				t.Errorf("got archive event %+v, want the operator, the range and the bundle digest", done)
			}
			_ = db.Close()

			// Nothing older is left: a second archive writes nothing.
			again := filepath.Join(dir, "again.tar")
			if r := runCmd(t, env, "", "audit", "archive", "--tenant", "_system", "--before", before, "--out", again); r.code != 0 || !strings.Contains(r.stdout, "nothing to archive") {
				t.Fatalf("second archive: %+v", r)
			}
			if _, err := os.Stat(again); !os.IsNotExist(err) {
				t.Errorf("an empty archive left %s behind", again)
			}
			if r := runCmd(t, env, "", "audit", "archive", "--tenant", "_system", "--before", before, "--out", bundle); r.code != 2 || !strings.Contains(r.stderr, "exists") {
				t.Errorf("archive over an existing file: %+v", r)
			}
		})
	}
}

func execSQL(t *testing.T, dbURL, q string) {
	t.Helper()
	db, err := migrations.Open(context.Background(), dbURL, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if err := migratetest.Beneath(t, db).Gorm.Exec(q).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// openTestLog opens the audit log of the installation in dir with the given clock.
func openTestLog(t *testing.T, dbURL, dir string, now func() time.Time) (*auditlog.Log, *migrations.DB) {
	t.Helper()
	db, err := migrations.Open(context.Background(), dbURL, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := audit.LoadOrCreateFileSigner(filepath.Join(dir, "audit-signing.key"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	l, err := auditlog.New(auditlog.Config{DB: db, Signer: s, Node: "old-node", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return l, db
}

// writeOldEvents starts the installation chain with n events stamped at.
func writeOldEvents(t *testing.T, dbURL, dir string, at time.Time, n int) {
	t.Helper()
	ctx := context.Background()
	l, db := openTestLog(t, dbURL, dir, func() time.Time { return at })
	defer func() { _ = db.Close() }()
	for i := 0; i < n; i++ {
		if err := l.Record(ctx, audit.Event{Tenant: audit.SystemTenant, Actor: audit.Actor{ID: "old-node", Kind: audit.ActorSystem},
			Action: audit.ActionAuditStart, Target: audit.Target{Kind: "node", ID: "old-node"}, Outcome: audit.Success}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Seal(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestBundleFileSyncsItsFolder: the bundle's Sync, which Archive calls before deleting events,
// makes the file and then its folder durable, and fails when the folder cannot be synced.
func TestBundleFileSyncsItsFolder(t *testing.T) {
	dir := t.TempDir()
	f, err := os.OpenFile(filepath.Join(dir, "bundle.tar"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if _, err := f.WriteString("bundle"); err != nil {
		t.Fatal(err)
	}
	var w interface{ Sync() error } = bundleFile{f}
	if err := w.Sync(); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err == nil {
		t.Error("got nil syncing a bundle whose folder is gone, want an error")
	}
}

// TestAuditForgetDestination drives `parley audit forget-destination`: the cursors of a
// destination that is no longer configured hold `parley audit archive` back until they are
// forgotten; forgetting a configured destination, one without cursors, or without a reason is
// refused; a failed audit append deletes nothing; the forgetting is in the installation chain.
func TestAuditForgetDestination(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			dbURL := migratetest.URL(t, d)
			env := map[string]string{"PARLEY_DATA_DIR": dir, "PARLEY_DATABASE_URL": dbURL, "USER": "ops"}
			if r := runCmd(t, env, "", "migrate", "up"); r.code != 0 {
				t.Fatalf("migrate: %+v", r)
			}
			now := time.Now().UTC()
			writeOldEvents(t, dbURL, dir, now.AddDate(-2, 0, 0), 5)
			before := now.AddDate(-1, 0, -30).Format("2006-01-02")
			bundle := filepath.Join(dir, "system-archive.tar")
			const gone = "syslog:old-siem.test:6514"
			fwdFile := filepath.Join(dir, "forward.jsonl")
			execSQL(t, dbURL, "INSERT INTO audit_forward_cursors (sink, tenant_id, event_seq, checkpoint_seq, updated_us) VALUES "+
				"('"+gone+"', '_system', 2, 0, 0), ('"+gone+"', 'tenant-b', 7, 0, 0), ('file:"+fwdFile+"', '_system', 100, 0, 0)")
			execSQL(t, dbURL, "INSERT INTO audit_forward_leases (sink, owner, until_us) VALUES ('"+gone+"', 'old-node', 0)")
			cursors := func(sink string) (n int64) {
				t.Helper()
				_, db := openTestLog(t, dbURL, dir, time.Now)
				defer func() { _ = db.Close() }()
				if err := migratetest.Beneath(t, db).Gorm.Raw("SELECT COUNT(*) FROM audit_forward_cursors WHERE sink = ?", sink).Scan(&n).Error; err != nil {
					t.Fatal(err)
				}
				return n
			}

			// The departed destination holds the archive back, named in the refusal.
			if r := runCmd(t, env, "", "audit", "archive", "--tenant", "_system", "--before", before, "--out", bundle); r.code != 1 || !strings.Contains(r.stderr, gone) {
				t.Fatalf("archive held back by a departed destination: %+v", r)
			}

			withFile := map[string]string{"PARLEY_AUDIT_FORWARD_FILE": fwdFile}
			for k, v := range env {
				withFile[k] = v
			}
			for _, tc := range []struct {
				name   string
				env    map[string]string
				args   []string
				code   int
				stderr []string
			}{
				{"no flags", env, nil, 2, []string{"--destination is required", "--reason is required"}},
				{"configured destination", withFile, []string{"--destination", "file:" + fwdFile, "--reason", "gone"}, 2, []string{"file:" + fwdFile + " is a configured forwarding destination"}},
				{"no cursors", env, []string{"--destination", "syslog:never.test:6514", "--reason", "typo"}, 2, []string{"has no forwarding cursors"}},
				{"audit append fails", env, []string{"--destination", gone, "--reason", "-----BEGIN PRIVATE KEY-----"}, 1, []string{"nothing was deleted"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					args := append([]string{"audit", "forget-destination"}, tc.args...)
					r := runCmd(t, tc.env, "", args...)
					if r.code != tc.code {
						t.Fatalf("got %+v, want exit %d", r, tc.code)
					}
					for _, s := range tc.stderr {
						if !strings.Contains(r.stderr, s) {
							t.Errorf("stderr %q does not say %q", r.stderr, s)
						}
					}
				})
			}
			if n := cursors(gone); n != 2 {
				t.Fatalf("after the refusals %s has %d cursors, want 2", gone, n)
			}
			if n := cursors("file:" + fwdFile); n != 1 {
				t.Fatalf("the configured destination has %d cursors, want 1", n)
			}

			r := runCmd(t, env, "", "audit", "forget-destination", "--destination", gone, "--reason", "SIEM decommissioned, change CHG-42")
			if r.code != 0 || !strings.Contains(r.stdout, "for 2 tenants") {
				t.Fatalf("forget-destination: %+v", r)
			}
			if n := cursors(gone); n != 0 {
				t.Errorf("%s still has %d cursors", gone, n)
			}
			_, db := openTestLog(t, dbURL, dir, time.Now)
			var leases int64
			if err := migratetest.Beneath(t, db).Gorm.Raw("SELECT COUNT(*) FROM audit_forward_leases WHERE sink = ?", gone).Scan(&leases).Error; err != nil || leases != 0 {
				t.Errorf("lease of %s: %d rows (%v), want none", gone, leases, err)
			}
			_ = db.Close()
			if r := runCmd(t, env, "", "audit", "forget-destination", "--destination", gone, "--reason", "again"); r.code != 2 || !strings.Contains(r.stderr, "no forwarding cursors") {
				t.Errorf("forgetting twice: %+v", r)
			}

			// The archive proceeds.
			if r := runCmd(t, env, "", "audit", "archive", "--tenant", "_system", "--before", before, "--out", bundle); r.code != 0 || !strings.Contains(r.stdout, "5 events (seq 1–5)") {
				t.Fatalf("archive after forgetting: %+v", r)
			}

			// One forgetting is in the installation chain, naming the operator and the reason.
			l, db := openTestLog(t, dbURL, dir, time.Now)
			defer func() { _ = db.Close() }()
			p, err := l.Search(ctx, auditlog.Query{Tenant: audit.SystemTenant, Actions: []audit.Action{audit.ActionAuditConfig}})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Entries) != 1 {
				t.Fatalf("got %d audit.config.change events, want 1: %+v", len(p.Entries), p.Entries)
			}
			ev := p.Entries[0]
			if ev.Actor.ID != "cli:ops" || ev.Outcome != audit.Success || ev.Details["destination"] != gone ||
				ev.Details["reason"] != "SIEM decommissioned, change CHG-42" || ev.Details["tenants"] != "2" {
				t.Errorf("got event %+v, want the operator, the destination, the reason and 2 tenants", ev)
			}
		})
	}
}
