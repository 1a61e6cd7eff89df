package accounthttp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestInvitationRefusesCardNumbers: an invitation whose e-mail address or name holds a card number
// is refused with card_number_not_allowed naming the field, and nothing is stored.
func TestInvitationRefusesCardNumbers(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		_, admin := adminAndTenant(t, a)
		tests := []struct{ name, email, person, field string }{
			{"card number as e-mail", "4111111111111111@acme.test", "Nia", "email"},
			{"spaced card number in e-mail", `"4111 1111 1111 1111"@acme.test`, "Nia", "email"},
			{"card number in e-mail tag", "nia+5500000000000004@acme.test", "Nia", "email"},
			{"card number as name", "nia@acme.test", "3400 0000 0000 009", "name"},
			{"dashed card number in name", "nia@acme.test", "Nia 6011-0000-0000-0004", "name"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				body, _ := json.Marshal(map[string]string{"email": tt.email, "name": tt.person, "role": "agent"})
				b := wantError(t, admin.Do(http.MethodPost, "/api/v1/users/invitations", string(body)), http.StatusBadRequest, "card_number_not_allowed")
				if b.Error.Field != tt.field {
					t.Errorf("field = %q, want %q", b.Error.Field, tt.field)
				}
			})
		}
		rec := admin.Do(http.MethodPost, "/api/v1/users/invitations", `{"email":"nia@acme.test","name":"Nia Ortega","role":"agent"}`)
		if rec.Code != http.StatusCreated {
			t.Fatalf("clean invitation = %d %s", rec.Code, rec.Body)
		}
		var rows []struct{ Email, EmailKey, DisplayName string }
		if err := migratetest.Beneath(t, db).Gorm.Raw("SELECT email, email_key, display_name FROM users").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if pan.Contains(fmt.Sprint(r)) {
				t.Errorf("stored user %+v holds a card number", r)
			}
		}
	})
}
