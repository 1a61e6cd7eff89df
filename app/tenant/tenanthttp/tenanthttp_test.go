package tenanthttp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestListSites: GET /api/v1/sites answers the organisation's sites sorted by name with every
// documented field, never another organisation's, no-store; it needs site.manage and a session.
func TestListSites(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		ctx := context.Background()
		const pw = "Tr1cky-Lantern-Harbour"
		acme, _ := a.CreateUser("Acme Bank", "owner@acme.test", pw, "owner", false)
		a.CreateUser("Acme Bank", "agent@acme.test", pw, "agent", false)
		other, _ := a.CreateUser("Other Bank", "owner@other.test", pw, "owner", false)

		owner := a.Client("198.51.100.7:1000")
		if rec := owner.Login(acme.Slug, "owner@acme.test", pw, nil); rec.Code != http.StatusOK {
			t.Fatalf("sign-in: %d %s", rec.Code, rec.Body.String())
		}
		list := func() []map[string]any {
			t.Helper()
			rec := owner.Do(http.MethodGet, "/api/v1/sites", "")
			if rec.Code != http.StatusOK {
				t.Fatalf("GET /api/v1/sites = %d %s", rec.Code, rec.Body.String())
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			var body struct {
				Sites []map[string]any `json:"sites"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Sites == nil {
				t.Fatalf("body %s: %v (want a sites list, empty or not)", rec.Body.String(), err)
			}
			return body.Sites
		}
		if got := list(); len(got) != 0 {
			t.Errorf("before any site: %v, want an empty list", got)
		}

		if _, err := a.Tenants.CreateSite(ctx, other.ID, "Another bank's site", []string{"https://other.test"}); err != nil {
			t.Fatal(err)
		}
		beta, err := a.Tenants.CreateSite(ctx, acme.ID, "Beta site", []string{"https://beta.acme.test", "https://www.acme.test:8443"})
		if err != nil {
			t.Fatal(err)
		}
		alpha, err := a.Tenants.CreateSite(ctx, acme.ID, "Alpha site", []string{"https://alpha.acme.test"})
		if err != nil {
			t.Fatal(err)
		}

		got := list()
		if len(got) != 2 {
			t.Fatalf("got %d sites, want Acme's 2: %v", len(got), got)
		}
		for i, want := range []struct {
			id, name, key string
			origins       []string
			created       time.Time
		}{
			{alpha.ID, "Alpha site", alpha.SiteKey, []string{"https://alpha.acme.test"}, alpha.CreatedAt},
			{beta.ID, "Beta site", beta.SiteKey, []string{"https://beta.acme.test", "https://www.acme.test:8443"}, beta.CreatedAt},
		} {
			s := got[i]
			if s["id"] != want.id || s["name"] != want.name || s["site_key"] != want.key || s["enabled"] != true {
				t.Errorf("site %d = %v, want id %s name %q key %s enabled", i, s, want.id, want.name, want.key)
			}
			origins, _ := s["allowed_origins"].([]any)
			if len(origins) != len(want.origins) {
				t.Errorf("site %d origins = %v, want %v", i, s["allowed_origins"], want.origins)
			}
			for j := range origins {
				if j < len(want.origins) && origins[j] != want.origins[j] {
					t.Errorf("site %d origin %d = %v, want %s", i, j, origins[j], want.origins[j])
				}
			}
			created, err := time.Parse(time.RFC3339Nano, s["created_at"].(string))
			if err != nil || !created.Equal(want.created.Truncate(time.Microsecond)) && !created.Equal(want.created) {
				t.Errorf("site %d created_at = %v, want %v", i, s["created_at"], want.created)
			}
			if len(s) != 6 {
				t.Errorf("site %d has fields %v, want exactly the six documented", i, s)
			}
		}

		agent := a.Client("198.51.100.8:1000")
		if rec := agent.Login(acme.Slug, "agent@acme.test", pw, nil); rec.Code != http.StatusOK {
			t.Fatalf("agent sign-in: %d", rec.Code)
		}
		if rec := agent.Do(http.MethodGet, "/api/v1/sites", ""); rec.Code != http.StatusForbidden {
			t.Errorf("agent: %d, want 403", rec.Code)
		}
		if rec := a.Client("198.51.100.9:1000").Do(http.MethodGet, "/api/v1/sites", ""); rec.Code != http.StatusUnauthorized {
			t.Errorf("no session: %d, want 401", rec.Code)
		}
	})
}
