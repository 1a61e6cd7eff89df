package authz_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/rbac"
)

// The authorization matrix: every authenticated route of the route table × every default role,
// granted tenant-wide and in one department × a request addressing the principal's own
// department, another department of the same tenant, and another tenant. The expected outcome
// of each cell is computed from the catalogue and the default roles, never written by hand; each
// request goes through the real router with a real session, and a refusal must come with its
// audit record. A route the fixtures (matrix_fixtures_test.go) do not know fails the test.

// target is where a request's object lives, relative to the principal.
type target int

const (
	ownDepartment target = iota
	otherDepartment
	otherTenant
)

func (t target) String() string {
	return [...]string{"own department", "other department", "other tenant"}[t]
}

// principal is a signed-in matrix user: a default role, granted tenant-wide or in department D1
// of tenant A.
type principal struct {
	role  string
	dept  bool
	email string
	c     *client
}

func (p *principal) String() string {
	if p.dept {
		return p.role + " in D1"
	}
	return p.role + " tenant-wide"
}

// world is the matrix's fixture: tenant A with departments D1 and D2, tenant B with department
// DB, an owner in each, the principals, and shared objects.
type world struct {
	a          *testApp
	A, B       tenant.Tenant
	D1, D2, DB string
	// conversations are queued conversations per target, made on first use.
	conversations  map[target]string
	ownerA, ownerB account.User
	principals     []*principal
	// userA and userB are users every read-only request can address.
	userA, userB account.User
	// roleA exists only in A, roleB only in B.
	roleA, roleB string
	seq          int
}

func newWorld(t *testing.T, db *migrations.DB) *world {
	t.Helper()
	a := newApp(t, db)
	ctx := context.Background()
	w := &world{a: a}
	var depts []tenant.Department
	w.A, depts = a.createTenant("Tenant Alpha", "Department One", "Department Two")
	w.D1, w.D2 = depts[0].ID, depts[1].ID
	w.B, depts = a.createTenant("Tenant Bravo", "Bravo Sales")
	w.DB = depts[0].ID
	w.ownerA = a.createUser(w.A, "owner@alpha.test", rbac.RoleOwner)
	w.ownerB = a.createUser(w.B, "owner@bravo.test", rbac.RoleOwner)
	for _, role := range rbac.DefaultRoleNames() {
		for _, dept := range []bool{false, true} {
			p := &principal{role: role, dept: dept, email: fmt.Sprintf("%s-%v@alpha.test", role, dept)}
			u := a.createUser(w.A, p.email, role)
			if dept {
				// Move the grant from the tenant to department D1.
				as, err := a.Authz.UserAssignments(ctx, w.A.ID, u.ID)
				if err != nil || len(as) != 1 {
					t.Fatalf("assignments of %s: %v, %v", p.email, as, err)
				}
				if _, err := a.Authz.Assign(ctx, actor(w.A.ID, w.ownerA.ID), u.ID, role, w.D1); err != nil {
					t.Fatal(err)
				}
				if err := a.Authz.Unassign(ctx, actor(w.A.ID, w.ownerA.ID), u.ID, as[0].ID); err != nil {
					t.Fatal(err)
				}
			}
			p.c = a.login(w.A.Slug, p.email)
			w.principals = append(w.principals, p)
		}
	}
	w.userA, w.userB = a.createBareUser(w.A.ID), a.createBareUser(w.B.ID)
	w.roleA, w.roleB = w.newRole(w.A), w.newRole(w.B)
	return w
}

// name returns a fresh name for an object.
func (w *world) name(prefix string) string {
	w.seq++
	return fmt.Sprintf("%s-%d", prefix, w.seq)
}

// tenantOf returns the tenant a target's object belongs to and its owner.
func (w *world) tenantOf(tg target) (tenant.Tenant, account.User) {
	if tg == otherTenant {
		return w.B, w.ownerB
	}
	return w.A, w.ownerA
}

