package chathttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/chat/chathttp"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestThroughTheApplication runs a conversation through the application exactly as `parley
// serve` assembles it (app.New): a real agent signs in with the default agent role, its session
// cookie opens the agent socket (RBAC decides chat.accept), the visitor chats through the widget
// API, and the message is sealed by the configured key provider.
func TestThroughTheApplication(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			a := accounttest.New(t, migratetest.Open(t, d), nil)
			const password = "correct horse battery staple 42"
			ten, _ := a.CreateUser("Acme Bank", "alice@acme.test", password, "agent", false)
			ctx := context.Background()
			site, err := a.Tenants.CreateSite(ctx, ten.ID, "Shop", []string{siteOrigin})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Tenants.CreateDepartment(ctx, ten.ID, "Cards"); err != nil {
				t.Fatal(err)
			}
			browser := a.Client("203.0.113.7:5000")
			if rec := browser.Login(ten.Slug, "alice@acme.test", password, nil); rec.Code != http.StatusOK {
				t.Fatalf("agent sign-in = %d %s", rec.Code, rec.Body.String())
			}
			session := browser.Cookie(a.AccountSessions.CookieName())
			if session == nil {
				t.Fatal("no session cookie after sign-in")
			}
			ts := httptest.NewServer(a.Server.Echo)
			defer ts.Close()
			defer func() { _ = a.Chat.Shutdown(ctx) }()

			ag, code := dial(t, ts.URL+"/api/v1/chat/agent/ws", http.Header{"Origin": {"http://parley.test"},
				"Cookie": {session.Name + "=" + session.Value}})
			if ag == nil {
				t.Fatalf("agent socket = %d, want an upgrade for a signed-in agent", code)
			}
			ag.send(map[string]any{"type": "hello", "conversations": map[string]int64{}})
			if w := ag.next(); w.Type != "welcome" {
				t.Fatalf("agent got %+v, want welcome", w)
			}
			if c, code := dial(t, ts.URL+"/api/v1/chat/agent/ws", http.Header{"Origin": {"http://parley.test"}}); c != nil || code != http.StatusUnauthorized {
				t.Fatalf("agent socket without a session = %d, want 401", code)
			}

			base := ts.URL + "/api/v1/widget/sites/" + site.SiteKey
			var id chathttp.Identity
			if code := do(t, http.MethodPost, base+"/pageviews", "", map[string]any{"url": siteOrigin + "/"}, &id); code != http.StatusOK {
				t.Fatalf("page view = %d", code)
			}
			var conv struct {
				ConversationID string `json:"conversation_id"`
			}
			var eb errBody
			if code := do(t, http.MethodPost, base+"/chats", id.VisitorToken, map[string]any{"name": "Ada"}, &conv); code != http.StatusCreated {
				do(t, http.MethodPost, base+"/chats", id.VisitorToken, map[string]any{"name": "Ada"}, &eb)
				t.Fatalf("start = %d %+v", code, eb)
			}
			ag.until("offer", func(f frame) bool { return f.Type == "offer" })
			ag.send(map[string]any{"type": "accept", "conversation_id": conv.ConversationID})
			ag.until("assigned", func(f frame) bool { return f.Type == "assigned" })

			vs, code := dial(t, base+"/ws", http.Header{"Origin": {siteOrigin}})
			if vs == nil {
				t.Fatalf("visitor socket = %d", code)
			}
			vs.send(map[string]any{"type": "hello", "token": id.VisitorToken, "conversation_id": conv.ConversationID, "last_seq": 0})
			vs.until("welcome", func(f frame) bool { return f.Type == "welcome" })
			vs.send(map[string]any{"type": "message", "key": "v-1", "text": "card 4111 1111 1111 1111 please"})
			got := ag.until("message", func(f frame) bool { return f.Type == "event" && f.Kind == "message" })
			if got.Text == "card 4111 1111 1111 1111 please" || got.Sender.Name != "Ada" {
				t.Fatalf("agent got %+v, want Ada's message with the card number masked", got)
			}
			ag.send(map[string]any{"type": "message", "conversation_id": conv.ConversationID, "key": "a-1", "text": "Thanks, Ada."})
			if r := vs.until("answer", func(f frame) bool { return f.Type == "event" && f.Kind == "message" && f.Sender.Kind == "agent" }); r.Text != "Thanks, Ada." {
				t.Fatalf("visitor got %+v", r)
			}
			var plain int64
			migratetest.Beneath(t, a.DB).Gorm.Table("conversation_events").Where("body LIKE ?", "%Thanks%").Count(&plain)
			if plain != 0 {
				t.Fatal("message stored in clear")
			}
		})
	}
}
