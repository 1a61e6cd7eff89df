package chathttp_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/chathttp"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestLongPollFallback runs a whole exchange over the long-polling endpoints: the cursor is the
// last seq, events come in order, a waiting poll returns when the agent writes, typing arrives as
// a signal, and a retried POST is stored once.
func TestLongPollFallback(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ag, _ := n.agentSocket(t, e.fullAgent("Gina"), nil)
		id := n.newVisitor(t, e)
		conv := n.start(t, e, id.VisitorToken, e.cards.ID, "Ada")
		ag.until("offer", func(f frame) bool { return f.Type == "offer" })
		ag.send(map[string]any{"type": "accept", "conversation_id": conv.ConversationID})
		ag.events(2)
		base := n.widgetURL(e, "/chats/"+conv.ConversationID)
		var batch chat.EventBatch
		if code := do(t, http.MethodGet, base+"/events?after=0&wait=0", id.VisitorToken, nil, &batch); code != http.StatusOK ||
			len(batch.Events) != 2 || batch.LastSeq != 2 || batch.Status != chat.StatusActive {
			t.Fatalf("first poll = %d %+v, want started and joined, active", code, batch)
		}
		done := make(chan chat.EventBatch, 1)
		go func() {
			var b chat.EventBatch
			do(t, http.MethodGet, base+"/events?after=2&wait=10", id.VisitorToken, nil, &b)
			done <- b
		}()
		time.Sleep(100 * time.Millisecond)
		ag.send(map[string]any{"type": "message", "conversation_id": conv.ConversationID, "key": "a-1", "text": "Hello from the agent"})
		select {
		case b := <-done:
			if len(b.Events) != 1 || b.Events[0].Seq != 3 || b.Events[0].Text != "Hello from the agent" || b.LastSeq != 3 {
				t.Fatalf("waiting poll = %+v, want seq 3", b)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("waiting poll did not return")
		}
		go func() {
			var b chat.EventBatch
			do(t, http.MethodGet, base+"/events?after=3&wait=10", id.VisitorToken, nil, &b)
			done <- b
		}()
		time.Sleep(100 * time.Millisecond)
		ag.send(map[string]any{"type": "typing", "conversation_id": conv.ConversationID, "typing": true})
		select {
		case b := <-done:
			if len(b.Events) != 0 || len(b.Signals) != 1 {
				t.Fatalf("poll during typing = %+v, want one typing signal", b)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("typing did not end the poll")
		}
		var ack chat.PostResult
		var a1, a2 frame
		do(t, http.MethodPost, base+"/messages", id.VisitorToken, map[string]any{"key": "lp-1", "text": "over long poll"}, &a1)
		do(t, http.MethodPost, base+"/messages", id.VisitorToken, map[string]any{"key": "lp-1", "text": "over long poll"}, &a2)
		_ = ack
		if a1.Seq != 4 || a2.Seq != 4 || a1.Duplicate || !a2.Duplicate {
			t.Fatalf("acks = %+v, %+v; want seq 4 once, the retry a duplicate", a1, a2)
		}
		if ev := ag.events(2)[1]; ev.Seq != 4 || ev.Text != "over long poll" {
			t.Fatalf("agent got %+v, want seq 4", ev)
		}
		if code := do(t, http.MethodPost, base+"/read", id.VisitorToken, map[string]any{"seq": 4}, nil); code != http.StatusNoContent {
			t.Fatalf("read = %d", code)
		}
		if rd := ag.until("read", func(f frame) bool { return f.Type == "read" }); rd.Seq != 4 {
			t.Fatalf("read receipt = %+v", rd)
		}
		do(t, http.MethodGet, base+"/events?after=3&wait=0", id.VisitorToken, nil, &batch)
		if len(batch.Events) != 1 || batch.Events[0].Key != "lp-1" {
			t.Fatalf("own message in poll = %+v, want it with its key", batch.Events)
		}
		stranger := n.newVisitor(t, e)
		if code := do(t, http.MethodGet, base+"/events?after=0&wait=0", stranger.VisitorToken, nil, nil); code != http.StatusNotFound {
			t.Fatalf("another visitor's poll = %d, want 404", code)
		}
		if code := do(t, http.MethodGet, base+"/events?after=0&wait=0", "", nil, nil); code != http.StatusUnauthorized {
			t.Fatalf("poll without token = %d, want 401", code)
		}
	})
}

