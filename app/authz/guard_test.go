package authz_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/server"
)

func ok(c echo.Context) error { return c.NoContent(http.StatusNoContent) }

func TestCheckRoutes(t *testing.T) {
	resolver := func(echo.Context, string) (string, error) { return "", nil }
	tests := []struct {
		name  string
		route server.Route
		want  string
	}{
		{"tenant scope", server.Route{Method: "GET", Path: "/a", Access: server.Authenticated, Permission: "role.view", Scope: server.ScopeTenant}, ""},
		{"department parameter", server.Route{Method: "GET", Path: "/d/:department/t", Access: server.Authenticated, Permission: "offline.view.department", Scope: server.ScopeDepartment}, ""},
		{"resolver", server.Route{Method: "GET", Path: "/c/:id", Access: server.Authenticated, Permission: "chat.monitor", Scope: server.ScopeDepartment, Department: resolver}, ""},
		{"session only", server.Route{Method: "GET", Path: "/me", Access: server.Authenticated}, ""},
		{"public", server.Route{Method: "GET", Path: "/", Access: server.Public}, ""},
		{"unknown permission", server.Route{Method: "GET", Path: "/x", Access: server.Authenticated, Permission: "audit.delete", Scope: server.ScopeTenant}, `permission "audit.delete" is not in the catalogue`},
		{"tenant permission in a department", server.Route{Method: "GET", Path: "/d/:department/k", Access: server.Authenticated, Permission: "keys.manage", Scope: server.ScopeDepartment}, "does not apply in a department"},
		{"tenant-wide alternative in a department", server.Route{Method: "GET", Path: "/c/:id", Access: server.Authenticated, Permission: "transcript.view.own", Alternatives: []string{"transcript.view.all"}, Scope: server.ScopeDepartment, Department: resolver}, ""},
		{"unknown alternative", server.Route{Method: "GET", Path: "/x", Access: server.Authenticated, Permission: "role.view", Alternatives: []string{"role.peek"}, Scope: server.ScopeTenant}, `alternative permission "role.peek" is not in the catalogue`},
		{"no department source", server.Route{Method: "GET", Path: "/t/:id", Access: server.Authenticated, Permission: "offline.view.department", Scope: server.ScopeDepartment}, "without a :department parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := authz.CheckRoutes([]server.Route{tt.route})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckRoutes = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckRoutes = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

type deciderFunc func(ctx context.Context, tenantID, userID, departmentID, permission string) (bool, error)

func (f deciderFunc) Allowed(ctx context.Context, tenantID, userID, departmentID, permission string) (bool, error) {
	return f(ctx, tenantID, userID, departmentID, permission)
}

// asPrincipal is a stand-in session middleware for guard unit tests.
func asPrincipal(p *api.Principal) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if p == nil {
				return api.ErrUnauthenticated
			}
			api.SetPrincipal(c, p)
			return next(c)
		}
	}
}

