package audit

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

func TestHashPoolEachCoversEveryIndexOnce(t *testing.T) {
	for _, tc := range []struct {
		name           string
		workers, chunk int
		n              int
	}{
		{"one worker", 1, 0, 1000},
		{"empty batch", 4, 3, 0},
		{"smaller than a chunk", 4, 64, 10},
		{"uneven chunks", 3, 7, 1000},
		{"more workers than chunks", 8, 100, 250},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewHashPool(tc.workers, tc.chunk)
			seen := make([]atomic.Int32, tc.n)
			p.Each(tc.n, func(_ *Hasher, i int) { seen[i].Add(1) })
			for i := range seen {
				if got := seen[i].Load(); got != 1 {
					t.Fatalf("index %d: got %d calls, want 1", i, got)
				}
			}
		})
	}
}

// walkResult is everything a walk reports.
type walkResult struct {
	Damage  *Damage
	Next    int64
	Prev    Hash
	Count   int64
	Matched int
	Pending CheckpointRef
	HasPend bool
}

// walkChain walks entries from start after anchor, the way both verifiers do: with the
// one-entry look-ahead, entries whose index is in bad standing for lines that could not be
// decoded. With a pool, the entries' own hashes are computed on it, batch entries at a time.
func walkChain(entries []Entry, bad map[int]string, start int64, anchor Hash, cps []CheckpointRef, pool *HashPool, batch int) walkResult {
	w := NewWalker(NewHasher(), start, anchor, cps)
	var (
		d    *Damage
		sums = make([]Hash, len(entries))
	)
	for lo := 0; lo < len(entries) && d == nil; lo += batch {
		hi := min(lo+batch, len(entries))
		if pool != nil {
			pool.Each(hi-lo, func(h *Hasher, i int) {
				if bad[lo+i] == "" {
					sums[lo+i] = h.Sum(&entries[lo+i])
				}
			})
		}
		for i := lo; i < hi && d == nil; i++ {
			var ahead *Entry
			if i+1 < len(entries) && bad[i+1] == "" {
				ahead = &entries[i+1]
			}
			if pool != nil {
				d = w.StepSum(&entries[i], ahead, bad[i], sums[i])
			} else {
				d = w.Step(&entries[i], ahead, bad[i])
			}
		}
	}
	r := walkResult{Damage: d, Next: w.Next(), Prev: w.Prev(), Count: w.Count(), Matched: w.Matched()}
	r.Pending, r.HasPend = w.PendingCheckpoint()
	return r
}

