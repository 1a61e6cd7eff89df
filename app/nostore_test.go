package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/rbac"
)

var routeParam = regexp.MustCompile(`:[A-Za-z_]+|\*`)

// concretePath fills a route's parameters with a well-formed id that names nothing.
func concretePath(path string) string {
	return routeParam.ReplaceAllString(path, "00000000-0000-7000-8000-000000000000")
}

// ownerSession signs in the owner of a new tenant and returns the session cookie and CSRF token.
func ownerSession(t *testing.T, a *apptest.App) (cookie, csrf string) {
	t.Helper()
	ctx := context.Background()
	tn, err := a.Tenants.CreateTenant(ctx, "Cache Test")
	if err != nil {
		t.Fatal(err)
	}
	const password = "Quiet-harbour-2026-lamp"
	err = a.DB.Gorm.Transaction(func(tx *gorm.DB) error {
		_, err := a.Accounts.CreateUser(ctx, tx, account.NewUser{
			TenantID: tn.ID, TenantName: tn.Name, Email: "owner@cache.test", Password: password, Role: rbac.RoleOwner,
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := a.Do(apptest.Request{Method: http.MethodPost, Path: "/api/v1/auth/login",
		Body: fmt.Sprintf(`{"tenant":%q,"email":"owner@cache.test","password":%q}`, tn.Slug, password)})
	if rec.Code != http.StatusOK {
		t.Fatalf("sign in: %d %s", rec.Code, rec.Body)
	}
	var res struct {
		CSRFToken string `json:"csrf_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == a.AccountSessions.CookieName() {
			cookie = ck.Name + "=" + ck.Value
		}
	}
	if cookie == "" || res.CSRFToken == "" {
		t.Fatal("sign in: no session cookie or CSRF token")
	}
	return cookie, res.CSRFToken
}

// TestNoStoreOverRouteTable: every authenticated route, every API route and every path under
// /api/ answers Cache-Control: no-store, whatever its status — signed out, with a session cookie
// that names no session, and signed in as the owner (who holds every permission). Any route
// answers no-store to a request carrying the session cookie.
func TestNoStoreOverRouteTable(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := apptest.New(t, db, nil)
		cookie, csrf := ownerSession(t, a)
		bogus := a.AccountSessions.CookieName() + "=not-a-session"

		send := func(r server.Route, cookie string) (int, string) {
			h := http.Header{}
			if cookie != "" {
				h.Set("Cookie", cookie)
				h.Set("X-CSRF-Token", csrf)
			}
			req := apptest.Request{Method: r.Method, Path: concretePath(r.Path), Header: h}
			if r.Method != http.MethodGet {
				// A body every handler refuses: nothing changes.
				req.Body = "[]"
			}
			rec := a.Do(req)
			return rec.Code, rec.Header().Get("Cache-Control")
		}
		// Routes that end the session run last, so the others see a live one.
		var routes, last []server.Route
		for _, r := range a.Server.Routes {
			if strings.HasSuffix(r.Path, "/logout") {
				last = append(last, r)
				continue
			}
			routes = append(routes, r)
		}
		routes = append(routes, last...)
		checked, served := 0, 0
		for _, r := range routes {
			private := r.Access == server.Authenticated || r.API || strings.HasPrefix(r.Path, "/api/")
			cases := []struct{ who, cookie string }{{"signed in", cookie}, {"unknown session", bogus}}
			if private {
				cases = append(cases, struct{ who, cookie string }{"signed out", ""})
			}
			for _, c := range cases {
				status, cc := send(r, c.cookie)
				if c.cookie == cookie && status < 300 {
					served++
				}
				if cc != "no-store" {
					t.Errorf("%s %s: status %d, Cache-Control %q, want no-store", r.Key(), c.who, status, cc)
				}
				checked++
			}
		}
		// Paths under /api/ that no route serves are private too.
		for _, p := range []string{"/api/", "/api/v1/no-such-thing", "/api/v2/x"} {
			rec := a.Do(apptest.Request{Method: http.MethodGet, Path: p})
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("GET %s: status %d, Cache-Control %q, want no-store", p, rec.Code, got)
			}
		}
		// The session must have held: the owner's reads succeed.
		if checked == 0 || served < 20 {
			t.Fatalf("%d requests checked, %d answered 2xx signed in; want the owner's reads to succeed", checked, served)
		}
	})
}
