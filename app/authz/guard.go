package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/policy/rbac"
)

// Decider answers permission questions; *rbac.Enforcer implements it.
type Decider interface {
	Allowed(ctx context.Context, tenantID, userID, departmentID, permission string) (bool, error)
}

var _ Decider = (*rbac.Enforcer)(nil)

// maxKnownDepartments bounds the guard's memory of departments it has found in their tenant.
const maxKnownDepartments = 1 << 14

// Guard enforces every authenticated route's declared permission: it runs the session middleware
// (Authenticate) first, then checks the route's permission in the route's scope. A
// department-scoped route's department comes from the route's Department resolver or its
// ":department" path parameter; a department or object outside the caller's tenant is 404 (no
// existence oracle), a missing permission 403 forbidden. Every refusal is audited; any failure to
// decide is a refusal.
type Guard struct {
	// Authenticate is the session middleware that sets api.Principal; without it every route is
	// refused.
	Authenticate echo.MiddlewareFunc
	Decider      Decider
	Departments  Departments
	Auditor      Auditor
	Log          *slog.Logger

	mu    sync.RWMutex
	known map[[2]string]struct{}
}

const departmentKey = "parley.authz.department"

// Route is server.Deps.Guard: the middleware of one route.
func (g *Guard) Route(r server.Route) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		check := func(c echo.Context) error {
			if err := g.Authorize(c, r); err != nil {
				return err
			}
			return next(c)
		}
		if g.Authenticate == nil {
			return func(echo.Context) error { return api.ErrUnauthenticated }
		}
		return g.Authenticate(check)
	}
}

// Authorize checks an authenticated request against route r's permission and scope.
func (g *Guard) Authorize(c echo.Context, r server.Route) error {
	p := api.PrincipalOf(c)
	if p == nil {
		return api.ErrUnauthenticated
	}
	if r.Permission == "" && r.Scope == server.ScopeNone {
		return nil
	}
	ctx := c.Request().Context()
	if _, ok := rbac.Lookup(r.Permission); !ok {
		g.deny(c, p, r, "", "unknown_permission")
		return api.ErrForbidden.Wrap(fmt.Errorf("route %s declares permission %q, which is not in the catalogue", r.Key(), r.Permission))
	}
	dept := ""
	switch r.Scope {
	case server.ScopeTenant:
	case server.ScopeDepartment:
		d, err := g.department(c, r, p.TenantID)
		if errors.Is(err, api.ErrNotFound) {
			g.deny(c, p, r, "", "not_found")
			return err
		}
		if err != nil {
			return err
		}
		dept = d
	default:
		g.deny(c, p, r, "", "no_scope")
		return api.ErrForbidden
	}
	ok, err := g.Decider.Allowed(ctx, p.TenantID, p.UserID, dept, r.Permission)
	for _, alt := range r.Alternatives {
		if ok || err != nil {
			break
		}
		ok, err = g.Decider.Allowed(ctx, p.TenantID, p.UserID, dept, alt)
	}
	if err != nil {
		g.deny(c, p, r, dept, "policy_error")
		return api.ErrForbidden.Wrap(err)
	}
	if !ok {
		g.deny(c, p, r, dept, "permission")
		return api.ErrForbidden
	}
	c.Set(departmentKey, dept)
	return nil
}

// Allowed reports whether the request's user holds permission tenant-wide (departmentID "") or in
// a department: for handlers that narrow further than their route (transcripts of one's own
// chats against a department's). Errors count as no.
func (g *Guard) Allowed(c echo.Context, permission, departmentID string) bool {
	p := api.PrincipalOf(c)
	if p == nil {
		return false
	}
	ok, err := g.Decider.Allowed(c.Request().Context(), p.TenantID, p.UserID, departmentID, permission)
	if err != nil {
		g.log().WarnContext(c.Request().Context(), "authorization check failed", "request_id", api.RequestID(c), "cause", err.Error())
		return false
	}
	return ok
}

