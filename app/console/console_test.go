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

// TestNoDirectoryListings: no folder under /static/ or /widget/ is listed, /static/ itself
// included; files still serve.
func TestNoDirectoryListings(t *testing.T) {
	a := apptest.New(t, migratetest.Open(t, migrations.SQLite), nil)
	tests := []struct {
		path   string
		status int
		ctype  string
	}{
		{path: "/static/parley.css", status: 200, ctype: "text/css"},
		{path: "/static/console-chat.js", status: 200, ctype: "text/javascript"},
		{path: "/static/", status: 404},
		{path: "/static", status: 404},
		{path: "/static/.", status: 404},
		{path: "/static/./", status: 404},
		{path: "/static/no-such-folder/", status: 404},
		{path: "/static/parley.css/", status: 404},
		{path: "/static/%2e/", status: 404},
		{path: "/static/..%2f", status: 404},
		{path: "/widget/", status: 404},
		{path: "/widget/v1/", status: 404},
		{path: "/widget/v1/frame.css", status: 200, ctype: "text/css"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := a.Do(apptest.Request{Method: "GET", Path: tt.path})
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %.200s", rec.Code, tt.status, rec.Body)
			}
			body := rec.Body.String()
			if strings.Contains(body, "<pre>") || strings.Contains(body, `href="parley.css"`) {
				t.Errorf("body looks like a listing: %.200s", body)
			}
			if tt.ctype != "" && !strings.HasPrefix(rec.Header().Get("Content-Type"), tt.ctype) {
				t.Errorf("Content-Type = %q, want %s", rec.Header().Get("Content-Type"), tt.ctype)
			}
		})
	}
}