// TestParallelWalkMatchesSequential tampers with a chain in every way the verifiers classify
// and checks that hashing on a pool (several workers, small chunks and batches, so that work
// interleaves) reports exactly what the sequential walk reports.
func TestParallelWalkMatchesSequential(t *testing.T) {
	const n, cpEvery = 300, 50
	c := newMemChain(t, n, cpEvery)
	var refs []CheckpointRef
	for _, cp := range c.cps {
		refs = append(refs, CheckpointRef{Seq: cp.Seq, Head: cp.Head})
	}
	h := NewHasher()
	rehash := func(es []Entry, from int) { // recompute hashes and links from index from on
		for i := from; i < len(es); i++ {
			if i > 0 {
				es[i].PrevHash = es[i-1].Hash
			}
			es[i].Hash = h.Sum(&es[i])
		}
	}
	renumber := func(es []Entry, from int, delta int64) {
		for i := from; i < len(es); i++ {
			es[i].Seq += delta
		}
	}
	cases := []struct {
		name   string
		tamper func(es []Entry) ([]Entry, map[int]string)
		kind   DamageKind // "" for an intact chain
	}{
		{"intact", func(es []Entry) ([]Entry, map[int]string) { return es, nil }, ""},
		{"modify a field", func(es []Entry) ([]Entry, map[int]string) {
			es[149].Actor.ID = "someone-else"
			return es, nil
		}, DamageModified},
		{"modify details", func(es []Entry) ([]Entry, map[int]string) {
			es[149].Details = map[string]string{"field": "email", "n": "149"}
			return es, nil
		}, DamageModified},
		{"modify and rehash one event", func(es []Entry) ([]Entry, map[int]string) {
			es[144].Outcome = Failure // 145: not at a checkpoint, which would report a rewrite
			es[144].Hash = h.Sum(&es[144])
			return es, nil
		}, DamageModified},
		{"undecodable event", func(es []Entry) ([]Entry, map[int]string) {
			return es, map[int]string{149: "stored details are not a JSON object of strings"}
		}, DamageModified},
		{"modify the last event", func(es []Entry) ([]Entry, map[int]string) {
			es[n-1].Reason = "x"
			return es, nil
		}, DamageModified},
		{"delete an event", func(es []Entry) ([]Entry, map[int]string) {
			return slices.Delete(es, 149, 150), nil
		}, DamageDeleted},
		{"delete and renumber", func(es []Entry) ([]Entry, map[int]string) {
			es = slices.Delete(es, 149, 150)
			renumber(es, 149, -1)
			return es, nil
		}, DamageDeleted},
		{"delete the oldest events", func(es []Entry) ([]Entry, map[int]string) {
			return es[5:], nil
		}, DamageDeleted},
		{"insert a well-formed forged event", func(es []Entry) ([]Entry, map[int]string) {
			f := es[143]
			f.Seq, f.Reason, f.PrevHash = 145, "forged", es[143].Hash
			f.Hash = h.Sum(&f)
			renumber(es, 144, 1)
			return slices.Insert(es, 144, f), nil
		}, DamageInserted},
		{"insert a garbage event", func(es []Entry) ([]Entry, map[int]string) {
			f := es[148]
			f.Seq, f.Reason = 150, "forged"
			f.PrevHash[0] ^= 0xff
			f.Hash[0] ^= 0xff
			renumber(es, 149, 1)
			return slices.Insert(es, 149, f), nil
		}, DamageInserted},
		{"duplicate an event", func(es []Entry) ([]Entry, map[int]string) {
			return slices.Insert(es, 150, es[149]), nil
		}, DamageInserted},
		{"swap two events", func(es []Entry) ([]Entry, map[int]string) {
			es[149], es[150] = es[150], es[149]
			return es, nil
		}, DamageReordered},
		{"swap two events and their numbers", func(es []Entry) ([]Entry, map[int]string) {
			es[149], es[150] = es[150], es[149]
			es[149].Seq, es[150].Seq = 150, 151
			return es, nil
		}, DamageReordered},
		{"move an event far ahead", func(es []Entry) ([]Entry, map[int]string) {
			moved := es[149]
			es = slices.Delete(es, 149, 150)
			return slices.Insert(es, 200, moved), nil
		}, DamageDeleted},
		{"rewrite history without the key", func(es []Entry) ([]Entry, map[int]string) {
			es[149].Reason = "rewritten"
			rehash(es, 149)
			return es, nil
		}, DamageRewritten},
		{"truncate after a checkpoint", func(es []Entry) ([]Entry, map[int]string) {
			return es[:260], nil
		}, ""}, // the walk is intact; the verifiers see the pending checkpoint at 300
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			es, bad := tc.tamper(slices.Clone(c.entries))
			want := walkChain(es, bad, 1, Hash{}, refs, nil, len(es))
			if got := want.Damage; (tc.kind == "" && got != nil) || (tc.kind != "" && (got == nil || got.Kind != tc.kind)) {
				t.Fatalf("sequential walk: got %v, want %q", got, tc.kind)
			}
			for _, p := range []struct {
				workers, chunk, batch int
			}{{1, 0, 2000}, {2, 0, 2000}, {4, 1, 7}, {3, 5, 64}, {8, 2, 1}} {
				got := walkChain(es, bad, 1, Hash{}, refs, NewHashPool(p.workers, p.chunk), p.batch)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("workers=%d chunk=%d batch=%d: got %+v (damage %v), want %+v (damage %v)",
						p.workers, p.chunk, p.batch, got, got.Damage, want, want.Damage)
				}
			}
		})
	}
}

