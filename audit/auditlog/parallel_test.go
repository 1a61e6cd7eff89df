package auditlog

import (
	"context"
	"reflect"
	"testing"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestParallelVerifyMatchesSequential tampers with a stored chain in every way Verify
// classifies and checks that hashing the pages on several workers, a chunk of one entry at a
// time so that the work interleaves, gives exactly the report of the sequential walk.
func TestParallelVerifyMatchesSequential(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, l *Log, db *migrations.DB)
	}{
		{"untouched", func(*testing.T, *Log, *migrations.DB) {}},
		{"modify a field", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, "UPDATE audit_events SET actor_id = 'someone-else' WHERE tenant_id = 't1' AND seq = 15")
		}},
		{"modify and rehash one event", func(t *testing.T, l *Log, db *migrations.DB) {
			e := getEntry(t, l, 15)
			e.Outcome = audit.Failure
			h := audit.ChainHash(e.Event, e.PrevHash)
			exec(t, db, "UPDATE audit_events SET outcome = 'failure', hash = ? WHERE tenant_id = 't1' AND seq = 15", h[:])
		}},
		{"corrupt details", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, `UPDATE audit_events SET details = 'not json' WHERE tenant_id = 't1' AND seq = 15`)
		}},
		{"delete an event", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, "DELETE FROM audit_events WHERE tenant_id = 't1' AND seq = 15")
		}},
		{"delete and renumber", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, "DELETE FROM audit_events WHERE tenant_id = 't1' AND seq = 15")
			shiftFrom(t, db, 16, -1)
		}},
		{"delete the oldest events", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, "DELETE FROM audit_events WHERE tenant_id = 't1' AND seq <= 5")
		}},
		{"insert a well-formed forged event", func(t *testing.T, l *Log, db *migrations.DB) {
			prev := getEntry(t, l, 14)
			shiftFrom(t, db, 15, 1)
			f := prev
			f.Seq, f.Reason, f.PrevHash = 15, "forged", prev.Hash
			f.Hash = audit.ChainHash(f.Event, f.PrevHash)
			insertRaw(t, db, f)
		}},
		{"insert a garbage event", func(t *testing.T, l *Log, db *migrations.DB) {
			f := getEntry(t, l, 14)
			shiftFrom(t, db, 15, 1)
			f.Seq, f.Reason = 15, "forged"
			f.PrevHash[0] ^= 0xff
			f.Hash[0] ^= 0xff
			insertRaw(t, db, f)
		}},
		{"append a forged event beyond the head", func(t *testing.T, l *Log, db *migrations.DB) {
			f := getEntry(t, l, 30)
			f.Seq, f.Reason, f.PrevHash = 31, "forged", f.Hash
			f.Hash = audit.ChainHash(f.Event, f.PrevHash)
			insertRaw(t, db, f)
		}},
		{"swap two events", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, "UPDATE audit_events SET seq = 100015 WHERE tenant_id = 't1' AND seq = 15")
			exec(t, db, "UPDATE audit_events SET seq = 15 WHERE tenant_id = 't1' AND seq = 16")
			exec(t, db, "UPDATE audit_events SET seq = 16 WHERE tenant_id = 't1' AND seq = 100015")
		}},
		{"truncate after a checkpoint", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, "DELETE FROM audit_events WHERE tenant_id = 't1' AND seq > 25")
		}},
		{"truncate after a checkpoint and move the head back", func(t *testing.T, l *Log, db *migrations.DB) {
			e := getEntry(t, l, 25)
			exec(t, db, "DELETE FROM audit_events WHERE tenant_id = 't1' AND seq > 25")
			exec(t, db, "UPDATE audit_chains SET seq = 25, hash = ? WHERE tenant_id = 't1'", e.Hash[:])
		}},
		{"rewrite history without the key", func(t *testing.T, l *Log, db *migrations.DB) {
			rewriteFrom(t, l, db, 15)
		}},
	}
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tdb := freshLike(t, db)
				l := tamperChain(t, tdb)
				tc.tamper(t, l, tdb)
				l.verifyWorkers, l.verifyChunk = 1, 0
				for _, from := range []int64{0, 25} {
					want, err := l.Verify(context.Background(), "t1", from)
					if err != nil {
						t.Fatal(err)
					}
					if tc.name == "untouched" && !want.OK() {
						t.Fatalf("sequential: got %v, want an intact chain", want.Damage)
					}
					if tc.name != "untouched" && from == 0 && want.OK() {
						t.Fatalf("sequential: got an intact chain, want damage")
					}
					for _, p := range []struct{ workers, chunk int }{{2, 0}, {4, 1}, {3, 2}} {
						l.verifyWorkers, l.verifyChunk = p.workers, p.chunk
						got, err := l.Verify(context.Background(), "t1", from)
						if err != nil {
							t.Fatal(err)
						}
						if !reflect.DeepEqual(got, want) {
							t.Errorf("from %d, workers=%d chunk=%d: got %+v (damage %v), want %+v (damage %v)",
								from, p.workers, p.chunk, got, got.Damage, want, want.Damage)
						}
					}
					l.verifyWorkers, l.verifyChunk = 1, 0
				}
			})
		}
	})
}
