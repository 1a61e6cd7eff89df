package chathttp_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestRoutingPage: the Routing page lists the departments and the agents, saves each form with
// an audit record, marks bad fields without echoing card numbers, refuses users without
// routing.manage and another tenant's agents.
func TestRoutingPage(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newPageHarness(t, db)
		ctx := context.Background()
		dept, err := h.App.Tenants.CreateDepartment(ctx, h.Tenant.ID, "Mortgages")
		if err != nil {
			t.Fatal(err)
		}
		rec := h.Owner.Do(http.MethodGet, "/routing", "")
		body := rec.Body.String()
		for _, want := range []string{`<a href="/routing" aria-current="page">`, `href="/static/routing.css"`, "Mortgages", "agent@acme.test", h.Owner.CSRF} {
			if rec.Code != http.StatusOK || !strings.Contains(body, want) {
				t.Fatalf("page = %d, lacks %q: %s", rec.Code, want, body)
			}
		}
		if rec := h.Agent.Do(http.MethodGet, "/routing", ""); rec.Code != http.StatusForbidden {
			t.Fatalf("agent's page = %d, want 403", rec.Code)
		}
		routing := func() chat.RoutingOverview {
			t.Helper()
			r, err := h.App.Chat.Routing(ctx, h.Tenant.ID, nil)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		agentID := ""
		agents, err := h.App.Accounts.Users(ctx, h.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range agents {
			if u.Email == "agent@acme.test" {
				agentID = u.ID
			}
		}
		otherAgent := ""
		others, _ := h.App.Accounts.Users(ctx, h.Other.ID)
		otherAgent = others[0].ID

		cases := []struct {
			name, path string
			form       url.Values
			status     int
			contains   string
			absent     string
		}{
			{"settings", "/routing/settings", url.Values{"idle_minutes": {"7"}, "default_capacity": {"4"}}, http.StatusSeeOther, "", ""},
			{"settings out of range", "/routing/settings", url.Values{"idle_minutes": {"0"}, "default_capacity": {"4"}}, http.StatusUnprocessableEntity, "Idle minutes are 1 to 480.", ""},
			{"settings not a number", "/routing/settings", url.Values{"idle_minutes": {"soon"}, "default_capacity": {"4"}}, http.StatusUnprocessableEntity, "Enter a whole number.", ""},
			{"department", "/routing/departments/" + dept.ID, url.Values{"mode": {"automatic"}, "capacity": {"2"}, "offer_timeout_seconds": {"20"},
				"priority": {"4"}, "required_skills": {"Mortgages, french"}, "skill_question": {"language"}}, http.StatusSeeOther, "", ""},
			{"department mode", "/routing/departments/" + dept.ID, url.Values{"mode": {"fastest"}, "offer_timeout_seconds": {"20"}}, http.StatusUnprocessableEntity, "The mode is manual or automatic.", ""},
			{"department card number", "/routing/departments/" + dept.ID, url.Values{"mode": {"manual"}, "offer_timeout_seconds": {"20"},
				"required_skills": {"4111 1111 1111 1111"}}, http.StatusUnprocessableEntity, "card number", "4111 1111 1111 1111"},
			{"unknown department", "/routing/departments/00000000-0000-7000-8000-000000000000", url.Values{"mode": {"manual"}, "offer_timeout_seconds": {"20"}}, http.StatusNotFound, "", ""},
			{"agent", "/routing/agents/" + agentID, url.Values{"capacity": {"2"}, "skills": {"French, mortgages"}}, http.StatusSeeOther, "", ""},
			{"agent skill with a space", "/routing/agents/" + agentID, url.Values{"capacity": {"2"}, "skills": {"french;mortgages"}}, http.StatusUnprocessableEntity, "A skill is one word", ""},
			{"another tenant's agent", "/routing/agents/" + otherAgent, url.Values{"capacity": {"2"}}, http.StatusNotFound, "", ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := len(h.AuditEvents(h.Tenant.ID, audit.ActionRoutingUpdate))
				rec := postForm(h.Owner, tc.path, tc.form)
				if rec.Code != tc.status {
					t.Fatalf("status = %d, want %d: %s", rec.Code, tc.status, rec.Body)
				}
				if tc.contains != "" && !strings.Contains(rec.Body.String(), tc.contains) {
					t.Errorf("page lacks %q", tc.contains)
				}
				if tc.absent != "" && strings.Contains(rec.Body.String(), tc.absent) {
					t.Errorf("page shows %q", tc.absent)
				}
				want := before
				if tc.status == http.StatusSeeOther {
					want++
				}
				if got := len(h.AuditEvents(h.Tenant.ID, audit.ActionRoutingUpdate)); got != want {
					t.Errorf("routing.update records = %d, want %d", got, want)
				}
			})
		}
		r := routing()
		if r.Settings.IdleMinutes != 7 || r.Settings.DefaultCapacity != 4 {
			t.Errorf("settings = %+v", r.Settings)
		}
		if d := r.Departments[0]; d.Mode != chat.ModeAutomatic || d.Capacity != 2 || d.OfferTimeoutSeconds != 20 || d.Priority != 4 ||
			strings.Join(d.RequiredSkills, ",") != "french,mortgages" || d.SkillQuestion != "language" {
			t.Errorf("department = %+v", d)
		}
		// The JSON API reads the same.
		rec = h.Owner.Do(http.MethodGet, "/api/v1/chat/routing", "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"skills":["french","mortgages"]`) || !strings.Contains(rec.Body.String(), `"mode":"automatic"`) {
			t.Fatalf("GET routing = %d %s", rec.Code, rec.Body)
		}
		rec = h.Owner.Do(http.MethodPut, "/api/v1/chat/routing/agents/"+agentID, `{"capacity":3,"skills":["5500 0000 0000 0004"]}`)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "card_number_not_allowed") || strings.Contains(rec.Body.String(), "5500") {
			t.Fatalf("card number as a skill = %d %s", rec.Code, rec.Body)
		}
	})
}
