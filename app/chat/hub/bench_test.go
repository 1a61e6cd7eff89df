package hub_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/hub/natstest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// BenchmarkFanout measures the cross-node bus alone: every one of 2 or 3 nodes publishes event
// signals and receives the others', through PostgreSQL LISTEN/NOTIFY or through NATS. Each
// publisher keeps at most `window` signals in flight (a closed loop, so a bus that cannot keep up
// shows as lower throughput and higher latency rather than dropped signals). Reported: signals
// published per second (all nodes together) and delivered per second (each to every other node), and the latency from Publish to a subscriber on another node (p50,
// p99). docs/BENCHMARKS.md has the figures and the command.
func BenchmarkFanout(b *testing.B) {
	for _, bus := range []string{"notify", "nats"} {
		for _, nodes := range []int{2, 3} {
			b.Run(fmt.Sprintf("%s/nodes=%d", bus, nodes), func(b *testing.B) {
				hubs := make([]*hub.Hub, nodes)
				switch bus {
				case "notify":
					url := migratetest.URL(b, migrations.Postgres)
					for i := range hubs {
						hubs[i] = benchPostgresNode(b, url)
					}
				case "nats":
					url, prefix := natstest.URL(b), natstest.Prefix(b)
					for i := range hubs {
						hubs[i] = benchNATSNode(b, url, prefix)
					}
				}
				runFanout(b, hubs)
			})
		}
	}
}

// window is how many signals a publisher keeps in flight: with two others publishing, a
// subscriber's mailbox (512) never overflows.
const window = 128

func benchPostgresNode(b *testing.B, url string) *hub.Hub {
	b.Helper()
	ctx := context.Background()
	db, err := migrations.Open(ctx, url, migrations.Options{MaxOpenConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	sqlDB, _ := db.SQL()
	h := hub.New()
	r := hub.NewPostgres(h, sqlDB, nil)
	startRelay(b, r)
	return h
}

func benchNATSNode(b *testing.B, url, prefix string) *hub.Hub {
	b.Helper()
	h := hub.New()
	r, err := hub.NewNATS(h, hub.NATSConfig{URL: url, Prefix: prefix}, nil)
	if err != nil {
		b.Fatal(err)
	}
	startRelay(b, r)
	return h
}

func startRelay(b *testing.B, r hub.Relay) {
	b.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	b.Cleanup(func() { stop(); <-done })
	select {
	case <-r.Listening():
	case <-time.After(20 * time.Second):
		b.Fatal("relay did not listen")
	}
}

// runFanout has every hub publish b.N/len(hubs) signals on its own topic while every other hub
// follows it, and reports throughput and latency.
func runFanout(b *testing.B, hubs []*hub.Hub) {
	n := len(hubs)
	per := max(b.N/n, 1)
	// sent[p][i] is when publisher p published its signal i (seq i+1).
	sent := make([][]atomic.Int64, n)
	// got[p] counts, over every other hub, the signals of publisher p received.
	got := make([]atomic.Int64, n)
	var latMu sync.Mutex
	var lat []time.Duration
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var subs sync.WaitGroup
	for p := range hubs {
		sent[p] = make([]atomic.Int64, per)
	}
	for r, h := range hubs {
		var topics []string
		for p := range hubs {
			if p != r {
				topics = append(topics, topic(p))
			}
		}
		sub := h.Subscribe(topics...)
		subs.Add(1)
		go func() {
			defer subs.Done()
			defer sub.Close()
			local := make([]time.Duration, 0, per)
			defer func() { latMu.Lock(); lat = append(lat, local...); latMu.Unlock() }()
			for {
				select {
				case <-ctx.Done():
					return
				case <-sub.C():
				}
				sigs, overflow := sub.Drain()
				if overflow {
					b.Error("a subscriber's mailbox overflowed")
				}
				now := time.Now().UnixNano()
				for _, s := range sigs {
					p := int(s.Seq>>32) - 1
					i := int(s.Seq & 0xffffffff)
					local = append(local, time.Duration(now-sent[p][i].Load()))
					got[p].Add(1)
				}
			}
		}()
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var pubs sync.WaitGroup
	for p, h := range hubs {
		pubs.Add(1)
		go func() {
			defer pubs.Done()
			want := int64(n - 1) // receivers of each signal
			for i := range per {
				// Closed loop: wait while more than window signals are not yet everywhere.
				for int64(i)*want-got[p].Load() > window*want {
					time.Sleep(50 * time.Microsecond)
				}
				sent[p][i].Store(time.Now().UnixNano())
				h.Publish(hub.Signal{Topic: topic(p), Kind: hub.KindEvent, Conversation: topic(p), Seq: int64(p+1)<<32 | int64(i)})
			}
			deadline := time.Now().Add(60 * time.Second)
			for got[p].Load() < int64(per)*want && time.Now().Before(deadline) {
				time.Sleep(100 * time.Microsecond)
			}
		}()
	}
	pubs.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	subs.Wait()
	var delivered int64
	for p := range hubs {
		delivered += got[p].Load()
		if g, w := got[p].Load(), int64(per*(n-1)); g != w {
			b.Fatalf("publisher %d: %d of %d signals delivered", p, g, w)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(per*n)/elapsed.Seconds(), "published/s")
	b.ReportMetric(float64(delivered)/elapsed.Seconds(), "delivered/s")
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

func topic(p int) string { return hub.ConversationTopic(fmt.Sprintf("bench-%d", p)) }