// DepartmentOf returns the department the guard checked a department-scoped request in ("" for
// a tenant-scoped route or an object that belongs to no department).
func DepartmentOf(c echo.Context) string {
	d, _ := c.Get(departmentKey).(string)
	return d
}

// department finds the department a request addresses and makes sure it is the tenant's.
func (g *Guard) department(c echo.Context, r server.Route, tenantID string) (string, error) {
	if r.Department != nil {
		d, err := r.Department(c, tenantID)
		if err != nil {
			var ae *api.Error
			if errors.As(err, &ae) {
				return "", err
			}
			return "", fmt.Errorf("resolve department of %s: %w", r.Key(), err)
		}
		return d, nil
	}
	id := c.Param("department")
	if id == "" {
		return "", api.ErrInternal.Wrap(fmt.Errorf("route %s is department-scoped without a department", r.Key()))
	}
	if g.isKnown(tenantID, id) {
		return id, nil
	}
	if g.Departments == nil {
		return "", api.ErrInternal.Wrap(errors.New("authz guard has no department directory"))
	}
	_, err := g.Departments.Department(c.Request().Context(), tenantID, id)
	if errors.Is(err, tenant.ErrNotFound) {
		return "", api.ErrNotFound
	}
	if err != nil {
		return "", err
	}
	g.remember(tenantID, id)
	return id, nil
}

// isKnown and remember keep the departments found in their tenant: a department never moves to
// another tenant and its id is never reused, so a found pair stays true (a deleted department's
// objects are gone, and the handler's own query answers 404).
func (g *Guard) isKnown(tenantID, id string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	_, ok := g.known[[2]string{tenantID, id}]
	return ok
}

func (g *Guard) remember(tenantID, id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.known == nil || len(g.known) >= maxKnownDepartments {
		g.known = map[[2]string]struct{}{}
	}
	g.known[[2]string{tenantID, id}] = struct{}{}
}

// deny audits a refused request. The request is refused whether or not the record is written.
func (g *Guard) deny(c echo.Context, p *api.Principal, r server.Route, dept, reason string) {
	ctx := c.Request().Context()
	e := Event{
		TenantID: p.TenantID, Action: ActionAccessDenied, ActorID: p.UserID, TargetKind: "route", TargetID: r.Key(),
		Outcome: Failure, Reason: reason, RequestID: api.RequestID(c), ClientIP: c.RealIP(), UserAgent: c.Request().UserAgent(),
		Details: map[string]string{"permission": r.Permission, "path": c.Request().URL.Path},
	}
	if dept != "" {
		e.Details["department_id"] = dept
	}
	if err := record(ctx, g.Auditor, nil, e); err != nil {
		g.log().ErrorContext(ctx, "access denial not audited", "request_id", e.RequestID, "cause", err.Error())
	}
}

func (g *Guard) log() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.New(slog.DiscardHandler)
}

// CheckRoutes refuses a route table whose permissions the catalogue does not know, whose
// department-scoped routes use a permission that does not apply in a department, or that cannot
// tell which department they address. app.New runs it, so such a table never serves.
func CheckRoutes(routes []server.Route) error {
	var problems []string
	for _, r := range routes {
		if r.Access != server.Authenticated || r.Permission == "" {
			continue
		}
		info, ok := rbac.Lookup(r.Permission)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: permission %q is not in the catalogue", r.Key(), r.Permission))
			continue
		}
		// An alternative need not apply in a department: a tenant-wide grant passes every
		// department's check.
		for _, alt := range r.Alternatives {
			if _, ok := rbac.Lookup(alt); !ok {
				problems = append(problems, fmt.Sprintf("%s: alternative permission %q is not in the catalogue", r.Key(), alt))
			}
		}
		if r.Scope == server.ScopeDepartment {
			if !info.Departmental {
				problems = append(problems, fmt.Sprintf("%s: permission %q does not apply in a department", r.Key(), r.Permission))
			}
			if r.Department == nil && !strings.Contains(r.Path, "/:department") {
				problems = append(problems, r.Key()+": department-scoped without a :department parameter or a Department resolver")
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("authorization: %s", strings.Join(problems, "; "))
	}
	return nil
}
