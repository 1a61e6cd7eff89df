package chathttp_test

// Handing chats over: re-queueing when an agent goes, transfers (errors, notes) and the roster
// of the transfer dialog.

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
)

// TestRequeueWhenAgentGoesOffline: a closed socket keeps its chats for the presence TTL (a
// reload); after it they return to the queue with a transferred event (reason agent_offline),
// audited, and other agents are offered them.
func TestRequeueWhenAgentGoesOffline(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ann, ben := e.fullAgent("Ann"), e.fullAgent("Ben")
		a, _ := n.agentSocket(t, ann, nil)
		v := n.newVisitor(t, e)
		c := n.start(t, e, v.VisitorToken, e.cards.ID, "Ada")
		a.until("offer", isOffer(c.ConversationID))
		a.send(map[string]any{"type": "accept", "conversation_id": c.ConversationID})
		a.until("assigned", func(f frame) bool { return f.Type == "assigned" })
		vs := n.visitorSocket(t, e, v.VisitorToken, c.ConversationID, 0)
		vs.events(2)
		_ = a.conn.CloseNow()
		waitFor(t, "the presence row to go", func() bool {
			on, err := n.svc.Roster(context.Background(), &api.Principal{TenantID: e.tenant.ID, UserID: ben})
			return err == nil && len(on.Agents) == 0
		})
		if err := n.svc.SweepRouting(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := n.conversation(t, e, v.VisitorToken, c.ConversationID); got.Status != chat.StatusActive {
			t.Fatalf("right after the socket closed: %s, want still active", got.Status)
		}
		b, _ := n.agentSocket(t, ben, nil)
		e.clock.Advance(2 * time.Minute)
		if err := n.svc.SweepRouting(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := n.conversation(t, e, v.VisitorToken, c.ConversationID)
		if got.Status != chat.StatusQueued || got.AgentID != nil {
			t.Fatalf("after the presence TTL: %s agent %v, want queued without agent", got.Status, got.AgentID)
		}
		ev := vs.events(1)[0]
		if ev.Event != "transferred" || ev.Data["reason"] != "agent_offline" {
			t.Fatalf("visitor got %+v, want transferred (agent_offline)", ev)
		}
		b.until("offer", isOffer(c.ConversationID))
		if n := e.audit.count(audit.ActionConversationRequeue); n != 1 {
			t.Errorf("audited re-queues = %d, want 1", n)
		}
	})
}

// TestRequeueWhenAgentSignsOut: the session check closes a signed-out (or disabled) agent's
// socket and their chats return to the queue at once.
func TestRequeueWhenAgentSignsOut(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{SessionCheck: 50 * time.Millisecond})
		ann, ben := e.fullAgent("Ann"), e.fullAgent("Ben")
		a, _ := n.agentSocket(t, ann, nil)
		b, _ := n.agentSocket(t, ben, nil)
		v := n.newVisitor(t, e)
		c := n.start(t, e, v.VisitorToken, e.cards.ID, "Ada")
		a.until("offer", isOffer(c.ConversationID))
		b.until("offer", isOffer(c.ConversationID))
		a.send(map[string]any{"type": "accept", "conversation_id": c.ConversationID})
		a.until("assigned", func(f frame) bool { return f.Type == "assigned" })
		b.until("withdrawal", func(f frame) bool { return f.Type == "offer_withdrawn" })
		e.signedOut.Store(ann, true)
		if code, _ := a.closed(); code != 4401 {
			t.Fatalf("close code %d, want 4401", code)
		}
		b.until("offer", isOffer(c.ConversationID))
		if got := n.conversation(t, e, v.VisitorToken, c.ConversationID); got.Status != chat.StatusQueued {
			t.Fatalf("status = %s, want queued", got.Status)
		}
	})
}

