package chathttp_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/chathttp"
	"github.com/parleyhq/parley/app/chat/limit"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestRefusedBeforeUpgrade checks what the visitor socket refuses as plain HTTP, before any
// WebSocket exists: foreign or missing Origin, unknown or disabled site key, banned address.
func TestRefusedBeforeUpgrade(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		disabled, err := e.tenants.CreateSite(context.Background(), e.tenant.ID, "Old shop", []string{siteOrigin})
		if err != nil {
			t.Fatal(err)
		}
		migratetest.Beneath(t, e.db).Gorm.Exec("UPDATE sites SET enabled = ? WHERE id = ?", false, disabled.ID)
		wsURL := n.widgetURL(e, "/ws")
		tests := []struct {
			name   string
			url    string
			origin string
			want   int
		}{
			{"wrong origin", wsURL, "https://evil.example", http.StatusForbidden},
			{"origin of a look-alike", wsURL, "https://shop.example.evil.example", http.StatusForbidden},
			{"no origin", wsURL, "", http.StatusForbidden},
			{"unknown site", n.srv.URL + "/api/v1/widget/sites/site_aaaaaaaaaaaaaaaaaaaaaaaa/ws", siteOrigin, http.StatusNotFound},
			{"malformed site key", n.srv.URL + "/api/v1/widget/sites/x'--/ws", siteOrigin, http.StatusNotFound},
			{"disabled site", n.srv.URL + "/api/v1/widget/sites/" + disabled.SiteKey + "/ws", siteOrigin, http.StatusNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h := http.Header{}
				if tt.origin != "" {
					h.Set("Origin", tt.origin)
				}
				c, code := dial(t, tt.url, h)
				if c != nil || code != tt.want {
					t.Fatalf("dial = %d, want %d before upgrade", code, tt.want)
				}
			})
		}
		if code := do(t, http.MethodGet, n.srv.URL+"/api/v1/widget/sites/site_aaaaaaaaaaaaaaaaaaaaaaaa/config", "", nil, nil); code != http.StatusNotFound {
			t.Errorf("config of unknown site = %d, want 404", code)
		}
		// Parley's own origin (the widget iframe) is allowed.
		own, code := dial(t, wsURL, http.Header{"Origin": {"http://parley.test"}})
		if own == nil {
			t.Fatalf("own origin refused: %d", code)
		}
		// The agent socket only takes Parley's own origin.
		agent := e.fullAgent("Eve")
		if c, code := dial(t, n.srv.URL+"/api/v1/chat/agent/ws", http.Header{"Origin": {siteOrigin}, "X-Test-User": {agent}}); c != nil || code != http.StatusForbidden {
			t.Errorf("agent socket from a foreign origin = %d, want 403", code)
		}
		if c, code := dial(t, n.srv.URL+"/api/v1/chat/agent/ws", http.Header{"Origin": {"http://parley.test"}}); c != nil || code != http.StatusUnauthorized {
			t.Errorf("agent socket without a session = %d, want 401", code)
		}
		auditor := e.agent("Audrey", map[string][]string{"audit.view": nil})
		if c, code := dial(t, n.srv.URL+"/api/v1/chat/agent/ws", http.Header{"Origin": {"http://parley.test"}, "X-Test-User": {auditor}}); c != nil || code != http.StatusForbidden {
			t.Errorf("agent socket for a user without chat.accept = %d, want 403", code)
		}
	})
}

