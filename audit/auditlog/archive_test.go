package auditlog

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestArchiveKeepsTheRestVerifiable(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		clock := newTestClock()
		l := newTestLog(t, db, clock)
		fill(t, l, "t1", 12) // old events 1..12
		clock.Advance(400 * 24 * time.Hour)
		boundary := clock.Now()
		fill(t, l, "t1", 5) // recent events 13..17

		t.Run("inside retention is refused", func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := l.Archive(ctx, "t1", clock.Now().Add(-30*24*time.Hour), &buf); !errors.Is(err, ErrRetention) {
				t.Fatalf("got %v, want ErrRetention", err)
			}
			if buf.Len() != 0 {
				t.Errorf("got %d bytes written, want none", buf.Len())
			}
		})

		clock.Advance(400 * 24 * time.Hour)
		path := filepath.Join(t.TempDir(), "archive.tar")
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		info, err := l.Archive(ctx, "t1", boundary, f)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if info.FirstSeq != 1 || info.LastSeq != 12 || info.Events != 12 || info.Anchor.Seq != 12 {
			t.Fatalf("got %+v, want events 1..12 archived with an anchor at 12", info)
		}
		seal(t, l) // the archive event

		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		br, err := audit.VerifyBundle(bytes.NewReader(b), l.TrustedKeys()...)
		if err != nil || !br.OK() || br.Events != 12 {
			t.Fatalf("archive bundle: got %+v, %v; want 12 intact events", br, err)
		}

		r := mustVerify(t, l, "t1", 0)
		if !r.OK() || r.Anchor != 12 || r.FromSeq != 13 || r.Events != 6 {
			t.Fatalf("got %+v (damage %v), want events 13..18 verified from the anchor at 12", r, r.Damage)
		}
		last, err := l.Get(ctx, "t1", 18)
		if err != nil || last.Action != audit.ActionAuditArchive || last.Details["bundle_sha256"] != info.SHA256 {
			t.Errorf("got %+v (%v), want the archive event naming the bundle digest", last, err)
		}

		// Events removed without the archive step (no anchor) are detected.
		dropGuards(t, db)
		exec(t, db, "DELETE FROM audit_events WHERE tenant_id = 't1' AND seq <= 14")
		if r := mustVerify(t, l, "t1", 0); r.Damage == nil || r.Damage.Kind != audit.DamageDeleted || r.Damage.Seq != 13 {
			t.Errorf("got %v, want deleted at 13", r.Damage)
		}
	})
}

func TestArchiveRefusesDamagedOrUnforwardedChains(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		clock := newTestClock()
		l := newTestLog(t, db, clock)
		fill(t, l, "t1", 5)
		clock.Advance(800 * 24 * time.Hour)

		// A configured destination without a cursor has received nothing.
		by := audit.Actor{ID: "ops", Kind: audit.ActorSystem}
		_, err := l.ArchiveBy(ctx, by, "t1", clock.Now().Add(-400*24*time.Hour), &bytes.Buffer{}, ArchiveOptions{Destinations: []string{"file:/var/log/never"}})
		if !errors.Is(err, ErrNotForwarded) || !strings.Contains(err.Error(), "file:/var/log/never has received events up to 0") {
			t.Errorf("got %v, want ErrNotForwarded naming the destination that never ran", err)
		}
		exec(t, db, "INSERT INTO audit_forward_cursors (sink, tenant_id, event_seq, checkpoint_seq, updated_us) VALUES ('siem', 't1', 3, 0, 0)")
		if _, err := l.Archive(ctx, "t1", clock.Now().Add(-400*24*time.Hour), &bytes.Buffer{}); !errors.Is(err, ErrNotForwarded) {
			t.Errorf("got %v, want ErrNotForwarded", err)
		}
		dropGuards(t, db)
		exec(t, db, "UPDATE audit_events SET reason = 'x' WHERE tenant_id = 't1' AND seq = 2")
		if _, err := l.Archive(ctx, "t1", clock.Now().Add(-400*24*time.Hour), &bytes.Buffer{}); !errors.Is(err, ErrChainDamaged) {
			t.Errorf("got %v, want ErrChainDamaged", err)
		}
	})
}

func TestRetentionConfig(t *testing.T) {
	db := migratetest.Open(t, migrations.SQLite)
	for _, tc := range []struct {
		name string
		ret  time.Duration
		ok   bool
	}{{"default", 0, true}, {"two years", 2 * MinRetention, true}, {"six months", MinRetention / 2, false}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{DB: db, Signer: seedSigner(1), Retention: tc.ret})
			if (err == nil) != tc.ok {
				t.Errorf("got %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
