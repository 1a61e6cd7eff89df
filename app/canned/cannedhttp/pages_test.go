package cannedhttp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestCannedPage goes through the console page as a browser does: list and search, add, edit and
// delete by form, field errors shown again without the card number, and the permission checks.
func TestCannedPage(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		_, refund := h.create("supervisor", "department", h.sales.ID, "refund", "Your refund is on its way.")
		agent := h.c["agent"]

		rec := agent.Do(http.MethodGet, "/canned", "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "/refund") || !strings.Contains(rec.Body.String(), "Sales") {
			t.Fatalf("GET /canned: %d %s", rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), `href="/canned/`+refund.ID+`"`) {
			t.Error("the agent is offered to edit the department's text")
		}
		if strings.Contains(rec.Body.String(), `value="shared"`) || strings.Contains(rec.Body.String(), `value="department"`) {
			t.Error("the agent is offered scopes they may not write")
		}
		if !strings.Contains(rec.Body.String(), `href="/canned"`) {
			t.Error("the navigation does not link the page")
		}

		rec = agent.PostForm("/canned", url.Values{"scope": {"personal"}, "shortcut": {"/hello"}, "title": {"Greeting"}, "body": {"Hello {visitor_name}!"}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/canned?notice=created" {
			t.Fatalf("add: %d %s", rec.Code, rec.Body)
		}
		rec = agent.Do(http.MethodGet, "/canned?q=greet", "")
		if !strings.Contains(rec.Body.String(), "/hello") || strings.Contains(rec.Body.String(), "/refund") {
			t.Errorf("search greet: %s", rec.Body)
		}

		rec = agent.PostForm("/canned", url.Values{"scope": {"personal"}, "shortcut": {"card"}, "title": {"Card"}, "body": {"Pay with 4111 1111 1111 1111 please"}})
		if rec.Code != http.StatusUnprocessableEntity || strings.Contains(rec.Body.String(), "4111 1111 1111 1111") ||
			!strings.Contains(rec.Body.String(), "1111") || !strings.Contains(rec.Body.String(), "canned-body-error") {
			t.Errorf("card number: %d, want 422 with the field error and the number masked; %s", rec.Code, rec.Body)
		}
		if n := len(h.a.AuditEvents(h.tenant.ID, audit.ActionCardRefused)); n != 1 {
			t.Errorf("%d card refusals audited, want 1", n)
		}
		rec = agent.PostForm("/canned", url.Values{"scope": {"personal"}, "shortcut": {"hello"}, "title": {"Again"}, "body": {"x"}})
		if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "canned-shortcut-error") {
			t.Errorf("taken shortcut: %d", rec.Code)
		}
		rec = agent.PostForm("/canned", url.Values{"scope": {"shared"}, "shortcut": {"bye"}, "title": {"Bye"}, "body": {"Bye"}})
		if rec.Code != http.StatusForbidden {
			t.Errorf("agent adds a shared text by form: %d, want 403", rec.Code)
		}

		sup := h.c["supervisor"]
		rec = sup.Do(http.MethodGet, "/canned/"+refund.ID, "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Your refund is on its way.") {
			t.Fatalf("edit page: %d %s", rec.Code, rec.Body)
		}
		if rec = agent.Do(http.MethodGet, "/canned/"+refund.ID, ""); rec.Code != http.StatusForbidden {
			t.Errorf("agent opens the department text's edit page: %d, want 403", rec.Code)
		}
		if rec = h.c["claims"].Do(http.MethodGet, "/canned/"+refund.ID, ""); rec.Code != http.StatusNotFound {
			t.Errorf("another department's agent opens it: %d, want 404", rec.Code)
		}
		rec = sup.PostForm("/canned/"+refund.ID, url.Values{"shortcut": {"refund"}, "title": {"Refund"}, "body": {"Dear {name}"}})
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Unknown placeholder") {
			t.Errorf("unknown placeholder: %d", rec.Code)
		}
		rec = sup.PostForm("/canned/"+refund.ID, url.Values{"shortcut": {"refund"}, "title": {"Refund"}, "body": {"Refunded, {visitor_name}."}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("change: %d %s", rec.Code, rec.Body)
		}
		if rec = agent.PostForm("/canned/"+refund.ID+"/delete", url.Values{}); rec.Code != http.StatusForbidden {
			t.Errorf("agent deletes the department text: %d, want 403", rec.Code)
		}
		if rec = sup.PostForm("/canned/"+refund.ID+"/delete", url.Values{}); rec.Code != http.StatusSeeOther {
			t.Errorf("delete: %d", rec.Code)
		}
		if rec = h.c["auditor"].Do(http.MethodGet, "/canned", ""); rec.Code != http.StatusForbidden {
			t.Errorf("auditor: %d, want 403", rec.Code)
		}
		if got := len(h.a.AuditEvents(h.tenant.ID, audit.ActionCannedChange)); got != 1 {
			t.Errorf("%d changes audited, want 1", got)
		}
	})
}