// department returns the department a target addresses.
func (w *world) department(tg target) string {
	switch tg {
	case ownDepartment:
		return w.D1
	case otherDepartment:
		return w.D2
	}
	return w.DB
}

// user returns the shared user of the target's tenant.
func (w *world) user(tg target) account.User {
	if tg == otherTenant {
		return w.userB
	}
	return w.userA
}

// newRole creates an unassigned custom role (chat.accept) in t.
func (w *world) newRole(t tenant.Tenant) string {
	name := w.name("role")
	owner := w.ownerA
	if t.ID == w.B.ID {
		owner = w.ownerB
	}
	if _, err := w.a.Authz.CreateRole(context.Background(), actor(t.ID, owner.ID), authz.RoleInput{Name: name, Permissions: []string{"chat.accept"}}); err != nil {
		w.a.t.Fatalf("create role: %v", err)
	}
	return name
}

// newAssignment creates a user in the target's tenant holding agent in its first department,
// and returns the user and the assignment.
func (w *world) newAssignment(tg target) (account.User, authz.Assignment) {
	t, owner := w.tenantOf(tg)
	dept := w.D1
	if tg == otherTenant {
		dept = w.DB
	}
	u := w.a.createBareUser(t.ID)
	as, err := w.a.Authz.Assign(context.Background(), actor(t.ID, owner.ID), u.ID, rbac.RoleAgent, dept)
	if err != nil {
		w.a.t.Fatalf("assign: %v", err)
	}
	return u, as
}

// request is one matrix request.
type request struct {
	method, path, body string
	form               bool
}

// fixture tells the matrix how to call one route.
type fixture struct {
	// build returns the request for principal p and target tg, creating the objects it needs.
	build func(w *world, p *principal, tg target) request
	// status is what an allowed request answers when it addresses the principal's tenant; 0
	// accepts any answer that is not a refusal (routes of other domains whose bodies the matrix
	// does not build).
	status int
	// object marks paths that name an object: another tenant's is 404 for whoever may use the
	// route (and 403, like any id, for whoever may not).
	object bool
	// endsSession marks requests that end the caller's session when allowed; the principal signs
	// in again afterwards.
	endsSession bool
}

// outcome is what a cell must answer.
type outcome struct {
	allowed bool
	status  int
	// reason of the denial audit record when refused.
	reason string
}

// expect computes a cell's outcome from the catalogue and the default roles.
func expect(r server.Route, f fixture, p *principal, tg target) outcome {
	allowed := true
	if r.Permission != "" {
		role, _ := rbac.DefaultRole(p.role)
		info, _ := rbac.Lookup(r.Permission)
		held := role.Grants(r.Permission) || slices.ContainsFunc(r.Alternatives, role.Grants)
		switch r.Scope {
		case server.ScopeTenant:
			// A department grant never reaches a tenant-wide check.
			allowed = held && !p.dept
		case server.ScopeDepartment:
			if tg == otherTenant {
				// Another tenant's department or object is not found, for everyone.
				return outcome{status: http.StatusNotFound, reason: "not_found"}
			}
			allowed = held && (!p.dept || (tg == ownDepartment && info.Departmental))
		default:
			allowed = false
		}
	}
	switch {
	case !allowed:
		return outcome{status: http.StatusForbidden, reason: "permission"}
	case tg == otherTenant && f.object:
		return outcome{allowed: true, status: http.StatusNotFound}
	}
	return outcome{allowed: true, status: f.status}
}

