package accounthttp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestAdministrationStaysWithinOwnPermissions: an admin can neither invite an owner nor disable,
// reset the password or reset the second factor of an owner (PCI DSS 7.2.2 least privilege); the
// same actions on an agent succeed.
func TestAdministrationStaysWithinOwnPermissions(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		const pw = "Tr1cky-Lantern-Harbour"
		tn, owner := a.CreateUser("Acme Bank", "owner@acme.test", pw, "owner", false)
		_, _ = a.CreateUser("Acme Bank", "admin@acme.test", pw, "admin", false)
		_, agent := a.CreateUser("Acme Bank", "agent@acme.test", pw, "agent", false)
		c := signedIn(t, a, tn, "admin@acme.test", pw)
		refused := []struct{ method, path, body string }{
			{"POST", "/api/v1/users/invitations", `{"email":"new-owner@acme.test","role":"owner"}`},
			{"POST", "/api/v1/users/" + owner.ID + "/disable", ""},
			{"POST", "/api/v1/users/" + owner.ID + "/password-reset", ""},
			{"POST", "/api/v1/users/" + owner.ID + "/mfa-reset", ""},
		}
		for _, r := range refused {
			rec := c.Do(r.method, r.path, r.body)
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"forbidden"`) {
				t.Errorf("%s %s by an admin = %d %s; want 403 forbidden", r.method, r.path, rec.Code, rec.Body.String())
			}
		}
		allowed := []struct{ method, path, body string }{
			{"POST", "/api/v1/users/invitations", `{"email":"new-agent@acme.test","role":"agent"}`},
			{"POST", "/api/v1/users/" + agent.ID + "/password-reset", ""},
			{"POST", "/api/v1/users/" + agent.ID + "/disable", ""},
		}
		for _, r := range allowed {
			if rec := c.Do(r.method, r.path, r.body); rec.Code >= 300 {
				t.Errorf("%s %s by an admin = %d %s; want success", r.method, r.path, rec.Code, rec.Body.String())
			}
		}
	})
}
