package scan_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/compliance/scan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault"
)

var now = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// fixture is a migrated database with a tenant, a site and a conversation, and an envelope over
// a local key provider.
type fixture struct {
	db  *migrations.DB
	env *vault.Envelope
}

const (
	tenantID = "01a1ff22-0000-7000-8000-000000000001"
	convID   = "01a1ff22-0000-7000-8000-000000000002"
)

func newFixture(t *testing.T, db *migrations.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	keys, err := vault.OpenLocal(vault.LocalConfig{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	env, err := vault.NewEnvelope(vault.EnvelopeConfig{Provider: keys, Store: vault.NewStore(db, func() time.Time { return now })})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	if err := env.CreateTenantKey(ctx, tenantID); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES (?, 'Acme', 'acme', ?, ?)`, []any{tenantID, now, now}},
		{`INSERT INTO sites (id, tenant_id, name, site_key, created_at, updated_at) VALUES ('s1', ?, 'Shop', 'site_abcdefghijkl', ?, ?)`, []any{tenantID, now, now}},
		{`INSERT INTO conversations (id, tenant_id, site_id, visitor_id, status, last_seq, queued_at, created_at, updated_at)
			VALUES (?, ?, 's1', 'v1', 'active', 0, ?, ?, ?)`, []any{convID, tenantID, now, now, now}},
	} {
		if err := migratetest.Beneath(t, db).Gorm.Exec(q.sql, q.args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{db: db, env: env}
}

// message stores a sealed message, as the chat does, with text as given (the chat would have
// masked a card number: this plants one that slipped through).
func (f *fixture) message(t *testing.T, seq int64, text string) {
	t.Helper()
	body, err := f.env.SealString(context.Background(), vault.Binding{Tenant: tenantID, Scope: convID, Field: vault.FieldMessageBody, Seq: seq}, text)
	if err != nil {
		t.Fatal(err)
	}
	if err := migratetest.Beneath(t, f.db).Gorm.Exec(`INSERT INTO conversation_events (id, tenant_id, conversation_id, seq, kind, sender_kind, body, created_at)
		VALUES (?, ?, ?, ?, 'message', 'visitor', ?, ?)`, convID+"-"+string(rune('a'+seq)), tenantID, convID, seq, body, now).Error; err != nil {
		t.Fatal(err)
	}
}

func find(locs []scan.Location, name string) scan.Location {
	for _, l := range locs {
		if l.Name == name {
			return l
		}
	}
	return scan.Location{}
}

func TestScanDatabase(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		s := &scan.Scanner{}
		// Clean: masked messages and nothing else.
		f.message(t, 1, "my card is 411111••••••1111")
		locs, err := s.ScanDatabase(ctx, db, scan.ParleySealed(), f.env)
		if err != nil {
			t.Fatal(err)
		}
		r := scan.Report{Locations: locs}
		if r.Outcome() != scan.OutcomeClean {
			t.Fatalf("clean database: outcome %s: %+v", r.Outcome(), locs)
		}
		body := find(locs, "conversation_events.body")
		if body.Kind != scan.KindSealed || body.Items != 1 {
			t.Errorf("sealed message bodies: %+v, want 1 decrypted row", body)
		}
		for _, l := range locs {
			if l.Kind == scan.KindColumn && l.Name == "conversation_events.body" {
				t.Error("sealed column scanned as stored")
			}
		}

		// A card number that slipped into a sealed message, and one in a clear column.
		f.message(t, 2, "card 4111 1111 1111 1111 thanks")
		if err := migratetest.Beneath(t, db).Gorm.Exec(`UPDATE sites SET name = 'Shop 5555555555554444' WHERE id = 's1'`).Error; err != nil {
			t.Fatal(err)
		}
		locs, err = s.ScanDatabase(ctx, db, scan.ParleySealed(), f.env)
		if err != nil {
			t.Fatal(err)
		}
		r = scan.Report{Locations: locs}
		if r.Outcome() != scan.OutcomeFound || r.Matches() != 2 {
			t.Fatalf("outcome %s with %d matches, want found with 2", r.Outcome(), r.Matches())
		}
		body = find(locs, "conversation_events.body")
		if body.Matches != 1 || body.Hits != 1 || len(body.Samples) != 1 || body.Samples[0].Masked != "•••• •••• •••• 1111" {
			t.Errorf("sealed bodies: %+v", body)
		}
		if !strings.HasPrefix(body.Samples[0].Ref, "id ") {
			t.Errorf("sample ref %q does not name the row", body.Samples[0].Ref)
		}
		if site := find(locs, "sites.name"); site.Matches != 1 || site.Samples[0].Ref != "id s1" || site.Samples[0].Brand != "mastercard" {
			t.Errorf("sites.name: %+v", site)
		}
		b, _ := json.Marshal(locs)
		if pan.Contains(string(b)) {
			t.Errorf("the report holds a card number: %s", b)
		}

		// A crypto-shredded conversation is unreadable, not a finding and not a failure.
		if err := f.env.Shred(ctx, tenantID, convID); err != nil {
			t.Fatal(err)
		}
		locs, err = s.ScanDatabase(ctx, db, scan.ParleySealed(), f.env)
		if err != nil {
			t.Fatal(err)
		}
		if body := find(locs, "conversation_events.body"); body.Unreadable != 2 || body.Matches != 0 || body.Error != "" {
			t.Errorf("after shredding: %+v", body)
		}

		// Without a key provider the sealed columns are reported as not scanned.
		locs, err = s.ScanDatabase(ctx, db, scan.ParleySealed(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if r := (scan.Report{Locations: locs}); r.Outcome() != scan.OutcomeFound || find(locs, "conversation_events.body").Error == "" {
			t.Errorf("without an opener: outcome %s, body %+v", r.Outcome(), find(locs, "conversation_events.body"))
		}
	})
}

// TestParleySealedMatchesSchema: every sealed column the scan decrypts exists in the schema, so a
// renamed column cannot silently drop out of the scan.
func TestParleySealedMatchesSchema(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		f := newFixture(t, db)
		locs, err := (&scan.Scanner{}).ScanDatabase(context.Background(), db, scan.ParleySealed(), f.env)
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range scan.ParleySealed() {
			l := find(locs, sc.Table+"."+sc.Column)
			if l.Kind != scan.KindSealed || l.Error != "" {
				t.Errorf("sealed column %s.%s: %+v", sc.Table, sc.Column, l)
			}
		}
	})
}

func TestScanFiles(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	exports := filepath.Join(dir, "exports", "2026")
	for _, d := range []string{logs, exports} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(logs, "parley.log"), `{"msg":"http request","path":"/healthz"}`+"\n"+`{"msg":"debug","body":"card 4111111111111111"}`+"\n")
	write(filepath.Join(logs, "clean.log"), "nothing\n")
	gz, err := os.Create(filepath.Join(exports, "transcripts.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(gz)
	_, _ = zw.Write([]byte("a\nb 3782 822463 10005\nc\n"))
	_ = zw.Close()
	_ = gz.Close()
	if err := os.Symlink("/etc/passwd", filepath.Join(logs, "link")); err != nil {
		t.Fatal(err)
	}
	var bar strings.Builder
	s := &scan.Scanner{Progress: &scan.Bar{W: &bar}}
	locs, err := s.ScanFiles(context.Background(), []string{logs, filepath.Join(dir, "exports"), filepath.Join(dir, "missing")})
	if err != nil {
		t.Fatal(err)
	}
	r := scan.Report{Locations: locs}
	if r.Matches() != 2 || r.Errors() != 1 || r.Outcome() != scan.OutcomeFound {
		t.Fatalf("matches %d, errors %d, outcome %s: %+v", r.Matches(), r.Errors(), r.Outcome(), locs)
	}
	if l := find(locs, filepath.Join(logs, "parley.log")); l.Matches != 1 || l.Items != 2 || l.Samples[0].Ref != "line 2" {
		t.Errorf("log: %+v", l)
	}
	if l := find(locs, filepath.Join(exports, "transcripts.jsonl.gz")); l.Matches != 1 || l.Samples[0].Brand != "amex" || l.Samples[0].Ref != "line 2" {
		t.Errorf("gzip export: %+v", l)
	}
	if l := find(locs, filepath.Join(logs, "link")); l.Name != "" {
		t.Error("a symbolic link was followed")
	}
	if !strings.Contains(bar.String(), "100%") {
		t.Errorf("progress %q", bar.String())
	}
}

func TestStore(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		st := &scan.Store{DB: db.Gorm}
		if _, err := st.Last(ctx); err != scan.ErrNoScan {
			t.Fatalf("Last on an empty table = %v, want ErrNoScan", err)
		}
		r := scan.Report{ID: "run-1", StartedAt: now, FinishedAt: now.Add(time.Second), Node: "n1", Actor: "cli:ops",
			Locations: []scan.Location{{Kind: scan.KindFile, Name: "/var/log/x", Items: 3, Matches: 1, Hits: 1,
				Samples: []scan.Sample{{Masked: "••••1111", Brand: "visa", Ref: "line 2"}}}}}
		if err := st.Save(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := st.Last(ctx)
		if err != nil || got.ID != "run-1" || got.Matches() != 1 || got.Locations[0].Samples[0].Masked != "••••1111" {
			t.Fatalf("Last = %+v, %v", got, err)
		}
		var outcome string
		migratetest.Beneath(t, db).Gorm.Raw("SELECT outcome FROM pan_scan_runs WHERE id = 'run-1'").Scan(&outcome)
		if outcome != scan.OutcomeFound {
			t.Errorf("stored outcome %q", outcome)
		}
		bad := r
		bad.ID = "run-2"
		bad.Locations[0].Samples[0].Masked = "4111 1111 1111 1111"
		if err := st.Save(ctx, bad); err != scan.ErrUnmasked {
			t.Errorf("Save with a card number = %v, want ErrUnmasked", err)
		}
	})
}