// TestTransferAndQueue: offers reach only agents of the chosen department; the first accept
// wins; a transfer to another department re-queues the chat there; a transfer to an agent offers
// it to that agent only; a chat nobody accepts in time is missed.
func TestTransferAndQueue(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		cardsOnly := map[string][]string{"chat.accept": {e.cards.ID}, "chat.transfer": {e.cards.ID}, "chat.end": {e.cards.ID}, "chat.refuse": {e.cards.ID}}
		loansOnly := map[string][]string{"chat.accept": {e.loans.ID}, "chat.transfer": {e.loans.ID}}
		a1, _ := n.agentSocket(t, e.agent("Ann", cardsOnly), nil)
		a2ID := e.agent("Ben", cardsOnly)
		a2, _ := n.agentSocket(t, a2ID, nil)
		l1ID := e.agent("Lee", loansOnly)
		l1, _ := n.agentSocket(t, l1ID, nil)
		id := n.newVisitor(t, e)
		conv := n.start(t, e, id.VisitorToken, e.cards.ID, "Ada")
		a1.until("offer", func(f frame) bool { return f.Type == "offer" })
		a2.until("offer", func(f frame) bool { return f.Type == "offer" })
		l1.quiet(200*time.Millisecond, "offer")

		a1.send(map[string]any{"type": "accept", "conversation_id": conv.ConversationID})
		a1.until("assigned", func(f frame) bool { return f.Type == "assigned" })
		if w := a2.until("withdrawal", func(f frame) bool { return f.Type == "offer_withdrawn" }); w.Reason != "taken" {
			t.Fatalf("withdrawal = %+v, want reason taken", w)
		}
		a2.send(map[string]any{"type": "accept", "conversation_id": conv.ConversationID})
		if f := a2.until("conflict", func(f frame) bool { return f.Type == "error" }); f.Code != "conflict" || f.ConversationID != conv.ConversationID {
			t.Fatalf("late accept = %+v, want conflict", f)
		}

		a1.send(map[string]any{"type": "transfer", "conversation_id": conv.ConversationID, "department_id": e.loans.ID})
		if f := a1.until("unassigned", func(f frame) bool { return f.Type == "unassigned" }); f.ConversationID != conv.ConversationID {
			t.Fatalf("unassigned = %+v", f)
		}
		offer := l1.until("offer", func(f frame) bool { return f.Type == "offer" })
		if offer.Offer.DepartmentID != e.loans.ID {
			t.Fatalf("offer after transfer = %+v, want department Loans", offer.Offer)
		}
		l1.send(map[string]any{"type": "accept", "conversation_id": conv.ConversationID})
		if f := l1.until("assigned", func(f frame) bool { return f.Type == "assigned" || f.Type == "error" }); f.Type == "error" {
			t.Fatalf("accept after transfer: %+v", f)
		}
		evs := l1.events(4)
		if evs[2].Event != "transferred" || evs[2].Sender == nil || evs[3].Event != "joined" || evs[3].Sender.Name != "Lee" {
			t.Fatalf("history for the new agent = %+v, want started, joined, transferred, joined", evs)
		}

		// Transfer to one agent: only that agent is offered the chat.
		l2ID := e.agent("Liz", loansOnly)
		l2, _ := n.agentSocket(t, l2ID, nil)
		l1.send(map[string]any{"type": "transfer", "conversation_id": conv.ConversationID, "agent_id": l2ID})
		of := l2.until("offer", func(f frame) bool { return f.Type == "offer" })
		if !of.Offer.TransferredToMe || of.Offer.Status != chat.StatusAssigned {
			t.Fatalf("directed offer = %+v, want transferred_to_me", of.Offer)
		}
		l2.send(map[string]any{"type": "accept", "conversation_id": conv.ConversationID})
		l2.until("assigned", func(f frame) bool { return f.Type == "assigned" })
		if n := e.audit.count(audit.ActionConversationTransfer); n != 2 {
			t.Errorf("audited transfers = %d, want 2", n)
		}

		// Nobody accepts the next chat in time: it is missed, the offer withdrawn.
		other := n.newVisitor(t, e)
		missed := n.start(t, e, other.VisitorToken, e.cards.ID, "Max")
		a1.until("offer", func(f frame) bool { return f.Type == "offer" && f.Offer.ConversationID == missed.ConversationID })
		vs := n.visitorSocket(t, e, other.VisitorToken, missed.ConversationID, 1)
		e.clock.Advance(6 * time.Minute)
		if k, err := n.svc.SweepMissed(t.Context()); err != nil || k != 1 {
			t.Fatalf("SweepMissed = %d, %v; want 1", k, err)
		}
		if ev := vs.events(1)[0]; ev.Event != "missed" {
			t.Fatalf("visitor got %+v, want missed", ev)
		}
		if w := a1.until("withdrawal", func(f frame) bool { return f.Type == "offer_withdrawn" && f.ConversationID == missed.ConversationID }); w.Reason != "missed" {
			t.Fatalf("withdrawal = %+v, want reason missed", w)
		}
		_ = fmt.Sprint
	})
}

