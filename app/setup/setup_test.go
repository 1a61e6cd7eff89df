package setup_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/auditlog"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func form(token, tenant, email, pw, confirm string) string {
	v := url.Values{"token": {token}, "tenant": {tenant}, "email": {email}, "password": {pw}, "confirm": {confirm}}
	return v.Encode()
}

func post(a *apptest.App, body string) (int, string) {
	rec := a.Do(apptest.Request{Method: "POST", Path: "/setup", Body: body, ContentType: "application/x-www-form-urlencoded"})
	return rec.Code, rec.Body.String()
}

func TestSetupFlow(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		a := apptest.New(t, db, nil)
		token, exp, ok, err := a.Setup.Issue(ctx)
		if err != nil || !ok {
			t.Fatalf("Issue = %v, %v", ok, err)
		}
		if want := a.Clock.Now().Add(time.Hour); !exp.Equal(want) {
			t.Errorf("expires %v, want %v", exp, want)
		}
		if rec := a.Do(apptest.Request{Method: "GET", Path: "/setup?token=" + token}); rec.Code != 200 || !strings.Contains(rec.Body.String(), `name="password"`) {
			t.Fatalf("setup page = %d", rec.Code)
		}
		if rec := a.Do(apptest.Request{Method: "GET", Path: "/setup?token=wrong"}); rec.Code != 404 {
			t.Errorf("wrong token page = %d, want 404", rec.Code)
		}

		// A weak password is refused with every broken rule listed; nothing is created.
		code, body := post(a, form(token, "Acme Bank", "owner@acme.test", "acme", "acme"))
		if code != 422 || !strings.Contains(body, "12 characters") {
			t.Fatalf("weak password = %d, want 422 naming the length rule: %s", code, body)
		}
		if n, _ := a.Tenants.Count(ctx); n != 0 {
			t.Fatalf("tenants after refused setup = %d, want 0", n)
		}
		code, body = post(a, form(token, "Acme Bank", "owner@acme.test", "Tr1cky-Lantern-Harbour", "Tr1cky-Lantern-Harbour!"))
		if code != 422 || !strings.Contains(body, "differ") {
			t.Fatalf("mismatched passwords = %d: %s", code, body)
		}
		code, body = post(a, form(token, "Acme Bank", "not-an-email", "Tr1cky-Lantern-Harbour", "Tr1cky-Lantern-Harbour"))
		if code != 422 || !strings.Contains(body, "e-mail") {
			t.Fatalf("bad e-mail = %d: %s", code, body)
		}

		code, body = post(a, form(token, "Acme Bank", "Owner@Acme.test", "Tr1cky-Lantern-Harbour", "Tr1cky-Lantern-Harbour"))
		if code != 200 || !strings.Contains(body, "acme-bank") {
			t.Fatalf("setup = %d: %s", code, body)
		}
		tn, err := a.Tenants.BySlug(ctx, "acme-bank")
		if err != nil {
			t.Fatal(err)
		}
		u, err := a.Users.ByEmail(ctx, tn.ID, "owner@acme.test")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || strings.Contains(u.PasswordHash, "Lantern") {
			t.Errorf("password stored as %q, want an argon2id hash", u.PasswordHash)
		}
		roles, err := a.Users.Roles(ctx, tn.ID, u.ID)
		if err != nil || len(roles) != 1 || roles[0].Role != "owner" {
			t.Errorf("roles = %+v, %v; want owner", roles, err)
		}

		// The creation is in the tenant's audit chain, and the tenant has its encryption key.
		if _, err := a.Audit.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		page, err := a.Audit.Search(ctx, auditlog.Query{Tenant: tn.ID, Actions: []audit.Action{audit.ActionSetupCompleted}})
		if err != nil || len(page.Entries) != 1 || page.Entries[0].Event.Actor.ID != u.ID {
			t.Errorf("setup audit events = %+v, %v; want one by the owner", page.Entries, err)
		}
		if st, err := a.Keys.TenantKeyStatus(ctx, tn.ID); err != nil || st.LatestVersion < 1 {
			t.Errorf("tenant key status = %+v, %v; want a key", st, err)
		}

		// Single use: the link is dead, and no new link is issued once a tenant exists.
		if code, _ := post(a, form(token, "Other", "x@other.test", "Tr1cky-Lantern-Harbour", "Tr1cky-Lantern-Harbour")); code != 404 {
			t.Errorf("reused link = %d, want 404", code)
		}
		if _, _, ok, err := a.Setup.Issue(ctx); ok || err != nil {
			t.Errorf("Issue after setup = %v, %v; want no link", ok, err)
		}
	})
}

