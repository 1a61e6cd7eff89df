package authz_test

import (
	"encoding/json"
	"testing"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/rbac"
)

// TestAccessReviewEmptyLists: a user with no grants, or with no sensitive permission, answers []
// for them, never null (the OpenAPI check holds the answer to the document too).
func TestAccessReviewEmptyLists(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := newApp(t, db)
		acme, _ := a.createTenant("Acme Bank")
		a.createUser(acme, "auditor@acme.test", rbac.RoleAuditor)
		bare := a.createBareUser(acme.ID)
		aud := a.login(acme.Slug, "auditor@acme.test")
		rec := aud.do("GET", "/api/v1/access-review", "")
		if rec.Code != 200 {
			t.Fatalf("report: status %d, body %s", rec.Code, rec.Body)
		}
		var rep struct {
			Users []struct {
				UserID    string          `json:"user_id"`
				Email     string          `json:"email"`
				Grants    json.RawMessage `json:"grants"`
				Sensitive json.RawMessage `json:"sensitive_permissions"`
			} `json:"users"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name       string
			match      func(userID, email string) bool
			wantGrants string // "" when not compared
			wantSens   string
		}{
			{name: "user without grants", match: func(id, _ string) bool { return id == bare.ID }, wantGrants: "[]", wantSens: "[]"},
			{name: "auditor without sensitive permissions", match: func(_, email string) bool { return email == "auditor@acme.test" }, wantSens: "[]"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				found := false
				for _, u := range rep.Users {
					if !tt.match(u.UserID, u.Email) {
						continue
					}
					found = true
					if tt.wantGrants != "" && string(u.Grants) != tt.wantGrants {
						t.Errorf("grants = %s, want %s", u.Grants, tt.wantGrants)
					}
					if string(u.Sensitive) != tt.wantSens {
						t.Errorf("sensitive_permissions = %s, want %s", u.Sensitive, tt.wantSens)
					}
				}
				if !found {
					t.Errorf("user not in the report: %s", rec.Body)
				}
			})
		}
	})
}
