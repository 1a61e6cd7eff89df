package audit

import (
	"crypto/sha256"
	"testing"
	"time"
)

// BenchmarkVerifyChain compares recomputing a chain (canonical encoding, SHA-256 with the
// previous hash, link and checkpoint checks: what Verify and VerifyBundle do per event) with
// raw SHA-256 over exactly the bytes the chain hashes, as one stream, in the same run. The
// two alternate within each iteration so both see the same machine load; x-raw is the ratio
// of their times (target: at most 2). Events with details pay for Go map iteration.
func BenchmarkVerifyChain(b *testing.B) {
	for _, tc := range []struct {
		name    string
		details bool
	}{{"details=2", true}, {"details=0", false}} {
		b.Run(tc.name, func(b *testing.B) {
			c := newMemChain(b, 10000, 1000)
			if !tc.details {
				c = c.withoutDetails(b)
			}
			h := NewHasher()
			var raw []byte
			for i := range c.entries {
				e := &c.entries[i]
				raw = append(raw, h.Canonical(&e.Event)...)
				raw = append(raw, e.PrevHash[:]...)
			}
			var refs []CheckpointRef
			for _, cp := range c.cps {
				refs = append(refs, CheckpointRef{Seq: cp.Seq, Head: cp.Head})
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			var chainT, rawT time.Duration
			for b.Loop() {
				t0 := time.Now()
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
				t1 := time.Now()
				s := sha256.Sum256(raw)
				_ = s
				chainT += t1.Sub(t0)
				rawT += time.Since(t1)
			}
			b.ReportMetric(float64(len(raw))/chainT.Seconds()*float64(b.N)/1e6, "chain-MB/s")
			b.ReportMetric(float64(len(raw))/rawT.Seconds()*float64(b.N)/1e6, "raw-MB/s")
			b.ReportMetric(float64(chainT)/float64(rawT), "x-raw")
		})
	}
}
