package chathttp_test

import (
	"net/http"
	"testing"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/audit"
)

// TestVisitorAgentExchange walks one conversation end to end with real WebSocket clients: the
// agent goes online, the visitor starts a chat, the agent is offered it and accepts, both sides
// exchange messages (each receiving every event once, in seq order, their own included), typing
// and read receipts cross, the agent ends the chat and the visitor answers the survey.
func TestVisitorAgentExchange(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		alice := e.fullAgent("Alice")
		ag, w := n.agentSocket(t, alice, nil)
		if w.Queue == nil && len(w.Conversations) != 0 {
			t.Fatalf("welcome = %+v, want an empty queue", w)
		}
		id := n.newVisitor(t, e)
		conv := n.start(t, e, id.VisitorToken, e.cards.ID, "Ada")
		if conv.Status != chat.StatusQueued || conv.LastSeq != 1 {
			t.Fatalf("started conversation = %+v, want queued at seq 1", conv)
		}
		offer := ag.until("offer", func(f frame) bool { return f.Type == "offer" })
		if offer.Offer.ConversationID != conv.ConversationID || offer.Offer.Visitor.Name != "Ada" || offer.Offer.DepartmentID != e.cards.ID {
			t.Fatalf("offer = %+v, want Ada's chat in Cards", offer.Offer)
		}
		vs := n.visitorSocket(t, e, id.VisitorToken, conv.ConversationID, 0)
		if started := vs.events(1)[0]; started.Seq != 1 || started.Event != "started" {
			t.Fatalf("replay = %+v, want the started event at seq 1", started)
		}

		ag.send(map[string]any{"type": "accept", "conversation_id": conv.ConversationID})
		ag.until("assigned", func(f frame) bool { return f.Type == "assigned" })
		evs := ag.events(2)
		if evs[0].Seq != 1 || evs[1].Seq != 2 || evs[1].Event != "joined" || evs[1].Sender.Name != "Alice" {
			t.Fatalf("agent replay = %+v, want started(1), joined(2) by Alice", evs)
		}
		if j := vs.events(1)[0]; j.Seq != 2 || j.Event != "joined" || j.Sender.Name != "Alice" {
			t.Fatalf("visitor got %+v, want Alice joined at seq 2", j)
		}

		vs.send(map[string]any{"type": "message", "key": "v-1", "text": "Hello <b>there</b>\u202E"})
		ack := vs.until("ack", func(f frame) bool { return f.Type == "ack" })
		if ack.Seq != 3 || ack.Key != "v-1" || ack.Duplicate {
			t.Fatalf("ack = %+v, want seq 3 for v-1", ack)
		}
		own := vs.events(1)[0]
		if own.Seq != 3 || own.Key != "v-1" || own.Text != "Hello <b>there</b>" {
			t.Fatalf("visitor's own event = %+v, want seq 3 with its key and sanitized text", own)
		}
		got := ag.events(1)[0]
		if got.Seq != 3 || got.Key != "" || got.Text != "Hello <b>there</b>" || got.Sender.Kind != "visitor" || got.Sender.Name != "Ada" {
			t.Fatalf("agent got %+v, want Ada's message at seq 3 without the visitor's key", got)
		}

		ag.send(map[string]any{"type": "typing", "conversation_id": conv.ConversationID, "typing": true})
		if ty := vs.until("typing", func(f frame) bool { return f.Type == "typing" }); !ty.Typing || ty.SenderKind != "agent" {
			t.Fatalf("typing = %+v, want agent typing", ty)
		}
		ag.send(map[string]any{"type": "message", "conversation_id": conv.ConversationID, "key": "a-1", "text": "Hi Ada, how can I help?"})
		if a := ag.until("ack", func(f frame) bool { return f.Type == "ack" }); a.Seq != 4 {
			t.Fatalf("agent ack = %+v, want seq 4", a)
		}
		if r := vs.events(1)[0]; r.Seq != 4 || r.Text != "Hi Ada, how can I help?" || r.Sender.Name != "Alice" {
			t.Fatalf("visitor got %+v, want Alice's answer at seq 4", r)
		}
		vs.send(map[string]any{"type": "read", "seq": 4})
		if rd := ag.until("read", func(f frame) bool { return f.Type == "read" }); rd.Seq != 4 || rd.ReaderKind != "visitor" {
			t.Fatalf("read receipt = %+v, want visitor read 4", rd)
		}

		ag.send(map[string]any{"type": "end", "conversation_id": conv.ConversationID})
		if f := ag.until("x", func(f frame) bool { return f.Type == "error" || f.Event == "ended" }); f.Type == "error" {
			t.Fatalf("end refused: %+v", f)
		}
		if end := vs.events(1)[0]; end.Event != "ended" || end.Seq != 5 {
			t.Fatalf("visitor got %+v, want ended at seq 5", end)
		}
		var eb errBody
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats/"+conv.ConversationID+"/messages"), id.VisitorToken,
			map[string]any{"key": "v-2", "text": "wait"}, &eb); code != http.StatusConflict || eb.Error.Code != "conversation_ended" {
			t.Fatalf("message after end: %d %s, want 409 conversation_ended", code, eb.Error.Code)
		}
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats/"+conv.ConversationID+"/survey"), id.VisitorToken,
			map[string]any{"rating": 5, "comment": "Quick and kind"}, nil); code != http.StatusNoContent {
			t.Fatalf("survey: %d, want 204", code)
		}
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats/"+conv.ConversationID+"/survey"), id.VisitorToken,
			map[string]any{"rating": 4}, &eb); code != http.StatusConflict || eb.Error.Code != "survey_submitted" {
			t.Fatalf("second survey: %d %s, want 409 survey_submitted", code, eb.Error.Code)
		}

		for _, a := range []audit.Action{audit.ActionConversationStart, audit.ActionConversationAssign, audit.ActionConversationEnd} {
			if n := e.audit.count(a); n != 1 {
				t.Errorf("audit records of %s = %d, want 1", a, n)
			}
		}
		_ = protocol.Version
	})
}
