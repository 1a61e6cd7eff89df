package app

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestInstrumentsChat: the chat engine's hooks count messages and fill the latency and batch
// histograms with bounded kinds; the socket and queue gauges read the engine once it is watched.
func TestInstrumentsChat(t *testing.T) {
	in := newInstruments()
	in.MessageStored("visitor", 3*time.Millisecond)
	in.MessageStored("visitor", 5*time.Millisecond)
	in.MessageStored("agent", time.Millisecond)
	in.MessageStored("t-secret-tenant", time.Millisecond) // never a label value
	in.MessageDelivered("agent", 40*time.Millisecond)
	in.BatchCommitted(7)
	in.BatchCommitted(1)
	in.sockets = func(kind string) int64 {
		if kind == "visitor" {
			return 12
		}
		return 2
	}
	in.queued = func() int { return 4 }

	for _, tt := range []struct {
		name string
		got  float64
		want float64
	}{
		{"visitor messages", testutil.ToFloat64(in.messages.WithLabelValues("visitor")), 2},
		{"agent messages", testutil.ToFloat64(in.messages.WithLabelValues("agent")), 1},
		{"other messages", testutil.ToFloat64(in.messages.WithLabelValues("other")), 1},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	want := `
# HELP parley_chat_commit_batch_size Messages stored by one group-commit transaction.
# TYPE parley_chat_commit_batch_size histogram
parley_chat_commit_batch_size_bucket{le="1"} 1
parley_chat_commit_batch_size_bucket{le="2"} 1
parley_chat_commit_batch_size_bucket{le="4"} 1
parley_chat_commit_batch_size_bucket{le="8"} 2
parley_chat_commit_batch_size_bucket{le="16"} 2
parley_chat_commit_batch_size_bucket{le="32"} 2
parley_chat_commit_batch_size_bucket{le="64"} 2
parley_chat_commit_batch_size_bucket{le="128"} 2
parley_chat_commit_batch_size_bucket{le="256"} 2
parley_chat_commit_batch_size_bucket{le="512"} 2
parley_chat_commit_batch_size_bucket{le="+Inf"} 2
parley_chat_commit_batch_size_sum 8
parley_chat_commit_batch_size_count 2
# HELP parley_chat_delivery_queue_length Message deliveries (fan-outs, amends) queued behind their acks on this node and not yet started.
# TYPE parley_chat_delivery_queue_length gauge
parley_chat_delivery_queue_length 4
# HELP parley_chat_sockets_open Chat WebSockets open on this node, by kind (visitor, agent).
# TYPE parley_chat_sockets_open gauge
parley_chat_sockets_open{kind="agent"} 2
parley_chat_sockets_open{kind="visitor"} 12
`
	if err := testutil.GatherAndCompare(in.registry, strings.NewReader(want),
		"parley_chat_commit_batch_size", "parley_chat_delivery_queue_length", "parley_chat_sockets_open"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(in.ack); n != 3 {
		t.Errorf("got %d ack latency series, want 3 (visitor, agent, other)", n)
	}
	if n := testutil.CollectAndCount(in.delivery); n != 1 {
		t.Errorf("got %d delivery latency series, want 1", n)
	}
}

// TestStatusClass: statuses fold into their class; nonsense is "other".
func TestStatusClass(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   string
	}{{101, "1xx"}, {200, "2xx"}, {204, "2xx"}, {302, "3xx"}, {404, "4xx"}, {429, "4xx"}, {503, "5xx"}, {0, "other"}, {999, "other"}} {
		if got := statusClass(tt.status); got != tt.want {
			t.Errorf("statusClass(%d): got %q, want %q", tt.status, got, tt.want)
		}
	}
}

// BenchmarkInstruments is what the instruments add to each request and message.
func BenchmarkInstruments(b *testing.B) {
	in := newInstruments()
	b.Run("request", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			in.ObserveRequest("POST", "/api/v1/widget/sites/:site/chats", 201, 3*time.Millisecond)
		}
	})
	b.Run("message", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			in.MessageStored("visitor", 2*time.Millisecond)
			in.MessageDelivered("agent", 3*time.Millisecond)
		}
	})
	b.Run("scrape", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := in.registry.Gather(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
