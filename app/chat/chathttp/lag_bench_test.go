package chathttp_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkAgentLag measures how long after the visitor's ack the agent receives each message,
// during a burst: 24 chats on one node (with PostgreSQL, its LISTEN/NOTIFY relay attached as in
// production), every visitor sending with 4 messages in flight. One op is one message; it
// reports the lag's p50 and p99 in milliseconds.
func BenchmarkAgentLag(b *testing.B) {
	benchDialects(b, func(b *testing.B, e *env) {
		n := e.node(e.db, unlimited)
		const convs, window = 24, 4
		chats := make([]*activeChat, convs)
		for i := range chats {
			chats[i] = openChat(b, e, n)
		}
		text := "Hello, my card 4111 1111 1111 1111 was declined at checkout, can you help?"
		per := (b.N + convs - 1) / convs
		var mu sync.Mutex
		var lags []time.Duration
		b.ReportAllocs()
		b.ResetTimer()
		var wg sync.WaitGroup
		for ci, ch := range chats {
			acks := make(map[int64]time.Time, per)
			got := make(map[int64]time.Time, per)
			var amu sync.Mutex
			inflight := make(chan struct{}, window)
			wg.Go(func() { // the visitor's acks
				for range per {
					for f := range ch.visitor.ch {
						if f.Type == "ack" {
							amu.Lock()
							acks[f.Seq] = time.Now()
							amu.Unlock()
							<-inflight
							break
						}
					}
				}
			})
			wg.Go(func() { // the agent's events
				for len(got) < per {
					f, ok := <-ch.agent.ch
					if !ok {
						return
					}
					if f.Type == "event" && f.Kind == "message" {
						got[f.Seq] = time.Now()
					}
				}
				amu.Lock()
				defer amu.Unlock()
				mu.Lock()
				defer mu.Unlock()
				for seq, at := range got {
					if ack, ok := acks[seq]; ok {
						lags = append(lags, max(0, at.Sub(ack)))
					}
				}
			})
			wg.Go(func() { // the visitor's sends
				for m := range per {
					inflight <- struct{}{}
					ch.visitor.send(map[string]any{"type": "message", "key": fmt.Sprint("l-", ci, "-", m), "text": text})
				}
			})
		}
		wg.Wait()
		b.StopTimer()
		slices.Sort(lags)
		if len(lags) > 0 {
			b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-lag-ms")
			b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-lag-ms")
		}
	})
}
