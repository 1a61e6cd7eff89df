package authz_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/rbac"
)

type roleJSON struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Builtin     bool     `json:"builtin"`
	Permissions []string `json:"permissions"`
	Assignments int      `json:"assignments"`
}

type errorJSON struct {
	Error struct {
		Code      string         `json:"code"`
		Message   string         `json:"message"`
		Field     string         `json:"field"`
		Details   map[string]any `json:"details"`
		RequestID string         `json:"request_id"`
	} `json:"error"`
}

func TestRoleEditorAPI(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := newApp(t, db)
		acme, depts := a.createTenant("Acme Bank", "Cards", "Loans")
		a.createUser(acme, "owner@acme.test", rbac.RoleOwner)
		a.createUser(acme, "admin@acme.test", rbac.RoleAdmin)
		agent := a.createUser(acme, "agent@acme.test", rbac.RoleAgent)
		other, _ := a.createTenant("Other Corp")
		stranger := a.createUser(other, "owner@other.test", rbac.RoleOwner)
		owner, admin := a.login(acme.Slug, "owner@acme.test"), a.login(acme.Slug, "admin@acme.test")

		t.Run("catalogue", func(t *testing.T) {
			rec := owner.do("GET", "/api/v1/permissions", "")
			body := accounttest.Decode[struct {
				Permissions []struct {
					Name         string   `json:"name"`
					Area         string   `json:"area"`
					Description  string   `json:"description"`
					Kind         string   `json:"kind"`
					Departmental bool     `json:"departmental"`
					Sensitive    bool     `json:"sensitive"`
					PCI          []string `json:"pci_dss"`
					HIPAA        []string `json:"hipaa"`
				} `json:"permissions"`
			}](t, rec)
			if rec.Code != 200 || len(body.Permissions) != len(rbac.Names()) {
				t.Fatalf("status %d, %d permissions", rec.Code, len(body.Permissions))
			}
			p := body.Permissions[0]
			if p.Name != "chat.accept" || p.Area != "chat" || !p.Departmental || p.Description == "" || len(p.PCI) == 0 || p.HIPAA == nil {
				t.Errorf("first permission = %+v", p)
			}
		})
		t.Run("roles list the defaults first", func(t *testing.T) {
			rec := owner.do("GET", "/api/v1/roles", "")
			body := accounttest.Decode[struct{ Roles []roleJSON }](t, rec)
			var names []string
			for _, r := range body.Roles {
				names = append(names, r.Name)
			}
			if !slices.Equal(names[:5], rbac.DefaultRoleNames()) || !body.Roles[0].Builtin || body.Roles[0].Assignments != 1 {
				t.Errorf("roles = %+v", body.Roles)
			}
		})
		t.Run("unknown permissions are named", func(t *testing.T) {
			rec := owner.do("POST", "/api/v1/roles", `{"name":"desk","permissions":["chat.accept","audit.delete","chat.fly"]}`)
			e := accounttest.Decode[errorJSON](t, rec)
			if rec.Code != 400 || e.Error.Code != "unknown_permission" || e.Error.Field != "permissions" ||
				!strings.Contains(e.Error.Message, `"audit.delete"`) || !strings.Contains(e.Error.Message, `"chat.fly"`) {
				t.Errorf("status %d, body %s", rec.Code, rec.Body)
			}
			if u, _ := e.Error.Details["unknown"].([]any); len(u) != 2 {
				t.Errorf("details = %v", e.Error.Details)
			}
		})
		t.Run("invalid names and bodies", func(t *testing.T) {
			tests := []struct {
				body, code, field string
			}{
				{`{"name":"Desk Team","permissions":["chat.accept"]}`, "invalid_request", "name"},
				{`{"name":"owner","permissions":["chat.accept"]}`, "invalid_request", "name"},
				{`{"name":"desk","permissions":[]}`, "invalid_request", "permissions"},
				{`{"name":"desk","description":"a\u0000b","permissions":["chat.accept"]}`, "invalid_request", "description"},
				{`{"name":"desk","permissions":["chat.accept"],"grant_all":true}`, "invalid_request", "grant_all"},
				{`{"name":`, "invalid_json", ""},
			}
			for _, tt := range tests {
				rec := owner.do("POST", "/api/v1/roles", tt.body)
				e := accounttest.Decode[errorJSON](t, rec)
				if rec.Code != 400 || e.Error.Code != tt.code || e.Error.Field != tt.field {
					t.Errorf("%s: status %d, code %q, field %q; want 400 %s %s", tt.body, rec.Code, e.Error.Code, e.Error.Field, tt.code, tt.field)
				}
			}
		})
		t.Run("create, read, change, delete", func(t *testing.T) {
			rec := admin.do("POST", "/api/v1/roles", `{"name":"desk","description":"Front desk","permissions":["ban.manage","chat.accept"]}`)
			if rec.Code != 201 {
				t.Fatalf("create: status %d, body %s", rec.Code, rec.Body)
			}
			r := accounttest.Decode[roleJSON](t, rec)
			if r.Name != "desk" || r.Builtin || !slices.Equal(r.Permissions, []string{"chat.accept", "ban.manage"}) {
				t.Errorf("created %+v", r)
			}
			if rec := admin.do("POST", "/api/v1/roles", `{"name":"desk","permissions":["chat.accept"]}`); rec.Code != 409 || errorCode(t, rec) != "role_exists" {
				t.Errorf("duplicate: status %d, body %s", rec.Code, rec.Body)
			}
			rec = admin.do("PUT", "/api/v1/roles/desk", `{"description":"Desk","permissions":["chat.accept"]}`)
			if r := accounttest.Decode[roleJSON](t, rec); rec.Code != 200 || r.Description != "Desk" || !slices.Equal(r.Permissions, []string{"chat.accept"}) {
				t.Errorf("update: status %d, body %s", rec.Code, rec.Body)
			}
			if rec := admin.do("PUT", "/api/v1/roles/admin", `{"permissions":["chat.accept"]}`); rec.Code != 409 || errorCode(t, rec) != "role_builtin" {
				t.Errorf("update default: status %d, body %s", rec.Code, rec.Body)
			}
			if rec := admin.do("GET", "/api/v1/roles/nope", ""); rec.Code != 404 {
				t.Errorf("unknown role: status %d", rec.Code)
			}
			if rec := admin.do("DELETE", "/api/v1/roles/desk", ""); rec.Code != 204 {
				t.Errorf("delete: status %d, body %s", rec.Code, rec.Body)
			}
		})
		t.Run("escalation is forbidden and names what is missing", func(t *testing.T) {
			rec := admin.do("POST", "/api/v1/roles", `{"name":"peek","permissions":["audit.view","site.manage"]}`)
			e := accounttest.Decode[errorJSON](t, rec)
			if rec.Code != 403 || e.Error.Code != "forbidden" {
				t.Fatalf("status %d, body %s", rec.Code, rec.Body)
			}
			if m, _ := e.Error.Details["missing"].([]any); len(m) != 1 || m[0] != "audit.view" {
				t.Errorf("details = %v", e.Error.Details)
			}
			rec = admin.do("POST", "/api/v1/users/"+agent.ID+"/roles", `{"role":"owner"}`)
			if rec.Code != 403 || errorCode(t, rec) != "forbidden" {
				t.Errorf("admin grants owner: status %d, body %s", rec.Code, rec.Body)
			}
			if n := len(a.Audit.find("access.escalation_attempt")); n != 2 {
				t.Errorf("%d escalation attempts audited, want 2", n)
			}
		})
		t.Run("assignments", func(t *testing.T) {
			rec := admin.do("POST", "/api/v1/users/"+agent.ID+"/roles", fmt.Sprintf(`{"role":"supervisor","department_id":%q}`, depts[0].ID))
			if rec.Code != 201 {
				t.Fatalf("assign: status %d, body %s", rec.Code, rec.Body)
			}
			as := accounttest.Decode[struct {
				ID           string  `json:"id"`
				UserID       string  `json:"user_id"`
				Role         string  `json:"role"`
				DepartmentID *string `json:"department_id"`
				GrantedBy    string  `json:"granted_by"`
			}](t, rec)
			if as.Role != "supervisor" || as.DepartmentID == nil || *as.DepartmentID != depts[0].ID || as.GrantedBy != admin.UserID || as.UserID != agent.ID {
				t.Errorf("assignment = %+v", as)
			}
			tests := []struct {
				name, path, body string
				status           int
				code             string
			}{
				{"unknown role", "/api/v1/users/" + agent.ID + "/roles", `{"role":"wizard"}`, 400, "unknown_role"},
				{"no role", "/api/v1/users/" + agent.ID + "/roles", `{}`, 400, "invalid_request"},
				{"empty department", "/api/v1/users/" + agent.ID + "/roles", `{"role":"agent","department_id":""}`, 400, "invalid_request"},
				{"other tenant's user", "/api/v1/users/" + stranger.ID + "/roles", `{"role":"agent"}`, 404, "not_found"},
				{"unknown department", "/api/v1/users/" + agent.ID + "/roles", `{"role":"agent","department_id":"nope"}`, 404, "not_found"},
				{"twice", "/api/v1/users/" + agent.ID + "/roles", fmt.Sprintf(`{"role":"supervisor","department_id":%q}`, depts[0].ID), 409, "already_assigned"},
			}
			for _, tt := range tests {
				rec := admin.do("POST", tt.path, tt.body)
				if rec.Code != tt.status || errorCode(t, rec) != tt.code {
					t.Errorf("%s: status %d code %q, want %d %s", tt.name, rec.Code, errorCode(t, rec), tt.status, tt.code)
				}
			}
			for _, path := range []string{"/api/v1/users/" + stranger.ID + "/roles", "/api/v1/users/" + stranger.ID + "/effective-permissions"} {
				if rec := admin.do("GET", path, ""); rec.Code != 404 {
					t.Errorf("GET %s: status %d, want 404 (no existence oracle)", path, rec.Code)
				}
			}
			rec = owner.do("GET", "/api/v1/users/"+agent.ID+"/effective-permissions", "")
			eff := accounttest.Decode[struct {
				UserID      string `json:"user_id"`
				Assignments []any  `json:"assignments"`
				TenantWide  []struct {
					Permission string   `json:"permission"`
					Roles      []string `json:"roles"`
				} `json:"tenant_wide"`
				Departments []struct {
					DepartmentID string `json:"department_id"`
					Permissions  []struct {
						Permission string   `json:"permission"`
						Roles      []string `json:"roles"`
					} `json:"permissions"`
				} `json:"departments"`
			}](t, rec)
			if rec.Code != 200 || eff.UserID != agent.ID || len(eff.Assignments) != 2 || len(eff.Departments) != 1 || eff.Departments[0].DepartmentID != depts[0].ID {
				t.Fatalf("effective = %s", rec.Body)
			}
			if eff.TenantWide[0].Permission != "chat.accept" || !slices.Equal(eff.TenantWide[0].Roles, []string{"agent"}) {
				t.Errorf("tenant-wide[0] = %+v", eff.TenantWide[0])
			}
			var monitor bool
			for _, p := range eff.Departments[0].Permissions {
				monitor = monitor || (p.Permission == "chat.monitor" && slices.Equal(p.Roles, []string{"supervisor"}))
			}
			if !monitor {
				t.Errorf("department permissions lack chat.monitor from supervisor: %+v", eff.Departments[0])
			}
		})
		t.Run("last owner", func(t *testing.T) {
			rec := owner.do("GET", "/api/v1/users/"+owner.UserID+"/roles", "")
			list := accounttest.Decode[struct {
				Assignments []struct {
					ID string `json:"id"`
				} `json:"assignments"`
			}](t, rec)
			rec = owner.do("DELETE", "/api/v1/users/"+owner.UserID+"/roles/"+list.Assignments[0].ID, "")
			if rec.Code != 409 || errorCode(t, rec) != "last_owner" {
				t.Errorf("status %d, body %s", rec.Code, rec.Body)
			}
		})
		t.Run("the console pages render", func(t *testing.T) {
			rec := owner.do("GET", "/roles?user="+agent.ID, "")
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Grant a role") || !strings.Contains(rec.Body.String(), "chat.monitor") {
				t.Errorf("status %d", rec.Code)
			}
			if inlineScriptOrStyle(rec.Body.String()) {
				t.Error("page carries inline script or style")
			}
			// A reader of roles (role.view without role.manage) sees no editing form.
			if rec := owner.do("POST", "/api/v1/roles", `{"name":"role-reader","permissions":["role.view"]}`); rec.Code != 201 {
				t.Fatalf("create role-reader: status %d, body %s", rec.Code, rec.Body)
			}
			reader := a.createUser(acme, "reader@acme.test", "role-reader")
			rd := a.login(acme.Slug, "reader@acme.test")
			rec = rd.do("GET", "/roles?user="+reader.ID, "")
			if rec.Code != 200 || strings.Contains(rec.Body.String(), "Grant a role") || strings.Contains(rec.Body.String(), "New custom role") {
				t.Errorf("a reader of roles sees editing forms: status %d", rec.Code)
			}
			rec = admin.doRequest(apptest.Request{Method: "POST", Path: "/roles", Body: "name=Bad+Name&permissions=chat.accept",
				ContentType: "application/x-www-form-urlencoded"})
			if rec.Code != 400 || !strings.Contains(rec.Body.String(), `role="alert"`) {
				t.Errorf("invalid form: status %d, want 400 with the page's error", rec.Code)
			}
			rec = admin.doRequest(apptest.Request{Method: "POST", Path: "/roles", Body: "name=peek&permissions=audit.view",
				ContentType: "application/x-www-form-urlencoded"})
			if rec.Code != 403 || !strings.Contains(rec.Body.String(), "permissions you do not hold") {
				t.Errorf("escalating form: status %d, want 403 with the page's error", rec.Code)
			}
		})
	})
}

var scriptTag = regexp.MustCompile(`<script[^>]*>`)

// inlineScriptOrStyle reports whether a page carries a script without a src (inline code) or a
// style attribute: the strict Content-Security-Policy would block either.
func inlineScriptOrStyle(body string) bool {
	for _, tag := range scriptTag.FindAllString(body, -1) {
		if !strings.Contains(tag, " src=") {
			return true
		}
	}
	return strings.Contains(body, "style=") || strings.Contains(body, "<style")
}
