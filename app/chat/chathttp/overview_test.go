package chathttp_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat"
)

// TestOverviewCounts: the overview counts distinct agents online (two sockets of one agent are
// one agent), the waiting and the active conversations, and the longest wait, per tenant.
func TestOverviewCounts(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ctx := context.Background()
		o, err := n.svc.Overview(ctx, e.tenant.ID)
		if err != nil || o != (chat.Overview{}) {
			t.Fatalf("empty overview = %+v, %v; want zeros", o, err)
		}
		gina := e.fullAgent("Gina")
		ag, _ := n.agentSocket(t, gina, nil)
		n.agentSocket(t, gina, nil)
		first := n.start(t, e, n.newVisitor(t, e).VisitorToken, e.cards.ID, "Ada")
		ag.until("offer", func(f frame) bool { return f.Type == "offer" })
		e.clock.Advance(20 * time.Second)
		n.start(t, e, n.newVisitor(t, e).VisitorToken, e.cards.ID, "Grace")
		ag.send(map[string]any{"type": "accept", "conversation_id": first.ConversationID})
		ag.events(2)
		e.clock.Advance(10 * time.Second)
		o, err = n.svc.Overview(ctx, e.tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		if o.AgentsOnline != 1 || o.Queued != 1 || o.Active != 1 || o.LongestWait != 10*time.Second {
			t.Errorf("overview = %+v, want 1 agent online, 1 waiting, 1 active, longest wait 10s", o)
		}
		other, err := e.tenants.CreateTenant(ctx, "Other Bank")
		if err != nil {
			t.Fatal(err)
		}
		if o, err := n.svc.Overview(ctx, other.ID); err != nil || o != (chat.Overview{}) {
			t.Errorf("another tenant's overview = %+v, %v; want zeros", o, err)
		}
	})
}
