package authz_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/rbac"
)

// benchApp is an application on SQLite with a supervisor in department D1 of tenant A.
func benchApp(b *testing.B) (*testApp, *client, string) {
	b.Helper()
	a := newApp(b, migratetest.Open(b, migrations.SQLite))
	acme, depts := a.createTenant("Acme Bank", "Cards")
	owner := a.createUser(acme, "owner@acme.test", rbac.RoleOwner)
	sup := a.createUser(acme, "sup@acme.test", rbac.RoleAgent)
	if _, err := a.Authz.Assign(context.Background(), actor(acme.ID, owner.ID), sup.ID, rbac.RoleSupervisor, depts[0].ID); err != nil {
		b.Fatal(err)
	}
	return a, a.login(acme.Slug, "owner@acme.test"), depts[0].ID
}

// BenchmarkGuardAuthorize is the enforcement middleware's own work on a request whose session is
// already resolved: a department-scoped permission answered from the enforcer's cache.
func BenchmarkGuardAuthorize(b *testing.B) {
	a, owner, dept := benchApp(b)
	route := server.Route{Method: http.MethodGet, Path: "/api/v1/departments/:department/transcripts", Access: server.Authenticated,
		Permission: "offline.view.department", Scope: server.ScopeDepartment}
	e := echo.New()
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	c.SetParamNames("department")
	c.SetParamValues(dept)
	api.SetPrincipal(c, &api.Principal{TenantID: a.Tenants0(b), UserID: owner.UserID})
	if err := a.Guard.Authorize(c, route); err != nil {
		b.Fatalf("warm-up: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := a.Guard.Authorize(c, route); err != nil {
			b.Fatal(err)
		}
	}
}

// Tenants0 returns the id of the first tenant.
func (a *testApp) Tenants0(b *testing.B) string {
	ts, err := a.Tenants.List(context.Background())
	if err != nil || len(ts) == 0 {
		b.Fatalf("tenants: %v", err)
	}
	return ts[0].ID
}

// BenchmarkAuthenticatedJSON serves GET /api/v1/roles through the full stack (session cookie,
// session middleware, guard, handler) and the same handler without authentication, alternately
// in one run, and reports both latencies and the authenticated throughput as a percentage of the
// unauthenticated one (target: at least 50%).
func BenchmarkAuthenticatedJSON(b *testing.B) {
	a, owner, _ := benchApp(b)
	var handler echo.HandlerFunc
	for _, r := range a.Server.Routes {
		if r.Key() == "GET /api/v1/roles" {
			handler = r.Handler
		}
	}
	bare := echo.New()
	principal := &api.Principal{TenantID: a.Tenants0(b), UserID: owner.UserID}
	bare.GET("/api/v1/roles", handler, func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			api.SetPrincipal(c, principal)
			return next(c)
		}
	})
	authed := httptest.NewRequest(http.MethodGet, "/api/v1/roles", nil)
	authed.Header.Set("Cookie", owner.cookie)
	plain := httptest.NewRequest(http.MethodGet, "/api/v1/roles", nil)
	serveOnce := func(h http.Handler, req *http.Request) time.Duration {
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		d := time.Since(start)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		return d
	}
	serveOnce(a.Server.Echo, authed)
	serveOnce(bare, plain)
	var withAuth, without time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		withAuth += serveOnce(a.Server.Echo, authed)
		without += serveOnce(bare, plain)
	}
	n := float64(b.N)
	b.ReportMetric(float64(withAuth.Nanoseconds())/n, "auth-ns/req")
	b.ReportMetric(float64(without.Nanoseconds())/n, "noauth-ns/req")
	b.ReportMetric(100*float64(without)/float64(withAuth), "auth-throughput-%")
}
