package setup_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/setup"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/auditlog"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

const demoPassword = "correct horse battery staple 42"

// signIn signs email in and returns the client with its CSRF token.
func signIn(t *testing.T, a *accounttest.App, slug, email string) *accounttest.Client {
	t.Helper()
	c := a.Client("203.0.113.9:4000")
	rec := c.Login(slug, email, demoPassword, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("sign-in %s = %d %s", email, rec.Code, rec.Body)
	}
	var body struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.CSRF == "" {
		t.Fatalf("sign-in body %s: %v", rec.Body, err)
	}
	c.CSRF = body.CSRF
	return c
}

func TestDemoSite(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		a := accounttest.New(t, db, nil)
		acme, owner := a.CreateUser("Acme Bank", "owner@acme.test", demoPassword, "owner", false)
		a.CreateUser("Acme Bank", "agent@acme.test", demoPassword, "agent", false)
		if _, err := a.Authz.CreateRole(ctx, authz.Actor{TenantID: acme.ID, UserID: owner.ID}, authz.RoleInput{Name: "site-keeper", Permissions: []string{"site.manage"}}); err != nil {
			t.Fatal(err)
		}
		_, keeper := a.CreateUser("Acme Bank", "keeper@acme.test", demoPassword, "site-keeper", false)
		bravo, _ := a.CreateUser("Bravo Credit", "owner@bravo.test", demoPassword, "owner", false)

		oc := signIn(t, a, acme.Slug, "owner@acme.test")
		form := func(c *accounttest.Client, csrf string) (int, string) {
			rec := c.DoRequest(apptest.Request{Method: http.MethodPost, Path: "/setup/demo-site",
				Body: url.Values{"csrf_token": {csrf}}.Encode(), ContentType: "application/x-www-form-urlencoded"})
			return rec.Code, rec.Header().Get("Location")
		}
		page := func(c *accounttest.Client, path string) (int, string) {
			rec := c.Do(http.MethodGet, path, "")
			return rec.Code, rec.Body.String()
		}

		// Before: the button, and the owner can take chats.
		code, body := page(oc, "/setup/demo-site")
		for _, want := range []string{`action="/setup/demo-site"`, `name="csrf_token"`, "Create a demo site", "You can take chats"} {
			if code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("page before: status %d, want 200 containing %q", code, want)
			}
		}

		// A form without the session's token is refused; nothing is created.
		csrf := oc.CSRF
		oc.CSRF = ""
		if code, _ := form(oc, "wrong"); code != http.StatusForbidden {
			t.Errorf("POST with a wrong token: status %d, want 403", code)
		}
		if sites, _ := a.Tenants.Sites(ctx, acme.ID); len(sites) != 0 {
			t.Fatalf("sites after a refused form: %d, want 0", len(sites))
		}

		// One click creates the site and its department, then shows them (303).
		if code, loc := form(oc, csrf); code != http.StatusSeeOther || loc != "/setup/demo-site?notice=created" {
			t.Fatalf("create: %d → %q, want 303 → /setup/demo-site?notice=created", code, loc)
		}
		sites, err := a.Tenants.Sites(ctx, acme.ID)
		if err != nil || len(sites) != 1 || sites[0].Name != setup.DemoSiteName || sites[0].AllowedOrigins != "http://parley.test" {
			t.Fatalf("sites = %+v, %v; want one demo site allowing http://parley.test", sites, err)
		}
		site := sites[0]
		depts, err := a.Tenants.Departments(ctx, acme.ID)
		if err != nil || len(depts) != 1 || depts[0].Name != setup.DemoDepartmentName {
			t.Fatalf("departments = %+v, %v; want the demo department", depts, err)
		}
		set, err := a.Chat.SiteSettings(migrations.WithTenant(ctx, acme.ID), site.ID)
		if err != nil || set.DefaultDepartmentID != depts[0].ID {
			t.Errorf("default department = %q, %v; want %q", set.DefaultDepartmentID, err, depts[0].ID)
		}
		code, body = page(oc, "/setup/demo-site?notice=created")
		for _, want := range []string{"The demo site was created.", `href="/demo?site=` + site.SiteKey + `" target="_blank"`, `href="/workspace"`, "Open the visitor page", "Open the agent workspace", "<code>" + site.ID + "</code>"} {
			if code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("page after: status %d, want 200 containing %q", code, want)
			}
		}
		if strings.Contains(body, `action="/setup/demo-site"`) {
			t.Error("page after: the create button is still shown")
		}
		// The visitor page works with the new key.
		if rec := a.Do(apptest.Request{Method: http.MethodGet, Path: "/demo?site=" + site.SiteKey}); rec.Code != http.StatusOK {
			t.Errorf("demo visitor page = %d, want 200", rec.Code)
		}

		// A second click (a double submit) creates nothing and shows the existing site.
		if code, loc := form(oc, csrf); code != http.StatusSeeOther || loc != "/setup/demo-site?notice=exists" {
			t.Fatalf("second click: %d → %q, want 303 → /setup/demo-site?notice=exists", code, loc)
		}
		if sites, _ := a.Tenants.Sites(ctx, acme.ID); len(sites) != 1 {
			t.Errorf("sites after a second click: %d, want 1", len(sites))
		}
		if depts, _ := a.Tenants.Departments(ctx, acme.ID); len(depts) != 1 {
			t.Errorf("departments after a second click: %d, want 1", len(depts))
		}
		if _, body := page(oc, "/setup/demo-site?notice=exists"); !strings.Contains(body, "already exists") {
			t.Error("second click: the page does not say the demo site exists")
		}
		// The notice is never reflected from the query.
		if _, body := page(oc, "/setup/demo-site?notice=%3Cb%3Ehi"); strings.Contains(body, "hi</b>") || strings.Contains(body, "&lt;b&gt;hi") {
			t.Error("an unknown notice was reflected")
		}

		// Audited once each, by the owner, in the creating transaction.
		if _, err := a.App.Audit.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			action audit.Action
			target string
		}{{audit.ActionSiteCreate, site.ID}, {audit.ActionDepartmentCreate, depts[0].ID}} {
			p, err := a.App.Audit.Search(ctx, auditlog.Query{Tenant: acme.ID, Actions: []audit.Action{tc.action}, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Entries) != 1 || p.Entries[0].Actor.ID != owner.ID || p.Entries[0].Target.ID != tc.target || p.Entries[0].Origin.IP != "203.0.113.9" {
				t.Errorf("%s records = %+v, want one by the owner on %s from 203.0.113.9", tc.action, p.Entries, tc.target)
			}
		}

		// Without site.manage: 403, nothing created.
		ac := signIn(t, a, acme.Slug, "agent@acme.test")
		if code, _ := page(ac, "/setup/demo-site"); code != http.StatusForbidden {
			t.Errorf("agent GET: status %d, want 403", code)
		}
		if code, _ := form(ac, ac.CSRF); code != http.StatusForbidden {
			t.Errorf("agent POST: status %d, want 403", code)
		}

		// A site manager who cannot take chats is told which role to grant, and where.
		kc := signIn(t, a, acme.Slug, "keeper@acme.test")
		code, body = page(kc, "/setup/demo-site")
		for _, want := range []string{"You cannot take chats yet", "<strong>agent</strong>", `href="/users/` + keeper.ID + `"`} {
			if code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("site manager's page: status %d, want 200 containing %q", code, want)
			}
		}

		// Another tenant's owner gets a demo site of their own.
		bc := signIn(t, a, bravo.Slug, "owner@bravo.test")
		if code, loc := form(bc, bc.CSRF); code != http.StatusSeeOther || loc != "/setup/demo-site?notice=created" {
			t.Fatalf("other tenant: %d → %q, want its own demo site", code, loc)
		}
		if sites, _ := a.Tenants.Sites(ctx, bravo.ID); len(sites) != 1 || sites[0].ID == site.ID {
			t.Errorf("other tenant's sites = %+v, want its own", sites)
		}
		if sites, _ := a.Tenants.Sites(ctx, acme.ID); len(sites) != 1 {
			t.Errorf("sites of the first tenant: %d, want 1", len(sites))
		}
	})
}
