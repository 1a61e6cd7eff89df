package audit

import (
	"crypto/sha256"
	"testing"
	"time"
)

// BenchmarkVerifyChain compares recomputing a chain (canonical encoding, SHA-256 with the
// previous hash, link and checkpoint checks: what Verify and VerifyBundle do per event) with
// raw SHA-256 over exactly the bytes the chain hashes, in one run. Compare the MB/s columns.
func BenchmarkVerifyChain(b *testing.B) {
	c := newMemChain(b, 10000, 1000)
	h := NewHasher()
	var (
		raw   []byte
		total int64
	)
	for i := range c.entries {
		e := &c.entries[i]
		raw = append(raw, h.Canonical(&e.Event)...)
		raw = append(raw, e.PrevHash[:]...)
	}
	total = int64(len(raw))
	var refs []CheckpointRef
	for _, cp := range c.cps {
		refs = append(refs, CheckpointRef{Seq: cp.Seq, Head: cp.Head})
	}

	walk := func(b *testing.B) {
		w := NewWalker(h, 1, Hash{}, refs)
		for i := range c.entries {
			var ahead *Entry
			if i+1 < len(c.entries) {
				ahead = &c.entries[i+1]
			}
			if d := w.Step(&c.entries[i], ahead, ""); d != nil {
				b.Fatal(d)
			}
		}
	}
	b.Run("chain", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(total)
		for b.Loop() {
			walk(b)
		}
	})
	b.Run("raw-sha256", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(total)
		for b.Loop() {
			s := sha256.Sum256(raw)
			_ = s
		}
	})
	// interleaved alternates the two so both see the same machine load, and reports the
	// ratio chain time / raw SHA-256 time (the target is at most 2).
	b.Run("interleaved", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(2 * total)
		var chainT, rawT time.Duration
		for b.Loop() {
			t0 := time.Now()
			walk(b)
			t1 := time.Now()
			s := sha256.Sum256(raw)
			_ = s
			chainT += t1.Sub(t0)
			rawT += time.Since(t1)
		}
		b.ReportMetric(float64(chainT)/float64(rawT), "x-raw")
	})
}
