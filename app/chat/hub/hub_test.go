package hub

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestPublishLocal(t *testing.T) {
	h := New()
	a := h.Subscribe(ConversationTopic("c1"))
	b := h.Subscribe(ConversationTopic("c2"))
	defer b.Close()
	h.PublishLocal(Signal{Topic: ConversationTopic("c1"), Kind: KindEvent, Seq: 1})
	h.PublishLocal(Signal{Topic: ConversationTopic("c1"), Kind: KindEvent, Seq: 2})
	select {
	case <-a.C():
	default:
		t.Fatal("subscriber not woken")
	}
	got, overflow := a.Drain()
	if overflow || len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 {
		t.Fatalf("Drain = %+v, %v; want seq 1 and 2 without overflow", got, overflow)
	}
	if got, _ := b.Drain(); len(got) != 0 {
		t.Fatalf("other topic received %d signals, want 0", len(got))
	}
	a.Unfollow(ConversationTopic("c1"))
	h.PublishLocal(Signal{Topic: ConversationTopic("c1"), Kind: KindEvent, Seq: 3})
	if got, _ := a.Drain(); len(got) != 0 {
		t.Fatalf("unfollowed topic delivered %d signals, want 0", len(got))
	}
	a.Close()
	if n := h.Subscribers(); n != 1 {
		t.Fatalf("Subscribers = %d after Close, want 1", n)
	}
}

func TestMailboxOverflow(t *testing.T) {
	h := New()
	s := h.Subscribe("x")
	defer s.Close()
	for i := range DefaultMailbox + 10 {
		h.PublishLocal(Signal{Topic: "x", Kind: KindEvent, Seq: int64(i + 1)})
	}
	got, overflow := s.Drain()
	if !overflow || len(got) != 0 {
		t.Fatalf("Drain after flood = %d signals, overflow %v; want 0, true", len(got), overflow)
	}
	h.PublishLocal(Signal{Topic: "x", Kind: KindEvent, Seq: 999})
	if got, overflow := s.Drain(); overflow || len(got) != 1 {
		t.Fatalf("Drain after recovery = %d, %v; want 1 signal, no overflow", len(got), overflow)
	}
	h.Resync()
	if _, overflow := s.Drain(); !overflow {
		t.Fatal("Resync did not ask the subscriber to resynchronise")
	}
}

func TestPostgresRelay(t *testing.T) {
	url := migratetest.URL(t, migrations.Postgres)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	open := func() *Hub {
		db, err := migrations.Open(ctx, url, migrations.Options{MaxOpenConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		sqlDB, _ := db.SQL()
		h := New()
		p := NewPostgres(h, sqlDB, nil)
		rctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = p.Run(rctx); close(done) }()
		t.Cleanup(func() { stop(); <-done })
		select {
		case <-p.Listening():
		case <-ctx.Done():
			t.Fatal("relay did not start listening")
		}
		return h
	}
	h1, h2 := open(), open()
	own := h1.Subscribe(ConversationTopic("c1"))
	defer own.Close()
	other := h2.Subscribe(ConversationTopic("c1"))
	defer other.Close()

	h1.Publish(Signal{Topic: ConversationTopic("c1"), Kind: KindEvent, Conversation: "c1", Seq: 7, Local: "not sent"})
	select {
	case <-other.C():
	case <-ctx.Done():
		t.Fatal("other node did not receive the signal")
	}
	got, _ := other.Drain()
	if len(got) != 1 || got[0].Seq != 7 || got[0].Conversation != "c1" || got[0].Local != nil {
		t.Fatalf("other node got %+v, want one signal c1/7 without local payload", got)
	}
	h1.Publish(Signal{Topic: ConversationTopic("c1"), Kind: KindTyping, SenderKind: "visitor", Typing: true})
	select {
	case <-other.C():
	case <-ctx.Done():
		t.Fatal("typing did not cross nodes")
	}
	if got, _ := other.Drain(); len(got) != 1 || got[0].Kind != KindTyping || !got[0].Typing {
		t.Fatalf("other node got %+v, want typing", got)
	}
	// The publishing node hears its own notifications back from PostgreSQL and ignores them; it
	// only has its local copies, the event with its in-process payload.
	time.Sleep(200 * time.Millisecond)
	got, _ = own.Drain()
	if len(got) != 2 || got[0].Local != "not sent" || got[1].Kind != KindTyping {
		t.Fatalf("own node got %+v, want exactly its two local signals", got)
	}
}

// TestPostgresRelayBatchesNotifications: a burst of signals queued on one node reaches the
// other in a few notifications (many signals each, under the 8000-byte limit), not one per
// signal, in order and intact; the sending node skips its own notifications.
func TestPostgresRelayBatchesNotifications(t *testing.T) {
	url := migratetest.URL(t, migrations.Postgres)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	relay := func() (*Hub, *Postgres) {
		db, err := migrations.Open(ctx, url, migrations.Options{MaxOpenConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		sqlDB, _ := db.SQL()
		h := New()
		return h, NewPostgres(h, sqlDB, nil)
	}
	run := func(p *Postgres) {
		rctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = p.Run(rctx); close(done) }()
		t.Cleanup(func() { stop(); <-done })
		select {
		case <-p.Listening():
		case <-ctx.Done():
			t.Fatal("relay did not start listening")
		}
	}
	// A plain listener counts what crosses the wire.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		t.Fatal(err)
	}
	h1, p1 := relay()
	h2, p2 := relay()
	run(p2)
	other := h2.Subscribe(ConversationTopic("c1"))
	defer other.Close()
	own := h1.Subscribe(ConversationTopic("c1"))
	defer own.Close()
	const burst = 300
	for i := range burst { // queued before the sender runs: one batch
		p1.Notify(Signal{Topic: ConversationTopic("c1"), Kind: KindEvent, Conversation: "c1", Seq: int64(i + 1), Node: h1.Node()})
	}
	run(p1)
	var got []Signal
	for len(got) < burst {
		select {
		case <-other.C():
			sigs, overflow := other.Drain()
			if overflow {
				t.Fatal("mailbox overflowed")
			}
			got = append(got, sigs...)
		case <-ctx.Done():
			t.Fatalf("other node got %d of %d signals", len(got), burst)
		}
	}
	for i, s := range got {
		if s.Seq != int64(i+1) || s.Conversation != "c1" || s.Kind != KindEvent || s.Node != h1.Node() {
			t.Fatalf("signal %d = %+v, want c1/%d from %s", i, s, i+1, h1.Node())
		}
	}
	notes := 0
	for {
		wctx, wcancel := context.WithTimeout(ctx, 300*time.Millisecond)
		n, err := conn.WaitForNotification(wctx)
		wcancel()
		if err != nil {
			break
		}
		if len(n.Payload) > 8000 {
			t.Fatalf("notification of %d bytes, over PostgreSQL's limit", len(n.Payload))
		}
		// Other packages' tests share the database and the channel: count this node's only.
		if strings.HasPrefix(n.Payload, payloadHead(h1.Node())) {
			notes++
		}
	}
	if sent, stmts := p1.Sent(); notes == 0 || uint64(notes) != sent || stmts != 1 || notes > burst/40 {
		t.Fatalf("%d signals crossed in %d notifications (%d counted by the relay, %d statements); want one statement of at most %d",
			burst, notes, sent, stmts, burst/40)
	}
	if sigs, _ := own.Drain(); len(sigs) != 0 {
		t.Fatalf("the sending node delivered %d of its own notifications", len(sigs))
	}
}
