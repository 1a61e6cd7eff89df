package chathttp_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/chathttp"
	"github.com/parleyhq/parley/app/chat/limit"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// activeChat is a conversation an agent has accepted, with both sockets connected.
type activeChat struct {
	id      chathttp.Identity
	conv    string
	visitor *client
	agent   *client
	agentID string
	// seq is the last seq both sides have seen.
	seq int64
}

// openChat starts a chat on n and has a fresh agent accept it; the visitor socket and the agent
// socket have seen every event up to the joined event.
func openChat(t testing.TB, e *env, n *node) *activeChat {
	t.Helper()
	agentID := e.fullAgent("Bob")
	ag, _ := n.agentSocket(t, agentID, nil)
	id := n.newVisitor(t, e)
	conv := n.start(t, e, id.VisitorToken, e.cards.ID, "Ada")
	ag.until("offer", func(f frame) bool { return f.Type == "offer" && f.Offer.ConversationID == conv.ConversationID })
	ag.send(map[string]any{"type": "accept", "conversation_id": conv.ConversationID})
	ag.events(2)
	vs := n.visitorSocket(t, e, id.VisitorToken, conv.ConversationID, 0)
	vs.events(2)
	return &activeChat{id: id, conv: conv.ConversationID, visitor: vs, agent: ag, agentID: agentID, seq: 2}
}

// checkSeqs asserts that events are exactly seq from+1 … from+len, in order.
func checkSeqs(t testing.TB, who string, evs []frame, from int64) {
	t.Helper()
	for i, ev := range evs {
		if want := from + int64(i) + 1; ev.Seq != want {
			t.Fatalf("%s: event %d has seq %d, want %d (exactly once, in order)", who, i, ev.Seq, want)
		}
	}
}

// TestReconnectReplaysGap disconnects the visitor, lets the agent write, and reconnects with the
// last seen seq: the gap is replayed from the database, nothing twice, nothing missing.
func TestReconnectReplaysGap(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		ch.visitor.send(map[string]any{"type": "message", "key": "v-1", "text": "first"})
		seen := ch.visitor.events(1)[0].Seq
		ch.agent.events(1)
		_ = ch.visitor.conn.CloseNow()
		for i := range 5 {
			ch.agent.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": fmt.Sprint("a-", i), "text": fmt.Sprint("while away ", i)})
		}
		ch.agent.events(5)
		again := n.visitorSocket(t, e, ch.id.VisitorToken, ch.conv, seen)
		evs := again.events(5)
		checkSeqs(t, "replay", evs, seen)
		for i, ev := range evs {
			if ev.Text != fmt.Sprint("while away ", i) {
				t.Fatalf("replayed %q at %d, want %q", ev.Text, i, fmt.Sprint("while away ", i))
			}
		}
		ch.agent.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": "a-live", "text": "live again"})
		if live := again.events(1)[0]; live.Seq != seen+6 || live.Text != "live again" {
			t.Fatalf("live event after replay = %+v, want seq %d", live, seen+6)
		}
		again.quiet(200*time.Millisecond, "event")

		// The agent reconnects too, naming its cursor: only newer events come.
		_ = ch.agent.conn.CloseNow()
		again.send(map[string]any{"type": "message", "key": "v-2", "text": "are you there?"})
		again.events(1)
		ag, w := n.agentSocket(t, ch.agentID, map[string]int64{ch.conv: seen + 6})
		if len(w.Conversations) != 1 || w.Conversations[0].ConversationID != ch.conv {
			t.Fatalf("agent welcome conversations = %+v, want the active chat", w.Conversations)
		}
		if ev := ag.events(1)[0]; ev.Seq != seen+7 || ev.Text != "are you there?" {
			t.Fatalf("agent replay = %+v, want only seq %d", ev, seen+7)
		}
	})
}

