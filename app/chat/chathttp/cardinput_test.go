package chathttp_test

import (
	"net/http"
	"testing"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestCardNumberKeysRefused sends message keys that hold a card number over the visitor's and the
// agent's socket and the long-poll API: each is answered card_number_not_allowed naming the key
// (the socket stays open, the key is not echoed), nothing is stored, and a clean key still works.
func TestCardNumberKeysRefused(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		keys := []string{"4111111111111111", "k-5500-0000-0000-0004", "3400.0000.0000.009", "6011 0000 0000 0004"}
		for _, key := range keys {
			ch.visitor.send(map[string]any{"type": "message", "key": key, "text": "hello"})
			f := ch.visitor.until("error", func(f frame) bool { return f.Type == "error" })
			if f.Code != "card_number_not_allowed" || f.Field != "key" || f.Key != "" {
				t.Fatalf("visitor key %q: frame %+v, want card_number_not_allowed on key without the key", key, f)
			}
			ch.agent.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": key, "text": "hello"})
			f = ch.agent.until("error", func(f frame) bool { return f.Type == "error" })
			if f.Code != "card_number_not_allowed" || f.Field != "key" || f.Key != "" {
				t.Fatalf("agent key %q: frame %+v, want card_number_not_allowed on key without the key", key, f)
			}
			var eb errBody
			code := do(t, http.MethodPost, n.widgetURL(e, "/chats/"+ch.conv+"/messages"), ch.id.VisitorToken,
				map[string]any{"key": key, "text": "hello"}, &eb)
			if code != http.StatusBadRequest || eb.Error.Code != "card_number_not_allowed" || eb.Error.Field != "key" {
				t.Fatalf("long-poll key %q: %d %+v, want 400 card_number_not_allowed on key", key, code, eb)
			}
		}
		ch.visitor.send(map[string]any{"type": "message", "key": "v-1", "text": "still here"})
		if ack := ch.visitor.until("ack", func(f frame) bool { return f.Type == "ack" }); ack.Key != "v-1" {
			t.Fatalf("ack = %+v, want v-1 acked after the refusals", ack)
		}
		var stored []string
		if err := migratetest.Beneath(t, e.db).Gorm.Raw("SELECT idempotency_key FROM conversation_events WHERE idempotency_key IS NOT NULL").Scan(&stored).Error; err != nil {
			t.Fatal(err)
		}
		for _, k := range stored {
			if pan.Contains(k) {
				t.Errorf("stored idempotency key %q holds a card number", k)
			}
		}
	})
}

// TestCardNumberInputsOverAPI covers the chat's other inputs stored in clear: ban values (refused),
// ban reasons (masked), language tags (dropped to the site default) and site settings.
func TestCardNumberInputsOverAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		admin := e.agent("Admin", map[string][]string{"ban.manage": nil, "site.manage": nil})
		bans := []struct {
			kind, value string
			code, field string
		}{
			{"visitor", "4111111111111111", "card_number_not_allowed", "value"},
			{"ip", "4111-1111-1111-1111", "card_number_not_allowed", "value"},
			{"cidr", "5500 0000 0000 0004/24", "card_number_not_allowed", "value"},
			{"visitor", "mallory", "invalid_request", "value"},
			{"ip", "fe80::1%eth0", "invalid_request", "value"},
		}
		for _, b := range bans {
			var eb errBody
			code := do(t, http.MethodPost, n.srv.URL+"/api/v1/chat/bans", "", map[string]any{"kind": b.kind, "value": b.value}, &eb, "X-Test-User", admin)
			if code != http.StatusBadRequest || eb.Error.Code != b.code || eb.Error.Field != b.field {
				t.Errorf("ban %s %q = %d %+v, want 400 %s on %s", b.kind, b.value, code, eb, b.code, b.field)
			}
		}
		var ban chat.Ban
		if code := do(t, http.MethodPost, n.srv.URL+"/api/v1/chat/bans", "", map[string]any{"kind": "ip", "value": "203.0.113.7",
			"reason": "pasted 4111 1111 1111 1111"}, &ban, "X-Test-User", admin); code != http.StatusCreated || pan.Contains(ban.Reason) {
			t.Fatalf("ban with a card number in its reason = %d %+v, want 201 with the reason masked", code, ban)
		}

		var set chat.Settings
		if code := do(t, http.MethodGet, n.srv.URL+"/api/v1/chat/sites/"+e.site.ID+"/settings", "", nil, &set, "X-Test-User", admin); code != http.StatusOK {
			t.Fatalf("get settings: %d", code)
		}
		set.SensitiveParams = []string{"4111111111111111"}
		var eb errBody
		if code := do(t, http.MethodPut, n.srv.URL+"/api/v1/chat/sites/"+e.site.ID+"/settings", "", set, &eb, "X-Test-User", admin); code != http.StatusBadRequest ||
			eb.Error.Code != "card_number_not_allowed" || eb.Error.Field != "sensitive_params" {
			t.Fatalf("settings with a card number as a parameter = %d %+v, want 400 card_number_not_allowed on sensitive_params", code, eb)
		}
		set.SensitiveParams = []string{"session"}
		set.DefaultLanguage = "de"
		set.Appearance.LauncherLabel = "Not 4111 1111 1111 1111"
		var saved chat.Settings
		if code := do(t, http.MethodPut, n.srv.URL+"/api/v1/chat/sites/"+e.site.ID+"/settings", "", set, &saved, "X-Test-User", admin); code != http.StatusOK ||
			pan.Contains(saved.Appearance.LauncherLabel) {
			t.Fatalf("settings with a card number in the launcher label = %d %+v, want 200 with it masked", code, saved.Appearance)
		}

		// A language tag that holds a card number must not fail the chat: it is dropped and the
		// site's default language (de) is kept instead.
		n.agentSocket(t, e.fullAgent("Carol"), nil)
		id := n.newVisitor(t, e)
		var c struct {
			ConversationID string `json:"conversation_id"`
			Language       string `json:"language"`
		}
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats"), id.VisitorToken, map[string]any{"department_id": e.cards.ID,
			"language": "x-41111111-11111111"}, &c); code != http.StatusCreated {
			t.Fatalf("start with a card number as language = %d, want 201", code)
		}
		var lang string
		if err := migratetest.Beneath(t, e.db).Gorm.Raw("SELECT language FROM conversations WHERE id = ?", c.ConversationID).Scan(&lang).Error; err != nil {
			t.Fatal(err)
		}
		if lang != "de" {
			t.Errorf("stored conversation language = %q, want the site default de", lang)
		}
	})
}
