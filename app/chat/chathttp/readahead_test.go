package chathttp_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/limit"
)

// TestSocketReadsAhead: a client may send many messages without waiting for their acks. The socket
// reads on while earlier ones wait for their batch, so one sender's messages share commits
// (fewer batches than messages); the acks still come in the order of the frames with
// consecutive seqs, the agent receives every message once and in order, and a frame that acts
// on the conversation — here the visitor's end — acts after the messages read before it: none
// of them is refused as ended.
func TestSocketReadsAhead(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{VisitorMessages: limit.Every(time.Millisecond, 1000)})
		ch := openChat(t, e, n)
		before := n.svc.BatchStats()
		const msgs = 60
		for i := range msgs {
			ch.visitor.send(map[string]any{"type": "message", "key": fmt.Sprintf("m%02d", i), "text": fmt.Sprintf("message %d", i)})
		}
		ch.visitor.send(map[string]any{"type": "end"})
		acks := 0
		var last int64
		for acks < msgs {
			f := ch.visitor.next()
			switch f.Type {
			case "error":
				t.Fatalf("frame refused: %+v", f)
			case "ack":
				if want := fmt.Sprintf("m%02d", acks); f.Key != want || f.Duplicate || (last > 0 && f.Seq != last+1) {
					t.Fatalf("ack %d = %+v, want key %s with the seq after %d", acks, f, want, last)
				}
				last = f.Seq
				acks++
			}
		}
		evs := ch.agent.events(msgs + 1)
		checkSeqs(t, "agent", evs, ch.seq)
		for i, ev := range evs[:msgs] {
			if ev.Kind != "message" || ev.Text != fmt.Sprintf("message %d", i) {
				t.Fatalf("agent event %d = %+v, want message %d", i, ev, i)
			}
		}
		if end := evs[msgs]; end.Event != "ended" {
			t.Fatalf("after the messages the agent got %+v, want the end", end)
		}
		after := n.svc.BatchStats()
		if stored := after.Messages - before.Messages; stored != msgs {
			t.Fatalf("the group commit stored %d messages, want %d", stored, msgs)
		}
		if batches := after.Batches - before.Batches; batches >= msgs {
			t.Fatalf("%d messages took %d batches: the socket waited for each ack before reading the next frame", msgs, batches)
		}
	})
}
