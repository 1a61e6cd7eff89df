package accounthttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestInvitationInDepartment: the JSON invitation, like the console's form, can grant its role in
// one department; a department the organisation does not have (another organisation's included)
// is a field error and invites nobody.
func TestInvitationInDepartment(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, admin := adminAndTenant(t, a)
		ctx := context.Background()
		cards, err := a.Tenants.CreateDepartment(ctx, tn.ID, "Cards")
		if err != nil {
			t.Fatal(err)
		}
		other, _ := a.CreateUser("Globex", "owner@globex.test", ownerPass, "owner", false)
		theirs, err := a.Tenants.CreateDepartment(ctx, other.ID, "Theirs")
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ name, dept string }{
			{"unknown department", "00000000-0000-7000-8000-000000000000"},
			{"another organisation's department", theirs.ID},
			{"over-long id", strings.Repeat("d", 65)},
		} {
			t.Run(tt.name, func(t *testing.T) {
				body := fmt.Sprintf(`{"email":"x-%d@acme.test","role":"agent","department_id":%q}`, len(tt.name), tt.dept)
				b := wantError(t, admin.Do(http.MethodPost, "/api/v1/users/invitations", body), http.StatusBadRequest, "invalid_request")
				if b.Error.Field != "department_id" {
					t.Errorf("field = %q, want department_id", b.Error.Field)
				}
			})
		}
		rec := admin.Do(http.MethodPost, "/api/v1/users/invitations", fmt.Sprintf(`{"email":"dee@acme.test","name":"Dee","role":"agent","department_id":%q}`, cards.ID))
		if rec.Code != http.StatusCreated {
			t.Fatalf("invitation in Cards = %d %s", rec.Code, rec.Body)
		}
		var inv struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &inv); err != nil {
			t.Fatal(err)
		}
		as, err := a.Authz.UserAssignments(ctx, tn.ID, inv.User.ID)
		if err != nil || len(as) != 1 || as[0].Role != "agent" || as[0].DepartmentID != cards.ID {
			t.Errorf("assignments = %+v, %v; want agent in Cards only", as, err)
		}
		list := admin.Do(http.MethodGet, "/api/v1/users", "").Body.String()
		if regexp.MustCompile(`x-\d+@acme\.test`).MatchString(list) {
			t.Errorf("a refused invitation created a user: %s", list)
		}
	})
}