func guardServer(t *testing.T, g *authz.Guard, routes ...server.Route) *server.Server {
	t.Helper()
	srv, err := server.New(server.Deps{Config: apptest.Config(t, nil), Log: slog.New(slog.DiscardHandler), Modules: []server.Module{probe(routes)}, Guard: g.Route})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func serve(srv *server.Server, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	srv.Echo.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestGuardFailsClosed(t *testing.T) {
	me := &api.Principal{TenantID: "t1", UserID: "u1"}
	allowAll := deciderFunc(func(context.Context, string, string, string, string) (bool, error) { return true, nil })
	routes := []server.Route{
		{Method: "GET", Path: "/api/v1/keys", Access: server.Authenticated, Permission: "keys.manage", Scope: server.ScopeTenant, Handler: ok},
		{Method: "GET", Path: "/api/v1/bogus", Access: server.Authenticated, Permission: "audit.delete", Scope: server.ScopeTenant, Handler: ok},
		{Method: "GET", Path: "/api/v1/me", Access: server.Authenticated, Handler: ok},
		{Method: "GET", Path: "/api/v1/roles", Access: server.Authenticated, Permission: "role.view", Alternatives: []string{"role.manage"}, Scope: server.ScopeTenant, Handler: ok},
		{Method: "GET", Path: "/api/v1/c/:id", Access: server.Authenticated, Permission: "chat.monitor", Scope: server.ScopeDepartment, Handler: ok,
			Department: func(c echo.Context, _ string) (string, error) {
				if c.Param("id") == "broken" {
					return "", errors.New("conversation store down")
				}
				return "", api.ErrNotFound
			}},
	}
	tests := []struct {
		name    string
		guard   *authz.Guard
		path    string
		status  int
		reason  string
		audited bool
	}{
		{"allowed", &authz.Guard{Authenticate: asPrincipal(me), Decider: allowAll}, "/api/v1/keys", 204, "", false},
		{"no session middleware", &authz.Guard{Decider: allowAll}, "/api/v1/keys", 401, "", false},
		{"not signed in", &authz.Guard{Authenticate: asPrincipal(nil), Decider: allowAll}, "/api/v1/keys", 401, "", false},
		{"session only route", &authz.Guard{Authenticate: asPrincipal(me), Decider: deciderFunc(func(context.Context, string, string, string, string) (bool, error) {
			return false, nil
		})}, "/api/v1/me", 204, "", false},
		{"permission not in the catalogue", &authz.Guard{Authenticate: asPrincipal(me), Decider: allowAll}, "/api/v1/bogus", 403, "unknown_permission", true},
		{"policy error", &authz.Guard{Authenticate: asPrincipal(me), Decider: deciderFunc(func(context.Context, string, string, string, string) (bool, error) {
			return true, errors.New("model broken")
		})}, "/api/v1/keys", 403, "policy_error", true},
		{"denied", &authz.Guard{Authenticate: asPrincipal(me), Decider: deciderFunc(func(context.Context, string, string, string, string) (bool, error) {
			return false, nil
		})}, "/api/v1/keys", 403, "permission", true},
		{"alternative held", &authz.Guard{Authenticate: asPrincipal(me), Decider: deciderFunc(func(_ context.Context, _, _, _, perm string) (bool, error) {
			return perm == "role.manage", nil
		})}, "/api/v1/roles", 204, "", false},
		{"neither held", &authz.Guard{Authenticate: asPrincipal(me), Decider: deciderFunc(func(_ context.Context, _, _, _, perm string) (bool, error) {
			return perm == "keys.manage", nil
		})}, "/api/v1/roles", 403, "permission", true},
		{"policy error on the alternative", &authz.Guard{Authenticate: asPrincipal(me), Decider: deciderFunc(func(_ context.Context, _, _, _, perm string) (bool, error) {
			if perm == "role.manage" {
				return true, errors.New("model broken")
			}
			return false, nil
		})}, "/api/v1/roles", 403, "policy_error", true},
		{"object of another tenant", &authz.Guard{Authenticate: asPrincipal(me), Decider: allowAll}, "/api/v1/c/x", 404, "not_found", true},
		{"resolver failure", &authz.Guard{Authenticate: asPrincipal(me), Decider: allowAll}, "/api/v1/c/broken", 500, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			tt.guard.Auditor = rec
			rr := serve(guardServer(t, tt.guard, routes...), "GET", tt.path)
			if rr.Code != tt.status {
				t.Errorf("status %d, want %d; body %s", rr.Code, tt.status, rr.Body)
			}
			ev := rec.find(authz.ActionAccessDenied)
			if tt.audited != (len(ev) == 1) || (tt.audited && (ev[0].Reason != tt.reason || ev[0].ActorID != "u1" || ev[0].TenantID != "t1" || ev[0].Outcome != authz.Failure)) {
				t.Errorf("denial records = %+v, want audited=%v reason %q", ev, tt.audited, tt.reason)
			}
		})
	}
	t.Run("a denial stands when its audit record fails", func(t *testing.T) {
		g := &authz.Guard{Authenticate: asPrincipal(me), Decider: deciderFunc(func(context.Context, string, string, string, string) (bool, error) {
			return false, nil
		}), Auditor: &recorder{Recorder: apptest.Recorder[authz.Event]{Fail: errBoom}}}
		if rr := serve(guardServer(t, g, routes...), "GET", "/api/v1/keys"); rr.Code != 403 {
			t.Errorf("status %d, want 403", rr.Code)
		}
	})
}
