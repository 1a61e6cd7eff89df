package chathttp_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// routingAdmin returns the principal that changes routing in the tests (the engine's callers
// check routing.manage).
func (e *env) routingAdmin() *api.Principal {
	return &api.Principal{TenantID: e.tenant.ID, UserID: "u-routing-admin"}
}

// automatic puts a department in automatic mode.
func (e *env) automatic(t *testing.T, n *node, dept string, capacity, timeout, priority int, skills ...string) {
	t.Helper()
	if skills == nil {
		skills = []string{}
	}
	if _, err := n.svc.SaveDepartmentRouting(context.Background(), e.routingAdmin(), chat.DepartmentRouting{DepartmentID: dept,
		Mode: chat.ModeAutomatic, Capacity: capacity, OfferTimeoutSeconds: timeout, Priority: priority, RequiredSkills: skills}, chat.Origin{}); err != nil {
		t.Fatal(err)
	}
}

// skilled gives an agent a capacity and skills.
func (e *env) skilled(t *testing.T, n *node, user string, capacity int, skills ...string) {
	t.Helper()
	if _, err := n.svc.SaveAgentRouting(context.Background(), e.routingAdmin(), user, capacity, skills, chat.Origin{}); err != nil {
		t.Fatal(err)
	}
}

// conversation reads a visitor's conversation as stored.
func (n *node) conversation(t *testing.T, e *env, token, convID string) chat.Conversation {
	t.Helper()
	_, c, err := n.svc.VisitorConversation(context.Background(), e.site.SiteKey, token, convID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func isOffer(conv string) func(frame) bool {
	return func(f frame) bool { return f.Type == "offer" && f.Offer != nil && f.Offer.ConversationID == conv }
}

// TestAutomaticRoutingCapacityAndSkills: in automatic mode a chat is offered to one agent only
// (with expires_at and priority), the least busy of those holding the required skills; an
// agent at capacity is offered nothing until a chat of theirs ends.
func TestAutomaticRoutingCapacityAndSkills(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		e.automatic(t, n, e.cards.ID, 1, 30, 3, "cards")
		ann, ben, cid := e.fullAgent("Ann"), e.fullAgent("Ben"), e.fullAgent("Cid")
		e.skilled(t, n, ann, 0, "cards", "french")
		e.skilled(t, n, ben, 0, "Cards")
		e.skilled(t, n, cid, 5, "loans")
		socks := map[string]*client{}
		for _, u := range []string{ann, ben, cid} {
			socks[u], _ = n.agentSocket(t, u, nil)
		}

		v1 := n.newVisitor(t, e)
		c1 := n.start(t, e, v1.VisitorToken, e.cards.ID, "Ada")
		first := offeredTo(t, socks, c1.ConversationID, ann, ben)
		of := socks[first].until("offer", isOffer(c1.ConversationID)).Offer
		if of.ExpiresAt == nil || of.Priority != 3 || of.TransferredToMe || of.Status != chat.StatusAssigned {
			t.Fatalf("automatic offer = %+v, want expires_at, priority 3, status assigned", of)
		}
		if got := of.ExpiresAt.Sub(e.clock.Now()); got != 30*time.Second {
			t.Errorf("offer expires in %v, want 30s", got)
		}
		socks[cid].quiet(200*time.Millisecond, "offer")
		socks[first].send(map[string]any{"type": "accept", "conversation_id": c1.ConversationID})
		socks[first].until("assigned", func(f frame) bool { return f.Type == "assigned" })

		// The least busy agent with the skills gets the next one.
		second := ann
		if first == ann {
			second = ben
		}
		v2 := n.newVisitor(t, e)
		c2 := n.start(t, e, v2.VisitorToken, e.cards.ID, "Bob")
		socks[second].until("offer", isOffer(c2.ConversationID))
		socks[second].send(map[string]any{"type": "accept", "conversation_id": c2.ConversationID})
		socks[second].until("assigned", func(f frame) bool { return f.Type == "assigned" })

		// Both at the department's capacity of 1: the third waits in the queue.
		v3 := n.newVisitor(t, e)
		c3 := n.start(t, e, v3.VisitorToken, e.cards.ID, "Cy")
		if got, err := n.svc.Route(context.Background(), e.tenant.ID); err != nil || got != 0 {
			t.Fatalf("Route = %d, %v; want nothing offered at capacity", got, err)
		}
		for _, u := range []string{ann, ben, cid} {
			socks[u].quiet(200*time.Millisecond, "offer")
		}
		if c := n.conversation(t, e, v3.VisitorToken, c3.ConversationID); c.Status != chat.StatusQueued || c.RequiredSkills != " cards " || c.Priority != 3 {
			t.Fatalf("third chat = %s %q %d, want queued, needing cards, priority 3", c.Status, c.RequiredSkills, c.Priority)
		}

		// The first agent's chat ends: they have room, and are offered the third.
		socks[first].send(map[string]any{"type": "end", "conversation_id": c1.ConversationID})
		socks[first].until("offer", isOffer(c3.ConversationID))
		if n := e.audit.count(audit.ActionConversationOffer); n != 3 {
			t.Errorf("audited offers = %d, want 3", n)
		}
	})
}

