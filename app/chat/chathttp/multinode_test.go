package chathttp_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/hub/natstest"
	"github.com/parleyhq/parley/app/chat/limit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestTwoNodes runs two Parley nodes on one PostgreSQL schema, each with its own connection
// pool and LISTEN/NOTIFY relay (crossNodes).
func TestTwoNodes(t *testing.T) {
	url := migratetest.URL(t, migrations.Postgres)
	crossNodes(t, newEnv(t, openURL(t, url, true), url), url, 2)
}

// TestThreeNodesNATS runs three nodes with NATS as the fan-out bus instead of LISTEN/NOTIFY
// (crossNodes).
func TestThreeNodesNATS(t *testing.T) {
	natsURL := natstest.URL(t)
	url := migratetest.URL(t, migrations.Postgres)
	e := newEnv(t, openURL(t, url, true), url)
	e.nats = &hub.NATSConfig{URL: natsURL, Prefix: natstest.Prefix(t)}
	crossNodes(t, e, url, 3)
}

// crossNodes starts count nodes on one schema: the visitor on the first, the agent on the second,
// a second visitor tab on the last. The offer, the join, a message (its card number masked)
// and typing cross nodes; concurrent senders on several nodes give every receiver
// the same gapless order; the visitor's node goes away and the visitor resumes on the last node
// exactly where it left off.
func crossNodes(t *testing.T, e *env, url string, count int) {
	fast := chat.Limits{VisitorMessages: limit.Every(time.Millisecond, 1000), AgentMessages: limit.Every(time.Millisecond, 1000)}
	nodes := make([]*node, count)
	for i := range nodes {
		nodes[i] = e.node(openURL(t, url, false), fast)
	}
	a, b, last := nodes[0], nodes[1], nodes[count-1]

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
	const card = "my card is 4111 1111 1111 1111"
	vs.send(map[string]any{"type": "message", "key": "v-1", "text": card})
	if m := ag.events(1)[0]; m.Seq != 3 || m.Text == card || m.Text == "" {
		t.Fatalf("agent on node B got %+v, want seq 3 with the card number masked", m)
	}
	ag.send(map[string]any{"type": "typing", "conversation_id": conv.ConversationID, "typing": true})
	vs.until("typing across nodes", func(f frame) bool { return f.Type == "typing" && f.Typing })

	tab := last.visitorSocket(t, e, id.VisitorToken, conv.ConversationID, 3)
	const per = 12
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
	va, vt, av := vs.events(total + 1)[1:], tab.events(total), ag.events(total)
	checkSeqs(t, "visitor on the first node", va, 3)
	checkSeqs(t, "visitor tab on the last node", vt, 3)
	checkSeqs(t, "agent on the second node", av, 3)
	for i := range total {
		if va[i].Text != vt[i].Text || va[i].Text != av[i].Text {
			t.Fatalf("seq %d differs across nodes: %q %q %q", va[i].Seq, va[i].Text, vt[i].Text, av[i].Text)
		}
	}

	// The visitor's node goes away; the visitor resumes on the last node from its last seq.
	seen := va[len(va)-1].Seq
	_ = vs.conn.CloseNow()
	ag.send(map[string]any{"type": "message", "conversation_id": conv.ConversationID, "key": "a-after", "text": "are you still there?"})
	ag.events(1)
	moved := last.visitorSocket(t, e, id.VisitorToken, conv.ConversationID, seen)
	if ev := moved.events(1)[0]; ev.Seq != seen+1 || ev.Text != "are you still there?" {
		t.Fatalf("resume on the last node = %+v, want seq %d", ev, seen+1)
	}
	moved.quiet(300*time.Millisecond, "event")
}
