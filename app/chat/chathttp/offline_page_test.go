package chathttp_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
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
		ctx := migrations.WithTenant(context.Background(), h.Tenant.ID)
		sales, err := h.App.Tenants.CreateDepartment(ctx, h.Tenant.ID, "Sales")
		if err != nil {
			t.Fatal(err)
		}
		claims, err := h.App.Tenants.CreateDepartment(ctx, h.Tenant.ID, "Claims")
		if err != nil {
			t.Fatal(err)
		}
		_, salesAgent := h.App.CreateUser("Acme Bank", "sales@acme.test", pagePassword, "agent", false)
		by := authz.Actor{TenantID: h.Tenant.ID, UserID: h.OwnerID, RequestID: "test"}
		as, err := h.App.Authz.UserAssignments(ctx, h.Tenant.ID, salesAgent.ID)
		if err != nil || len(as) != 1 {
			t.Fatalf("assignments: %v %v", as, err)
		}
		if _, err := h.App.Authz.Assign(ctx, by, salesAgent.ID, "agent", sales.ID); err != nil {
			t.Fatal(err)
		}
		if err := h.App.Authz.Unassign(ctx, by, salesAgent.ID, as[0].ID); err != nil {
			t.Fatal(err)
		}
		h.App.CreateUser("Acme Bank", "auditor@acme.test", pagePassword, "auditor", false)
		h.App.RefreshPolicy()
		seller := h.SignIn(h.Tenant.Slug, "sales@acme.test")
		auditor := h.SignIn(h.Tenant.Slug, "auditor@acme.test")
		otherOwner := h.SignIn(h.Other.Slug, "owner@other.test")

		site, err := h.App.Tenants.CreateSite(ctx, h.Tenant.ID, "Shop", []string{"https://shop.example"})
		if err != nil {
			t.Fatal(err)
		}
		leave := func(visitor, dept, name, msg string) string {
			id, err := h.App.Chat.LeaveOffline(ctx, site, visitor, "203.0.113.9", chat.OfflineInput{Name: name, Email: visitor + "@example.com",
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
		if got := count(h.Owner.Do(http.MethodGet, "/offline", "").Body.String()); got != 3 {
			t.Errorf("owner's inbox: %d messages, want 3", got)
		}
		if got := count(h.Agent.Do(http.MethodGet, "/offline", "").Body.String()); got != 3 {
			t.Errorf("tenant-wide agent's inbox: %d messages, want 3 (every department's and the one left for none)", got)
		}
		if len(h.AuditEvents(h.Tenant.ID, audit.ActionVisitorPIIView)) != 0 {
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
		views := h.AuditEvents(h.Tenant.ID, audit.ActionVisitorPIIView)
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
		handled := h.AuditEvents(h.Tenant.ID, audit.ActionOfflineHandle)
		if len(handled) != 1 || handled[0].Details["note"] != "true" || handled[0].Target.ID != salesMsg {
			t.Errorf("handle audit: %+v", handled)
		}

		for status, want := range map[string]int{"new": 2, "handled": 1, "": 3, "bogus": 3} {
			if got := count(h.Owner.Do(http.MethodGet, "/offline?status="+status, "").Body.String()); got != want {
				t.Errorf("status %q: %d messages, want %d", status, got, want)
			}
		}
	})
}

// TestOfflineInboxAPI checks the inbox's JSON API on both databases: the list without content,
// bad status, one message opened and audited, handled with a masked note, handled twice.
func TestOfflineInboxAPI(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newPageHarness(t, db)
		ctx := migrations.WithTenant(context.Background(), h.Tenant.ID)
		site, err := h.App.Tenants.CreateSite(ctx, h.Tenant.ID, "Shop", []string{"https://shop.example"})
		if err != nil {
			t.Fatal(err)
		}
		id, err := h.App.Chat.LeaveOffline(ctx, site, "gail", "203.0.113.10", chat.OfflineInput{Name: "Gail", Email: "gail@example.com", Message: "Call me."})
		if err != nil {
			t.Fatal(err)
		}
		rec := h.Agent.Do(http.MethodGet, "/api/v1/chat/offline-inbox?status=new", "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), id) || strings.Contains(rec.Body.String(), "Gail") {
			t.Fatalf("inbox: %d %s", rec.Code, rec.Body)
		}
		if rec := h.Agent.Do(http.MethodGet, "/api/v1/chat/offline-inbox?status=open", ""); rec.Code != http.StatusBadRequest {
			t.Errorf("bad status: %d, want 400", rec.Code)
		}
		rec = h.Agent.Do(http.MethodGet, "/api/v1/chat/offline-inbox/"+id, "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "gail@example.com") || !strings.Contains(rec.Body.String(), `"can_reply":true`) {
			t.Fatalf("open: %d %s", rec.Code, rec.Body)
		}
		if n := len(h.AuditEvents(h.Tenant.ID, audit.ActionVisitorPIIView)); n != 1 {
			t.Errorf("%d personal data views audited, want 1", n)
		}
		if rec := h.Agent.Do(http.MethodPost, "/api/v1/chat/offline-inbox/"+id+"/handled", `{"note":"Phoned; card 4111 1111 1111 1111 noted","x":1}`); rec.Code != http.StatusBadRequest {
			t.Errorf("unknown field: %d, want 400", rec.Code)
		}
		if rec := h.Agent.Do(http.MethodPost, "/api/v1/chat/offline-inbox/"+id+"/handled", `{"note":"Phoned; card 4111 1111 1111 1111 noted"}`); rec.Code != http.StatusNoContent {
			t.Fatalf("handle: %d %s", rec.Code, rec.Body)
		}
		rec = h.Agent.Do(http.MethodPost, "/api/v1/chat/offline-inbox/"+id+"/handled", `{}`)
		if code, field := accounttest.ErrorOf(t, rec); rec.Code != http.StatusBadRequest || code != "invalid_request" || field != "status" {
			t.Errorf("handle twice: %d %s %s", rec.Code, code, field)
		}
		rec = h.Owner.Do(http.MethodGet, "/api/v1/chat/offline-inbox/"+id, "")
		if !strings.Contains(rec.Body.String(), `"status":"handled"`) || strings.Contains(rec.Body.String(), "4111 1111 1111 1111") || !strings.Contains(rec.Body.String(), "Phoned; card") {
			t.Errorf("handled: %s", rec.Body)
		}
		if rec := h.Agent.Do(http.MethodGet, "/api/v1/chat/offline-inbox/00000000-0000-7000-8000-000000000001", ""); rec.Code != http.StatusNotFound {
			t.Errorf("unknown: %d, want 404", rec.Code)
		}
	})
}