func TestSetupLinkExpires(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := apptest.New(t, db, nil)
		token, _, _, err := a.Setup.Issue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		a.Clock.Advance(61 * time.Minute)
		if rec := a.Do(apptest.Request{Method: "GET", Path: "/setup?token=" + token}); rec.Code != 404 {
			t.Errorf("expired link page = %d, want 404", rec.Code)
		}
		if code, _ := post(a, form(token, "Acme", "o@acme.test", "Tr1cky-Lantern-Harbour", "Tr1cky-Lantern-Harbour")); code != 404 {
			t.Errorf("expired link submit = %d, want 404", code)
		}
	})
}

func TestNewLinkInvalidatesOld(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := apptest.New(t, db, nil)
		old, _, _, _ := a.Setup.Issue(context.Background())
		if _, _, _, err := a.Setup.Issue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if rec := a.Do(apptest.Request{Method: "GET", Path: "/setup?token=" + old}); rec.Code != 404 {
			t.Errorf("superseded link = %d, want 404", rec.Code)
		}
	})
}

func TestHealthAndReadiness(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		const token = "readiness-token-for-tests-0123456789abcdef"
		a := apptest.New(t, db, map[string]string{"PARLEY_METRICS_TOKEN": token})
		if rec := a.Do(apptest.Request{Method: "GET", Path: "/healthz"}); rec.Code != 200 {
			t.Errorf("healthz = %d", rec.Code)
		}
		// The per-check details need the metrics token (app/readyz_test.go covers the rest).
		bearer := http.Header{"Authorization": {"Bearer " + token}}
		rec := a.Do(apptest.Request{Method: "GET", Path: "/readyz", Header: bearer})
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"database":{"status":"ok"`) {
			t.Errorf("readyz = %d %s", rec.Code, rec.Body.String())
		}
		_ = db.Close()
		rec = a.Do(apptest.Request{Method: "GET", Path: "/readyz", Header: bearer})
		if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"database":{"status":"unavailable"`) {
			t.Errorf("readyz with database closed = %d %s", rec.Code, rec.Body.String())
		}
	})
}

// TestSetupRefusesCardNumbers: an organisation name, its slug or the owner's e-mail address that
// holds a card number is refused on the form (400, the field emptied, not repeated back), and
// nothing is created.
func TestSetupRefusesCardNumbers(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		a := apptest.New(t, db, nil)
		token, _, _, err := a.Setup.Issue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct{ name, tenant, email, want string }{
			{"card number as organisation", "Acme 4111 1111 1111 1111", "owner@acme.test", "organisation name"},
			{"card number only in the slug", "Acme 4111€1111€1111€1111", "owner@acme.test", "organisation name"},
			{"card number as e-mail", "Acme Bank", "5500000000000004@acme.test", "e-mail address"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, body := post(a, form(token, tt.tenant, tt.email, "Tr1cky-Lantern-Harbour", "Tr1cky-Lantern-Harbour"))
				if code != 400 || !strings.Contains(body, "card number is not allowed in the "+tt.want) {
					t.Fatalf("setup = %d, want 400 naming the %s: %s", code, tt.want, body)
				}
				if pan.Contains(body) || strings.Contains(body, "4111") || strings.Contains(body, "5500000000000004") {
					t.Errorf("the form repeats the card number: %s", body)
				}
				if n, _ := a.Tenants.Count(ctx); n != 0 {
					t.Fatalf("tenants after a refused setup = %d, want 0", n)
				}
			})
		}
	})
}
