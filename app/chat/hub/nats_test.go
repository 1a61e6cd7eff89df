package hub_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/hub/natstest"
	"github.com/parleyhq/parley/app/faults"
)

// natsNode starts a hub with a NATS relay on url under prefix and waits until it listens.
func natsNode(t *testing.T, url, prefix string) (*hub.Hub, *hub.NATS) {
	t.Helper()
	h := hub.New()
	r, err := hub.NewNATS(h, hub.NATSConfig{URL: url, Prefix: prefix, Name: h.Node()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	select {
	case <-r.Listening():
	case <-time.After(10 * time.Second):
		t.Fatal("NATS relay did not start listening")
	}
	return h, r
}

// wait returns the subscriber's next drain, failing after d.
func wait(t *testing.T, s *hub.Sub, d time.Duration, what string) ([]hub.Signal, bool) {
	t.Helper()
	select {
	case <-s.C():
		return s.Drain()
	case <-time.After(d):
		t.Fatalf("no %s within %s", what, d)
		return nil, false
	}
}

// TestNATSRelay: two nodes exchange events and typing through NATS with ids only; a node never
// hears its own signals back; another installation on the same server (another prefix) hears
// nothing.
func TestNATSRelay(t *testing.T) {
	url := natstest.URL(t)
	prefix := natstest.Prefix(t)
	h1, _ := natsNode(t, url, prefix)
	h2, r2 := natsNode(t, url, prefix)
	h3, _ := natsNode(t, url, natstest.Prefix(t))
	own := h1.Subscribe(hub.ConversationTopic("c1"))
	defer own.Close()
	other := h2.Subscribe(hub.ConversationTopic("c1"))
	defer other.Close()
	stranger := h3.Subscribe(hub.ConversationTopic("c1"))
	defer stranger.Close()

	h1.Publish(hub.Signal{Topic: hub.ConversationTopic("c1"), Kind: hub.KindEvent, Conversation: "c1", Seq: 7, Local: "not sent"})
	got, _ := wait(t, other, 10*time.Second, "event across nodes")
	if len(got) != 1 || got[0].Seq != 7 || got[0].Conversation != "c1" || got[0].Local != nil || got[0].Node != h1.Node() {
		t.Fatalf("other node got %+v, want one signal c1/7 from node 1 without local payload", got)
	}
	h1.Publish(hub.Signal{Topic: hub.ConversationTopic("c1"), Kind: hub.KindTyping, SenderKind: "visitor", Typing: true})
	if got, _ := wait(t, other, 10*time.Second, "typing across nodes"); len(got) != 1 || got[0].Kind != hub.KindTyping || !got[0].Typing {
		t.Fatalf("other node got %+v, want typing", got)
	}
	// A signal the other way proves the path is quiet rather than slow before checking absences.
	h2.Publish(hub.Signal{Topic: hub.ConversationTopic("c1"), Kind: hub.KindRead, SenderKind: "agent", Seq: 7})
	var mine []hub.Signal
	for len(mine) == 0 || mine[len(mine)-1].Kind != hub.KindRead {
		got, _ := wait(t, own, 10*time.Second, "read receipt back")
		mine = append(mine, got...)
	}
	if len(mine) != 3 || mine[0].Local != "not sent" || mine[1].Kind != hub.KindTyping {
		t.Fatalf("own node got %+v, want its two local signals then the read receipt: its own came back", mine)
	}
	if got, overflow := stranger.Drain(); len(got) != 0 || overflow {
		t.Fatalf("another installation got %+v (overflow %v); prefixes must keep them apart", got, overflow)
	}
	if r2.Received() != 2 || r2.Dropped() != 0 || r2.Sent() != 1 {
		t.Fatalf("node 2 received %d, dropped %d, sent %d; want 2, 0, 1", r2.Received(), r2.Dropped(), r2.Sent())
	}
}

// TestNATSBatches: a burst larger than one batch arrives complete and in order.
func TestNATSBatches(t *testing.T) {
	url := natstest.URL(t)
	prefix := natstest.Prefix(t)
	h1, r1 := natsNode(t, url, prefix)
	h2, _ := natsNode(t, url, prefix)
	sub := h2.Subscribe(hub.ConversationTopic("burst"))
	defer sub.Close()
	const n = 500 // within one mailbox, over several batches
	for i := range n {
		h1.Publish(hub.Signal{Topic: hub.ConversationTopic("burst"), Kind: hub.KindEvent, Conversation: "burst", Seq: int64(i + 1)})
	}
	var seqs []int64
	deadline := time.After(20 * time.Second)
	for len(seqs) < n {
		select {
		case <-sub.C():
			got, overflow := sub.Drain()
			if overflow {
				t.Fatalf("mailbox overflowed after %d signals", len(seqs))
			}
			for _, s := range got {
				seqs = append(seqs, s.Seq)
			}
		case <-deadline:
			t.Fatalf("received %d of %d signals (dropped %d)", len(seqs), n, r1.Dropped())
		}
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("signal %d has seq %d, want %d", i, s, i+1)
		}
	}
}

// TestNATSReconnect: the connection to NATS is cut; signals published meanwhile are dropped,
// not queued; after the reconnect every subscriber is told to resynchronise, and signals flow
// again.
func TestNATSReconnect(t *testing.T) {
	url := natstest.URL(t)
	prefix := natstest.Prefix(t)
	target := strings.TrimPrefix(url, "nats://")
	proxy, err := faults.NewProxy(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	h1, r1 := natsNode(t, "nats://"+proxy.Addr(), prefix)
	h2, _ := natsNode(t, url, prefix)
	sub := h1.Subscribe(hub.ConversationTopic("c"))
	defer sub.Close()

	proxy.Cut()
	deadline := time.Now().Add(10 * time.Second)
	for r1.Connected() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if r1.Connected() {
		t.Fatal("relay still connected after the cut")
	}
	h1.Publish(hub.Signal{Topic: hub.ConversationTopic("c"), Kind: hub.KindEvent, Seq: 1})
	for r1.Dropped() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if r1.Dropped() != 1 {
		t.Fatalf("dropped = %d while away, want 1", r1.Dropped())
	}
	if got, _ := wait(t, sub, time.Second, "local copy"); len(got) != 1 {
		t.Fatalf("local copy: %+v", got)
	}
	proxy.Restore()
	if _, overflow := wait(t, sub, 15*time.Second, "resync after reconnect"); !overflow {
		t.Fatal("reconnect did not ask subscribers to resynchronise")
	}
	h2.Publish(hub.Signal{Topic: hub.ConversationTopic("c"), Kind: hub.KindEvent, Seq: 2})
	if got, _ := wait(t, sub, 10*time.Second, "signal after reconnect"); len(got) != 1 || got[0].Seq != 2 {
		t.Fatalf("after reconnect got %+v, want seq 2", got)
	}
}

// TestNATSUnreachableAtStart: a relay whose server is down at start keeps trying and listens
// once the server is there, without a restart.
func TestNATSUnreachableAtStart(t *testing.T) {
	url := natstest.URL(t)
	proxy, err := faults.NewProxy(strings.TrimPrefix(url, "nats://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	proxy.Cut()
	h := hub.New()
	r, err := hub.NewNATS(h, hub.NATSConfig{URL: "nats://" + proxy.Addr(), Prefix: natstest.Prefix(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	defer func() { stop(); <-done }()
	select {
	case <-r.Listening():
		t.Fatal("listening while the server is unreachable")
	case <-time.After(300 * time.Millisecond):
	}
	proxy.Restore()
	select {
	case <-r.Listening():
	case <-time.After(15 * time.Second):
		t.Fatal("relay did not connect once the server was reachable")
	}
}

func TestParseNATSURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		secure   bool
		bad      bool
	}{
		{in: "nats://127.0.0.1:4222", want: "nats://127.0.0.1:4222"},
		{in: "nats://app:s3cret@nats.internal:4222", want: "nats://app:s3cret@nats.internal:4222"},
		{in: "tls://nats.internal:4222", want: "tls://nats.internal:4222", secure: true},
		{in: "nats+tls://nats.internal", want: "tls://nats.internal", secure: true},
		{in: "nats://nats.internal/", want: "nats://nats.internal"},
		{in: "http://nats.internal:4222", bad: true},
		{in: "nats://", bad: true},
		{in: "nats://h:4222/sub", bad: true},
		{in: "nats://h:4222?x=1", bad: true},
		{in: "::", bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, secure, err := hub.ParseNATSURL(tc.in)
			if tc.bad {
				if !errors.Is(err, hub.ErrNATSConfig) {
					t.Fatalf("ParseNATSURL(%q) = %q, %v; want ErrNATSConfig", tc.in, got, err)
				}
				if err != nil && strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error %q reveals the password", err)
				}
				return
			}
			if err != nil || got != tc.want || secure != tc.secure {
				t.Fatalf("ParseNATSURL(%q) = %q, %v, %v; want %q, %v", tc.in, got, secure, err, tc.want, tc.secure)
			}
		})
	}
	if got := hub.RedactNATSURL("nats://app:s3cret@nats.internal:4222"); got != "nats://nats.internal:4222" {
		t.Fatalf("RedactNATSURL = %q", got)
	}
	for p, want := range map[string]bool{"parley": true, "acme.prod": true, "a-b_c.d": true, "": false, "a..b": false,
		"a.*": false, "a.>": false, "a b": false, strings.Repeat("x", 65): false} {
		if got := hub.ValidNATSPrefix(p); got != want {
			t.Errorf("ValidNATSPrefix(%q) = %v, want %v", p, got, want)
		}
	}
	if _, err := hub.NewNATS(hub.New(), hub.NATSConfig{URL: "nats://h", Prefix: "bad prefix"}, nil); !errors.Is(err, hub.ErrNATSConfig) {
		t.Fatalf("NewNATS with a bad prefix: %v", err)
	}
}

// FuzzNATSDecode: whatever arrives on the subject, decoding never panics and yields at most one
// batch of signals.
func FuzzNATSDecode(f *testing.F) {
	f.Add([]byte(`[{"t":"c:1","k":"e","c":"1","s":3,"n":"abc"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"t":"x"}`))
	f.Add([]byte(fmt.Sprintf("[%s]", strings.Repeat(`{"t":"c:1"},`, 10)+`{}`)))
	f.Fuzz(func(t *testing.T, b []byte) {
		sigs, ok := hub.DecodeBatch(b)
		if !ok && sigs != nil {
			t.Fatal("signals returned with a refusal")
		}
		if len(sigs) > hub.NATSBatch {
			t.Fatalf("%d signals in one message", len(sigs))
		}
	})
}

// TestNATSBoundedQueue: signals waiting for NATS are bounded; beyond the bound they are dropped
// and counted, never queued without limit (the hub's subscribers resynchronise instead).
func TestNATSBoundedQueue(t *testing.T) {
	h := hub.New()
	r, err := hub.NewNATS(h, hub.NATSConfig{URL: "nats://127.0.0.1:1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const extra = 10
	for i := range hub.SendQueue + extra {
		h.Publish(hub.Signal{Topic: "x", Kind: hub.KindEvent, Seq: int64(i + 1)})
	}
	if r.Queued() != hub.SendQueue || r.Dropped() != extra {
		t.Fatalf("queued %d, dropped %d; want %d and %d", r.Queued(), r.Dropped(), hub.SendQueue, extra)
	}
}