// TestParallelBundleVerifyMatchesSequential checks that decoding and hashing a bundle's events
// on a pool, in batches of any size, gives the same report as one worker.
func TestParallelBundleVerifyMatchesSequential(t *testing.T) {
	c := newMemChain(t, 120, 25)
	all, _ := c.bundle(t, 1, 120)
	mid, _ := c.bundle(t, 40, 90)
	ev := "events-000001.jsonl"
	lineEdit := func(fn func([]string) []string) func(string, []byte) []byte { return editLines(ev, fn) }
	keep := func(_ string, d []byte) []byte { return d }
	cases := []struct {
		name   string
		bundle []byte
		edit   func(string, []byte) []byte
	}{
		{"intact", all, keep},
		{"intact mid-chain", mid, keep},
		{"modified event", all, lineEdit(func(ls []string) []string {
			ls[60] = strings.Replace(ls[60], `"outcome":"success"`, `"outcome":"failure"`, 1)
			return ls
		})},
		{"malformed line", all, lineEdit(func(ls []string) []string { ls[60] = "{"; return ls })},
		{"malformed first line", all, lineEdit(func(ls []string) []string { ls[0] = "[]"; return ls })},
		{"event of another tenant", all, lineEdit(func(ls []string) []string {
			ls[60] = strings.Replace(ls[60], `"tenant":"t1"`, `"tenant":"t2"`, 1)
			return ls
		})},
		{"deleted event", all, lineEdit(func(ls []string) []string { return slices.Delete(ls, 60, 61) })},
		{"duplicated event", all, lineEdit(func(ls []string) []string { return slices.Insert(ls, 61, ls[60]) })},
		{"reordered events", all, lineEdit(func(ls []string) []string { ls[60], ls[61] = ls[61], ls[60]; return ls })},
		{"truncated after a checkpoint", all, lineEdit(func(ls []string) []string { return ls[:110] })},
		{"truncated before a checkpoint", all, lineEdit(func(ls []string) []string { return ls[:70] })},
		{"forged first event of a mid-chain bundle", mid, lineEdit(func(ls []string) []string {
			ls[0] = strings.Replace(ls[0], `"outcome":"success"`, `"outcome":"failure"`, 1)
			return ls
		})},
		{"forged checkpoint", all, editLines("checkpoints.jsonl", func(ls []string) []string {
			ls[1] = strings.Replace(ls[1], `"seq":50`, `"seq":51`, 1)
			return ls
		})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := rewriteTar(t, tc.bundle, tc.edit)
			want, wantErr := verifyBundle(bytes.NewReader(b), NewHashPool(1, 0), bundleBatchLines, c.keys())
			if tc.name == "intact" || tc.name == "intact mid-chain" {
				if wantErr != nil || !want.OK() {
					t.Fatalf("sequential: got %v, %v, want an intact bundle", want.Damage, wantErr)
				}
			} else if wantErr == nil && want.OK() {
				t.Fatalf("sequential: got an intact bundle, want damage")
			}
			for _, p := range []struct{ workers, chunk, batch int }{{2, 0, bundleBatchLines}, {4, 1, 1}, {3, 2, 7}, {8, 3, 50}} {
				got, err := verifyBundle(bytes.NewReader(b), NewHashPool(p.workers, p.chunk), p.batch, c.keys())
				if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(err, wantErr) {
					t.Errorf("workers=%d chunk=%d batch=%d: got %+v (damage %v), %v; want %+v (damage %v), %v",
						p.workers, p.chunk, p.batch, got, got.Damage, err, want, want.Damage, wantErr)
				}
			}
			if got, err := VerifyBundle(bytes.NewReader(b), c.keys()...); !reflect.DeepEqual(got, want) || !reflect.DeepEqual(err, wantErr) {
				t.Errorf("VerifyBundle: got %v, %v; want %v, %v", got.Damage, err, want.Damage, wantErr)
			}
		})
	}
}
