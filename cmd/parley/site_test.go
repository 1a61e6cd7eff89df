package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestSiteCreate(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := map[string]string{"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_DATABASE_URL": migratetest.URL(t, d)}
			migrateWithOwner(t, env)
			r := runCmd(t, env, "", "site", "create", "--tenant", "acme-bank", "--name", "Public site", "--origin", "https://www.acme.test")
			if r.code != 0 || !regexp.MustCompile(`\bsite_[a-z2-7]{10,64}\b`).MatchString(r.stdout) || !strings.Contains(r.stdout, "<script src=") {
				t.Fatalf("site create: %+v", r)
			}
			m := regexp.MustCompile(`(?m)^site id: ([0-9a-f-]{36})$`).FindStringSubmatch(r.stdout)
			if m == nil {
				t.Fatalf("site create printed no id line: %q", r.stdout)
			}
			if got := siteIDs(t, env["PARLEY_DATABASE_URL"], "acme-bank"); len(got) < 1 || got[0] != m[1] {
				t.Errorf("printed id %s, stored ids %v", m[1], got)
			}
			if r := runCmd(t, env, "", "site", "create", "--tenant", "acme-bank", "--name", "Bad", "--origin", "javascript:alert(1)"); r.code != 1 || !strings.Contains(r.stderr, "origin") {
				t.Errorf("bad origin: %+v", r)
			}
			if !strings.Contains(r.stdout, `/widget/v1/widget.js" data-site="`) || !strings.Contains(r.stdout, `integrity="sha384-`) {
				t.Errorf("site create's embed code is not pinned with SRI: %q", r.stdout)
			}
			if r := runCmd(t, env, "", "site", "create", "--tenant", "acme-bank", "--name", "Plain", "--origin", "http://www.acme.test"); r.code != 1 || !strings.Contains(r.stderr, "origin") {
				t.Errorf("plain http origin: %+v", r)
			}
			if r := runCmd(t, env, "", "site", "create", "--tenant", "acme-bank", "--name", "Dev", "--origin", "http://localhost:8080"); r.code != 0 {
				t.Errorf("http://localhost origin: %+v", r)
			}
			if r := runCmd(t, env, "", "site", "create", "--tenant", "nope", "--name", "X", "--origin", "https://x.test"); r.code != 2 {
				t.Errorf("unknown tenant: %+v", r)
			}
			if r := runCmd(t, env, "", "audit", "verify", "--tenant", "acme-bank"); r.code != 0 {
				t.Errorf("audit chain after site create: %+v", r)
			}
		})
	}
}

// siteIDs returns the ids of an organisation's sites, read straight from the database.
func siteIDs(t *testing.T, dbURL, slug string) []string {
	t.Helper()
	ctx := context.Background()
	db, err := migrations.Open(ctx, dbURL, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	store := tenant.NewStore(db.Gorm, nil)
	tn, err := store.BySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	sites, err := store.Sites(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(sites))
	for _, s := range sites {
		ids = append(ids, s.ID)
	}
	return ids
}
