package chathttp_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestOfflineInbox goes through the offline-message inbox as a browser does, on both databases:
// scope per role and department, no content in the list, a message opened and audited as a
// personal data view, marked handled with a sealed, masked note, and the status filter.
func TestOfflineInbox(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newPageHarness(t, db)
		ctx := migrations.WithTenant(context.Background(), h.tenant.ID)
		sales, err := h.a.Tenants.CreateDepartment(ctx, h.tenant.ID, "Sales")
		if err != nil {
			t.Fatal(err)
		}
		claims, err := h.a.Tenants.CreateDepartment(ctx, h.tenant.ID, "Claims")
		if err != nil {
			t.Fatal(err)
		}
		_, salesAgent := h.a.CreateUser("Acme Bank", "sales@acme.test", pagePassword, "agent", false)
		by := authz.Actor{TenantID: h.tenant.ID, UserID: h.ownerID, RequestID: "test"}
		as, err := h.a.Authz.UserAssignments(ctx, h.tenant.ID, salesAgent.ID)
		if err != nil || len(as) != 1 {
			t.Fatalf("assignments: %v %v", as, err)
		}
		if _, err := h.a.Authz.Assign(ctx, by, salesAgent.ID, "agent", sales.ID); err != nil {
			t.Fatal(err)
		}
		if err := h.a.Authz.Unassign(ctx, by, salesAgent.ID, as[0].ID); err != nil {
			t.Fatal(err)
		}
		h.a.CreateUser("Acme Bank", "auditor@acme.test", pagePassword, "auditor", false)
		h.a.RefreshPolicy()
		seller := h.login(h.tenant.Slug, "sales@acme.test")
		auditor := h.login(h.tenant.Slug, "auditor@acme.test")
		otherOwner := h.login(h.other.Slug, "owner@other.test")

		site, err := h.a.Tenants.CreateSite(ctx, h.tenant.ID, "Shop", []string{"https://shop.example"})
		if err != nil {
			t.Fatal(err)
		}
		leave := func(visitor, dept, name, msg string) string {
			id, err := h.a.Chat.LeaveOffline(ctx, site, visitor, "203.0.113.9", chat.OfflineInput{Name: name, Email: visitor + "@example.com",
				DepartmentID: dept, Message: msg})
			if err != nil {
				t.Fatalf("leave offline: %v", err)
			}
			return id
		}
		salesMsg := leave("dana", sales.ID, "Dana", "Please call me about card 4111 1111 1111 1111.")
		claimsMsg := leave("eve", claims.ID, "Eve", "My claim is late.")
		leave("finn", "", "Finn", "Hello?")

		count := func(body string) int { return strings.Count(body, `href="/offline/`) }

		rec := seller.Do(http.MethodGet, "/offline", "")
		if rec.Code != http.StatusOK || count(rec.Body.String()) != 1 || !strings.Contains(rec.Body.String(), "Sales") {
			t.Fatalf("sales agent's inbox: %d, %d messages; %s", rec.Code, count(rec.Body.String()), rec.Body)
		}
		if strings.Contains(rec.Body.String(), "Dana") || strings.Contains(rec.Body.String(), "dana@example.com") {
			t.Error("the list shows the visitor's personal data")
		}
		if !strings.Contains(rec.Body.String(), `href="/offline"`) || !strings.Contains(rec.Body.String(), "Offline messages") {
			t.Error("the navigation does not link the inbox")
		}
		if got := count(h.owner.Do(http.MethodGet, "/offline", "").Body.String()); got != 3 {
			t.Errorf("owner's inbox: %d messages, want 3", got)
		}
		if got := count(h.agent.Do(http.MethodGet, "/offline", "").Body.String()); got != 3 {
			t.Errorf("tenant-wide agent's inbox: %d messages, want 3 (every department's and the one left for none)", got)
		}
		if len(h.events(h.tenant.ID, audit.ActionVisitorPIIView)) != 0 {
			t.Error("listing the inbox was audited as a personal data view")
		}

		if rec := seller.Do(http.MethodGet, "/offline/"+claimsMsg, ""); rec.Code != http.StatusNotFound {
			t.Errorf("another department's message: %d, want 404", rec.Code)
		}
		if rec := otherOwner.Do(http.MethodGet, "/offline/"+salesMsg, ""); rec.Code != http.StatusNotFound {
			t.Errorf("another tenant's message: %d, want 404", rec.Code)
		}
		if rec := seller.Do(http.MethodGet, "/offline/not-an-id", ""); rec.Code != http.StatusNotFound {
			t.Errorf("malformed id: %d, want 404", rec.Code)
		}
		if rec := auditor.Do(http.MethodGet, "/offline", ""); rec.Code != http.StatusForbidden {
			t.Errorf("auditor: %d, want 403", rec.Code)
		}

		rec = seller.Do(http.MethodGet, "/offline/"+salesMsg, "")
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(body, "Dana") || !strings.Contains(body, "dana@example.com") || !strings.Contains(body, "Mark handled") {
			t.Fatalf("open: %d %s", rec.Code, body)
		}
		if strings.Contains(body, "4111 1111 1111 1111") || !strings.Contains(body, "1111") {
			t.Error("the message shows the card number unmasked")
		}
		views := h.events(h.tenant.ID, audit.ActionVisitorPIIView)
		if len(views) != 1 || views[0].Target.Kind != "offline_message" || views[0].Target.ID != salesMsg || views[0].Actor.ID != salesAgent.ID {
			t.Errorf("PII view audit: %+v", views)
		}

		rec = postForm(seller, "/offline/"+salesMsg+"/handled", url.Values{"note": {strings.Repeat("n", 2001)}})
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "offline-note-error") {
			t.Errorf("long note: %d", rec.Code)
		}
		rec = postForm(seller, "/offline/"+salesMsg+"/handled", url.Values{"note": {"Called back; card 5500 0000 0000 0004 noted."}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/offline?notice=handled" {
			t.Fatalf("handle: %d %s", rec.Code, rec.Body)
		}
		rec = postForm(seller, "/offline/"+salesMsg+"/handled", url.Values{"note": {"Again"}})
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "already marked handled") {
			t.Errorf("handle twice: %d", rec.Code)
		}
		if rec := postForm(auditor, "/offline/"+salesMsg+"/handled", url.Values{}); rec.Code != http.StatusForbidden {
			t.Errorf("auditor handles: %d, want 403", rec.Code)
		}
		if rec := postForm(seller, "/offline/"+claimsMsg+"/handled", url.Values{}); rec.Code != http.StatusNotFound {
			t.Errorf("handle another department's: %d, want 404", rec.Code)
		}
		body = seller.Do(http.MethodGet, "/offline/"+salesMsg, "").Body.String()
		if !strings.Contains(body, "Called back; card") || strings.Contains(body, "5500 0000 0000 0004") || !strings.Contains(body, "0004") ||
			!strings.Contains(body, "sales@acme.test") || strings.Contains(body, "Mark handled</button>") {
			t.Errorf("handled message page: %s", body)
		}
		var stored []struct{ ReplyNote, Status, HandledBy string }
		if err := migratetest.Beneath(t, db).Gorm.Raw(`SELECT reply_note, status, handled_by FROM offline_messages WHERE id = ?`, salesMsg).Scan(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if len(stored) != 1 || stored[0].Status != "handled" || stored[0].HandledBy != salesAgent.ID ||
			stored[0].ReplyNote == "" || strings.Contains(stored[0].ReplyNote, "Called") || strings.Contains(stored[0].ReplyNote, "0004") {
			t.Errorf("stored: %+v, want handled by the agent with a sealed note", stored)
		}
		handled := h.events(h.tenant.ID, audit.ActionOfflineHandle)
		if len(handled) != 1 || handled[0].Details["note"] != "true" || handled[0].Target.ID != salesMsg {
			t.Errorf("handle audit: %+v", handled)
		}

		for status, want := range map[string]int{"new": 2, "handled": 1, "": 3, "bogus": 3} {
			if got := count(h.owner.Do(http.MethodGet, "/offline?status="+status, "").Body.String()); got != want {
				t.Errorf("status %q: %d messages, want %d", status, got, want)
			}
		}
	})
}
