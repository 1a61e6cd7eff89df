package chathttp_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
)

// panel is the visitor panel's answer, decoded loosely.
type panel struct {
	ConversationID string `json:"conversation_id"`
	Name, Email    string
	PII            bool
	Pages          []struct{ URL, Title string }
	Client         *struct{ Browser, CurrentURL string }
	Earlier        []struct{ ID, Status, Link string }
	EarlierCount   int `json:"earlier_count"`
	Survey         *struct{ Rating int }
}

// TestVisitorPanel: an agent of the conversation's department sees the visitor's name, page
// trail and browser with the e-mail masked; a supervisor with visitor.view_pii sees it unmasked,
// and that view is audited; an agent of another department is refused, an unknown conversation
// is 404. Earlier conversations are counted for everyone and listed (linked to their transcript)
// only with a transcript permission; the survey of an ended chat shows.
func TestVisitorPanel(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		agent := e.agent("Alice", map[string][]string{"chat.accept": {e.cards.ID}})
		super := e.agent("Sam", map[string][]string{"chat.accept": {e.cards.ID}, "visitor.view_pii": {e.cards.ID}, "transcript.view.all": nil})
		stranger := e.agent("Lena", map[string][]string{"chat.accept": {e.loans.ID}})
		ag, _ := n.agentSocket(t, agent, nil)
		v := n.newVisitor(t, e)
		start := func() string {
			var c struct {
				ConversationID string `json:"conversation_id"`
			}
			body := map[string]any{"department_id": e.cards.ID, "name": "Ada", "email": "ada@example.com"}
			if code := do(t, http.MethodPost, n.widgetURL(e, "/chats"), v.VisitorToken, body, &c); code != http.StatusCreated {
				t.Fatalf("start: %d", code)
			}
			return c.ConversationID
		}
		first := start()
		get := func(user, conv string, out any) int {
			return do(t, http.MethodGet, n.srv.URL+"/api/v1/chat/conversations/"+conv+"/visitor", "", nil, out, "X-Test-User", user)
		}
		var p panel
		if code := get(agent, first, &p); code != http.StatusOK {
			t.Fatalf("agent: status %d", code)
		}
		if p.Name != "Ada" || p.Email != "a•••@example.com" || p.PII {
			t.Errorf("agent sees name %q, e-mail %q (pii %v); want Ada and the masked address", p.Name, p.Email, p.PII)
		}
		if len(p.Pages) != 1 || !strings.HasSuffix(p.Pages[0].URL, "/cards") || p.Client == nil || p.Client.Browser == "" {
			t.Errorf("page trail %+v, client %+v; want the /cards page and a browser", p.Pages, p.Client)
		}
		if e.audit.count(audit.ActionVisitorPIIView) != 0 {
			t.Error("a masked view was audited as a PII view")
		}
		p = panel{}
		if code := get(super, first, &p); code != http.StatusOK || p.Email != "ada@example.com" || !p.PII {
			t.Errorf("supervisor: status %d, e-mail %q (pii %v); want it unmasked", code, p.Email, p.PII)
		}
		if got := e.audit.count(audit.ActionVisitorPIIView); got != 1 {
			t.Errorf("PII views audited = %d, want 1", got)
		}
		// The panel's refresh asks for the e-mail masked: nothing personal read, nothing audited.
		p = panel{}
		if code := do(t, http.MethodGet, n.srv.URL+"/api/v1/chat/conversations/"+first+"/visitor?mask=1", "", nil, &p, "X-Test-User", super); code != http.StatusOK || p.Email != "a•••@example.com" || p.PII {
			t.Errorf("masked refresh: status %d, e-mail %q (pii %v); want it masked", code, p.Email, p.PII)
		}
		if got := e.audit.count(audit.ActionVisitorPIIView); got != 1 {
			t.Errorf("PII views audited after a masked refresh = %d, want still 1", got)
		}
		if code := get(stranger, first, nil); code != http.StatusForbidden {
			t.Errorf("agent of another department: status %d, want 403", code)
		}
		if code := get(agent, "00000000-0000-7000-8000-000000000000", nil); code != http.StatusNotFound {
			t.Errorf("unknown conversation: status %d, want 404", code)
		}

		// The visitor ends the chat and rates it, then starts another.
		ag.until("offer", func(f frame) bool { return f.Type == "offer" })
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats/"+first+"/end"), v.VisitorToken, map[string]any{}, nil); code != http.StatusNoContent {
			t.Fatalf("end: %d", code)
		}
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats/"+first+"/survey"), v.VisitorToken, map[string]any{"rating": 4, "comment": "Fine"}, nil); code != http.StatusNoContent {
			t.Fatalf("survey: %d", code)
		}
		p = panel{}
		if get(agent, first, &p); p.Survey == nil || p.Survey.Rating != 4 {
			t.Errorf("survey = %+v, want rating 4", p.Survey)
		}
		e.clock.Advance(time.Minute)
		second := start()
		p = panel{}
		if get(agent, second, &p); p.EarlierCount != 1 || len(p.Earlier) != 0 {
			t.Errorf("agent without transcript permission: earlier %d listed %d, want 1 counted, none listed", p.EarlierCount, len(p.Earlier))
		}
		p = panel{}
		if get(super, second, &p); len(p.Earlier) != 1 || p.Earlier[0].ID != first || p.Earlier[0].Link != "/transcripts/"+first {
			t.Errorf("supervisor's earlier conversations = %+v, want the first, linked", p.Earlier)
		}
	})
}

// TestLiveJSON: the supervisor view lists the open chats of the departments where the user holds
// chat.monitor, with agent and wait, and nothing of another department; without chat.monitor the
// answer is 403.
func TestLiveJSON(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		super := e.agent("Sam", map[string][]string{"chat.monitor": {e.cards.ID}})
		agent := e.fullAgent("Alice")
		ag, _ := n.agentSocket(t, agent, nil)
		cards := n.start(t, e, n.newVisitor(t, e).VisitorToken, e.cards.ID, "Ada")
		n.start(t, e, n.newVisitor(t, e).VisitorToken, e.loans.ID, "Grace")
		e.clock.Advance(30 * time.Second)
		ag.until("offer", func(f frame) bool { return f.Type == "offer" && f.Offer.ConversationID == cards.ConversationID })
		ag.send(map[string]any{"type": "accept", "conversation_id": cards.ConversationID})
		ag.until("joined", func(f frame) bool { return f.Event == "joined" })
		var got struct {
			Chats []struct {
				ID, Status  string
				Agent       *struct{ ID, Name string }
				WaitSeconds int64 `json:"wait_seconds"`
			}
		}
		if code := do(t, http.MethodGet, n.srv.URL+"/api/v1/chat/live", "", nil, &got, "X-Test-User", super); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		if len(got.Chats) != 1 || got.Chats[0].ID != cards.ConversationID || got.Chats[0].Agent == nil || got.Chats[0].Agent.ID != agent ||
			got.Chats[0].WaitSeconds != 30 || got.Chats[0].Status != chat.StatusActive {
			t.Errorf("live chats = %+v; want the Cards chat, active with Alice after 30 s", got.Chats)
		}
		if code := do(t, http.MethodGet, n.srv.URL+"/api/v1/chat/live", "", nil, nil, "X-Test-User", agent); code != http.StatusForbidden {
			t.Errorf("without chat.monitor: status %d, want 403", code)
		}
	})
}
