package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestDemoPage(t *testing.T) {
	a := apptest.New(t, migratetest.Open(t, migrations.SQLite), nil)
	ctx := context.Background()
	tn, err := a.Tenants.CreateTenant(ctx, "Acme Insurance")
	if err != nil {
		t.Fatal(err)
	}
	site, err := a.Tenants.CreateSite(ctx, tn.ID, "Demo", []string{"http://parley.test"})
	if err != nil {
		t.Fatal(err)
	}
	rec := a.Do(apptest.Request{Method: "GET", Path: "/demo?site=" + site.SiteKey})
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, `data-site="`+site.SiteKey+`"`) || !strings.Contains(body, `integrity="sha384-`) {
		t.Fatalf("demo page = %d %s", rec.Code, body)
	}
	for _, path := range []string{"/demo", "/demo?site=site_nope", "/demo?site=" + strings.Repeat("x", 200)} {
		if rec := a.Do(apptest.Request{Method: "GET", Path: path}); rec.Code != 404 {
			t.Errorf("GET %s = %d, want 404", path, rec.Code)
		}
	}
}
