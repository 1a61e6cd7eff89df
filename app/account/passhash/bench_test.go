package passhash

import (
	"context"
	"testing"
)

// BenchmarkHash measures new-password hashing at the default cost, one
// caller at a time.
func BenchmarkHash(b *testing.B) {
	h, err := New(Config{Rand: seeded(3)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	pw := []byte("benchmark-password-4111")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, pw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkSignIns measures password checks per second at the default cost
// and default pool size, with as many concurrent callers as the queue
// admits: the ceiling on sign-ins per second of one node.
func BenchmarkSignIns(b *testing.B) {
	h, err := New(Config{Rand: seeded(4)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	pw := []byte("benchmark-password-4111")
	enc, err := h.Hash(ctx, pw)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetParallelism(2) // several callers per CPU, so the pool, not the caller count, is the limit
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ok, _, err := h.Verify(ctx, enc, pw)
			if err != nil || !ok {
				b.Errorf("Verify: ok=%v err=%v", ok, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sign-ins/s")
	b.ReportMetric(float64(h.Stats().MaxConcurrent), "slots")
}