// TestIdempotencyKey sends the same key again (same socket, a second socket, long poll, and two
// sockets racing): the message is stored once and every answer carries its one seq.
func TestIdempotencyKey(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		ch.visitor.send(map[string]any{"type": "message", "key": "k-1", "text": "once"})
		first := ch.visitor.until("ack", func(f frame) bool { return f.Type == "ack" })
		ch.visitor.send(map[string]any{"type": "message", "key": "k-1", "text": "once"})
		second := ch.visitor.until("ack", func(f frame) bool { return f.Type == "ack" })
		if first.Duplicate || !second.Duplicate || first.Seq != second.Seq {
			t.Fatalf("acks = %+v then %+v, want the same seq, the second marked duplicate", first, second)
		}
		var ack frame
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats/"+ch.conv+"/messages"), ch.id.VisitorToken,
			map[string]any{"key": "k-1", "text": "once"}, &ack); code != http.StatusOK || ack.Seq != first.Seq || !ack.Duplicate {
			t.Fatalf("long-poll retry = %d %+v, want 200 with seq %d duplicate", code, ack, first.Seq)
		}
		// Two sockets of the visitor race the same new key.
		other := n.visitorSocket(t, e, ch.id.VisitorToken, ch.conv, first.Seq)
		var wg sync.WaitGroup
		acks := make([]frame, 2)
		for i, c := range []*client{ch.visitor, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.send(map[string]any{"type": "message", "key": "k-race", "text": "raced"})
			}()
			_ = i
		}
		wg.Wait()
		acks[0] = ch.visitor.until("ack", func(f frame) bool { return f.Type == "ack" && f.Key == "k-race" })
		acks[1] = other.until("ack", func(f frame) bool { return f.Type == "ack" && f.Key == "k-race" })
		if acks[0].Seq != acks[1].Seq || acks[0].Duplicate == acks[1].Duplicate {
			t.Fatalf("racing acks = %+v and %+v, want one seq, exactly one duplicate", acks[0], acks[1])
		}
		var rows int64
		migratetest.Beneath(t, e.db).Gorm.Table("conversation_events").Where("conversation_id = ? AND kind = 'message'", ch.conv).Count(&rows)
		if rows != 2 {
			t.Fatalf("stored messages = %d, want 2 (k-1 and k-race once each)", rows)
		}
		evs := ch.agent.events(2)
		checkSeqs(t, "agent", evs, ch.seq)
		ch.agent.quiet(200*time.Millisecond, "event")
	})
}

// TestOrderUnderConcurrentSenders has the visitor (two tabs) and the agent send at once: every
// receiver sees the same gapless sequence, each event exactly once, and the database holds the
// same order.
func TestOrderUnderConcurrentSenders(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{VisitorMessages: limit.Every(time.Millisecond, 1000), AgentMessages: limit.Every(time.Millisecond, 1000)})
		ch := openChat(t, e, n)
		tab2 := n.visitorSocket(t, e, ch.id.VisitorToken, ch.conv, ch.seq)
		const per = 8
		senders := []struct {
			c     *client
			agent bool
		}{{ch.visitor, false}, {tab2, false}, {ch.agent, true}}
		var wg sync.WaitGroup
		for si, s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range per {
					m := map[string]any{"type": "message", "key": fmt.Sprintf("s%d-%d", si, i), "text": fmt.Sprintf("s%d #%d", si, i)}
					if s.agent {
						m["conversation_id"] = ch.conv
					}
					s.c.send(m)
				}
			}()
		}
		wg.Wait()
		total := 3 * per
		streams := map[string][]frame{"visitor": ch.visitor.events(total), "tab2": tab2.events(total), "agent": ch.agent.events(total)}
		for who, evs := range streams {
			checkSeqs(t, who, evs, ch.seq)
		}
		for i := range total {
			a, b, c := streams["visitor"][i], streams["tab2"][i], streams["agent"][i]
			if a.Text != b.Text || a.Text != c.Text {
				t.Fatalf("seq %d differs between receivers: %q %q %q", a.Seq, a.Text, b.Text, c.Text)
			}
		}
		// Each sender's own messages arrive in the order it sent them.
		last := map[string]int{}
		for _, ev := range streams["agent"] {
			var si, i int
			if _, err := fmt.Sscanf(ev.Text, "s%d #%d", &si, &i); err != nil {
				t.Fatalf("unexpected text %q", ev.Text)
			}
			k := fmt.Sprint(si)
			if prev, ok := last[k]; ok && i != prev+1 {
				t.Fatalf("sender %d: message %d after %d", si, i, prev)
			}
			last[k] = i
		}
		var seqs []int64
		migratetest.Beneath(t, e.db).Gorm.Table("conversation_events").Where("conversation_id = ?", ch.conv).Order("seq").Pluck("seq", &seqs)
		for i, s := range seqs {
			if s != int64(i+1) {
				t.Fatalf("stored seqs %v are not gapless", seqs)
			}
		}
		if len(seqs) != int(ch.seq)+total {
			t.Fatalf("stored %d events, want %d", len(seqs), int(ch.seq)+total)
		}
	})
}
