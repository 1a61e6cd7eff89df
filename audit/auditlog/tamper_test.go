package auditlog

import (
	"context"
	"testing"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// tamperChain builds a 30-event chain for tenant "t1" with checkpoints at 10, 20 and 30.
func tamperChain(t *testing.T, db *migrations.DB) *Log {
	t.Helper()
	l := newTestLog(t, db, newTestClock())
	for i := 0; i < 3; i++ {
		fill(t, l, "t1", 10)
	}
	dropGuards(t, db)
	return l
}

func getEntry(t *testing.T, l *Log, seq int64) audit.Entry {
	t.Helper()
	e, err := l.Get(context.Background(), "t1", seq)
	if err != nil {
		t.Fatalf("Get %d: %v", seq, err)
	}
	return e
}

// insertRaw writes an entry row directly, as an attacker would.
func insertRaw(t *testing.T, db *migrations.DB, e audit.Entry) {
	t.Helper()
	d, _ := encodeDetails(e.Details)
	exec(t, db, "INSERT INTO audit_events ("+entryCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		e.Tenant, e.Seq, e.Time.UnixMicro(), e.Actor.ID, e.Actor.Role, string(e.Actor.Kind), e.Origin.IP, e.Origin.UserAgent,
		e.Origin.Node, string(e.Action), e.Target.Kind, e.Target.ID, string(e.Outcome), e.Reason, e.RequestID, d,
		e.PrevHash[:], e.Hash[:])
}

// shiftFrom moves events with seq ≥ from by delta, through a temporary offset so the primary
// key never collides.
func shiftFrom(t *testing.T, db *migrations.DB, from, delta int64) {
	t.Helper()
	exec(t, db, "UPDATE audit_events SET seq = seq + 100000 WHERE tenant_id = 't1' AND seq >= ?", from)
	exec(t, db, "UPDATE audit_events SET seq = seq - 100000 + ? WHERE tenant_id = 't1' AND seq >= 100000", delta)
}

// rewriteFrom changes event seq's reason and recomputes every later hash and the chain head,
// as an attacker who knows the format but lacks the signing key would.
func rewriteFrom(t *testing.T, l *Log, db *migrations.DB, seq int64) {
	t.Helper()
	ctx := context.Background()
	entries, err := l.Entries(ctx, "t1", seq-1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	prev := entries[0].PrevHash
	for i, e := range entries {
		if i == 0 {
			e.Reason = "rewritten"
		}
		e.PrevHash = prev
		e.Hash = audit.ChainHash(e.Event, prev)
		prev = e.Hash
		exec(t, db, "UPDATE audit_events SET reason = ?, prev_hash = ?, hash = ? WHERE tenant_id = 't1' AND seq = ?", e.Reason, e.PrevHash[:], e.Hash[:], e.Seq)
	}
	exec(t, db, "UPDATE audit_chains SET hash = ? WHERE tenant_id = 't1'", prev[:])
}

func TestVerifyDetectsTampering(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, l *Log, db *migrations.DB)
		kind   audit.DamageKind
		seq    int64
	}{
		{"modify a field", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, "UPDATE audit_events SET actor_id = 'someone-else' WHERE tenant_id = 't1' AND seq = 15")
		}, audit.DamageModified, 15},
		{"modify details", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, `UPDATE audit_events SET details = '{"field":"email","n":"14"}' WHERE tenant_id = 't1' AND seq = 15`)
		}, audit.DamageModified, 15},
		{"modify and rehash one event", func(t *testing.T, l *Log, db *migrations.DB) {
			e := getEntry(t, l, 15)
			e.Outcome = audit.Failure
			h := audit.ChainHash(e.Event, e.PrevHash)
			exec(t, db, "UPDATE audit_events SET outcome = 'failure', hash = ? WHERE tenant_id = 't1' AND seq = 15", h[:])
		}, audit.DamageModified, 15},
		{"corrupt details", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, `UPDATE audit_events SET details = 'not json' WHERE tenant_id = 't1' AND seq = 15`)
		}, audit.DamageModified, 15},
		{"delete an event", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, "DELETE FROM audit_events WHERE tenant_id = 't1' AND seq = 15")
		}, audit.DamageDeleted, 15},
		{"delete and renumber", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, "DELETE FROM audit_events WHERE tenant_id = 't1' AND seq = 15")
			shiftFrom(t, db, 16, -1)
		}, audit.DamageDeleted, 15},
		{"delete the oldest events", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, "DELETE FROM audit_events WHERE tenant_id = 't1' AND seq <= 5")
		}, audit.DamageDeleted, 1},
		{"insert a well-formed forged event", func(t *testing.T, l *Log, db *migrations.DB) {
			prev := getEntry(t, l, 14)
			shiftFrom(t, db, 15, 1)
			f := prev
			f.Seq, f.Reason, f.PrevHash = 15, "forged", prev.Hash
			f.Hash = audit.ChainHash(f.Event, f.PrevHash)
			insertRaw(t, db, f)
		}, audit.DamageInserted, 15},
		{"insert a garbage event", func(t *testing.T, l *Log, db *migrations.DB) {
			f := getEntry(t, l, 14)
			shiftFrom(t, db, 15, 1)
			f.Seq, f.Reason = 15, "forged"
			f.PrevHash[0] ^= 0xff
			f.Hash[0] ^= 0xff
			insertRaw(t, db, f)
		}, audit.DamageInserted, 15},
		{"append a forged event beyond the head", func(t *testing.T, l *Log, db *migrations.DB) {
			f := getEntry(t, l, 30)
			f.Seq, f.Reason, f.PrevHash = 31, "forged", f.Hash
			f.Hash = audit.ChainHash(f.Event, f.PrevHash)
			insertRaw(t, db, f)
		}, audit.DamageInserted, 31},
		{"swap two events", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, "UPDATE audit_events SET seq = 100015 WHERE tenant_id = 't1' AND seq = 15")
			exec(t, db, "UPDATE audit_events SET seq = 15 WHERE tenant_id = 't1' AND seq = 16")
			exec(t, db, "UPDATE audit_events SET seq = 16 WHERE tenant_id = 't1' AND seq = 100015")
		}, audit.DamageReordered, 15},
		{"truncate after a checkpoint", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, "DELETE FROM audit_events WHERE tenant_id = 't1' AND seq > 25")
		}, audit.DamageTruncated, 26},
		{"truncate after a checkpoint and move the head back", func(t *testing.T, l *Log, db *migrations.DB) {
			e := getEntry(t, l, 25)
			exec(t, db, "DELETE FROM audit_events WHERE tenant_id = 't1' AND seq > 25")
			exec(t, db, "UPDATE audit_chains SET seq = 25, hash = ? WHERE tenant_id = 't1'", e.Hash[:])
		}, audit.DamageTruncated, 26},
		{"rewrite history without the key", func(t *testing.T, l *Log, db *migrations.DB) {
			rewriteFrom(t, l, db, 15)
		}, audit.DamageRewritten, 11},
		{"forge a checkpoint", func(t *testing.T, _ *Log, db *migrations.DB) {
			exec(t, db, "UPDATE audit_checkpoints SET at_us = at_us + 1 WHERE tenant_id = 't1' AND seq = 20")
		}, audit.DamageCheckpoint, 20},
		{"sign a checkpoint with another key", func(t *testing.T, l *Log, db *migrations.DB) {
			rogue := newTestLog(t, db, newTestClock(), func(c *Config) { c.Signer = seedSigner(9) })
			exec(t, db, "DELETE FROM audit_checkpoints WHERE tenant_id = 't1' AND seq = 20")
			e := getEntry(t, l, 20)
			if _, err := rogue.checkpointAt(context.Background(), "t1", 20, e.Hash); err != nil {
				t.Fatal(err)
			}
		}, audit.DamageCheckpoint, 20},
	}
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		// Each case gets a fresh chain in its own tenant database.
		t.Run("untouched", func(t *testing.T) {
			l := tamperChain(t, freshLike(t, db))
			r := mustVerify(t, l, "t1", 0)
			if !r.OK() || r.Events != 30 || r.Matched != 3 {
				t.Fatalf("got %+v, want an intact chain of 30 events matching 3 checkpoints", r)
			}
		})
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tdb := freshLike(t, db)
				l := tamperChain(t, tdb)
				tc.tamper(t, l, tdb)
				r := mustVerify(t, l, "t1", 0)
				if r.Damage == nil {
					t.Fatalf("got an intact chain, want %s at %d", tc.kind, tc.seq)
				}
				if r.Damage.Kind != tc.kind || r.Damage.Seq != tc.seq {
					t.Errorf("got %v, want %s at seq %d", r.Damage, tc.kind, tc.seq)
				}
			})
		}
	})
}

