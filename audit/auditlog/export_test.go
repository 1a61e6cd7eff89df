package auditlog

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// exportAll exports tenant t1 of l to memory.
func exportAll(t testing.TB, l *Log, from, to time.Time) ([]byte, audit.BundleInfo) {
	t.Helper()
	var buf bytes.Buffer
	info, err := l.Export(context.Background(), &buf, "t1", from, to)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	return buf.Bytes(), info
}

func TestExportVerifiesOffline(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		clock := newTestClock()
		clock.step = time.Second
		l := newTestLog(t, db, clock)
		for i := 0; i < 3; i++ {
			fill(t, l, "t1", 10)
		}
		fill(t, l, "t1", 5) // events 31..35 after the last checkpoint
		all, info := exportAll(t, l, time.Time{}, time.Time{})
		if info.Events != 35 || info.FirstSeq != 1 || info.LastSeq != 35 || info.Checkpoints != 3 {
			t.Fatalf("got %+v, want events 1..35 and 3 checkpoints", info)
		}
		r, err := audit.VerifyBundle(bytes.NewReader(all), l.TrustedKeys()...)
		if err != nil || !r.OK() || !r.KeysTrusted || r.Events != 35 || r.Matched != 3 || r.Tenant != "t1" {
			t.Fatalf("got %+v (damage %v), %v; want 35 intact events, 3 matched checkpoints, trusted keys", r, r.Damage, err)
		}

		t.Run("mid-chain by time", func(t *testing.T) {
			e15, e27 := getEntry(t, l, 15), getEntry(t, l, 27)
			b, info := exportAll(t, l, e15.Time, e27.Time)
			if info.FirstSeq != 15 || info.LastSeq != 26 || info.Checkpoints != 2 {
				t.Fatalf("got %+v, want events 15..26 with the checkpoints at 20 and 30", info)
			}
			r, err := audit.VerifyBundle(bytes.NewReader(b), l.TrustedKeys()...)
			if err != nil || !r.OK() || r.FirstSeq != 15 || r.Matched != 1 {
				t.Fatalf("got %+v, %v; want intact 15..26 matching the checkpoint at 20", r, err)
			}
		})
		t.Run("empty range", func(t *testing.T) {
			b, info := exportAll(t, l, clock.Now().Add(time.Hour), time.Time{})
			r, err := audit.VerifyBundle(bytes.NewReader(b), l.TrustedKeys()...)
			if err != nil || !r.OK() || info.Events != 0 || r.Events != 0 {
				t.Fatalf("got %+v, %+v, %v; want an intact empty bundle", info, r, err)
			}
		})
	})
}

func TestExportOfDamagedChainFailsOffline(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		l := tamperChain(t, db)
		exec(t, db, "UPDATE audit_events SET reason = 'edited' WHERE tenant_id = 't1' AND seq = 7")
		b, _ := exportAll(t, l, time.Time{}, time.Time{})
		r, err := audit.VerifyBundle(bytes.NewReader(b), l.TrustedKeys()...)
		if err != nil || r.Damage == nil || r.Damage.Kind != audit.DamageModified || r.Damage.Seq != 7 {
			t.Fatalf("got %v, %v; want modified at 7", r.Damage, err)
		}
	})
}
