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

// TestThreeNodesNATS runs three Parley nodes on one PostgreSQL schema with NATS as the fan-out
// bus instead of LISTEN/NOTIFY: the visitor on node A, the agent on node B, a second visitor tab
// on node C. The offer, the join, messages and typing cross nodes; concurrent senders on three
// nodes give every receiver the same gapless order; the visitor moves to node C and resumes from
// its last seq.
func TestThreeNodesNATS(t *testing.T) {
	natsURL := natstest.URL(t)
	url := migratetest.URL(t, migrations.Postgres)
	e := newEnv(t, openURL(t, url, true), url)
	e.nats = &hub.NATSConfig{URL: natsURL, Prefix: natstest.Prefix(t)}
	fast := chat.Limits{VisitorMessages: limit.Every(time.Millisecond, 1000), AgentMessages: limit.Every(time.Millisecond, 1000)}
	a := e.node(openURL(t, url, false), fast)
	b := e.node(openURL(t, url, false), fast)
	c := e.node(openURL(t, url, false), fast)

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
	vs.send(map[string]any{"type": "message", "key": "v-1", "text": "my card is 4111 1111 1111 1111"})
	if m := ag.events(1)[0]; m.Seq != 3 || m.Text == "my card is 4111 1111 1111 1111" {
		t.Fatalf("agent on node B got %+v, want seq 3 with the card number masked", m)
	}
	ag.send(map[string]any{"type": "typing", "conversation_id": conv.ConversationID, "typing": true})
	vs.until("typing across nodes", func(f frame) bool { return f.Type == "typing" && f.Typing })

	tab := c.visitorSocket(t, e, id.VisitorToken, conv.ConversationID, 3)
	const per = 15
	var wg sync.WaitGroup
	for si, cl := range []*client{vs, tab, ag} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				m := map[string]any{"type": "message", "key": fmt.Sprintf("n%d-%d", si, i), "text": fmt.Sprintf("n%d #%d", si, i)}
				if cl == ag {
					m["conversation_id"] = conv.ConversationID
				}
				cl.send(m)
			}
		}()
	}
	wg.Wait()
	total := 3 * per
	va, vc, av := vs.events(total + 1)[1:], tab.events(total), ag.events(total)
	checkSeqs(t, "visitor on A", va, 3)
	checkSeqs(t, "visitor tab on C", vc, 3)
	checkSeqs(t, "agent on B", av, 3)
	for i := range total {
		if va[i].Text != vc[i].Text || va[i].Text != av[i].Text {
			t.Fatalf("seq %d differs across nodes: %q %q %q", va[i].Seq, va[i].Text, vc[i].Text, av[i].Text)
		}
	}

	last := va[len(va)-1].Seq
	_ = vs.conn.CloseNow()
	ag.send(map[string]any{"type": "message", "conversation_id": conv.ConversationID, "key": "a-after", "text": "are you still there?"})
	ag.events(1)
	moved := c.visitorSocket(t, e, id.VisitorToken, conv.ConversationID, last)
	if ev := moved.events(1)[0]; ev.Seq != last+1 || ev.Text != "are you still there?" {
		t.Fatalf("resume on node C = %+v, want seq %d", ev, last+1)
	}
	moved.quiet(300*time.Millisecond, "event")
}
