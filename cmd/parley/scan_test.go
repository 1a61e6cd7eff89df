package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/config"
	"github.com/parleyhq/parley/compliance/scan"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault"
)

// plantSealedCard writes a message with an unmasked card number the way the chat stores one —
// sealed with the conversation's data key — as if it had slipped past the masker.
func plantSealedCard(t *testing.T, env map[string]string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(flag.NewFlagSet("test", flag.ContinueOnError), nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	db, err := app.OpenDatabase(ctx, cfg, newLogger(&strings.Builder{}, "error"), false)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, db, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	var tenantID string
	if err := migratetest.Beneath(t, db).Gorm.Raw("SELECT id FROM tenants LIMIT 1").Scan(&tenantID).Error; err != nil || tenantID == "" {
		t.Fatalf("tenant: %q %v", tenantID, err)
	}
	site, err := a.Tenants.CreateSite(ctx, tenantID, "Shop", []string{"https://shop.example"})
	if err != nil {
		t.Fatal(err)
	}
	conv, now := "01a1ff22-0000-7000-8000-0000000000c1", time.Now().UTC()
	if err := migratetest.Beneath(t, db).Gorm.Exec(`INSERT INTO conversations (id, tenant_id, site_id, visitor_id, status, last_seq, queued_at, created_at, updated_at)
		VALUES (?, ?, ?, 'v1', 'ended', 1, ?, ?, ?)`, conv, tenantID, site.ID, now, now, now).Error; err != nil {
		t.Fatal(err)
	}
	body, err := a.Envelope.SealString(ctx, vault.Binding{Tenant: tenantID, Scope: conv, Field: vault.FieldMessageBody, Seq: 1}, "my card 4111 1111 1111 1111 exp 12/28")
	if err != nil {
		t.Fatal(err)
	}
	if err := migratetest.Beneath(t, db).Gorm.Exec(`INSERT INTO conversation_events (id, tenant_id, conversation_id, seq, kind, sender_kind, body, created_at)
		VALUES ('ev-planted', ?, ?, 1, 'message', 'visitor', ?, ?)`, tenantID, conv, body, now).Error; err != nil {
		t.Fatal(err)
	}
}

func TestScanCommand(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"PARLEY_DATA_DIR": dir, "PARLEY_DATABASE_URL": migratetest.URL(t, d), "USER": "ops", "PARLEY_LOG_LEVEL": "error"}
			migrateWithOwner(t, env)
			logs := filepath.Join(dir, "logs")
			if err := os.MkdirAll(logs, 0o700); err != nil {
				t.Fatal(err)
			}
			clean := filepath.Join(logs, "clean.log")
			if err := os.WriteFile(clean, []byte(`{"msg":"http request","status":200}`+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}

			// Nothing to find yet.
			r := runCmd(t, env, "", "scan", "--log", logs, "--progress", "never")
			if r.code != 0 || !strings.Contains(r.stdout, ": clean") {
				t.Fatalf("clean scan: %+v", r)
			}

			// A card number in a log file and one sealed in a transcript.
			if err := os.WriteFile(filepath.Join(logs, "app.log"), []byte("ok\ndebug body=5555 5555 5555 4444\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			plantSealedCard(t, env)
			r = runCmd(t, env, "", "scan", "--log", logs, "--export", filepath.Join(dir, "no-such-export"), "--progress", "always")
			if r.code != exitFound {
				t.Fatalf("scan with findings: exit %d, want %d: %+v", r.code, exitFound, r)
			}
			for _, want := range []string{"found — 2 card numbers in 2 of", "sealed  conversation_events.body", "•••• •••• •••• 1111 (visa, id ev-planted)",
				"app.log", "•••• •••• •••• 4444 (mastercard, line 2)", "no-such-export"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("report lacks %q:\n%s", want, r.stdout)
				}
			}
			if !strings.Contains(r.stderr, "100%") || !strings.Contains(r.stderr, "database") || !strings.Contains(r.stderr, "files") {
				t.Errorf("no progress bar on stderr: %q", r.stderr)
			}
			for _, out := range []string{r.stdout, r.stderr} {
				if strings.Contains(out, "4111 1111 1111 1111") || strings.Contains(out, "5555 5555 5555 4444") || strings.Contains(out, "411111") {
					t.Errorf("the scan printed a card number: %s", out)
				}
			}

			// The result is kept as evidence and audited in the installation's chain.
			cfg, err := config.Load(flag.NewFlagSet("t", flag.ContinueOnError), nil, func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			db, err := app.OpenDatabase(context.Background(), cfg, newLogger(&strings.Builder{}, "error"), false)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = db.Close() }()
			last, err := (&scan.Store{DB: db.Gorm}).Last(context.Background())
			if err != nil || last.Outcome() != scan.OutcomeFound || last.Matches() != 2 || last.Actor != "cli:ops" {
				t.Errorf("stored result = %+v, %v", last, err)
			}
			var audited int64
			migratetest.Beneath(t, db).Gorm.Raw("SELECT COUNT(*) FROM audit_events WHERE tenant_id = '_system' AND action = 'compliance.pan_scan.run'").Scan(&audited)
			if audited != 2 {
				t.Errorf("%d compliance.pan_scan.run events, want 2", audited)
			}
			if r := runCmd(t, env, "", "audit", "verify", "--tenant", "_system"); r.code != 0 {
				t.Errorf("the system chain does not verify after the scans: %+v", r)
			}

			// JSON output, files only.
			r = runCmd(t, env, "", "scan", "--no-db", "--log", clean, "--json", "--progress", "never")
			if r.code != 0 || !strings.Contains(r.stdout, `"locations"`) {
				t.Errorf("json scan of a clean file: %+v", r)
			}
			if r := runCmd(t, env, "", "scan", "--no-db"); r.code != exitUsage {
				t.Errorf("scan of nothing: exit %d, want %d", r.code, exitUsage)
			}
		})
	}
}