// TestOfflineMessages: the form is the only way in when no agent is online; the message is
// stored sealed and shown to users who may read offline messages.
func TestOfflineMessages(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		id := n.newVisitor(t, e)
		var cfg chathttp.SiteConfig
		do(t, http.MethodGet, n.widgetURL(e, "/config?lang=en"), "", nil, &cfg)
		if cfg.Online || cfg.OfflineReason != "no_agents" || cfg.CookieMode != "persistent" || cfg.FileTransfer.Enabled || cfg.TranscriptEmail {
			t.Fatalf("config = %+v, want offline (no agents), persistent cookies, files and transcript e-mail off", cfg)
		}
		var eb errBody
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats"), id.VisitorToken, map[string]any{"department_id": e.cards.ID}, &eb); code != http.StatusConflict ||
			eb.Error.Code != "chat_offline" || eb.Error.Details["reason"] != "no_agents" {
			t.Fatalf("start with no agent = %d %+v, want 409 chat_offline no_agents", code, eb)
		}
		if code := do(t, http.MethodPost, n.widgetURL(e, "/offline"), id.VisitorToken, map[string]any{"name": "Ada", "email": "not-an-address",
			"message": "call me"}, &eb); code != http.StatusBadRequest || eb.Error.Field != "email" {
			t.Fatalf("offline with a bad address = %d %+v, want 400 on email", code, eb)
		}
		if code := do(t, http.MethodPost, n.widgetURL(e, "/offline"), id.VisitorToken, map[string]any{"name": "Ada", "email": "ada@example.com",
			"department_id": e.cards.ID, "message": "Please call me back <script>"}, nil); code != http.StatusCreated {
			t.Fatalf("offline = %d", code)
		}
		reader := e.agent("Rita", map[string][]string{"offline.view.all": nil})
		before := e.audit.count(audit.ActionVisitorPIIView)
		var list struct {
			OfflineMessages []chat.OfflineMessage `json:"offline_messages"`
		}
		if code := do(t, http.MethodGet, n.srv.URL+"/api/v1/chat/offline-messages", "", nil, &list, "X-Test-User", reader); code != http.StatusOK ||
			len(list.OfflineMessages) != 1 || list.OfflineMessages[0].Message != "Please call me back <script>" || list.OfflineMessages[0].Email != "ada@example.com" {
			t.Fatalf("offline list = %d %+v", code, list)
		}
		if n := e.audit.count(audit.ActionVisitorPIIView) - before; n != 1 {
			t.Fatalf("opening the offline list recorded %d visitor.view_pii events, want 1", n)
		}
		e.audit.setFail(true)
		if code := do(t, http.MethodGet, n.srv.URL+"/api/v1/chat/offline-messages", "", nil, nil, "X-Test-User", reader); code < 500 {
			t.Fatalf("offline list with the audit log failing = %d, want a refusal (fail closed)", code)
		}
		e.audit.setFail(false)
		var plain int64
		migratetest.Beneath(t, e.db).Gorm.Table("offline_messages").Where("body LIKE ? OR email LIKE ?", "%call me%", "%ada@%").Count(&plain)
		if plain != 0 {
			t.Fatal("offline message stored in clear")
		}
	})
}
