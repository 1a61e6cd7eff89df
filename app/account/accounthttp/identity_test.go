package accounthttp_test

import (
	"fmt"
	"net/http"
	"regexp"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestSignInStoresNoTypedIdentity signs in with card numbers typed as the organisation and the
// e-mail address: the answer is the usual refusal, and the sign-in bookkeeping holds only keyed
// hashes, never what was typed. Lockout still counts on the hashes.
func TestSignInStoresNoTypedIdentity(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, _ := a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		typed := []struct{ tenant, email string }{
			{"acme", "4111 1111 1111 1111"},
			{"acme", "5500-0000-0000-0004@acme.test"},
			{"4111111111111111", "someone@acme.test"},
			{tn.Slug, "4111.1111.1111.1111"},
		}
		for i, in := range typed {
			c := a.Client(fmt.Sprintf("198.51.100.%d:4000", 10+i))
			rec := c.Login(in.tenant, in.email, "Wrong guess 123456", nil)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("sign-in %d: %d %s", i, rec.Code, rec.Body)
			}
		}
		// The real account's identity, typed in another letter case, is counted under the same key.
		for i := 0; i < 2; i++ {
			wantError(t, a.Client(clientAddr).Login(tn.Slug, " AGENT@acme.test", "Wrong guess 123456", nil), http.StatusUnauthorized, "invalid_credentials")
		}
		var rows []struct {
			TenantKey, EmailKey string
			Consecutive         int
			NamesAccount        bool
		}
		if err := migratetest.Beneath(t, db).Gorm.Raw("SELECT tenant_key, email_key, consecutive, names_account FROM signin_attempts").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		hexKey := regexp.MustCompile(`^[0-9a-f]{64}$`)
		accounts := 0
		for _, r := range rows {
			if !hexKey.MatchString(r.TenantKey) || !hexKey.MatchString(r.EmailKey) {
				t.Errorf("signin_attempts row keyed %q / %q, want keyed hashes", r.TenantKey, r.EmailKey)
			}
			if r.NamesAccount {
				accounts++
				if r.Consecutive != 2 {
					t.Errorf("the account's consecutive failures = %d, want 2 (case variants counted together)", r.Consecutive)
				}
			}
		}
		if len(rows) != len(typed)+1 || accounts != 1 {
			t.Fatalf("%d rows (%d naming an account), want %d (1)", len(rows), accounts, len(typed)+1)
		}
	})
}
