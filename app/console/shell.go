package console

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/rbac"
	"github.com/parleyhq/parley/web"
)

// People finds a console user by id.
type People interface {
	ByID(ctx context.Context, tenantID, id string) (account.User, error)
}

// Organisations finds a tenant by id.
type Organisations interface {
	ByID(ctx context.Context, id string) (tenant.Tenant, error)
}

var (
	_ People        = (*account.Store)(nil)
	_ Organisations = (*tenant.Store)(nil)
)

// GrantsFunc returns what a user holds, tenant-wide and per department.
type GrantsFunc func(ctx context.Context, tenantID, userID string) (rbac.Grants, error)

// Shell builds the console shell of each signed-in request: who is signed in and in which
// organisation, the navigation their permissions allow, and the standing banners. Its
// navigation is derived from the route table, so a link is shown exactly when the route's own
// guard would let the user through.
type Shell struct {
	People        People
	Organisations Organisations
	Grants        GrantsFunc
	// DevKeys reports that the key provider is the local development one.
	DevKeys bool
	// Alerts returns the audit log's standing alerts.
	Alerts func() []audit.Alert
	CSRF   func(c echo.Context) string
	Log    *slog.Logger

	routes map[string]server.Route
	keys   map[string]bool
}

// SetRoutes gives the shell the server's route table; it is called once while the application
// is assembled, before the server starts. Until then, and for a path the table does not serve,
// no link is shown.
func (s *Shell) SetRoutes(routes []server.Route) {
	m := make(map[string]server.Route, len(routes))
	keys := make(map[string]bool, len(routes))
	for _, r := range routes {
		keys[r.Key()] = true
		if r.Method == http.MethodGet {
			m[r.Path] = r
		}
	}
	s.routes, s.keys = m, keys
}

// serves reports whether the route table serves method and path.
func (s *Shell) serves(method, path string) bool { return s.keys[method+" "+path] }

// For is web.Pages.Shell: the shell of c's request, or nil when nobody is signed in. A failure
// to read what the shell shows is logged and gives a shell with no navigation rather than no
// page: the page's own route has already been authorised.
func (s *Shell) For(c echo.Context) *web.Shell {
	p := api.PrincipalOf(c)
	if p == nil {
		return nil
	}
	ctx := migrations.WithTenant(c.Request().Context(), p.TenantID)
	sh := &web.Shell{UserID: p.UserID, UserEmail: p.Email, DevKeys: s.DevKeys}
	if s.CSRF != nil {
		sh.CSRF = s.CSRF(c)
	}
	if s.People != nil {
		if u, err := s.People.ByID(ctx, p.TenantID, p.UserID); err == nil {
			sh.UserName, sh.UserEmail = u.DisplayName, u.Email
		} else {
			s.warn(c, "console shell: user", err)
		}
	}
	if s.Organisations != nil {
		if t, err := s.Organisations.ByID(ctx, p.TenantID); err == nil {
			sh.Organisation = t.Name
		} else {
			s.warn(c, "console shell: organisation", err)
		}
	}
	g, err := s.grants(ctx, p)
	if err != nil {
		// No menu, but the banners still show.
		s.warn(c, "console shell: permissions", err)
	} else {
		sh.Nav = s.nav(g, c.Path())
	}
	if s.Alerts != nil {
		for _, a := range s.Alerts() {
			if a.Cleared || (a.Tenant != "" && a.Tenant != p.TenantID && a.Tenant != audit.SystemTenant) {
				continue
			}
			sh.AuditAlerts = append(sh.AuditAlerts, a.Message)
		}
		if len(sh.AuditAlerts) > 0 && err == nil && s.reachable(g, "/audit") {
			sh.AuditLink = "/audit"
		}
	}
	return sh
}

func (s *Shell) grants(ctx context.Context, p *api.Principal) (rbac.Grants, error) {
	if s.Grants == nil {
		return rbac.Grants{}, nil
	}
	return s.Grants(ctx, p.TenantID, p.UserID)
}

func (s *Shell) warn(c echo.Context, msg string, err error) {
	if s.Log != nil {
		s.Log.WarnContext(c.Request().Context(), msg, "request_id", api.RequestID(c), "cause", err.Error())
	}
}

// nav returns the sections of the navigation g reaches, marking the page at path.
func (s *Shell) nav(g rbac.Grants, path string) []web.NavSection {
	var out []web.NavSection
	for _, sec := range Navigation {
		var items []web.NavLink
		for _, it := range sec.Items {
			if !s.reachable(g, it.Path) {
				continue
			}
			items = append(items, web.NavLink{Label: it.Label, Path: it.Path,
				Current: path == it.Path || strings.HasPrefix(path, it.Path+"/")})
		}
		if len(items) > 0 {
			out = append(out, web.NavSection{Title: sec.Title, Items: items})
		}
	}
	return out
}

// reachable reports whether the GET route at path serves a user holding g: a route that needs
// only a session always does; a tenant-scoped route needs its permission (or one of its
// alternatives) tenant-wide; a department-scoped page (one that lists what the user may see in
// each of their departments) needs it tenant-wide or in at least one department.
func (s *Shell) reachable(g rbac.Grants, path string) bool {
	r, ok := s.routes[path]
	if !ok || r.Access != server.Authenticated {
		return false
	}
	holds := func(set rbac.PermissionSet) bool {
		return set.Has(r.Permission) || slices.ContainsFunc(r.Alternatives, set.Has)
	}
	switch r.Scope {
	case server.ScopeNone:
		return true
	case server.ScopeTenant:
		return holds(g.Tenant)
	case server.ScopeDepartment:
		if holds(g.Tenant) {
			return true
		}
		for _, set := range g.Departments {
			if holds(set) {
				return true
			}
		}
	}
	return false
}

// Reaches reports whether the request's user may open the console page at path (its GET route's
// guard would let them through): pages that link elsewhere (the compliance drift's fixes) show
// only the links that lead somewhere. Without a principal, or when the grants cannot be read, it
// is false.
func (s *Shell) Reaches(c echo.Context, path string) bool {
	p := api.PrincipalOf(c)
	if p == nil {
		return false
	}
	g, err := s.grants(migrations.WithTenant(c.Request().Context(), p.TenantID), p)
	if err != nil {
		return false
	}
	return s.reachable(g, path)
}

// Landing is where a user starts after signing in: the first page of landingOrder they reach.
func (s *Shell) Landing(g rbac.Grants) string {
	for _, p := range landingOrder {
		if s.reachable(g, p) {
			return p
		}
	}
	return "/account"
}
