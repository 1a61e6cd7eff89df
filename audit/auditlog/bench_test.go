package auditlog

import (
	"context"
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
		b.Run(string(d), func(b *testing.B) { fn(b, migratetest.Open(b, d)) })
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

// BenchmarkAppendBatched appends 100 events per transaction and seals every 1,000; one op is
// one event, appended and chained.
func BenchmarkAppendBatched(b *testing.B) {
	benchDialects(b, func(b *testing.B, db *migrations.DB) {
		ctx := context.Background()
		l := benchLog(b, db)
		batch := make([]audit.Event, 100)
		for i := range batch {
			batch[i] = sampleEvent("t1", i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for done := 0; done < b.N; {
			n := min(len(batch), b.N-done)
			err := db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return l.AppendBatch(ctx, tx, batch[:n]) })
			if err != nil {
				b.Fatal(err)
			}
			done += n
			if done%1000 == 0 || done == b.N {
				if _, err := l.Seal(ctx); err != nil {
					b.Fatal(err)
				}
			}
		}
		reportRate(b, start)
	})
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
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := l.Record(ctx, sampleEvent("t1", int(i.Add(1)))); err != nil {
					b.Error(err)
					return
				}
			}
		})
		for {
			n, err := l.Pending(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
			if _, err := l.Seal(ctx); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, start)
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
	})
}
