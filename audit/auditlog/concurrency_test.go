package auditlog

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// openNodes opens two independent connections ("nodes") to one freshly migrated database.
func openNodes(t *testing.T, d migrations.Dialect) (*migrations.DB, *migrations.DB) {
	t.Helper()
	u := migratetest.URL(t, d)
	ctx := context.Background()
	open := func() *migrations.DB {
		db, err := migrations.Open(ctx, u, migrations.Options{MaxOpenConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	a := open()
	m, err := migrations.NewMigrator(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	return a, open()
}

func TestConcurrentAppendsFromTwoNodes(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbA, dbB := openNodes(t, d)
			const (
				workers = 6
				perWork = 60
			)
			tenants := []string{"t1", "t2", "t3"}
			mk := func(db *migrations.DB, node string) *Log {
				l, err := New(Config{DB: db, Signer: seedSigner(1), Node: node, SealInterval: 5 * time.Millisecond, CheckpointEvery: 50, CheckpointInterval: time.Hour})
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			nodes := []*Log{mk(dbA, "node-a"), mk(dbB, "node-b")}
			dbs := []*migrations.DB{dbA, dbB}
			runCtx, stop := context.WithCancel(context.Background())
			var runs sync.WaitGroup
			for _, l := range nodes {
				runs.Add(1)
				go func() {
					defer runs.Done()
					if err := l.Run(runCtx); err != nil {
						t.Errorf("Run: %v", err)
					}
				}()
			}

			ctx := context.Background()
			// Both nodes record audit.start before the load begins: on SQLite a node still waiting
			// for the write lock when the test stops it would have its start interrupted.
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				var started int64
				if err := migratetest.Beneath(t, dbA).Gorm.Raw("SELECT (SELECT COUNT(*) FROM audit_outbox WHERE action = ?) + (SELECT COUNT(*) FROM audit_events WHERE action = ?)",
					audit.ActionAuditStart, audit.ActionAuditStart).Row().Scan(&started); err != nil {
					t.Fatal(err)
				}
				if started == 2 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of 2 nodes recorded audit.start", started)
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, 2*workers)
			for n, l := range nodes {
				for w := 0; w < workers; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := 0; i < perWork; i++ {
							ev := sampleEvent(tenants[(w+i)%len(tenants)], i)
							ev.RequestID = fmt.Sprintf("n%d-w%d-%d", n, w, i)
							var err error
							if i%2 == 0 {
								err = l.Record(ctx, ev)
							} else {
								err = dbs[n].Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
									return l.Append(ctx, tx, ev)
								})
							}
							if err != nil {
								errs <- err
								return
							}
						}
					}()
				}
			}
			wg.Wait()
			stop()
			runs.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("append: %v", err)
			}
			if _, err := nodes[0].Seal(ctx); err != nil {
				t.Fatal(err)
			}

			total := int64(0)
			for _, tenant := range tenants {
				r, err := nodes[1].Verify(ctx, tenant, 0)
				if err != nil {
					t.Fatal(err)
				}
				if !r.OK() {
					t.Fatalf("tenant %s: got %v, want intact", tenant, r.Damage)
				}
				var cnt, lo, hi int64
				row := migratetest.Beneath(t, dbA).Gorm.Raw("SELECT COUNT(*), MIN(seq), MAX(seq) FROM audit_events WHERE tenant_id = ?", tenant).Row()
				if err := row.Scan(&cnt, &lo, &hi); err != nil {
					t.Fatal(err)
				}
				if lo != 1 || hi != cnt || r.Events != cnt {
					t.Errorf("tenant %s: got %d events numbered %d..%d (%d verified), want gapless 1..%d", tenant, cnt, lo, hi, r.Events, cnt)
				}
				total += cnt
			}
			if want := int64(2 * workers * perWork); total != want {
				t.Errorf("got %d events, want %d", total, want)
			}
			// audit.start and audit.stop of both nodes.
			if r, err := nodes[0].Verify(ctx, audit.SystemTenant, 0); err != nil || !r.OK() || r.Events != 4 {
				t.Errorf("system chain: got %+v, %v; want 4 intact lifecycle events", r, err)
			}
			if n, err := nodes[0].Pending(ctx); err != nil || n != 0 {
				t.Errorf("got %d pending (%v), want 0", n, err)
			}
		})
	}
}