// freshLike returns a new, migrated database of db's dialect.
func freshLike(t *testing.T, db *migrations.DB) *migrations.DB {
	t.Helper()
	return migratetest.Open(t, db.Dialect)
}

func TestVerifyFromSeqStartsAtASignedCheckpoint(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		l := tamperChain(t, db)
		r := mustVerify(t, l, "t1", 25)
		if !r.OK() || r.Anchor != 20 || r.FromSeq != 21 || r.Events != 10 {
			t.Fatalf("got %+v, want intact from anchor 20 (events 21..30)", r)
		}
		exec(t, db, "UPDATE audit_events SET reason = 'x' WHERE tenant_id = 't1' AND seq = 5")
		if r := mustVerify(t, l, "t1", 25); !r.OK() {
			t.Errorf("got %v, want intact: seq 5 lies before the anchor", r.Damage)
		}
		if r := mustVerify(t, l, "t1", 0); r.Damage == nil || r.Damage.Seq != 5 {
			t.Errorf("got %v, want damage at 5 on a full verification", r.Damage)
		}
		exec(t, db, "UPDATE audit_events SET reason = 'x' WHERE tenant_id = 't1' AND seq = 22")
		if r := mustVerify(t, l, "t1", 25); r.Damage == nil || r.Damage.Seq != 22 || r.Damage.Kind != audit.DamageModified {
			t.Errorf("got %v, want modified at 22", r.Damage)
		}
	})
}