// runMatrix runs every authenticated route of routes through h for every principal and target.
func runMatrix(t *testing.T, w *world, h http.Handler, routes []server.Route, fixtures map[string]fixture) {
	t.Helper()
	var unknown []string
	for _, r := range routes {
		if r.Access != server.Authenticated {
			continue
		}
		if _, ok := fixtures[r.Key()]; !ok {
			unknown = append(unknown, r.Key())
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		t.Fatalf("routes unknown to the authorization matrix (add a fixture in matrix_fixtures_test.go): %s", strings.Join(unknown, ", "))
	}
	cells := 0
	for _, r := range routes {
		if r.Access != server.Authenticated {
			continue
		}
		f := fixtures[r.Key()]
		t.Run(r.Key(), func(t *testing.T) {
			for _, p := range w.principals {
				for _, tg := range []target{ownDepartment, otherDepartment, otherTenant} {
					cells++
					checkCell(t, w, h, r, f, p, tg)
				}
			}
		})
	}
	t.Logf("%d cells", cells)
}

func checkCell(t *testing.T, w *world, h http.Handler, r server.Route, f fixture, p *principal, tg target) {
	t.Helper()
	want := expect(r, f, p, tg)
	req := f.build(w, p, tg)
	ar := apptest.Request{Method: req.method, Path: req.path, Body: req.body}
	if req.form {
		ar.ContentType = echo.MIMEApplicationForm
	}
	if req.method == "" {
		ar.Method = r.Method
	}
	rec := p.c.via(h, ar)
	rid := rec.Header().Get(echo.HeaderXRequestID)
	var denials []authz.Event
	for _, e := range w.a.Audit.byRequest(rid) {
		if e.Action == authz.ActionAccessDenied {
			denials = append(denials, e)
		}
	}
	cell := fmt.Sprintf("%s, %s, %s (%s %s)", r.Key(), p, tg, ar.Method, ar.Path)
	// Every answer to a signed-in request, refused or not, stays out of caches.
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", cell, got)
	}
	switch {
	case !want.allowed:
		if rec.Code != want.status {
			t.Errorf("%s: status %d, want %d (refused); body %s", cell, rec.Code, want.status, rec.Body)
		}
		if len(denials) != 1 || denials[0].Reason != want.reason || denials[0].ActorID != p.c.UserID || denials[0].TargetID != r.Key() {
			t.Errorf("%s: denial audit records %+v, want one with reason %q", cell, denials, want.reason)
		}
	default:
		if len(denials) > 0 {
			t.Errorf("%s: refused (status %d, %+v), want allowed", cell, rec.Code, denials)
		}
		if code := errorCode(t, rec); rec.Code == http.StatusUnauthorized && (code == "unauthenticated" || code == "session_expired") {
			t.Errorf("%s: %s: the principal's session ended", cell, code)
		}
		if want.status != 0 && rec.Code != want.status {
			t.Errorf("%s: status %d, want %d; body %s", cell, rec.Code, want.status, rec.Body)
		}
		if f.endsSession {
			p.c = w.a.login(w.A.Slug, p.email)
		}
	}
}

// TestAuthorizationMatrix runs the matrix over Parley's route table on SQLite and PostgreSQL.
func TestAuthorizationMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the matrix signs in dozens of users")
	}
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		runMatrix(t, w, w.a.Server.Echo, w.a.Server.Routes, routeFixtures)
	})
}

