package tenanthttp_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestSitesAPI: sites are created, read, changed, disabled and enabled through the API by a user
// with site.manage; every input is checked with the field named; a name is used once per
// organisation (a repeated create changes nothing); another organisation's site is not found; a
// disabled site's key no longer resolves, so its widget stops opening; every change is audited.
func TestSitesAPI(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		ctx := context.Background()

		rec := h.owner.Do(http.MethodPost, "/api/v1/sites", `{"name":"Main shop","allowed_origins":["https://WWW.acme.test/","https://shop.acme.test:8443","http://localhost:3000"]}`)
		if rec.Code != http.StatusCreated {
			t.Fatalf("create = %d %s", rec.Code, rec.Body)
		}
		site := decode[map[string]any](t, rec)
		id, _ := site["id"].(string)
		origins, _ := site["allowed_origins"].([]any)
		if id == "" || site["name"] != "Main shop" || !strings.HasPrefix(site["site_key"].(string), "site_") || site["enabled"] != true ||
			len(origins) != 3 || origins[0] != "https://www.acme.test" {
			t.Fatalf("created site = %v", site)
		}

		for _, tt := range []struct {
			name, body string
			status     int
			code       string
			field      string
		}{
			{"duplicate name", `{"name":"Main shop","allowed_origins":["https://other.acme.test"]}`, 409, "name_taken", "name"},
			{"short name", `{"name":"x","allowed_origins":["https://acme.test"]}`, 400, "invalid_request", "name"},
			{"card number in name", `{"name":"Shop 4111 1111 1111 1111","allowed_origins":["https://acme.test"]}`, 400, "card_number_not_allowed", "name"},
			{"card number in origin", `{"name":"Cards","allowed_origins":["https://4111111111111111.acme.test"]}`, 400, "card_number_not_allowed", "allowed_origins"},
			{"no origin", `{"name":"Empty","allowed_origins":[]}`, 400, "invalid_request", "allowed_origins"},
			{"plain http", `{"name":"Plain","allowed_origins":["http://acme.test"]}`, 400, "invalid_request", "allowed_origins"},
			{"path", `{"name":"Path","allowed_origins":["https://acme.test/shop"]}`, 400, "invalid_request", "allowed_origins"},
			{"duplicate origin", `{"name":"Twice","allowed_origins":["https://acme.test","https://ACME.test"]}`, 400, "invalid_request", "allowed_origins"},
			{"too many origins", `{"name":"Many","allowed_origins":[` + strings.Repeat(`"https://a.test",`, 20) + `"https://b.test"]}`, 400, "invalid_request", "allowed_origins"},
			{"unknown field", `{"name":"Odd","allowed_origins":["https://acme.test"],"key":"x"}`, 400, "", ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				rec := h.owner.Do(http.MethodPost, "/api/v1/sites", tt.body)
				if rec.Code != tt.status {
					t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
				}
				e := decode[apiError](t, rec)
				if tt.code != "" && (e.Error.Code != tt.code || e.Error.Field != tt.field || e.Error.Message == "") {
					t.Errorf("error = %+v, want %s on %s", e.Error, tt.code, tt.field)
				}
			})
		}
		if sites, _ := h.a.Tenants.Sites(ctx, h.acme.ID); len(sites) != 1 {
			t.Errorf("Acme has %d sites after the refused creates, want 1", len(sites))
		}
		if rec := h.owner.Do(http.MethodPost, "/api/v1/sites", `{"name":"Plain","allowed_origins":["http://acme.test","https://b.test"]}`); !strings.Contains(rec.Body.String(), "Origin 1:") {
			t.Errorf("an origin's error names its position: %s", rec.Body)
		}

		rec = h.owner.Do(http.MethodPut, "/api/v1/sites/"+id, `{"name":"Main web shop","allowed_origins":["https://www.acme.test"]}`)
		if got := decode[map[string]any](t, rec); rec.Code != 200 || got["name"] != "Main web shop" || len(got["allowed_origins"].([]any)) != 1 || got["site_key"] != site["site_key"] {
			t.Fatalf("update = %d %v", rec.Code, got)
		}
		if rec := h.owner.Do(http.MethodGet, "/api/v1/sites/"+id, ""); rec.Code != 200 || decode[map[string]any](t, rec)["name"] != "Main web shop" {
			t.Errorf("get = %d %s", rec.Code, rec.Body)
		}

		// Disable: the key stops resolving (the widget's config, socket and card form all resolve
		// it through SiteByKey).
		key := site["site_key"].(string)
		if rec := h.owner.Do(http.MethodPost, "/api/v1/sites/"+id+"/disable", ""); rec.Code != 200 || decode[map[string]any](t, rec)["enabled"] != false {
			t.Fatalf("disable = %d %s", rec.Code, rec.Body)
		}
		if _, err := h.a.Chat.SiteByKey(ctx, key); err == nil {
			t.Error("a disabled site's key still resolves")
		}
		widget := apptest.Request{Method: http.MethodGet, Path: "/api/v1/widget/sites/" + key + "/config",
			Header: http.Header{"Origin": {"https://www.acme.test"}}, RemoteAddr: "203.0.113.5:1000"}
		if rec := h.a.Do(widget); rec.Code != http.StatusNotFound {
			t.Errorf("widget config of a disabled site = %d, want 404", rec.Code)
		}
		if rec := h.owner.Do(http.MethodPost, "/api/v1/sites/"+id+"/enable", ""); rec.Code != 200 || decode[map[string]any](t, rec)["enabled"] != true {
			t.Fatalf("enable = %d %s", rec.Code, rec.Body)
		}
		if _, err := h.a.Chat.SiteByKey(ctx, key); err != nil {
			t.Errorf("an enabled site's key: %v", err)
		}
		if rec := h.a.Do(widget); rec.Code != http.StatusOK {
			t.Errorf("widget config of the enabled site = %d, want 200", rec.Code)
		}

		// Another organisation's site is not found, whatever the method; no permission is 403.
		theirs, err := h.a.Tenants.CreateSite(ctx, h.other.ID, "Their shop", []string{"https://other.test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []struct{ method, path, body string }{
			{http.MethodGet, "/api/v1/sites/" + theirs.ID, ""},
			{http.MethodPut, "/api/v1/sites/" + theirs.ID, `{"name":"Mine now","allowed_origins":["https://evil.test"]}`},
			{http.MethodPost, "/api/v1/sites/" + theirs.ID + "/disable", ""},
		} {
			if rec := h.owner.Do(r.method, r.path, r.body); rec.Code != http.StatusNotFound {
				t.Errorf("%s %s (other tenant) = %d, want 404", r.method, r.path, rec.Code)
			}
			if rec := h.agent.Do(r.method, strings.Replace(r.path, theirs.ID, id, 1), r.body); rec.Code != http.StatusForbidden {
				t.Errorf("%s %s (agent) = %d, want 403", r.method, r.path, rec.Code)
			}
		}
		if got, _ := h.a.Tenants.Site(ctx, h.other.ID, theirs.ID); got.Name != "Their shop" || !got.Enabled {
			t.Errorf("the other organisation's site changed: %+v", got)
		}

		if n := len(h.events(h.acme.ID, audit.ActionSiteCreate)); n != 1 {
			t.Errorf("site.create audited %d times, want 1", n)
		}
		ups := h.events(h.acme.ID, audit.ActionSiteUpdate)
		var changes []string
		for _, e := range ups {
			changes = append(changes, e.Details["change"])
			if e.Target.ID != id || e.Actor.Kind != audit.ActorUser {
				t.Errorf("site.update event = %+v", e.Event)
			}
		}
		if strings.Join(changes, ",") != "site,disable,enable" {
			t.Errorf("site.update changes = %v, want site, disable, enable", changes)
		}
		if n := len(h.events(h.acme.ID, audit.ActionCardRefused)); n != 2 {
			t.Errorf("card.data.refused audited %d times, want 2", n)
		}
	})
}
