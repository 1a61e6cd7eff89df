package audit

import (
	"bytes"
	"crypto/sha256"
	"runtime"
	"testing"
	"time"
)

// BenchmarkVerifyChain compares recomputing a chain (canonical encoding, SHA-256 with the
// previous hash, link and checkpoint checks: what Verify and VerifyBundle do per event) with
// raw SHA-256 over exactly the bytes the chain hashes, as one stream, in the same run.
//
// The machines it runs on are shared, so the two sides alternate every walkSlice events (the
// walk of a slice, then raw SHA-256 over that slice's bytes) and each side is timed by the CPU
// time of its thread (on Linux; wall time elsewhere): time spent waiting for a CPU does not
// count against either. x-raw is the ratio of the two (target: at most 2). x-sum256 is the
// ratio against sha256.Sum256 of each event's bytes on their own, timed the same way: every
// event is a message of its own, with its own padding and final block. ns/op is the wall time
// of all three.
func BenchmarkVerifyChain(b *testing.B) {
	const walkSlice = 2000
	for _, tc := range []struct {
		name    string
		details bool
	}{{"details=2", true}, {"details=0", false}} {
		b.Run(tc.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c := newMemChain(b, 10000, 1000)
			if !tc.details {
				c = c.withoutDetails(b)
			}
			h := NewHasher()
			var raw []byte
			ends := make([]int, len(c.entries)) // ends[i]: end of entry i's bytes in raw
			for i := range c.entries {
				e := &c.entries[i]
				raw = append(raw, h.Canonical(&e.Event)...)
				raw = append(raw, e.PrevHash[:]...)
				ends[i] = len(raw)
			}
			var refs []CheckpointRef
			for _, cp := range c.cps {
				refs = append(refs, CheckpointRef{Seq: cp.Seq, Head: cp.Head})
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			var (
				chainT, rawT, eventT time.Duration
				sink                 byte // keeps the raw hashes from being optimised away
			)
			for b.Loop() {
				w := NewWalker(h, 1, Hash{}, refs)
				for lo := 0; lo < len(c.entries); lo += walkSlice {
					hi := min(lo+walkSlice, len(c.entries))
					t0 := threadCPU()
					for i := lo; i < hi; i++ {
						var ahead *Entry
						if i+1 < len(c.entries) {
							ahead = &c.entries[i+1]
						}
						if d := w.Step(&c.entries[i], ahead, ""); d != nil {
							b.Fatal(d)
						}
					}
					t1 := threadCPU()
					from := 0
					if lo > 0 {
						from = ends[lo-1]
					}
					sink ^= sha256.Sum256(raw[from:ends[hi-1]])[0]
					t2 := threadCPU()
					for i := lo; i < hi; i++ {
						sink ^= sha256.Sum256(raw[from:ends[i]])[0]
						from = ends[i]
					}
					t3 := threadCPU()
					chainT += t1 - t0
					rawT += t2 - t1
					eventT += t3 - t2
				}
			}
			_ = sink
			n := float64(b.N)
			b.ReportMetric(float64(len(raw))*n/chainT.Seconds()/1e6, "chain-MB/s")
			b.ReportMetric(float64(len(raw))*n/rawT.Seconds()/1e6, "raw-MB/s")
			b.ReportMetric(float64(chainT)/float64(rawT), "x-raw")
			b.ReportMetric(float64(chainT)/float64(eventT), "x-sum256")
		})
	}
	for _, tc := range []struct {
		name    string
		details bool
	}{{"parallel/details=2", true}, {"parallel/details=0", false}} {
		b.Run(tc.name, func(b *testing.B) { benchParallelVerify(b, tc.details, walkSlice) })
	}
}

