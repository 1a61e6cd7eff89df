package auditlog

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestAppendSealVerify(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		clock := newTestClock()
		l := newTestLog(t, db, clock)
		fill(t, l, "t1", 10) // a checkpoint at 10 (CheckpointEvery)
		fill(t, l, "t1", 15) // and at 25
		fill(t, l, "t2", 3)  // none yet: fewer than 10 events, less than an hour

		for _, tc := range []struct {
			tenant string
			events int64
		}{{"t1", 25}, {"t2", 3}} {
			t.Run(tc.tenant, func(t *testing.T) {
				r := mustVerify(t, l, tc.tenant, 0)
				if !r.OK() {
					t.Fatalf("got damage %v, want intact", r.Damage)
				}
				if r.Events != tc.events || r.Head != tc.events {
					t.Errorf("got %d events, head %d; want %d", r.Events, r.Head, tc.events)
				}
			})
		}
		r := mustVerify(t, l, "t1", 0)
		if r.Checkpoints != 2 || r.Matched != 2 {
			t.Errorf("got %d checkpoints (%d matched), want 2 (every 10 events)", r.Checkpoints, r.Matched)
		}
		e, err := l.Get(ctx, "t1", 5)
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != 5 || e.Target.ID != "target-4" || e.Details["n"] != "4" || !e.Verify() {
			t.Errorf("got entry %+v, want seq 5 of target-4 with a valid hash", e)
		}
		prev, err := l.Get(ctx, "t1", 4)
		if err != nil {
			t.Fatal(err)
		}
		if e.PrevHash != prev.Hash {
			t.Errorf("got prev hash %s, want %s", e.PrevHash, prev.Hash)
		}
		if _, err := l.Get(ctx, "t1", 99); !errors.Is(err, ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
		tenants, err := l.Tenants(ctx)
		if err != nil || strings.Join(tenants, ",") != "t1,t2" {
			t.Errorf("got tenants %v (%v), want t1,t2", tenants, err)
		}
	})
}

func TestAppendIsAtomicWithTheCallersTransaction(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		// The test writes tenants of its own beside their events.
		ctx := migrations.AcrossTenants(context.Background())
		l := newTestLog(t, db, newTestClock())
		now := "2026-01-01T00:00:00Z"
		boom := errors.New("business rule failed")
		err := db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", "rolled", "Rolled", "rolled", now, now).Error; err != nil {
				return err
			}
			if err := l.Append(ctx, tx, sampleEvent("rolled", 1)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want the business error", err)
		}
		err = db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", "kept", "Kept", "kept", now, now).Error; err != nil {
				return err
			}
			return l.AppendBatch(ctx, tx, []audit.Event{sampleEvent("kept", 1), sampleEvent("kept", 2)})
		})
		if err != nil {
			t.Fatal(err)
		}
		seal(t, l)
		for _, tc := range []struct {
			tenant string
			head   int64
		}{{"rolled", 0}, {"kept", 2}} {
			head, _, err := l.Head(ctx, tc.tenant)
			if err != nil || head != tc.head {
				t.Errorf("tenant %s: got head %d (%v), want %d", tc.tenant, head, err, tc.head)
			}
		}

		// A failing audit write fails the caller's transaction: the business row is not kept.
		err = db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", "noaudit", "No", "noaudit", now, now).Error; err != nil {
				return err
			}
			bad := sampleEvent("noaudit", 1)
			bad.Details = map[string]string{"new_password": "hunter2hunter2"}
			return l.Append(ctx, tx, bad)
		})
		if !errors.Is(err, audit.ErrSensitiveDetail) {
			t.Fatalf("got %v, want audit.ErrSensitiveDetail", err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error %q leaks the detail value", err)
		}
		var n int64
		migratetest.Beneath(t, db).Gorm.Raw("SELECT COUNT(*) FROM tenants WHERE id = ?", "noaudit").Scan(&n)
		if n != 0 {
			t.Errorf("got %d business rows, want 0 after the audit write failed", n)
		}
	})
}

func TestAppendFailsClosedWhenTheDatabaseFails(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		l := newTestLog(t, db, newTestClock())
		exec(t, db, "DROP TABLE audit_outbox")
		err := l.Record(context.Background(), sampleEvent("t1", 1))
		if !errors.Is(err, ErrAppend) {
			t.Fatalf("got %v, want ErrAppend", err)
		}
		if err := l.Append(context.Background(), nil, sampleEvent("t1", 1)); !errors.Is(err, ErrNoTransaction) {
			t.Errorf("got %v, want ErrNoTransaction", err)
		}
	})
}

func TestGuardsRefuseUpdateAndDelete(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		l := newTestLog(t, db, newTestClock())
		fill(t, l, "t1", 10)
		for _, q := range []string{
			"UPDATE audit_events SET reason = 'x' WHERE seq = 3",
			"DELETE FROM audit_events WHERE seq = 3",
			"UPDATE audit_checkpoints SET seq = 99",
			"DELETE FROM audit_checkpoints",
		} {
			t.Run(q, func(t *testing.T) {
				if err := migratetest.Beneath(t, db).Gorm.Exec(q).Error; err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Errorf("got %v, want an append-only refusal", err)
				}
			})
		}
		if r := mustVerify(t, l, "t1", 0); !r.OK() {
			t.Errorf("got damage %v after refused tampering, want intact", r.Damage)
		}
	})
}

// lyingSigner returns signatures that do not verify.
type lyingSigner struct{ keySigner }

func (lyingSigner) Sign(context.Context, []byte) ([]byte, error) { return make([]byte, 64), nil }

func TestCheckpointRefusesABadSigner(t *testing.T) {
	db := freshSQLite(t)
	l := newTestLog(t, db, newTestClock(), func(c *Config) { c.Signer = lyingSigner{seedSigner(3)} })
	if err := l.Record(context.Background(), sampleEvent("t1", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Seal(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Checkpoint(context.Background(), "t1"); !errors.Is(err, audit.ErrSign) {
		t.Errorf("got %v, want audit.ErrSign", err)
	}
}
