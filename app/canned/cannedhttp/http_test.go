package cannedhttp_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/canned"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// create posts a canned message as user and returns the answer's status and message.
func (h *harness) create(user, scope, dept, shortcut, body string) (int, canned.Message) {
	h.t.Helper()
	in := fmt.Sprintf(`{"scope":%q,"department_id":%q,"shortcut":%q,"title":"Title of %s","body":%q}`, scope, dept, shortcut, shortcut, body)
	rec := h.c[user].Do(http.MethodPost, "/api/v1/canned", in)
	var m canned.Message
	if rec.Code == http.StatusCreated {
		m = accounttest.Decode[canned.Message](h.t, rec)
	}
	return rec.Code, m
}

// shortcuts returns the shortcuts GET /api/v1/canned answers user.
func (h *harness) shortcuts(user, query string) []string {
	h.t.Helper()
	rec := h.c[user].Do(http.MethodGet, "/api/v1/canned"+query, "")
	if rec.Code != http.StatusOK {
		h.t.Fatalf("GET /api/v1/canned%s as %s: %d %s", query, user, rec.Code, rec.Body)
	}
	var out []string
	for _, it := range accounttest.Decode[struct{ Items []canned.Item }](h.t, rec).Items {
		out = append(out, it.Scope+":"+it.Shortcut)
	}
	return out
}