// offeredTo waits for the automatic offer of conv and returns who of candidates got it; the
// others get none. The frames it reads stay in each client's backlog.
func offeredTo(t *testing.T, socks map[string]*client, conv string, candidates ...string) string {
	t.Helper()
	ch := make(chan string, len(candidates))
	var wg sync.WaitGroup
	deadline := time.Now().Add(5 * time.Second)
	for _, u := range candidates {
		wg.Add(1)
		go func(u string) {
			defer wg.Done()
			c := socks[u]
			for _, f := range c.backlog {
				if f.Type == "offer" && f.Offer != nil && f.Offer.ConversationID == conv {
					ch <- u
					return
				}
			}
			for time.Now().Before(deadline) {
				select {
				case f, ok := <-c.ch:
					if !ok {
						return
					}
					c.mu.Lock()
					c.backlog = append(c.backlog, f)
					c.mu.Unlock()
					if f.Type == "offer" && f.Offer != nil && f.Offer.ConversationID == conv {
						ch <- u
						return
					}
				case <-time.After(100 * time.Millisecond):
				}
			}
		}(u)
	}
	wg.Wait()
	close(ch)
	var who []string
	for u := range ch {
		who = append(who, u)
	}
	if len(who) != 1 {
		t.Fatalf("offered to %v, want exactly one agent", who)
	}
	return who[0]
}

// TestOfferTimeoutReroutes: an automatic offer not accepted in time is withdrawn (reason
// expired, audited) and offered to the next agent; when nobody is left the chat waits in the
// queue and is missed at the queue timeout, which gives the visitor the offline form.
func TestOfferTimeoutReroutes(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		e.automatic(t, n, e.cards.ID, 0, 10, 0)
		ann, ben := e.fullAgent("Ann"), e.fullAgent("Ben")
		socks := map[string]*client{}
		for _, u := range []string{ann, ben} {
			socks[u], _ = n.agentSocket(t, u, nil)
		}
		v := n.newVisitor(t, e)
		c := n.start(t, e, v.VisitorToken, e.cards.ID, "Ada")
		first := offeredTo(t, socks, c.ConversationID, ann, ben)
		next := ann
		if first == ann {
			next = ben
		}
		socks[first].until("offer", isOffer(c.ConversationID))

		e.clock.Advance(5 * time.Second)
		if err := n.svc.SweepRouting(context.Background()); err != nil {
			t.Fatal(err)
		}
		socks[next].quiet(200*time.Millisecond, "offer")

		e.clock.Advance(6 * time.Second)
		if err := n.svc.SweepRouting(context.Background()); err != nil {
			t.Fatal(err)
		}
		w := socks[first].until("withdrawal", func(f frame) bool { return f.Type == "offer_withdrawn" })
		if w.ConversationID != c.ConversationID || w.Reason != "expired" {
			t.Fatalf("withdrawal = %+v, want expired", w)
		}
		socks[next].until("offer", isOffer(c.ConversationID))
		if n := e.audit.count(audit.ActionOfferTimeout); n != 1 {
			t.Errorf("audited timeouts = %d, want 1", n)
		}
		// The agent who let it pass is not offered it again.
		e.clock.Advance(11 * time.Second)
		if err := n.svc.SweepRouting(context.Background()); err != nil {
			t.Fatal(err)
		}
		socks[next].until("withdrawal", func(f frame) bool { return f.Type == "offer_withdrawn" })
		socks[first].quiet(200*time.Millisecond, "offer")
		if got := n.conversation(t, e, v.VisitorToken, c.ConversationID); got.Status != chat.StatusQueued {
			t.Fatalf("status = %s, want queued", got.Status)
		}
		e.clock.Advance(6 * time.Minute)
		if _, err := n.svc.SweepMissed(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := n.conversation(t, e, v.VisitorToken, c.ConversationID); got.Status != chat.StatusMissed {
			t.Fatalf("status = %s, want missed", got.Status)
		}
	})
}