// TestBannedVisitor bans by address, network and visitor id: the refusal is the same polite
// chat_unavailable every time and reveals no reason; an expired ban no longer applies.
func TestBannedVisitor(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{PresenceTTL: 24 * time.Hour})
		admin := e.agent("Admin", map[string][]string{"ban.manage": nil})
		n.agentSocket(t, e.fullAgent("Carol"), nil) // an agent is online, so chats may start
		id := n.newVisitor(t, e)
		conv := n.start(t, e, id.VisitorToken, e.cards.ID, "Mallory")

		var ban chat.Ban
		if code := do(t, http.MethodPost, n.srv.URL+"/api/v1/chat/bans", "", map[string]any{"kind": "visitor", "value": visitorID(t, e, id),
			"reason": "abusive language"}, &ban, "X-Test-User", admin); code != http.StatusCreated {
			t.Fatalf("add ban: %d", code)
		}
		var eb errBody
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats"), id.VisitorToken, map[string]any{"department_id": e.cards.ID}, &eb); code != http.StatusForbidden || eb.Error.Code != "chat_unavailable" {
			t.Fatalf("start while banned: %d %s, want 403 chat_unavailable", code, eb.Error.Code)
		}
		c, _ := dial(t, n.widgetURL(e, "/ws"), http.Header{"Origin": {siteOrigin}})
		c.send(map[string]any{"type": "hello", "token": id.VisitorToken, "conversation_id": conv.ConversationID, "last_seq": 0})
		if code, reason := c.closed(); code != protocol.CloseUnavailable || reason != "chat_unavailable" || strings.Contains(reason, "abusive") {
			t.Fatalf("hello while banned closed with %d %q, want 4403 chat_unavailable", code, reason)
		}
		// End the open chat: a new start is refused politely.
		do(t, http.MethodPost, n.widgetURL(e, "/chats/"+conv.ConversationID+"/end"), id.VisitorToken, nil, nil)
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats"), id.VisitorToken, map[string]any{"department_id": e.cards.ID}, &eb); code != http.StatusForbidden ||
			eb.Error.Code != "chat_unavailable" || strings.Contains(fmt.Sprint(eb), "abusive") {
			t.Fatalf("start while banned = %d %+v, want 403 chat_unavailable without the reason", code, eb)
		}

		// An address ban (127.0.0.0/8 covers the test client) refuses the socket before the upgrade.
		other := n.newVisitor(t, e)
		exp := e.clock.Now().Add(time.Hour)
		if code := do(t, http.MethodPost, n.srv.URL+"/api/v1/chat/bans", "", map[string]any{"kind": "cidr", "value": "127.0.0.0/8",
			"expires_at": exp}, &ban, "X-Test-User", admin); code != http.StatusCreated {
			t.Fatalf("add cidr ban: %d", code)
		}
		if c, code := dial(t, n.widgetURL(e, "/ws"), http.Header{"Origin": {siteOrigin}}); c != nil || code != http.StatusForbidden {
			t.Fatalf("socket from a banned network = %d, want 403 before upgrade", code)
		}
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats"), other.VisitorToken, map[string]any{"department_id": e.cards.ID}, &eb); code != http.StatusForbidden {
			t.Fatalf("start from a banned network = %d, want 403", code)
		}
		e.clock.Advance(2 * time.Hour)
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats"), other.VisitorToken, map[string]any{"department_id": e.cards.ID}, &eb); code != http.StatusCreated {
			t.Fatalf("start after the ban expired = %d %s, want 201", code, eb.Error.Code)
		}
		var list struct{ Bans []chat.Ban }
		do(t, http.MethodGet, n.srv.URL+"/api/v1/chat/bans", "", nil, &list, "X-Test-User", admin)
		if len(list.Bans) != 2 {
			t.Fatalf("ban list has %d entries, want 2", len(list.Bans))
		}
		if code := do(t, http.MethodDelete, n.srv.URL+"/api/v1/chat/bans/"+list.Bans[0].ID, "", nil, nil, "X-Test-User", admin); code != http.StatusNoContent {
			t.Fatalf("remove ban = %d", code)
		}
		if audited := e.audit.count(audit.ActionBanListChange); audited != 3 {
			t.Errorf("audited ban list changes = %d, want 3", audited)
		}
	})
}

// visitorID returns the visitor id of an identity.
func visitorID(t *testing.T, _ *env, id chathttp.Identity) string {
	t.Helper()
	return id.VisitorID
}