// TestAuthorizationMatrixDepartmentRoutes runs the matrix over department-scoped routes, one
// naming the department in its path and one resolving it from the object it addresses, served
// through the same guard and sessions as Parley's own table.
func TestAuthorizationMatrixDepartmentRoutes(t *testing.T) {
	if testing.Short() {
		t.Skip("the matrix signs in dozens of users")
	}
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		conversations := map[string][2]string{
			"conv-d1": {w.A.ID, w.D1}, "conv-d2": {w.A.ID, w.D2}, "conv-b": {w.B.ID, w.DB}, "conv-none": {w.A.ID, ""},
		}
		resolve := func(c echo.Context, tenantID string) (string, error) {
			v, ok := conversations[c.Param("conversation")]
			if !ok || v[0] != tenantID {
				return "", api.ErrNotFound
			}
			return v[1], nil
		}
		echoDept := func(c echo.Context) error {
			return c.JSON(http.StatusOK, map[string]string{"department": authz.DepartmentOf(c)})
		}
		routes := []server.Route{
			{Method: http.MethodGet, Path: "/api/v1/probe/departments/:department/offline", Access: server.Authenticated,
				Permission: "offline.view.department", Scope: server.ScopeDepartment, Handler: echoDept},
			{Method: http.MethodPost, Path: "/api/v1/probe/departments/:department/join", Access: server.Authenticated,
				Permission: "chat.join", Scope: server.ScopeDepartment, Handler: echoDept},
			{Method: http.MethodGet, Path: "/api/v1/probe/departments/:department/cards", Access: server.Authenticated,
				Permission: "card.view_full", Scope: server.ScopeDepartment, Handler: echoDept},
			{Method: http.MethodGet, Path: "/api/v1/probe/conversations/:conversation", Access: server.Authenticated,
				Permission: "chat.monitor", Scope: server.ScopeDepartment, Department: resolve, Handler: echoDept},
			{Method: http.MethodGet, Path: "/api/v1/probe/transcripts", Access: server.Authenticated,
				Permission: "transcript.view.all", Scope: server.ScopeTenant, Handler: echoDept},
		}
		if err := authz.CheckRoutes(routes); err != nil {
			t.Fatal(err)
		}
		srv, err := server.New(server.Deps{Config: w.a.Config, Log: w.a.Log, Modules: []server.Module{probe(routes)}, Guard: w.a.Guard.Route})
		if err != nil {
			t.Fatal(err)
		}
		inDept := func(path string) func(w *world, p *principal, tg target) request {
			return func(w *world, _ *principal, tg target) request {
				return request{path: strings.Replace(path, ":department", w.department(tg), 1)}
			}
		}
		conv := func(w *world, _ *principal, tg target) request {
			return request{path: "/api/v1/probe/conversations/" + map[target]string{ownDepartment: "conv-d1", otherDepartment: "conv-d2", otherTenant: "conv-b"}[tg]}
		}
		fixtures := map[string]fixture{
			"GET /api/v1/probe/departments/:department/offline": {build: inDept("/api/v1/probe/departments/:department/offline"), status: 200},
			"POST /api/v1/probe/departments/:department/join":   {build: inDept("/api/v1/probe/departments/:department/join"), status: 200},
			"GET /api/v1/probe/departments/:department/cards":   {build: inDept("/api/v1/probe/departments/:department/cards"), status: 200},
			"GET /api/v1/probe/conversations/:conversation":     {build: conv, status: 200},
			"GET /api/v1/probe/transcripts":                     {build: func(*world, *principal, target) request { return request{path: "/api/v1/probe/transcripts"} }, status: 200},
		}
		runMatrix(t, w, srv.Echo, srv.Routes, fixtures)

		// An object in no department is reached by tenant-wide grants only.
		for _, p := range w.principals {
			rec := p.c.via(srv.Echo, apptest.Request{Method: http.MethodGet, Path: "/api/v1/probe/conversations/conv-none"})
			role, _ := rbac.DefaultRole(p.role)
			want := http.StatusForbidden
			if !p.dept && role.Grants("chat.monitor") {
				want = http.StatusOK
			}
			if rec.Code != want {
				t.Errorf("%s on a conversation in no department: status %d, want %d", p, rec.Code, want)
			}
		}
		// The guard tells the handler which department it checked.
		sup := w.principal(rbac.RoleSupervisor, true)
		rec := sup.c.via(srv.Echo, apptest.Request{Method: http.MethodGet, Path: "/api/v1/probe/conversations/conv-d1"})
		if got := accounttest.Decode[map[string]string](t, rec)["department"]; got != w.D1 {
			t.Errorf("DepartmentOf = %q, want %q", got, w.D1)
		}
	})
}

func (w *world) principal(role string, dept bool) *principal {
	for _, p := range w.principals {
		if p.role == role && p.dept == dept {
			return p
		}
	}
	w.a.t.Fatalf("no principal %s/%v", role, dept)
	return nil
}

// probe is a module serving a fixed route list.
type probe []server.Route

func (p probe) Routes() []server.Route { return p }