// TestTransferErrorsLeaveTheChat: a transfer to an offline agent, to an agent at capacity or to
// a department whose online agents are all at capacity is refused with its error code and the
// chat stays with its agent; a transfer's note reaches the agents, masked, never the visitor.
func TestTransferErrorsLeaveTheChat(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ann, mia, ben := e.fullAgent("Ann"), e.fullAgent("Mia"), e.fullAgent("Ben")
		lee := e.agent("Lee", map[string][]string{"chat.accept": {e.loans.ID}})
		gone := e.fullAgent("Gone")
		e.skilled(t, n, mia, 1)
		a, _ := n.agentSocket(t, ann, nil)
		m, _ := n.agentSocket(t, mia, nil)
		l, _ := n.agentSocket(t, lee, nil)
		take := func(cl *client, dept string) (string, string) {
			v := n.newVisitor(t, e)
			c := n.start(t, e, v.VisitorToken, dept, "Ada")
			cl.until("offer", isOffer(c.ConversationID))
			cl.send(map[string]any{"type": "accept", "conversation_id": c.ConversationID})
			cl.until("assigned", func(f frame) bool { return f.Type == "assigned" && f.Conversation.ConversationID == c.ConversationID })
			return v.VisitorToken, c.ConversationID
		}
		tok, conv := take(a, e.cards.ID)
		take(m, e.cards.ID) // Mia is at her capacity of 1
		// Loans allows one chat an agent; Lee holds one, Mia too.
		if _, err := n.svc.SaveDepartmentRouting(context.Background(), e.routingAdmin(), chat.DepartmentRouting{DepartmentID: e.loans.ID,
			Mode: chat.ModeManual, Capacity: 1, OfferTimeoutSeconds: 30}, chat.Origin{}); err != nil {
			t.Fatal(err)
		}
		take(l, e.loans.ID)

		for _, tc := range []struct {
			name  string
			frame map[string]any
			code  string
		}{
			{"offline agent", map[string]any{"agent_id": gone}, "agent_offline"},
			{"agent at capacity", map[string]any{"agent_id": mia}, "agent_at_capacity"},
			{"department at capacity", map[string]any{"department_id": e.loans.ID}, "department_at_capacity"},
		} {
			f := map[string]any{"type": "transfer", "conversation_id": conv, "note": "please help"}
			for k, v := range tc.frame {
				f[k] = v
			}
			a.send(f)
			got := a.until("error", func(f frame) bool { return f.Type == "error" })
			if got.Code != tc.code || got.ConversationID != conv {
				t.Errorf("%s: error %+v, want %s", tc.name, got, tc.code)
			}
			if c := n.conversation(t, e, tok, conv); c.Status != chat.StatusActive || c.AgentID == nil || *c.AgentID != ann || c.Department() != e.cards.ID {
				t.Fatalf("%s: chat %s with %v in %s, want still Ann's in Cards", tc.name, c.Status, c.AgentID, c.Department())
			}
		}
		if n := e.audit.count(audit.ActionConversationTransfer); n != 0 {
			t.Errorf("audited transfers = %d, want none", n)
		}

		// A transfer with a note: Ben sees it, masked; the visitor never does.
		vs := n.visitorSocket(t, e, tok, conv, 0)
		vs.events(2)
		b, _ := n.agentSocket(t, ben, nil)
		a.send(map[string]any{"type": "transfer", "conversation_id": conv, "agent_id": ben,
			"note": "Card 4111 1111 1111 1111 declined twice,\u202e be gentle"})
		b.until("offer", isOffer(conv))
		b.send(map[string]any{"type": "accept", "conversation_id": conv})
		b.until("assigned", func(f frame) bool { return f.Type == "assigned" })
		evs := b.events(4)
		note := evs[2].Data["note"]
		if evs[2].Event != "transferred" || note == "" || strings.Contains(note, "4111 1111 1111 1111") || strings.Contains(note, "\u202e") || !strings.Contains(note, "be gentle") {
			t.Fatalf("Ben got %+v, want the transferred event with the note masked and plain", evs[2])
		}
		ve := vs.events(2)
		if ve[0].Event != "transferred" || ve[0].Data["note"] != "" || ve[0].Text != "" {
			t.Fatalf("visitor got %+v, want the transfer without its note", ve[0])
		}
		// Read again from the database: the replay holds the note for agents only.
		vr := n.visitorSocket(t, e, tok, conv, 0)
		for _, ev := range vr.events(4) {
			if ev.Data["note"] != "" {
				t.Fatalf("visitor replay carries a note: %+v", ev)
			}
		}
		b2, _ := n.agentSocket(t, ben, map[string]int64{conv: 0})
		if ev := b2.events(4)[2]; ev.Data["note"] != note {
			t.Fatalf("agent replay = %+v, want the note", ev)
		}
	})
}

// TestRosterForTransfer: GET /api/v1/chat/agents lists, for the transfer dialog, the departments
// where the user holds chat.transfer and the agents online in them, with status, load and
// capacity; a user without chat.transfer is refused.
func TestRosterForTransfer(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		e.automatic(t, n, e.loans.ID, 2, 30, 0)
		ann, mia := e.fullAgent("Ann"), e.fullAgent("Mia")
		lee := e.agent("Lee", map[string][]string{"chat.accept": {e.loans.ID}, "chat.transfer": {e.loans.ID}})
		nobody := e.agent("Nob", map[string][]string{"chat.accept": {e.cards.ID}})
		e.skilled(t, n, mia, 4, "french")
		n.agentSocket(t, ann, nil)
		m, _ := n.agentSocket(t, mia, nil)
		n.agentSocket(t, lee, nil)
		m.send(map[string]any{"type": "status", "status": "away"})
		m.until("status", func(f frame) bool { return f.Type == "status" && f.Status == "away" })

		var r chat.Roster
		if code := do(t, http.MethodGet, n.srv.URL+"/api/v1/chat/agents", "", nil, &r, "X-Test-User", ann); code != http.StatusOK {
			t.Fatalf("roster = %d", code)
		}
		if len(r.Departments) != 2 || len(r.Agents) != 2 {
			t.Fatalf("Ann's roster = %+v, want both departments and Mia and Lee", r)
		}
		byID := map[string]chat.RosterAgent{}
		for _, a := range r.Agents {
			byID[a.ID] = a
		}
		if a := byID[mia]; a.Status != "away" || a.Capacity != 4 || a.Name != "Mia" || len(a.Departments) != 2 || a.Skills[0] != "french" {
			t.Errorf("Mia = %+v", a)
		}
		if a := byID[lee]; a.Status != "online" || a.Capacity != 3 || len(a.Departments) != 1 || a.Departments[0] != e.loans.ID {
			t.Errorf("Lee = %+v", a)
		}
		for _, d := range r.Departments {
			want := map[string]struct {
				online int
				mode   string
			}{e.cards.ID: {0, "manual"}, e.loans.ID: {1, "automatic"}}[d.ID]
			if d.OnlineAgents != want.online || d.Mode != want.mode {
				t.Errorf("department %s = %+v, want %d online, %s", d.Name, d, want.online, want.mode)
			}
		}
		if code := do(t, http.MethodGet, n.srv.URL+"/api/v1/chat/agents", "", nil, &r, "X-Test-User", lee); code != http.StatusOK ||
			len(r.Departments) != 1 || len(r.Agents) != 2 {
			t.Fatalf("Lee's roster = %d %+v, want Loans with Ann and Mia", code, r)
		}
		if code := do(t, http.MethodGet, n.srv.URL+"/api/v1/chat/agents", "", nil, nil, "X-Test-User", nobody); code != http.StatusForbidden {
			t.Fatalf("roster without chat.transfer = %d, want 403", code)
		}
	})
}
