package chathttp_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/limit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestTwoNodes runs two Parley nodes on one PostgreSQL schema, each with its own connection
// pool and LISTEN/NOTIFY relay: the visitor is on one node, the agent on the other. Offers,
// messages, typing and read receipts cross nodes; concurrent senders on both nodes give every
// receiver the same gapless order; the visitor moves to the other node and resumes exactly
// where it left off.
func TestTwoNodes(t *testing.T) {
	url := migratetest.URL(t, migrations.Postgres)
	e := newEnv(t, openURL(t, url, true), url)
	fast := chat.Limits{VisitorMessages: limit.Every(time.Millisecond, 1000), AgentMessages: limit.Every(time.Millisecond, 1000)}
	a := e.node(openURL(t, url, false), fast)
	b := e.node(openURL(t, url, false), fast)

	agentID := e.fullAgent("Nora")
	ag, _ := b.agentSocket(t, agentID, nil)
	id := a.newVisitor(t, e)
	conv := a.start(t, e, id.VisitorToken, e.cards.ID, "Ada")
	if of := ag.until("offer across nodes", func(f frame) bool { return f.Type == "offer" }); of.Offer.ConversationID != conv.ConversationID {
		t.Fatalf("offer = %+v", of.Offer)
	}
	vs := a.visitorSocket(t, e, id.VisitorToken, conv.ConversationID, 0)
	vs.events(1)
	ag.send(map[string]any{"type": "accept", "conversation_id": conv.ConversationID})
	ag.events(2)
	if j := vs.events(1)[0]; j.Event != "joined" || j.Sender.Name != "Nora" {
		t.Fatalf("visitor on node A got %+v, want the agent on node B joined", j)
	}
	vs.send(map[string]any{"type": "message", "key": "v-1", "text": "hello from node A"})
	if m := ag.events(1)[0]; m.Seq != 3 || m.Text != "hello from node A" {
		t.Fatalf("agent on node B got %+v, want seq 3", m)
	}
	ag.send(map[string]any{"type": "typing", "conversation_id": conv.ConversationID, "typing": true})
	vs.until("typing across nodes", func(f frame) bool { return f.Type == "typing" && f.Typing })

	// Both nodes write at once: the visitor through node A and a second tab on node B, the agent
	// on node B.
	tab := b.visitorSocket(t, e, id.VisitorToken, conv.ConversationID, 3)
	const per = 10
	var wg sync.WaitGroup
	for si, c := range []*client{vs, tab, ag} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				m := map[string]any{"type": "message", "key": fmt.Sprintf("n%d-%d", si, i), "text": fmt.Sprintf("n%d #%d", si, i)}
				if c == ag {
					m["conversation_id"] = conv.ConversationID
				}
				c.send(m)
			}
		}()
	}
	wg.Wait()
	total := 3 * per
	va, vb, av := vs.events(total + 1)[1:], tab.events(total), ag.events(total)
	checkSeqs(t, "visitor on A", va, 3)
	checkSeqs(t, "visitor tab on B", vb, 3)
	checkSeqs(t, "agent on B", av, 3)
	for i := range total {
		if va[i].Text != vb[i].Text || va[i].Text != av[i].Text {
			t.Fatalf("seq %d differs across nodes: %q %q %q", va[i].Seq, va[i].Text, vb[i].Text, av[i].Text)
		}
	}

	// The visitor's node goes away; the visitor resumes on node B from its last seq.
	last := va[len(va)-1].Seq
	_ = vs.conn.CloseNow()
	ag.send(map[string]any{"type": "message", "conversation_id": conv.ConversationID, "key": "a-after", "text": "are you still there?"})
	ag.events(1)
	moved := b.visitorSocket(t, e, id.VisitorToken, conv.ConversationID, last)
	if ev := moved.events(1)[0]; ev.Seq != last+1 || ev.Text != "are you still there?" {
		t.Fatalf("resume on node B = %+v, want seq %d", ev, last+1)
	}
	moved.quiet(300*time.Millisecond, "event")
}
