package server_test

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
)

// cacheModule serves routes whose handlers try to make their answers cacheable.
type cacheModule struct{}

func (cacheModule) Routes() []server.Route {
	cacheable := func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		return c.String(http.StatusOK, "page")
	}
	return []server.Route{
		{Method: http.MethodGet, Path: "/page", Access: server.Public, Handler: cacheable},
		{Method: http.MethodGet, Path: "/page/fails", Access: server.Public, Handler: func(echo.Context) error { return api.ErrConflict }},
		{Method: http.MethodGet, Path: "/page/principal", Access: server.Public, Handler: func(c echo.Context) error {
			api.SetPrincipal(c, &api.Principal{TenantID: "t", UserID: "u"})
			return cacheable(c)
		}},
		{Method: http.MethodGet, Path: "/api/v1/public", Access: server.Public, API: true, Handler: cacheable},
		{Method: http.MethodGet, Path: "/private", Access: server.Authenticated, Handler: cacheable},
		{Method: http.MethodGet, Path: "/healthz-like", Access: server.Public, API: true, Handler: cacheable},
	}
}

// allow is a guard that lets every request through, as a signed-in user.
func allow(server.Route) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			api.SetPrincipal(c, &api.Principal{TenantID: "t", UserID: "u"})
			return next(c)
		}
	}
}

func TestNoStore(t *testing.T) {
	s, err := server.New(server.Deps{Config: testConfig(t, nil), Log: slog.New(slog.DiscardHandler),
		Modules: []server.Module{cacheModule{}}, Guard: allow, SessionCookies: []string{"parley_session"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		path   string
		cookie string
		status int
		want   string
	}{
		{name: "public page", path: "/page", status: 200, want: "public, max-age=3600"},
		{name: "public page with the session cookie", path: "/page", cookie: "parley_session=x", status: 200, want: "no-store"},
		{name: "public page with another cookie", path: "/page", cookie: "other=x", status: 200, want: "public, max-age=3600"},
		{name: "public page that sets a principal", path: "/page/principal", status: 200, want: "no-store"},
		{name: "public page error", path: "/page/fails", status: 409, want: "no-store"},
		{name: "authenticated route", path: "/private", status: 200, want: "no-store"},
		{name: "public API route", path: "/api/v1/public", status: 200, want: "no-store"},
		{name: "API route outside /api/", path: "/healthz-like", status: 200, want: "no-store"},
		{name: "unknown path under /api/", path: "/api/v1/nothing", status: 404, want: "no-store"},
		{name: "unknown page", path: "/nothing", status: 404, want: "no-store"},
		{name: "health", path: "/healthz", status: 200, want: "no-store"},
		{name: "readiness", path: "/readyz", status: 200, want: "no-store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.cookie != "" {
				hdr["Cookie"] = tt.cookie
			}
			rec := do(s, http.MethodGet, tt.path, "", hdr)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if got := rec.Header().Get("Cache-Control"); got != tt.want {
				t.Errorf("Cache-Control = %q, want %q", got, tt.want)
			}
		})
	}
}