// TestCannedScopes checks who may write and read which texts, per default role and scope.
func TestCannedScopes(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		steps := []struct {
			name, user, scope, dept, shortcut string
			status                            int
		}{
			{"agent personal", "agent", "personal", "", "hello", http.StatusCreated},
			{"agent personal again", "agent", "personal", "", "/hello", http.StatusConflict},
			{"supervisor personal same shortcut", "supervisor", "personal", "", "hello", http.StatusCreated},
			{"supervisor own department", "supervisor", "department", h.sales.ID, "refund", http.StatusCreated},
			{"supervisor other department", "supervisor", "department", h.claims.ID, "claim", http.StatusForbidden},
			{"supervisor shared", "supervisor", "shared", "", "bye", http.StatusForbidden},
			{"agent department", "agent", "department", h.sales.ID, "refund2", http.StatusForbidden},
			{"agent shared", "agent", "shared", "", "bye", http.StatusForbidden},
			{"owner shared", "owner", "shared", "", "bye", http.StatusCreated},
			{"admin any department", "admin", "department", h.claims.ID, "claim", http.StatusCreated},
			{"admin unknown department", "admin", "department", "00000000-0000-7000-8000-000000000999", "x", http.StatusBadRequest},
			{"auditor personal", "auditor", "personal", "", "mine", http.StatusForbidden},
			{"other tenant shared", "other", "shared", "", "bye", http.StatusCreated},
		}
		ids := map[string]string{}
		for _, s := range steps {
			code, m := h.create(s.user, s.scope, s.dept, s.shortcut, "Hello {visitor_name}, this is {agent_name}.")
			if code != s.status {
				t.Errorf("%s: status %d, want %d", s.name, code, s.status)
			}
			if code == http.StatusCreated {
				ids[s.user+":"+s.shortcut] = m.ID
			}
		}
		reads := []struct {
			user string
			want string
		}{
			{"agent", "department:refund personal:hello shared:bye"},
			{"supervisor", "department:refund personal:hello shared:bye"},
			{"claims", "department:claim shared:bye"},
			{"owner", "department:claim department:refund shared:bye"},
			{"other", "shared:bye"},
		}
		for _, r := range reads {
			got := h.shortcuts(r.user, "")
			if strings.Join(sorted(got), " ") != r.want {
				t.Errorf("%s reads %v, want %s", r.user, got, r.want)
			}
		}
		if rec := h.c["auditor"].Do(http.MethodGet, "/api/v1/canned", ""); rec.Code != http.StatusForbidden {
			t.Errorf("auditor GET: %d, want 403", rec.Code)
		}

		changes := []struct {
			name, user, method, id string
			status                 int
		}{
			{"agent changes a department text", "agent", http.MethodPut, ids["supervisor:refund"], http.StatusForbidden},
			{"agent changes another department's", "agent", http.MethodPut, ids["admin:claim"], http.StatusNotFound},
			{"agent changes another's personal", "agent", http.MethodPut, ids["supervisor:hello"], http.StatusNotFound},
			{"other tenant reads", "other", http.MethodGet, ids["owner:bye"], http.StatusNotFound},
			{"other tenant deletes", "other", http.MethodDelete, ids["owner:bye"], http.StatusNotFound},
			{"supervisor deletes the shared text", "supervisor", http.MethodDelete, ids["owner:bye"], http.StatusForbidden},
			{"malformed id", "agent", http.MethodGet, "not-an-id", http.StatusNotFound},
			{"agent reads a department text", "agent", http.MethodGet, ids["supervisor:refund"], http.StatusOK},
			{"agent changes their own", "agent", http.MethodPut, ids["agent:hello"], http.StatusOK},
			{"supervisor changes the department's", "supervisor", http.MethodPut, ids["supervisor:refund"], http.StatusOK},
			{"agent deletes their own", "agent", http.MethodDelete, ids["agent:hello"], http.StatusNoContent},
			{"deleted", "agent", http.MethodGet, ids["agent:hello"], http.StatusNotFound},
		}
		for _, c := range changes {
			body := ""
			if c.method == http.MethodPut {
				body = `{"shortcut":"changed","title":"Changed","body":"Changed text"}`
			}
			if rec := h.c[c.user].Do(c.method, "/api/v1/canned/"+c.id, body); rec.Code != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, rec.Code, rec.Body, c.status)
			}
		}

		for action, want := range map[audit.Action]int{audit.ActionCannedCreate: 5, audit.ActionCannedChange: 2, audit.ActionCannedDelete: 1} {
			evs := h.a.AuditEvents(h.tenant.ID, action)
			if len(evs) != want {
				t.Errorf("%s: %d audit events, want %d", action, len(evs), want)
			}
			for _, e := range evs {
				if e.Target.Kind != "canned_message" || e.Details["scope"] == "" || e.Details["shortcut"] == "" {
					t.Errorf("%s: event %+v lacks its target, scope or shortcut", action, e)
				}
				for _, v := range e.Details {
					if strings.Contains(v, "{visitor_name}") || strings.Contains(v, "Changed text") {
						t.Errorf("%s: the audit record holds the text: %+v", action, e.Details)
					}
				}
			}
		}
	})
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestCannedValidation checks bad input: each answers its code and field, card numbers are
// refused (and the refusal audited) and never stored.
func TestCannedValidation(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		long := strings.Repeat("x", 2001)
		tests := []struct {
			name, body  string
			code, field string
		}{
			{"bad scope", `{"scope":"team","shortcut":"a","title":"A","body":"B"}`, "invalid_request", "scope"},
			{"department without id", `{"scope":"department","shortcut":"a","title":"A","body":"B"}`, "invalid_request", "department_id"},
			{"shortcut with space", `{"scope":"personal","shortcut":"a b","title":"A","body":"B"}`, "invalid_request", "shortcut"},
			{"empty title", `{"scope":"personal","shortcut":"a","title":"","body":"B"}`, "invalid_request", "title"},
			{"long body", `{"scope":"personal","shortcut":"a","title":"A","body":"` + long + `"}`, "invalid_request", "body"},
			{"unknown placeholder", `{"scope":"personal","shortcut":"a","title":"A","body":"Dear {customer}"}`, "invalid_request", "body"},
			{"unknown field", `{"scope":"personal","shortcut":"a","title":"A","body":"B","html":"<b>"}`, "invalid_request", ""},
			{"not json", `{"scope":`, "invalid_json", ""},
			{"card in body", `{"scope":"personal","shortcut":"a","title":"A","body":"Use 4111 1111 1111 1111"}`, "card_number_not_allowed", "body"},
			{"card in title", `{"scope":"personal","shortcut":"a","title":"5500-0000-0000-0004","body":"B"}`, "card_number_not_allowed", "title"},
			{"card as shortcut", `{"scope":"personal","shortcut":"4111111111111111","title":"A","body":"B"}`, "card_number_not_allowed", "shortcut"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rec := h.c["agent"].Do(http.MethodPost, "/api/v1/canned", tt.body)
				code, field := accounttest.ErrorOf(t, rec)
				if rec.Code != http.StatusBadRequest || code != tt.code || (tt.field != "" && field != tt.field) {
					t.Errorf("%d %s/%s, want 400 %s/%s; body %s", rec.Code, code, field, tt.code, tt.field, rec.Body)
				}
				if strings.Contains(rec.Body.String(), "1111 1111") {
					t.Errorf("the answer holds the card number: %s", rec.Body)
				}
			})
		}
		_, m := h.create("agent", "personal", "", "ok", "Fine")
		rec := h.c["agent"].Do(http.MethodPut, "/api/v1/canned/"+m.ID, `{"shortcut":"ok","title":"A","body":"Card 4111111111111111 here"}`)
		if code, field := accounttest.ErrorOf(t, rec); rec.Code != http.StatusBadRequest || code != "card_number_not_allowed" || field != "body" {
			t.Errorf("change with a card number: %d %s %s", rec.Code, code, field)
		}
		if n := len(h.a.AuditEvents(h.tenant.ID, audit.ActionCardRefused)); n != 4 {
			t.Errorf("%d card refusals audited, want 4", n)
		}
		var stored int64
		if err := migratetest.Beneath(t, db).Gorm.Raw(`SELECT COUNT(*) FROM canned_messages WHERE body LIKE '%4111%' OR title LIKE '%0004%' OR shortcut LIKE '%4111%'`).Scan(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if stored != 0 {
			t.Errorf("%d rows hold a card number", stored)
		}
	})
}