// TestFloodThrottled floods messages from one visitor: after the burst the server answers
// rate_limited error frames (nothing stored), then closes with 4429; another visitor on the same
// address chats on unaffected.
func TestFloodThrottled(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{VisitorMessages: limit.Every(time.Second, 5), ThrottleStrikes: 10})
		flood := openChat(t, e, n)
		calm := openChat(t, e, n)
		// 5 within the budget, then 11 refused: the 11th strike closes the socket. Sending more
		// would race the close (a write after it fails).
		for i := range 5 + 10 + 1 {
			flood.visitor.send(map[string]any{"type": "message", "key": fmt.Sprint("f-", i), "text": "spam"})
		}
		acks, throttled := 0, 0
		for {
			f, ok := <-flood.visitor.ch
			if !ok {
				break
			}
			switch {
			case f.Type == "ack":
				acks++
			case f.Type == "error" && f.Code == "rate_limited":
				throttled++
				if f.RetryAfterMS <= 0 || f.Key == "" {
					t.Fatalf("throttle frame %+v lacks retry_after_ms or key", f)
				}
			}
		}
		if code, reason := flood.visitor.closeStatus(); code != protocol.CloseRateLimited || reason != "rate_limited" {
			t.Fatalf("flooder closed with %d %q, want 4429 rate_limited", code, reason)
		}
		if acks != 5 || throttled != 10 {
			t.Fatalf("flooder got %d acks and %d throttle frames, want 5 and 10 (the 11th closes)", acks, throttled)
		}
		var stored int64
		migratetest.Beneath(t, e.db).Gorm.Table("conversation_events").Where("conversation_id = ? AND kind = 'message'", flood.conv).Count(&stored)
		if stored != 5 {
			t.Fatalf("stored %d flood messages, want 5", stored)
		}
		calm.visitor.send(map[string]any{"type": "message", "key": "c-1", "text": "hello"})
		if ack := calm.visitor.until("ack", func(f frame) bool { return f.Type == "ack" || f.Type == "error" }); ack.Type != "ack" {
			t.Fatalf("other visitor got %+v, want an ack", ack)
		}
		// Long poll is throttled too, with 429 and Retry-After.
		var eb errBody
		for i := range 3 {
			code := do(t, http.MethodPost, n.widgetURL(e, "/chats/"+flood.conv+"/messages"), flood.id.VisitorToken,
				map[string]any{"key": fmt.Sprint("lp-", i), "text": "spam"}, &eb)
			if code != http.StatusTooManyRequests || eb.Error.Code != api.ErrRateLimited.Code {
				t.Fatalf("long-poll flood = %d %s, want 429 rate_limited", code, eb.Error.Code)
			}
		}
	})
}

// TestThrottledClientThatWaitsStaysOpen throttles a visitor many more times than
// ThrottleStrikes, but each time the client waits the retry_after_ms it was given (and the strike
// decay) before re-sending the refused message: its strikes leak away and the socket stays open.
func TestThrottledClientThatWaitsStaysOpen(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		const strikes, decay = 3, 2 * time.Second
		n := e.node(e.db, chat.Limits{VisitorMessages: limit.Every(time.Second, 1), ThrottleStrikes: strikes, ThrottleStrikeDecay: decay})
		ch := openChat(t, e, n)
		rounds := 4 * strikes
		resend := "k-first"
		for i := range rounds {
			// The refused message of the last round goes again, and a new one right behind it.
			next := fmt.Sprint("k-", i)
			ch.visitor.send(map[string]any{"type": "message", "key": resend, "text": "hello"})
			ch.visitor.send(map[string]any{"type": "message", "key": next, "text": "hello"})
			if f := ch.visitor.until("answer to "+resend, func(f frame) bool { return f.Key == resend }); f.Type != "ack" {
				t.Fatalf("round %d: re-sent %s got %+v, want an ack", i, resend, f)
			}
			f := ch.visitor.until("answer to "+next, func(f frame) bool { return f.Key == next })
			if f.Type != "error" || f.Code != "rate_limited" || f.RetryAfterMS <= 0 {
				t.Fatalf("round %d: %s got %+v, want rate_limited with retry_after_ms", i, next, f)
			}
			e.clock.Advance(max(time.Duration(f.RetryAfterMS)*time.Millisecond, decay))
			resend = next
		}
		ch.visitor.send(map[string]any{"type": "message", "key": resend, "text": "hello"})
		if f := ch.visitor.until("answer to "+resend, func(f frame) bool { return f.Key == resend }); f.Type != "ack" {
			t.Fatalf("last re-send got %+v, want an ack", f)
		}
		if code, reason := ch.visitor.closeStatus(); code != 0 {
			t.Fatalf("socket closed with %d %q after %d throttles, want open", code, reason, rounds)
		}
		var stored int64
		migratetest.Beneath(t, e.db).Gorm.Table("conversation_events").Where("conversation_id = ? AND kind = 'message'", ch.conv).Count(&stored)
		if want := int64(rounds + 1); stored != want {
			t.Fatalf("stored %d messages, want %d (each refused one once, on its re-send)", stored, want)
		}
	})
}