// benchParallelVerify measures, in wall-clock time, the walk as the verifiers run it
// (each page of walkSlice events hashed on a HashPool of GOMAXPROCS workers, then walked in
// order with StepSum) against single-stream raw SHA-256 over the same bytes on one goroutine,
// and the sequential walk (Step) timed the same way. The three alternate every page. x-raw-wall
// is parallel walk ÷ raw SHA-256 (target: at most 2); speedup is sequential ÷ parallel walk;
// workers is the pool size. On a machine that is busy elsewhere, wall time counts the waits.
func benchParallelVerify(b *testing.B, details bool, walkSlice int) {
	c := newMemChain(b, 10000, 1000)
	if !details {
		c = c.withoutDetails(b)
	}
	h := NewHasher()
	var raw []byte
	ends := make([]int, len(c.entries))
	for i := range c.entries {
		e := &c.entries[i]
		raw = append(raw, h.Canonical(&e.Event)...)
		raw = append(raw, e.PrevHash[:]...)
		ends[i] = len(raw)
	}
	var refs []CheckpointRef
	for _, cp := range c.cps {
		refs = append(refs, CheckpointRef{Seq: cp.Seq, Head: cp.Head})
	}
	pool := NewHashPool(0, 0)
	sums := make([]Hash, len(c.entries))
	ahead := func(i int) *Entry {
		if i+1 < len(c.entries) {
			return &c.entries[i+1]
		}
		return nil
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	var (
		parT, seqT, rawT time.Duration
		sink             byte
	)
	for b.Loop() {
		pw := NewWalker(NewHasher(), 1, Hash{}, refs)
		sw := NewWalker(h, 1, Hash{}, refs)
		for lo := 0; lo < len(c.entries); lo += walkSlice {
			hi := min(lo+walkSlice, len(c.entries))
			t0 := time.Now()
			page := c.entries[lo:hi]
			pool.Each(len(page), func(h *Hasher, i int) { sums[lo+i] = h.Sum(&page[i]) })
			for i := lo; i < hi; i++ {
				if d := pw.StepSum(&c.entries[i], ahead(i), "", sums[i]); d != nil {
					b.Fatal(d)
				}
			}
			t1 := time.Now()
			from := 0
			if lo > 0 {
				from = ends[lo-1]
			}
			sink ^= sha256.Sum256(raw[from:ends[hi-1]])[0]
			t2 := time.Now()
			for i := lo; i < hi; i++ {
				if d := sw.Step(&c.entries[i], ahead(i), ""); d != nil {
					b.Fatal(d)
				}
			}
			t3 := time.Now()
			parT += t1.Sub(t0)
			rawT += t2.Sub(t1)
			seqT += t3.Sub(t2)
		}
	}
	_ = sink
	n := float64(b.N)
	b.ReportMetric(float64(len(raw))*n/parT.Seconds()/1e6, "wall-MB/s")
	b.ReportMetric(float64(len(raw))*n/rawT.Seconds()/1e6, "raw-wall-MB/s")
	b.ReportMetric(float64(parT)/float64(rawT), "x-raw-wall")
	b.ReportMetric(float64(seqT)/float64(parT), "speedup")
	b.ReportMetric(float64(pool.Workers()), "workers")
}

// BenchmarkVerifyBundle verifies a 10,000-event export bundle offline (tar reading, manifest
// hashes, JSON decoding, canonical encoding and hashing, the walk), with one worker and with a
// HashPool of GOMAXPROCS workers, as VerifyBundle runs it. Times are wall-clock.
func BenchmarkVerifyBundle(b *testing.B) {
	c := newMemChain(b, 10000, 1000)
	bundle, _ := c.bundle(b, 1, len(c.entries))
	for _, tc := range []struct {
		name    string
		workers int
	}{{"workers=1", 1}, {"workers=GOMAXPROCS", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bundle)))
			for b.Loop() {
				r, err := verifyBundle(bytes.NewReader(bundle), NewHashPool(tc.workers, 0), bundleBatchLines, c.keys())
				if err != nil || !r.OK() || r.Events != int64(len(c.entries)) {
					b.Fatalf("got %+v, %v", r, err)
				}
			}
			b.ReportMetric(float64(len(c.entries))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