// TestCannedComposer checks the composer's search: ranking, the limit and placeholders filled
// in for a conversation the agent may see (404 for any other).
func TestCannedComposer(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		h.create("supervisor", "department", h.sales.ID, "refund", "Hello {visitor_name}, {agent_name} here: your refund is on its way.")
		h.create("owner", "shared", "", "greet-refund", "Hi {visitor_name}!")
		h.create("agent", "personal", "", "thanks", "Thanks for waiting, {visitor_name}.")
		for i := range 25 {
			h.create("agent", "personal", "", fmt.Sprintf("bulk%02d", i), "Bulk")
		}
		if got := h.shortcuts("agent", "?q=%2Fref"); strings.Join(got, " ") != "department:refund shared:greet-refund" {
			t.Errorf("search /ref = %v, want the shortcut that starts with it first", got)
		}
		// Thirty texts whose bodies hold "zz" sort before the shortcut "zz-top"; the one whose
		// shortcut starts with "zz" still comes first.
		for i := range 30 {
			h.create("agent", "personal", "", fmt.Sprintf("a%02d", i), "zz")
		}
		h.create("agent", "personal", "", "zz-top", "Top")
		if got := h.shortcuts("agent", "?q=zz"); len(got) != canned.MaxSuggestions || got[0] != "personal:zz-top" {
			t.Errorf("search zz = %v, want personal:zz-top first of %d", got, canned.MaxSuggestions)
		}
		if got := h.shortcuts("agent", "?q=WAITING"); strings.Join(got, " ") != "personal:thanks" {
			t.Errorf("search in bodies = %v", got)
		}
		if got := h.shortcuts("agent", "?q=100%25_"); len(got) != 0 {
			t.Errorf("LIKE wildcards matched: %v", got)
		}
		if got := h.shortcuts("agent", ""); len(got) != canned.MaxSuggestions {
			t.Errorf("%d items, want at most %d", len(got), canned.MaxSuggestions)
		}
		rec := h.c["agent"].Do(http.MethodGet, "/api/v1/canned?q="+strings.Repeat("a", 101), "")
		if code, field := accounttest.ErrorOf(t, rec); rec.Code != http.StatusBadRequest || field != "q" {
			t.Errorf("long search: %d %s %s", rec.Code, code, field)
		}

		mine := h.conversation(h.sales.ID, "Dana", "agent")
		anonymous := h.conversation(h.sales.ID, "", "")
		claims := h.conversation(h.claims.ID, "Eve", "claims")
		body := func(user, conv, q string) (int, string) {
			rec := h.c[user].Do(http.MethodGet, "/api/v1/canned?q="+q+"&conversation="+conv, "")
			if rec.Code != http.StatusOK {
				return rec.Code, ""
			}
			items := accounttest.Decode[struct{ Items []canned.Item }](t, rec).Items
			if len(items) == 0 {
				return rec.Code, ""
			}
			return rec.Code, items[0].Body
		}
		if code, got := body("agent", mine, "refund"); code != http.StatusOK || got != "Hello Dana, Agent here: your refund is on its way." {
			t.Errorf("expanded for the agent's chat: %d %q", code, got)
		}
		if code, got := body("agent", anonymous, "thanks"); code != http.StatusOK || got != "Thanks for waiting, there." {
			t.Errorf("expanded for a queued chat without a name: %d %q", code, got)
		}
		for _, c := range []struct{ user, conv string }{{"agent", claims}, {"other", mine}, {"agent", "00000000-0000-7000-8000-000000000777"}, {"agent", "bogus"}} {
			if code, _ := body(c.user, c.conv, ""); code != http.StatusNotFound {
				t.Errorf("%s with conversation %s: %d, want 404", c.user, c.conv, code)
			}
		}
		if code, got := body("supervisor", mine, "refund"); code != http.StatusOK || !strings.Contains(got, "Dana") {
			t.Errorf("the supervisor (chat.monitor in Sales): %d %q", code, got)
		}
	})
}
