package chathttp_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/chat"
)

// TestEmptyListsAnswerEmpty: a list or map with nothing in it answers [] or {}, never null, on
// every chat route that returns one (the OpenAPI check holds each answer to the document too).
func TestEmptyListsAnswerEmpty(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		admin := e.agent("Admin", map[string][]string{"site.manage": nil, "ban.manage": nil,
			"offline.view.all": nil, "offline.view.department": nil})
		ag, _ := n.agentSocket(t, e.fullAgent("Gina"), nil)
		visitor := n.newVisitor(t, e)
		conv := n.start(t, e, visitor.VisitorToken, e.cards.ID, "Ada")
		ag.until("offer", func(f frame) bool { return f.Type == "offer" })
		// Accepted, so that the long poll has no queue position to tell either.
		ag.send(map[string]any{"type": "accept", "conversation_id": conv.ConversationID})
		ag.until("assigned", func(f frame) bool { return f.Type == "assigned" })
		var first struct {
			LastSeq int64 `json:"last_seq"`
		}
		if code := do(t, http.MethodGet, n.widgetURL(e, "/chats/"+conv.ConversationID+"/events?after=0&wait=0"), visitor.VisitorToken, nil, &first); code != http.StatusOK {
			t.Fatalf("first poll = %d", code)
		}
		settings := n.srv.URL + "/api/v1/chat/sites/" + e.site.ID + "/settings"
		// No texts, no sensitive parameters, no pre-chat questions, business hours with no days.
		bare := json.RawMessage(`{"cookie_mode":"persistent","default_language":"en","file_max_bytes":1048576,` +
			`"queue_timeout_seconds":300,"prechat":{"enabled":true},"business_hours":{"timezone":"Europe/Zurich"}}`)
		tests := []struct {
			name   string
			method string
			url    string
			token  string
			body   any
			want   []string
		}{
			{name: "long poll with nothing new", method: http.MethodGet,
				url:   n.widgetURL(e, "/chats/"+conv.ConversationID+"/events?wait=0&after="+strconv.FormatInt(first.LastSeq, 10)),
				token: visitor.VisitorToken, want: []string{`"events":[]`, `"signals":[]`}},
			{name: "ban list", method: http.MethodGet, url: n.srv.URL + "/api/v1/chat/bans", want: []string{`"bans":[]`}},
			{name: "offline messages", method: http.MethodGet, url: n.srv.URL + "/api/v1/chat/offline-messages",
				want: []string{`"offline_messages":[]`}},
			{name: "offline messages of a department", method: http.MethodGet,
				url: n.srv.URL + "/api/v1/chat/departments/" + e.cards.ID + "/offline-messages", want: []string{`"offline_messages":[]`}},
			{name: "default settings", method: http.MethodGet, url: settings,
				want: []string{`"texts":{}`, `"sensitive_params":[]`, `"questions":[]`}},
			{name: "widget config without texts", method: http.MethodGet, url: n.widgetURL(e, "/config"),
				want: []string{`"languages":["en"]`, `"texts":{}`, `"questions":[]`}},
			{name: "settings stored without lists", method: http.MethodPut, url: settings, body: bare,
				want: []string{`"texts":{}`, `"sensitive_params":[]`, `"questions":[]`, `"days":{}`}},
			{name: "settings read back without lists", method: http.MethodGet, url: settings,
				want: []string{`"texts":{}`, `"sensitive_params":[]`, `"questions":[]`, `"days":{}`}},
			{name: "widget config after settings without lists", method: http.MethodGet, url: n.widgetURL(e, "/config"),
				want: []string{`"languages":["en"]`, `"texts":{}`, `"questions":[]`}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var raw json.RawMessage
				if code := do(t, tt.method, tt.url, tt.token, tt.body, &raw, "X-Test-User", admin); code != http.StatusOK {
					t.Fatalf("%s %s = %d %s, want 200", tt.method, tt.url, code, raw)
				}
				for _, want := range tt.want {
					if !strings.Contains(string(raw), want) {
						t.Errorf("answer lacks %s: %s", want, raw)
					}
				}
			})
		}
	})
}
