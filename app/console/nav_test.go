package console_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/console"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/rbac"
)

const testPassword = "Quiet-harbour-2026-lamp"

var navLink = regexp.MustCompile(`<a href="([^"]+)"`)

// navOf returns the links of a page's console navigation.
func navOf(t *testing.T, body string) []string {
	t.Helper()
	start := strings.Index(body, `<nav class="side"`)
	if start < 0 {
		return nil
	}
	end := strings.Index(body[start:], "</nav>")
	if end < 0 {
		t.Fatalf("navigation not closed: %.300s", body[start:])
	}
	var out []string
	for _, m := range navLink.FindAllStringSubmatch(body[start:start+end], -1) {
		out = append(out, m[1])
	}
	return out
}

// member is one signed-in user of the navigation test: a default role held tenant-wide or in one
// department.
type member struct {
	role string
	dept bool
	c    *accounttest.Client
}

func (m member) String() string {
	if m.dept {
		return m.role + " in a department"
	}
	return m.role + " tenant-wide"
}

// TestNavigationFollowsPermissions is the navigation's permission matrix: for every default role,
// held tenant-wide and in one department, the menu shows exactly the pages the role's
// permissions reach — computed here from the catalogue and the route table, not from the shell's
// own code — every link shown opens (no 403), and every page not shown is refused.
func TestNavigationFollowsPermissions(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		ctx := context.Background()
		tn, owner := a.CreateUser("Navigation Bank", "owner@nav.test", testPassword, rbac.RoleOwner, false)
		dept, err := a.Tenants.CreateDepartment(ctx, tn.ID, "Cards")
		if err != nil {
			t.Fatal(err)
		}
		routes := map[string]server.Route{}
		for _, r := range a.Server.Routes {
			if r.Method == http.MethodGet {
				routes[r.Path] = r
			}
		}
		var members []member
		for _, role := range rbac.DefaultRoleNames() {
			for _, inDept := range []bool{false, true} {
				if inDept && role == rbac.RoleOwner {
					continue // the owner role is tenant-wide by nature
				}
				email := fmt.Sprintf("%s-%t@nav.test", role, inDept)
				_, u := a.CreateUser(tn.Name, email, testPassword, role, false)
				if inDept {
					by := authz.Actor{TenantID: tn.ID, UserID: owner.ID}
					as, err := a.Authz.UserAssignments(ctx, tn.ID, u.ID)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := a.Authz.Assign(ctx, by, u.ID, role, dept.ID); err != nil {
						t.Fatal(err)
					}
					for _, as := range as {
						if err := a.Authz.Unassign(ctx, by, u.ID, as.ID); err != nil {
							t.Fatal(err)
						}
					}
					a.RefreshPolicy()
				}
				c := a.Client("192.0.2.10:1234")
				if rec := c.Login(tn.Slug, email, testPassword, nil); rec.Code != http.StatusOK {
					t.Fatalf("sign in %s: %d %s", email, rec.Code, rec.Body)
				}
				members = append(members, member{role: role, dept: inDept, c: c})
			}
		}
		for _, m := range members {
			t.Run(m.String(), func(t *testing.T) {
				def, _ := rbac.DefaultRole(m.role)
				reaches := func(path string) bool {
					r, ok := routes[path]
					if !ok {
						return false
					}
					if r.Permission == "" {
						return true
					}
					if !def.Grants(r.Permission) {
						return false
					}
					if !m.dept {
						return true
					}
					p, _ := rbac.Lookup(r.Permission)
					return r.Scope == server.ScopeDepartment && p.Departmental
				}
				var want []string
				for _, sec := range console.Navigation {
					for _, it := range sec.Items {
						if reaches(it.Path) {
							want = append(want, it.Path)
						}
					}
				}
				rec := m.c.Do(http.MethodGet, "/account", "")
				if rec.Code != http.StatusOK {
					t.Fatalf("GET /account = %d", rec.Code)
				}
				got := navOf(t, rec.Body.String())
				if !slices.Equal(got, want) {
					t.Errorf("navigation = %v, want %v", got, want)
				}
				for _, sec := range console.Navigation {
					for _, it := range sec.Items {
						if _, served := routes[it.Path]; !served {
							continue
						}
						rec := m.c.Do(http.MethodGet, it.Path, "")
						switch shown := slices.Contains(got, it.Path); {
						case shown && rec.Code != http.StatusOK:
							t.Errorf("GET %s (in the menu) = %d, want 200", it.Path, rec.Code)
						case !shown && rec.Code != http.StatusForbidden && rec.Code != http.StatusNotFound:
							t.Errorf("GET %s (not in the menu) = %d, want 403", it.Path, rec.Code)
						}
					}
				}
				rec = m.c.Do(http.MethodGet, "/start", "")
				landing := rec.Header().Get("Location")
				wantLanding := "/account"
				for _, p := range []string{"/overview", "/live", "/workspace", "/audit"} {
					if slices.Contains(want, p) {
						wantLanding = p
						break
					}
				}
				if rec.Code != http.StatusSeeOther || landing != wantLanding {
					t.Errorf("GET /start = %d to %q, want 303 to %q", rec.Code, landing, wantLanding)
				}
			})
		}
	})
}

// TestShellShowsWhoAndWhere: a signed-in page names the user and the organisation, offers sign
// out, and (with the development key provider of the tests) carries the not-for-production
// banner; a signed-out page has no shell.
func TestShellShowsWhoAndWhere(t *testing.T) {
	a := accounttest.New(t, migratetest.Open(t, migrations.SQLite), nil)
	tn, _ := a.CreateUser("Shell Credit Union", "owner@shell.test", testPassword, rbac.RoleOwner, false)
	c := a.Client("192.0.2.11:1234")
	if rec := c.Login(tn.Slug, "owner@shell.test", testPassword, nil); rec.Code != http.StatusOK {
		t.Fatalf("sign in: %d %s", rec.Code, rec.Body)
	}
	body := c.Do(http.MethodGet, "/overview", "").Body.String()
	for _, want := range []string{"Shell Credit Union", "owner@shell.test", `action="/logout"`, "Not for production", `aria-current="page"`, "Compliance warnings", "Development key provider"} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	a.Alerts.Alert(context.Background(), audit.Alert{Kind: audit.AlertForwardFailed, Tenant: audit.SystemTenant, Sink: "syslog", Message: "Audit forwarding to syslog is failing."})
	body = c.Do(http.MethodGet, "/account", "").Body.String()
	if !strings.Contains(body, "Audit alert:") || !strings.Contains(body, "Audit forwarding to syslog is failing.") || !strings.Contains(body, `href="/audit">see the audit log`) {
		t.Errorf("a standing audit alert is not on the page: %.2000s", body)
	}
	signedOut := a.Do(accounttestRequest("/login")).Body.String()
	if strings.Contains(signedOut, `<nav class="side"`) || strings.Contains(signedOut, "Not for production") {
		t.Errorf("the sign-in page shows the console shell")
	}
}

func accounttestRequest(path string) apptest.Request {
	return apptest.Request{Method: http.MethodGet, Path: path}
}
