package tenanthttp_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

const hoursBody = `{"timezone":"Europe/Berlin","days":{"mon":{"open":"09:00","close":"17:00"},"sat":{"open":"10:00","close":"24:00"}}}`

// TestDepartmentsAPI: departments are created with hours and a queue timeout, read, changed and
// deleted through the API; every input is checked with the field named; members are the users
// holding a role in the department; a department with open chats or role grants is not deleted
// (409 with what is left), one without is; another organisation's department is not found.
func TestDepartmentsAPI(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		ctx := context.Background()

		rec := h.owner.Do(http.MethodPost, "/api/v1/departments", `{"name":"Cards","business_hours":`+hoursBody+`,"queue_timeout_seconds":120}`)
		if rec.Code != http.StatusCreated {
			t.Fatalf("create = %d %s", rec.Code, rec.Body)
		}
		dep := decode[map[string]any](t, rec)
		id, _ := dep["id"].(string)
		hours, _ := dep["business_hours"].(map[string]any)
		if id == "" || dep["name"] != "Cards" || dep["queue_timeout_seconds"] != float64(120) || hours["timezone"] != "Europe/Berlin" {
			t.Fatalf("created department = %v", dep)
		}
		if rec := h.owner.Do(http.MethodPost, "/api/v1/departments", `{"name":"Loans"}`); rec.Code != http.StatusCreated ||
			decode[map[string]any](t, rec)["business_hours"] != nil {
			t.Fatalf("create without hours = %d %s", rec.Code, rec.Body)
		}

		for _, tt := range []struct {
			name, body string
			status     int
			code       string
			field      string
		}{
			{"duplicate name", `{"name":"Cards"}`, 409, "name_taken", "name"},
			{"card number in name", `{"name":"Desk 5500 0000 0000 0004"}`, 400, "card_number_not_allowed", "name"},
			{"timeout too short", `{"name":"Fast","queue_timeout_seconds":5}`, 400, "invalid_request", "queue_timeout_seconds"},
			{"timeout too long", `{"name":"Slow","queue_timeout_seconds":90000}`, 400, "invalid_request", "queue_timeout_seconds"},
			{"unknown time zone", `{"name":"Mars","business_hours":{"timezone":"Mars/Olympus","days":{"mon":{"open":"09:00","close":"17:00"}}}}`, 400, "invalid_request", "business_hours.timezone"},
			{"card number as time zone", `{"name":"Zone","business_hours":{"timezone":"4111111111111111","days":{"mon":{"open":"09:00","close":"17:00"}}}}`, 400, "card_number_not_allowed", "business_hours.timezone"},
			{"closing before opening", `{"name":"Late","business_hours":{"timezone":"UTC","days":{"mon":{"open":"17:00","close":"09:00"}}}}`, 400, "invalid_request", "business_hours.days"},
			{"unknown day", `{"name":"Day","business_hours":{"timezone":"UTC","days":{"funday":{"open":"09:00","close":"17:00"}}}}`, 400, "invalid_request", "business_hours.days"},
			{"bad time", `{"name":"Time","business_hours":{"timezone":"UTC","days":{"mon":{"open":"9am","close":"17:00"}}}}`, 400, "invalid_request", "business_hours.days"},
			{"no open day", `{"name":"Never","business_hours":{"timezone":"UTC","days":{}}}`, 400, "invalid_request", "business_hours.days"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				rec := h.owner.Do(http.MethodPost, "/api/v1/departments", tt.body)
				e := decode[apiError](t, rec)
				if rec.Code != tt.status || e.Error.Code != tt.code || e.Error.Field != tt.field || e.Error.Message == "" {
					t.Errorf("= %d %+v, want %d %s on %s", rec.Code, e.Error, tt.status, tt.code, tt.field)
				}
			})
		}
		if ds, _ := h.a.Tenants.Departments(ctx, h.acme.ID); len(ds) != 2 {
			t.Errorf("Acme has %d departments after the refused creates, want 2", len(ds))
		}

		rec = h.owner.Do(http.MethodPut, "/api/v1/departments/"+id, `{"name":"Card services","business_hours":null,"queue_timeout_seconds":0}`)
		if got := decode[map[string]any](t, rec); rec.Code != 200 || got["name"] != "Card services" || got["business_hours"] != nil || got["queue_timeout_seconds"] != float64(0) {
			t.Fatalf("update = %d %v", rec.Code, got)
		}
		if rec := h.owner.Do(http.MethodGet, "/api/v1/departments", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"Card services"`) {
			t.Errorf("list = %d %s", rec.Code, rec.Body)
		}

		// Members: the agent gets a role in the department.
		owner := authz.Actor{TenantID: h.acme.ID, UserID: h.ownerID}
		grant, err := h.a.Authz.Assign(ctx, owner, h.agentID, "supervisor", id)
		if err != nil {
			t.Fatal(err)
		}
		h.a.RefreshPolicy()
		rec = h.owner.Do(http.MethodGet, "/api/v1/departments/"+id+"/members", "")
		members := decode[struct {
			Members []struct {
				UserID string   `json:"user_id"`
				Name   string   `json:"name"`
				Email  string   `json:"email"`
				Roles  []string `json:"roles"`
			} `json:"members"`
		}](t, rec).Members
		if rec.Code != 200 || len(members) != 1 || members[0].UserID != h.agentID || members[0].Email != "agent@acme.test" ||
			len(members[0].Roles) != 1 || members[0].Roles[0] != "supervisor" {
			t.Fatalf("members = %d %+v", rec.Code, members)
		}

		// Delete is refused while a role is granted there or a chat is open in it.
		site, err := h.a.Tenants.CreateSite(ctx, h.acme.ID, "Shop", []string{"https://shop.acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		tctx := migrations.WithTenant(ctx, h.acme.ID)
		now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
		if err := db.Gorm.WithContext(tctx).Table("conversations").Create(map[string]any{"id": "conv-open", "tenant_id": h.acme.ID,
			"site_id": site.ID, "department_id": id, "visitor_id": "v-1", "status": "active", "queued_at": now, "created_at": now, "updated_at": now}).Error; err != nil {
			t.Fatal(err)
		}
		rec = h.owner.Do(http.MethodDelete, "/api/v1/departments/"+id, "")
		if e := decode[apiError](t, rec); rec.Code != http.StatusConflict || e.Error.Code != "department_in_use" ||
			e.Error.Details["open_conversations"] != float64(1) || e.Error.Details["role_assignments"] != float64(1) {
			t.Fatalf("delete in use = %d %s", rec.Code, rec.Body)
		}
		if err := h.a.Authz.Unassign(ctx, owner, h.agentID, grant.ID); err != nil {
			t.Fatal(err)
		}
		h.a.RefreshPolicy()
		h.agent = h.login(h.acme, "agent@acme.test") // role changes end the agent's sessions
		if err := db.Gorm.WithContext(tctx).Table("conversations").Where("id = ?", "conv-open").Update("status", "ended").Error; err != nil {
			t.Fatal(err)
		}

		// Another organisation's department is not found; without site.manage it is forbidden.
		theirs, err := h.a.Tenants.CreateDepartment(ctx, h.other.ID, "Their desk")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []struct{ method, path, body string }{
			{http.MethodGet, "/api/v1/departments/" + theirs.ID, ""},
			{http.MethodPut, "/api/v1/departments/" + theirs.ID, `{"name":"Mine now"}`},
			{http.MethodGet, "/api/v1/departments/" + theirs.ID + "/members", ""},
			{http.MethodDelete, "/api/v1/departments/" + theirs.ID, ""},
		} {
			if rec := h.owner.Do(r.method, r.path, r.body); rec.Code != http.StatusNotFound {
				t.Errorf("%s %s (other tenant) = %d, want 404", r.method, r.path, rec.Code)
			}
			if rec := h.agent.Do(r.method, strings.Replace(r.path, theirs.ID, id, 1), r.body); rec.Code != http.StatusForbidden {
				t.Errorf("%s %s (agent) = %d, want 403", r.method, r.path, rec.Code)
			}
		}
		if _, err := h.a.Tenants.Department(ctx, h.other.ID, theirs.ID); err != nil {
			t.Errorf("the other organisation's department: %v", err)
		}

		if rec := h.owner.Do(http.MethodDelete, "/api/v1/departments/"+id, ""); rec.Code != http.StatusNoContent {
			t.Fatalf("delete = %d %s", rec.Code, rec.Body)
		}
		if rec := h.owner.Do(http.MethodDelete, "/api/v1/departments/"+id, ""); rec.Code != http.StatusNotFound {
			t.Errorf("delete again = %d, want 404", rec.Code)
		}
		var dept *string
		if err := db.Gorm.WithContext(tctx).Table("conversations").Select("department_id").Where("id = ?", "conv-open").Scan(&dept).Error; err != nil || dept != nil {
			t.Errorf("the ended chat's department after the delete = %v, %v; want none", dept, err)
		}

		for action, want := range map[audit.Action]int{audit.ActionDepartmentCreate: 2, audit.ActionDepartmentUpdate: 1, audit.ActionDepartmentDelete: 1} {
			evs := h.events(h.acme.ID, action)
			if len(evs) != want {
				t.Errorf("%s audited %d times, want %d", action, len(evs), want)
			}
			for _, e := range evs {
				if e.Actor.ID != h.ownerID || e.Target.Kind != "department" {
					t.Errorf("%s event = %+v", action, e.Event)
				}
			}
		}
	})
}
