package chathttp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/chat"
)

// TestSiteRateLimits: a site's own rate limits are stored and read back through the settings API
// (absent, set, cleared), out-of-bounds values are refused with the field's path, and a visitor of
// the site is throttled at the site's limit with retry_after_ms while a visitor of another site,
// on the installation's limits, is not.
func TestSiteRateLimits(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		admin := e.agent("Admin", map[string][]string{"site.manage": nil})
		settings := n.srv.URL + "/api/v1/chat/sites/" + e.site.ID + "/settings"
		base := `"cookie_mode":"persistent","default_language":"en","file_max_bytes":1048576,"queue_timeout_seconds":300,"prechat":{"enabled":false}`
		put := func(t *testing.T, limits string) (int, json.RawMessage) {
			t.Helper()
			var raw json.RawMessage
			body := json.RawMessage(`{` + base + limits + `}`)
			return do(t, http.MethodPut, settings, "", body, &raw, "X-Test-User", admin), raw
		}
		get := func(t *testing.T) string {
			t.Helper()
			var raw json.RawMessage
			if code := do(t, http.MethodGet, settings, "", nil, &raw, "X-Test-User", admin); code != http.StatusOK {
				t.Fatalf("GET settings = %d %s", code, raw)
			}
			return string(raw)
		}
		t.Run("round trip", func(t *testing.T) {
			if got := get(t); !strings.Contains(got, `"rate_limits":null`) {
				t.Fatalf("default settings: %s, want rate_limits null", got)
			}
			for _, tt := range []struct{ name, limits, want string }{
				{"absent", ``, `"rate_limits":null`},
				{"null", `,"rate_limits":null`, `"rate_limits":null`},
				{"all zero", `,"rate_limits":{"messages_per_minute":0}`, `"rate_limits":null`},
				{"set", `,"rate_limits":{"messages_per_minute":6,"message_burst":2,"chats_per_hour":5}`,
					`"rate_limits":{"messages_per_minute":6,"message_burst":2,"chats_per_hour":5}`},
			} {
				t.Run(tt.name, func(t *testing.T) {
					if code, raw := put(t, tt.limits); code != http.StatusOK || !strings.Contains(string(raw), tt.want) {
						t.Fatalf("PUT = %d %s, want 200 with %s", code, raw, tt.want)
					}
					if got := get(t); !strings.Contains(got, tt.want) {
						t.Fatalf("GET = %s, want %s", got, tt.want)
					}
				})
			}
		})
		t.Run("out of bounds", func(t *testing.T) {
			for _, tt := range []struct{ limits, field string }{
				{`,"rate_limits":{"messages_per_minute":61}`, "rate_limits.messages_per_minute"},
				{`,"rate_limits":{"message_burst":-1}`, "rate_limits.message_burst"},
				{`,"rate_limits":{"chats_per_hour":1000}`, "rate_limits.chats_per_hour"},
			} {
				code, raw := put(t, tt.limits)
				var eb errBody
				_ = json.Unmarshal(raw, &eb)
				if code != http.StatusUnprocessableEntity && code != http.StatusBadRequest || eb.Error.Field != tt.field {
					t.Fatalf("PUT %s = %d %s, want a field error on %s", tt.limits, code, raw, tt.field)
				}
			}
			// The refused values changed nothing.
			if got := get(t); !strings.Contains(got, `"message_burst":2`) {
				t.Fatalf("GET after refusals = %s, want the stored limits", got)
			}
		})
		t.Run("throttles only the site's visitors", func(t *testing.T) {
			tight := openChat(t, e, n)
			other, err := e.tenants.CreateSite(t.Context(), e.tenant.ID, "Other shop", []string{siteOrigin})
			if err != nil {
				t.Fatal(err)
			}
			tightSite := e.site
			e.site = other
			defer func() { e.site = tightSite }()
			calm := openChat(t, e, n)
			// The tight site allows 2 at once, then one every 10 s.
			for i := range 3 {
				tight.visitor.send(map[string]any{"type": "message", "key": fmt.Sprint("t-", i), "text": "hello"})
			}
			for i := range 2 {
				if f := tight.visitor.until("answer", func(f frame) bool { return f.Key == fmt.Sprint("t-", i) }); f.Type != "ack" {
					t.Fatalf("tight site's message %d got %+v, want an ack", i, f)
				}
			}
			f := tight.visitor.until("answer to t-2", func(f frame) bool { return f.Key == "t-2" })
			if f.Type != "error" || f.Code != "rate_limited" || f.RetryAfterMS < 9000 || f.RetryAfterMS > 10000 {
				t.Fatalf("tight site's 3rd message got %+v, want rate_limited with retry_after_ms about 10000", f)
			}
			// The other site keeps the installation's burst of 10.
			for i := range 5 {
				calm.visitor.send(map[string]any{"type": "message", "key": fmt.Sprint("c-", i), "text": "hello"})
				if f := calm.visitor.until("answer", func(f frame) bool { return f.Key == fmt.Sprint("c-", i) }); f.Type != "ack" {
					t.Fatalf("other site's message %d got %+v, want an ack", i, f)
				}
			}
			// Once the site keeps the installation's limits again, its visitor may send on.
			if code, raw := put(t, ``); code != http.StatusOK {
				t.Fatalf("clearing the limits = %d %s", code, raw)
			}
			tight.visitor.send(map[string]any{"type": "message", "key": "t-3", "text": "hello"})
			if f := tight.visitor.until("answer to t-3", func(f frame) bool { return f.Key == "t-3" }); f.Type != "ack" {
				t.Fatalf("after clearing, the message got %+v, want an ack", f)
			}
		})
	})
}
