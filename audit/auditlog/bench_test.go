package auditlog

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// benchDialects runs a benchmark per database.
func benchDialects(b *testing.B, fn func(b *testing.B, db *migrations.DB)) {
	for _, d := range migratetest.Dialects() {
		b.Run(string(d), func(b *testing.B) { fn(b, openBench(b, d)) })
	}
}

func benchLog(b *testing.B, db *migrations.DB) *Log {
	l, err := New(Config{DB: db, Signer: seedSigner(1), Node: "bench", CheckpointEvery: 1000, CheckpointInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	return l
}

func reportRate(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkAppendBatched has 4 writers append 100 events per transaction while the sealer
// (Run) chains them concurrently; one op is one event, appended and chained.
func BenchmarkAppendBatched(b *testing.B) {
	benchDialects(b, func(b *testing.B, db *migrations.DB) {
		ctx := context.Background()
		l := benchLog(b, db)
		batch := make([]audit.Event, 100)
		for i := range batch {
			batch[i] = sampleEvent("t1", i)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { _ = l.Run(runCtx); close(done) }()
		var (
			next atomic.Int64
			wg   sync.WaitGroup
		)
		b.ReportAllocs()
		b.ResetTimer()
		cpu := startCPU(db)
		start := time.Now()
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					from := next.Add(int64(len(batch))) - int64(len(batch))
					if from >= int64(b.N) {
						return
					}
					n := min(int64(len(batch)), int64(b.N)-from)
					err := db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return l.AppendBatch(ctx, tx, batch[:n]) })
					if err != nil {
						b.Error(err)
						return
					}
					l.Kick()
				}
			}()
		}
		wg.Wait()
		drain(b, l)
		reportRate(b, start)
		cpu.report(b, b.N)
		b.StopTimer()
		stop()
		<-done
	})
}

// drain seals until nothing is pending.
func drain(b *testing.B, l *Log) {
	ctx := context.Background()
	for {
		n, err := l.Pending(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			return
		}
		if _, err := l.Seal(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendUnbatched records one event per transaction from 8 concurrent writers while
// the sealer runs, as request handlers do; one op is one event, appended and chained.
func BenchmarkAppendUnbatched(b *testing.B) {
	benchDialects(b, func(b *testing.B, db *migrations.DB) {
		ctx := context.Background()
		l := benchLog(b, db)
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { _ = l.Run(runCtx); close(done) }()
		var i atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(4) // 4 × GOMAXPROCS writers
		b.ResetTimer()
		cpu := startCPU(db)
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := l.Record(ctx, sampleEvent("t1", int(i.Add(1)))); err != nil {
					b.Error(err)
					return
				}
			}
		})
		drain(b, l)
		reportRate(b, start)
		cpu.report(b, b.N)
		b.StopTimer()
		stop()
		<-done
	})
}

// BenchmarkVerifyDB verifies a 20,000-event chain from the database; one op is one event.
func BenchmarkVerifyDB(b *testing.B) {
	benchDialects(b, func(b *testing.B, db *migrations.DB) {
		ctx := context.Background()
		l := benchLog(b, db)
		const n = 20000
		batch := make([]audit.Event, 500)
		for i := range batch {
			batch[i] = sampleEvent("t1", i)
		}
		for done := 0; done < n; done += len(batch) {
			if err := db.Gorm.Transaction(func(tx *gorm.DB) error { return l.AppendBatch(ctx, tx, batch) }); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := l.Seal(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		cpu := startCPU(db)
		start := time.Now()
		verified := 0
		for verified < b.N {
			r, err := l.Verify(ctx, "t1", 0)
			if err != nil || !r.OK() || r.Events != n {
				b.Fatalf("got %+v, %v", r, err)
			}
			verified += n
		}
		b.ReportMetric(float64(verified)/time.Since(start).Seconds(), "events/s")
		cpu.report(b, verified)
	})
}