// TestMalformedFrames closes the socket with a code and reason that say what was wrong.
func TestMalformedFrames(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{HelloTimeout: 300 * time.Millisecond})
		e.fullAgent("Dan")
		ch := openChat(t, e, n)
		big := `{"type":"message","key":"k","text":"` + strings.Repeat("x", protocol.MaxFrameBytes) + `"}`
		tests := []struct {
			name   string
			hello  bool
			send   func(c *client)
			code   websocket.StatusCode
			reason string
		}{
			{"first frame not hello", false, func(c *client) { c.send(map[string]any{"type": "ping"}) }, protocol.CloseHelloRequired, "hello_required"},
			{"no hello at all", false, func(*client) {}, protocol.CloseHelloTimeout, "hello_timeout"},
			{"invalid json", true, func(c *client) { raw(c, websocket.MessageText, `{"type":`) }, protocol.CloseBadFrame, "bad_frame: invalid JSON"},
			{"unknown type", true, func(c *client) { raw(c, websocket.MessageText, `{"type":"sudo"}`) }, protocol.CloseBadFrame, `bad_frame: unknown type "sudo"`},
			{"unknown field", true, func(c *client) { raw(c, websocket.MessageText, `{"type":"typing","typing":true,"x":1}`) }, protocol.CloseBadFrame, `bad_frame: unknown field "x"`},
			{"binary frame", true, func(c *client) { raw(c, websocket.MessageBinary, `{"type":"ping"}`) }, websocket.StatusUnsupportedData, "binary_frame"},
			{"oversized frame", true, func(c *client) { raw(c, websocket.MessageText, big) }, websocket.StatusMessageTooBig, ""},
			{"second hello", true, func(c *client) {
				c.send(map[string]any{"type": "hello", "token": ch.id.VisitorToken, "conversation_id": ch.conv, "last_seq": 0})
			}, protocol.CloseHelloRequired, "hello_required"},
			{"bad token", false, func(c *client) {
				c.send(map[string]any{"type": "hello", "token": "vt_" + strings.Repeat("A", 43), "conversation_id": ch.conv, "last_seq": 0})
			}, protocol.CloseUnauthenticated, "unauthenticated"},
			{"someone else's conversation", false, func(c *client) {
				other := n.newVisitor(t, e)
				c.send(map[string]any{"type": "hello", "token": other.VisitorToken, "conversation_id": ch.conv, "last_seq": 0})
			}, protocol.CloseNotFound, "not_found"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var c *client
				if tt.hello {
					c = n.visitorSocket(t, e, ch.id.VisitorToken, ch.conv, ch.seq)
				} else {
					c, _ = dial(t, n.widgetURL(e, "/ws"), http.Header{"Origin": {siteOrigin}})
				}
				tt.send(c)
				code, reason := c.closed()
				if code != tt.code || (tt.reason != "" && reason != tt.reason) {
					t.Fatalf("closed with %d %q, want %d %q", code, reason, tt.code, tt.reason)
				}
			})
		}
		// The conversation and its other sockets are unaffected.
		ch.visitor.send(map[string]any{"type": "message", "key": "after", "text": "still here"})
		if f := ch.agent.events(1)[0]; f.Text != "still here" {
			t.Fatalf("agent got %+v after the bad frames, want the next message", f)
		}
	})
}

func raw(c *client, typ websocket.MessageType, s string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.conn.Write(ctx, typ, []byte(s))
}
