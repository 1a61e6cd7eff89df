package auditlog

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

type alertLog struct {
	mu     sync.Mutex
	alerts []audit.Alert
}

func (a *alertLog) Alert(_ context.Context, al audit.Alert) {
	a.mu.Lock()
	a.alerts = append(a.alerts, al)
	a.mu.Unlock()
}

func (a *alertLog) all() []audit.Alert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]audit.Alert(nil), a.alerts...)
}

func TestMonitorAlertsOnDamageAndClears(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		clock := newTestClock()
		l := newTestLog(t, db, clock)
		alerts := &alertLog{}
		m := NewMonitor(l, MonitorConfig{Interval: time.Minute, FullInterval: time.Hour, Alerter: alerts})
		fill(t, l, "t1", 20)
		fill(t, l, "t2", 3)
		if _, err := m.Check(ctx); err != nil {
			t.Fatal(err)
		}
		if s := m.Status(); !s.Healthy || s.Verified != 23 || len(alerts.all()) != 0 {
			t.Fatalf("got %+v and alerts %v, want healthy after 23 events", s, alerts.all())
		}
		// The next run is incremental: it restarts at the checkpoint before the last head.
		fill(t, l, "t1", 2)
		if _, err := m.Check(ctx); err != nil {
			t.Fatal(err)
		}
		if s := m.Status(); !s.Healthy || s.Verified >= 25 {
			t.Errorf("got %d events verified, want an incremental run (< 25)", s.Verified)
		}

		dropGuards(t, db)
		exec(t, db, "UPDATE audit_events SET actor_id = 'mallory' WHERE tenant_id = 't1' AND seq = 21")
		for i := 0; i < 2; i++ { // a second run must not alert again
			if _, err := m.Check(ctx); err != nil {
				t.Fatal(err)
			}
		}
		s := m.Status()
		got := alerts.all()
		if s.Healthy || len(s.Damaged) != 1 || s.Damaged[0].Damage.Seq != 21 {
			t.Fatalf("got %+v, want t1 damaged at 21", s)
		}
		if len(got) != 1 || got[0].Kind != audit.AlertChainDamaged || got[0].Tenant != "t1" || got[0].Seq != 21 || got[0].Cleared {
			t.Fatalf("got alerts %+v, want one chain_damaged alert for t1 at 21", got)
		}
		seal(t, l)
		head, _, _ := l.Head(ctx, "t1")
		if e, err := l.Get(ctx, "t1", head); err != nil || e.Action != audit.ActionAuditVerifyFailed || e.Details["first_bad_seq"] != "21" {
			t.Errorf("got %+v (%v), want an audit.verify.failure event naming seq 21", e, err)
		}

		exec(t, db, "UPDATE audit_events SET actor_id = ? WHERE tenant_id = 't1' AND seq = 21", originalActor(t, l))
		if _, err := m.Check(ctx); err != nil {
			t.Fatal(err)
		}
		got = alerts.all()
		if len(got) != 2 || !got[1].Cleared || !m.Status().Healthy {
			t.Errorf("got alerts %+v and status %+v, want the alert cleared", got, m.Status())
		}
	})
}

func getEntryOf(t *testing.T, l *Log, tenant string, seq int64) audit.Entry {
	t.Helper()
	e, err := l.Get(context.Background(), tenant, seq)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// originalActor finds the actor id that makes event 21 of t1 hash correctly again.
func originalActor(t *testing.T, l *Log) string {
	t.Helper()
	e := getEntryOf(t, l, "t1", 21)
	for i := 0; i < 7; i++ {
		e.Actor.ID = "user-" + string(rune('0'+i))
		if e.Verify() {
			return e.Actor.ID
		}
	}
	t.Fatal("no original actor found")
	return ""
}

func TestMonitorRemembersTheHead(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		l := newTestLog(t, db, newTestClock())
		alerts := &alertLog{}
		m := NewMonitor(l, MonitorConfig{Alerter: alerts})
		fill(t, l, "t1", 10)
		fill(t, l, "t1", 10)
		if _, err := m.Check(ctx); err != nil || !m.Status().Healthy {
			t.Fatalf("got %+v (%v), want healthy", m.Status(), err)
		}
		// Cut events 11..20 and every trace of them: the head and the checkpoint at 20.
		dropGuards(t, db)
		e10 := getEntryOf(t, l, "t1", 10)
		exec(t, db, "DELETE FROM audit_events WHERE tenant_id = 't1' AND seq > 10")
		exec(t, db, "DELETE FROM audit_checkpoints WHERE tenant_id = 't1' AND seq > 10")
		exec(t, db, "UPDATE audit_chains SET seq = 10, hash = ?, checkpoint_seq = 10 WHERE tenant_id = 't1'", e10.Hash[:])
		if r := mustVerify(t, l, "t1", 0); !r.OK() {
			t.Fatalf("got %v, want the database alone to look intact", r.Damage)
		}
		if _, err := m.Check(ctx); err != nil {
			t.Fatal(err)
		}
		s := m.Status()
		if s.Healthy || len(s.Damaged) != 1 || s.Damaged[0].Damage.Kind != audit.DamageTruncated || s.Damaged[0].Damage.Seq != 11 {
			t.Errorf("got %+v, want truncated at 11", s)
		}
	})
}