// TestSimultaneousAccept: two agents accept the same queued chat at once; exactly one wins, the
// other is told (conflict) — over the engine and over the sockets.
func TestSimultaneousAccept(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ann, ben := e.fullAgent("Ann"), e.fullAgent("Ben")
		a, _ := n.agentSocket(t, ann, nil)
		b, _ := n.agentSocket(t, ben, nil)
		for round := range 5 {
			v := n.newVisitor(t, e)
			c := n.start(t, e, v.VisitorToken, e.cards.ID, "Ada")
			a.until("offer", isOffer(c.ConversationID))
			b.until("offer", isOffer(c.ConversationID))
			var wg sync.WaitGroup
			errs := make([]error, 2)
			start := make(chan struct{})
			for i, u := range []string{ann, ben} {
				wg.Add(1)
				go func(i int, u string) {
					defer wg.Done()
					<-start
					ctx := migrations.WithTenant(context.Background(), e.tenant.ID)
					_, errs[i] = n.svc.Accept(ctx, &api.Principal{TenantID: e.tenant.ID, UserID: u}, u, c.ConversationID, chat.Origin{})
				}(i, u)
			}
			close(start)
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, chat.ErrTaken):
					t.Fatalf("round %d: accept error %v, want ErrTaken", round, err)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d accepts won, want exactly 1 (%v)", round, won, errs)
			}
		}

		// Over the sockets: one gets the chat, the other an error frame.
		v := n.newVisitor(t, e)
		c := n.start(t, e, v.VisitorToken, e.cards.ID, "Max")
		a.until("offer", isOffer(c.ConversationID))
		b.until("offer", isOffer(c.ConversationID))
		a.send(map[string]any{"type": "accept", "conversation_id": c.ConversationID})
		b.send(map[string]any{"type": "accept", "conversation_id": c.ConversationID})
		outcome := func(cl *client) string {
			f := cl.until("answer", func(f frame) bool {
				return (f.Type == "assigned" && f.Conversation != nil && f.Conversation.ConversationID == c.ConversationID) ||
					(f.Type == "error" && f.ConversationID == c.ConversationID)
			})
			if f.Type == "error" {
				return f.Code
			}
			return "assigned"
		}
		got := []string{outcome(a), outcome(b)}
		if !(got[0] == "assigned" && got[1] == "conflict") && !(got[0] == "conflict" && got[1] == "assigned") {
			t.Fatalf("socket accepts = %v, want one assigned and one conflict", got)
		}
	})
}

// TestPriorityAndQueuePosition: chats of a higher-priority department are offered first; a
// waiting visitor is told their place in the queue and an estimated wait; an away agent is
// offered nothing and an agent back online is.
func TestPriorityAndQueuePosition(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		e.automatic(t, n, e.cards.ID, 1, 30, 0)
		e.automatic(t, n, e.loans.ID, 1, 30, 5)
		ann := e.fullAgent("Ann")
		a, _ := n.agentSocket(t, ann, nil)
		if f := a.until("status", func(f frame) bool { return f.Type == "status" }); f.Status != "online" {
			t.Fatalf("status on connect = %+v, want online", f)
		}
		a.send(map[string]any{"type": "status", "status": "away"})
		if f := a.until("status", func(f frame) bool { return f.Type == "status" }); f.Status != "away" || f.Reason != "manual" {
			t.Fatalf("status = %+v, want away (manual)", f)
		}
		v1, v2, v3 := n.newVisitor(t, e), n.newVisitor(t, e), n.newVisitor(t, e)
		c1 := n.start(t, e, v1.VisitorToken, e.cards.ID, "Ada")
		e.clock.Advance(time.Second)
		c2 := n.start(t, e, v2.VisitorToken, e.cards.ID, "Bob")
		e.clock.Advance(time.Second)
		c3 := n.start(t, e, v3.VisitorToken, e.loans.ID, "Cy")
		a.quiet(200*time.Millisecond, "offer")

		vs := n.visitorSocket(t, e, v2.VisitorToken, c2.ConversationID, 0)
		q := vs.until("queue", func(f frame) bool { return f.Type == "queue" })
		if q.Position != 2 || q.EstimatedWait <= 0 {
			t.Fatalf("queue frame = %+v, want position 2 and an estimate", q)
		}
		// The long poll tells the same.
		var batch struct {
			Signals []frame `json:"signals"`
		}
		if code := do(t, http.MethodGet, n.widgetURL(e, "/chats/"+c1.ConversationID+"/events?after=0&wait=0"), v1.VisitorToken, nil, &batch); code != http.StatusOK ||
			len(batch.Signals) != 1 || batch.Signals[0].Type != "queue" || batch.Signals[0].Position != 1 {
			t.Fatalf("long poll = %d %+v, want a queue signal at position 1", code, batch.Signals)
		}

		a.send(map[string]any{"type": "status", "status": "online"})
		of := a.until("offer", func(f frame) bool { return f.Type == "offer" })
		if of.Offer.ConversationID != c3.ConversationID || of.Offer.Priority != 5 {
			t.Fatalf("first offer = %+v, want the Loans chat (priority 5)", of.Offer)
		}
		a.send(map[string]any{"type": "accept", "conversation_id": c3.ConversationID})
		a.until("assigned", func(f frame) bool { return f.Type == "assigned" })
		a.quiet(200*time.Millisecond, "offer")
		a.send(map[string]any{"type": "end", "conversation_id": c3.ConversationID})
		of = a.until("offer", func(f frame) bool { return f.Type == "offer" })
		if of.Offer.ConversationID != c1.ConversationID {
			t.Fatalf("next offer = %+v, want the longest-waiting Cards chat", of.Offer)
		}
		a.send(map[string]any{"type": "accept", "conversation_id": c1.ConversationID})
		a.until("assigned", func(f frame) bool { return f.Type == "assigned" })
		// The second chat is next now: its visitor is told (at most every 5 s).
		e.clock.Advance(6 * time.Second)
		a.send(map[string]any{"type": "refuse", "conversation_id": c2.ConversationID})
		q = vs.until("queue", func(f frame) bool { return f.Type == "queue" && f.Position == 1 })
		if q.EstimatedWait <= 0 {
			t.Fatalf("queue frame = %+v, want an estimate", q)
		}
		if n := e.audit.count(audit.ActionAgentStatus); n != 2 {
			t.Errorf("audited status changes = %d, want 2", n)
		}
	})
}

