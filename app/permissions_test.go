package app_test

import (
	"testing"

	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/canned"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/cobrowse"
	"github.com/parleyhq/parley/app/report/reporthttp"
	"github.com/parleyhq/parley/app/retention/retentionhttp"
	"github.com/parleyhq/parley/app/transcript"
	"github.com/parleyhq/parley/app/visitor/visitorhttp"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/rbac"
)

// nonRouteChecks are the permissions checked outside the route table, each list kept beside the
// code that checks them: the chat engine's socket frames and file downloads, and the visitor
// handlers' unmasking, the transcript scope of a deletion. No background job checks a permission.
func nonRouteChecks() map[string][]string {
	return map[string][]string{
		"app/canned":                  canned.Checks(),
		"app/chat":                    chat.Checks(),
		"app/visitor/visitorhttp":     visitorhttp.Checks(),
		"app/transcript":              transcript.Checks(),
		"app/report/reporthttp":       reporthttp.Checks(),
		"app/retention/retentionhttp": retentionhttp.Checks(),
		"app/cobrowse":                cobrowse.Checks(),
	}
}

// TestCataloguePermissionsGuardSomething keeps the permission catalogue true: every catalogued
// permission is declared by a route of the assembled server or checked by the code that lists
// it in nonRouteChecks, and every permission checked is catalogued. A permission that guards
// nothing yet waits, planned, in policy/rbac until its capability lands.
func TestCataloguePermissionsGuardSomething(t *testing.T) {
	a := apptest.New(t, migratetest.Open(t, migrations.SQLite), nil)
	guarded := map[string]string{}
	for _, r := range a.Server.Routes {
		if r.Permission != "" {
			guarded[r.Permission] = r.Key()
		}
	}
	for where, perms := range nonRouteChecks() {
		for _, p := range perms {
			if !rbac.Known(p) {
				t.Errorf("%s checks %q, which is not in the catalogue", where, p)
			}
			if _, ok := guarded[p]; !ok {
				guarded[p] = where
			}
		}
	}
	for _, p := range rbac.Names() {
		if _, ok := guarded[p]; !ok {
			t.Errorf("catalogued permission %s guards nothing: no route declares it and no listed check makes it", p)
		}
	}
}
