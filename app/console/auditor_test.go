package console_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/rbac"
)

// auditorAreas are the five areas of the auditor's console (issue 16), in the navigation's
// order: audit search, integrity, access reviews, evidence reports and key status.
var auditorAreas = []string{"/audit", "/integrity", "/access-review", "/evidence", "/keys"}

// TestAuditorSeesExactlyTheirFiveAreas: the auditor's navigation is exactly the five areas, each
// opens, and every other console page answers 403, each refusal recorded in the audit log.
func TestAuditorSeesExactlyTheirFiveAreas(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, _ := a.CreateUser("Audit Union", "owner@audit.test", testPassword, rbac.RoleOwner, false)
		_, u := a.CreateUser(tn.Name, "auditor@audit.test", testPassword, rbac.RoleAuditor, false)
		c := a.Client("192.0.2.20:1234").SignIn(tn.Slug, "auditor@audit.test", testPassword)

		rec := c.Do(http.MethodGet, "/account", "")
		if got := navOf(t, rec.Body.String()); !slices.Equal(got, auditorAreas) {
			t.Fatalf("auditor's navigation = %v, want exactly %v", got, auditorAreas)
		}
		for _, p := range auditorAreas {
			if rec := c.Do(http.MethodGet, p, ""); rec.Code != http.StatusOK {
				t.Errorf("GET %s = %d, want 200", p, rec.Code)
			}
		}
		refused := 0
		for _, r := range a.Server.Routes {
			if r.Method != http.MethodGet || r.API || r.Access != server.Authenticated || r.Permission == "" ||
				slices.Contains(auditorAreas, r.Path) || !isPage(r.Path) {
				continue
			}
			before := len(a.AuditEvents(tn.ID, audit.ActionPermissionDenied))
			rec := c.Do(http.MethodGet, r.Path, "")
			if rec.Code != http.StatusForbidden {
				t.Errorf("GET %s (%s) = %d, want 403", r.Path, r.Permission, rec.Code)
				continue
			}
			denied := a.AuditEvents(tn.ID, audit.ActionPermissionDenied)
			if len(denied) != before+1 || denied[len(denied)-1].Actor.ID != u.ID {
				t.Errorf("GET %s: the refusal is not in the audit log", r.Path)
			}
			refused++
		}
		if refused < 15 {
			t.Errorf("only %d console pages were tried", refused)
		}
	})
}

// isPage reports whether a GET path is a console page the navigation could hold: no path
// parameter, no file download.
func isPage(path string) bool {
	for _, c := range path {
		if c == ':' || c == '*' {
			return false
		}
	}
	return true
}
