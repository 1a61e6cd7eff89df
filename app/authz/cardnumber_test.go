package authz_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/rbac"
)

// TestRoleInputsCardNumbers: a role name that holds a card number is refused (creating,
// changing, deleting and granting), a description keeps only the last four digits, and
// access review notes too; nothing stored holds a card number.
func TestRoleInputsCardNumbers(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := newApp(t, db)
		acme, _ := a.createTenant("Acme Bank")
		a.createUser(acme, "owner@acme.test", rbac.RoleOwner)
		agent := a.createUser(acme, "agent@acme.test", rbac.RoleAgent)
		a.createUser(acme, "auditor@acme.test", rbac.RoleAuditor)
		owner := a.login(acme.Slug, "owner@acme.test")

		refused := []struct {
			name, method, path, body, field string
		}{
			{"create", "POST", "/api/v1/roles", `{"name":"r4111111111111111","permissions":["chat.accept"]}`, "name"},
			{"create dashed", "POST", "/api/v1/roles", `{"name":"desk-4111-1111-1111-1111","permissions":["chat.accept"]}`, "name"},
			{"change", "PUT", "/api/v1/roles/r5500000000000004", `{"permissions":["chat.accept"]}`, "name"},
			{"delete", "DELETE", "/api/v1/roles/r5500000000000004", ``, "name"},
			{"grant", "POST", "/api/v1/users/" + agent.ID + "/roles", `{"role":"r6011000000000004"}`, "role"},
		}
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				rec := owner.do(tt.method, tt.path, tt.body)
				var b errorJSON
				_ = json.Unmarshal(rec.Body.Bytes(), &b)
				if rec.Code != 400 || b.Error.Code != "card_number_not_allowed" || b.Error.Field != tt.field {
					t.Fatalf("%s = %d %s, want 400 card_number_not_allowed on %s", tt.name, rec.Code, rec.Body, tt.field)
				}
			})
		}
		for _, name := range []string{"desk", "tier-2", "night_shift"} {
			if err := rbac.CheckRoleName(name); err != nil {
				t.Errorf("CheckRoleName(%q) = %v, want nil", name, err)
			}
		}

		rec := owner.do("POST", "/api/v1/roles", `{"name":"desk","description":"Front desk, never 4111 1111 1111 1111","permissions":["chat.accept"]}`)
		if rec.Code != 201 {
			t.Fatalf("create desk: %d %s", rec.Code, rec.Body)
		}
		if body := rec.Body.String(); pan.Contains(body) || !strings.Contains(body, "1111") {
			t.Errorf("created role %s: want the description's card number masked to its last four", body)
		}

		aud := a.login(acme.Slug, "auditor@acme.test")
		rep := accounttest.Decode[reportJSON](t, aud.do("GET", "/api/v1/access-review", ""))
		rec = aud.do("POST", "/api/v1/access-review/sign-offs", fmt.Sprintf(`{"report_digest":%q,"notes":"Card 5500-0000-0000-0004 seen in a ticket"}`, rep.Digest))
		if rec.Code != 201 && rec.Code != 200 {
			t.Fatalf("sign off: %d %s", rec.Code, rec.Body)
		}
		var stored []string
		for _, q := range []string{"SELECT name FROM roles", "SELECT description FROM roles", "SELECT role FROM role_permissions",
			"SELECT notes FROM access_reviews", "SELECT report FROM access_reviews", "SELECT target_id FROM audit_events"} {
			var vals []string
			if err := migratetest.Beneath(t, db).Gorm.Raw(q).Scan(&vals).Error; err != nil && !strings.Contains(err.Error(), "audit_events") {
				t.Fatalf("%s: %v", q, err)
			}
			stored = append(stored, vals...)
		}
		// A report's SHA-256 digest is hex: a run of its digits can pass the Luhn check by chance.
		digest := regexp.MustCompile(`"digest":"[0-9a-f]{64}"`)
		for _, v := range stored {
			if pan.Contains(digest.ReplaceAllString(v, `"digest":""`)) {
				t.Errorf("stored value %q holds a card number", v)
			}
		}
	})
}