// TestAutomaticAway: an agent inactive for the tenant's idle minutes is set away (reason idle,
// audited) and offered nothing; their next frame brings them back online.
func TestAutomaticAway(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		// The test's clock moves minutes at once: presence lasts longer than that.
		n := e.node(e.db, chat.Limits{PresenceTTL: time.Hour})
		if err := n.svc.SaveRoutingSettings(context.Background(), e.routingAdmin(), chat.RoutingSettings{IdleMinutes: 5, DefaultCapacity: 2}, chat.Origin{}); err != nil {
			t.Fatal(err)
		}
		e.automatic(t, n, e.cards.ID, 0, 30, 0)
		ann := e.fullAgent("Ann")
		a, _ := n.agentSocket(t, ann, nil)
		a.until("status", func(f frame) bool { return f.Type == "status" })
		e.clock.Advance(4 * time.Minute)
		if err := n.svc.SweepRouting(context.Background()); err != nil {
			t.Fatal(err)
		}
		a.quiet(200*time.Millisecond, "status")
		e.clock.Advance(2 * time.Minute)
		if err := n.svc.SweepRouting(context.Background()); err != nil {
			t.Fatal(err)
		}
		if f := a.until("status", func(f frame) bool { return f.Type == "status" }); f.Status != "away" || f.Reason != "idle" {
			t.Fatalf("status = %+v, want away (idle)", f)
		}
		v := n.newVisitor(t, e)
		c := n.start(t, e, v.VisitorToken, e.cards.ID, "Ada")
		a.quiet(200*time.Millisecond, "offer")
		// Any frame but ping is activity.
		a.send(map[string]any{"type": "read", "conversation_id": c.ConversationID, "seq": 1})
		if f := a.until("status", func(f frame) bool { return f.Type == "status" }); f.Status != "online" {
			t.Fatalf("status after activity = %+v, want online", f)
		}
		a.until("offer", isOffer(c.ConversationID))
	})
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 100 {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestAutomaticRoutingAcrossNodes: a chat started on one node is offered automatically to an
// agent connected to the other, and their status change crosses nodes too; the two nodes route
// the same queue at once without offering one chat twice.
func TestAutomaticRoutingAcrossNodes(t *testing.T) {
	url := migratetest.URL(t, migrations.Postgres)
	e := newEnv(t, openURL(t, url, true), url)
	a := e.node(openURL(t, url, false), chat.Limits{})
	b := e.node(openURL(t, url, false), chat.Limits{})
	e.automatic(t, a, e.cards.ID, 0, 30, 0)
	ann, ben := e.fullAgent("Ann"), e.fullAgent("Ben")
	sa, _ := b.agentSocket(t, ann, nil)
	sb, _ := b.agentSocket(t, ben, nil)
	var convs []string
	for range 4 {
		v := a.newVisitor(t, e)
		convs = append(convs, a.start(t, e, v.VisitorToken, e.cards.ID, "Ada").ConversationID)
	}
	// Both nodes route at once as well.
	var wg sync.WaitGroup
	for _, n := range []*node{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = n.svc.Route(context.Background(), e.tenant.ID) }()
	}
	wg.Wait()
	got := map[string]int{}
	for _, c := range convs {
		who := offeredTo(t, map[string]*client{ann: sa, ben: sb}, c, ann, ben)
		got[who]++
	}
	if got[ann] != 2 || got[ben] != 2 {
		t.Fatalf("offers = %v, want two each (least busy, then round-robin)", got)
	}
	if n := e.audit.count(audit.ActionConversationOffer); n != 4 {
		t.Fatalf("audited offers = %d, want 4: no chat offered twice", n)
	}
}
