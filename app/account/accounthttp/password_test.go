package accounthttp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func changeBody(current, next string) string {
	b, _ := json.Marshal(map[string]string{"current_password": current, "new_password": next})
	return string(b)
}

// rejectedCodes returns the rule codes a password_rejected answer lists.
func rejectedCodes(t *testing.T, b errBody) []string {
	t.Helper()
	var vs []struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(b.Error.Details, &vs); err != nil {
		t.Fatalf("details %s: %v", b.Error.Details, err)
	}
	var out []string
	for _, v := range vs {
		out = append(out, v.Code)
	}
	return out
}

// TestPasswordPolicyAsApplied sets each profile and custom knobs through the API and changes a
// password under it: every rule broken is listed.
func TestPasswordPolicyAsApplied(t *testing.T) {
	cases := []struct {
		name      string
		policy    string
		candidate string
		want      []string // rule codes; empty means accepted
	}{
		{"pci-dss-4 accepts 12 with letters and digits", `{"profile":"pci-dss-4"}`, "Lanterns 2040 go", nil},
		{"pci-dss-4 too short", `{"profile":"pci-dss-4"}`, "Zephyr q 47", []string{"too_short"}},
		{"pci-dss-4 needs a digit", `{"profile":"pci-dss-4"}`, "Lanterns forever go", []string{"needs_digit"}},
		{"pci-dss-4 common password", `{"profile":"pci-dss-4"}`, "password1234", []string{"common_password"}},
		{"pci-dss-4 contains the e-mail", `{"profile":"pci-dss-4"}`, "agent 2040 lanterns", []string{"contains_email"}},
		{"pci-dss-4 contains the organisation", `{"profile":"pci-dss-4"}`, "Acme 2040 lanterns", []string{"contains_tenant_name"}},
		{"nist-800-63b needs 15", `{"profile":"nist-800-63b"}`, "Lanterns 2040 g", nil},
		{"nist-800-63b 14 is short", `{"profile":"nist-800-63b"}`, "Lanterns 2040 ", []string{"too_short"}},
		{"nist-800-63b no composition", `{"profile":"nist-800-63b"}`, "lanterns forever go", nil},
		{"custom: upper, lower, digit, special", `{"profile":"custom","require_upper":true,"require_lower":true,"require_digit":true,"require_special":true,"min_length":10}`,
			"lanterns2040go", []string{"needs_upper", "needs_special"}},
		{"custom: maximum length", `{"profile":"custom","max_length":20}`, "Lanterns 2040 go far away", []string{"too_long"}},
		{"custom: common passwords allowed", `{"profile":"custom","ban_common":false,"min_length":8}`, "password1234", nil},
		{"custom: history of 1 bans the current one", `{"profile":"custom","history_depth":1,"min_age_days":0}`, agentPass, []string{"reused"}},
	}
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				// Each case is its own organisation, named so no candidate contains it.
				org := fmt.Sprintf("Acme Bank %c", 'A'+i)
				tn, _ := a.CreateUser(org, ownerEmail, ownerPass, "owner", false)
				admin := signedIn(t, a, tn, ownerEmail, ownerPass)
				if rec := admin.Do(http.MethodPut, "/api/v1/security/settings/password", tc.policy); rec.Code != http.StatusOK {
					t.Fatalf("set policy: %d %s", rec.Code, rec.Body.String())
				}
				a.CreateUser(org, agentEmail, agentPass, "agent", true)
				c := a.Client(clientAddr)
				wantError(t, c.Login(tn.Slug, agentEmail, agentPass, nil), http.StatusForbidden, "password_change_required")
				c.CSRF = decode[struct {
					CSRFToken string `json:"csrf_token"`
				}](t, c.Do(http.MethodGet, "/api/v1/auth/session", "")).CSRFToken
				rec := c.Do(http.MethodPost, "/api/v1/account/password", changeBody(agentPass, tc.candidate))
				if len(tc.want) == 0 {
					if rec.Code != http.StatusOK {
						t.Fatalf("change: %d %s", rec.Code, rec.Body.String())
					}
					return
				}
				got := rejectedCodes(t, wantError(t, rec, http.StatusBadRequest, "password_rejected"))
				if strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Errorf("rules broken = %v, want %v", got, tc.want)
				}
			})
		}
	})
}

// TestPasswordPolicyRejected: a policy below its profile is refused with every problem named.
func TestPasswordPolicyRejected(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		_, admin := adminAndTenant(t, a)
		for _, tc := range []struct{ body, field string }{
			{`{"profile":"pci-dss-4","min_length":10}`, "min_length"},
			{`{"profile":"pci-dss-4","history_depth":2}`, "history_depth"},
			{`{"profile":"nist-800-63b","expiry_days":90}`, "expiry_days"},
			{`{"profile":"gold"}`, "profile"},
			{`{"expiry_days":99999}`, "expiry_days"},
			{`{"profile":"custom","min_length":4}`, "min_length"},
		} {
			t.Run(tc.body, func(t *testing.T) {
				b := wantError(t, admin.Do(http.MethodPut, "/api/v1/security/settings/password", tc.body), http.StatusBadRequest, "invalid_settings")
				if b.Error.Field != tc.field {
					t.Errorf("field = %q, want %q (%s)", b.Error.Field, tc.field, b.Error.Message)
				}
			})
		}
		if n := len(a.Audit.Find(account.ActionSecurityPolicy)); n != 0 {
			t.Errorf("%d policy changes audited for refused policies", n)
		}
	})
}

// TestPasswordLifecycle: a forced change on first use, history, minimum age, expiry and the
// daily reset limit, with the clock.
func TestPasswordLifecycle(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, admin := adminAndTenant(t, a)
		_, u := a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", true)

		c := a.Client(clientAddr)
		wantError(t, c.Login(tn.Slug, agentEmail, agentPass, nil), http.StatusForbidden, "password_change_required")
		c.CSRF = decode[struct {
			CSRFToken string `json:"csrf_token"`
		}](t, c.Do(http.MethodGet, "/api/v1/auth/session", "")).CSRFToken
		wantError(t, c.Do(http.MethodGet, "/api/v1/account/sessions", ""), http.StatusForbidden, "password_change_required")
		wantError(t, c.Do(http.MethodPost, "/api/v1/account/password", changeBody("Not my password 1", "Lanterns 2040 go")),
			http.StatusBadRequest, "current_password_wrong")
		oldToken := c.Cookie("parley_session").Value
		rec := c.Do(http.MethodPost, "/api/v1/account/password", changeBody(agentPass, "Lanterns 2040 go"))
		if rec.Code != http.StatusOK {
			t.Fatalf("forced change: %d %s", rec.Code, rec.Body.String())
		}
		c.CSRF = decode[struct {
			CSRFToken string `json:"csrf_token"`
		}](t, rec).CSRFToken
		if c.Cookie("parley_session").Value == oldToken {
			t.Fatal("password change kept the session token")
		}
		if rec := c.Do(http.MethodGet, "/api/v1/account/sessions", ""); rec.Code != http.StatusOK {
			t.Fatalf("full session after the change: %d", rec.Code)
		}

		// Minimum age: one day under pci-dss-4.
		wantError(t, c.Do(http.MethodPost, "/api/v1/account/password", changeBody("Lanterns 2040 go", "Lanterns 2041 go")),
			http.StatusConflict, "password_change_too_soon")
		a.Clock.Advance(24 * time.Hour)
		// History: the last four (current included) may not come back.
		pw := "Lanterns 2040 go"
		for i, next := range []string{"Lanterns 2041 go", "Lanterns 2042 go", "Lanterns 2043 go"} {
			c = signedIn(t, a, tn, agentEmail, pw)
			if rec := c.Do(http.MethodPost, "/api/v1/account/password", changeBody(pw, next)); rec.Code != http.StatusOK {
				t.Fatalf("change %d: %d %s", i, rec.Code, rec.Body.String())
			}
			pw = next
			a.Clock.Advance(24 * time.Hour)
		}
		c = signedIn(t, a, tn, agentEmail, pw)
		got := rejectedCodes(t, wantError(t, c.Do(http.MethodPost, "/api/v1/account/password", changeBody(pw, "Lanterns 2040 go")),
			http.StatusBadRequest, "password_rejected"))
		if strings.Join(got, ",") != "reused" {
			t.Errorf("reusing a password of the last 4: %v, want reused", got)
		}
		// The fifth one back is allowed again.
		if rec := c.Do(http.MethodPost, "/api/v1/account/password", changeBody(pw, agentPass)); rec.Code != http.StatusOK {
			t.Fatalf("fifth password back: %d %s", rec.Code, rec.Body.String())
		}
		pw = agentPass

		// Reset limit: three a day.
		for i := range 3 {
			rec := admin.Do(http.MethodPost, "/api/v1/users/"+u.ID+"/password-reset", "")
			if rec.Code == http.StatusUnauthorized {
				admin = signedIn(t, a, tn, ownerEmail, ownerPass)
				rec = admin.Do(http.MethodPost, "/api/v1/users/"+u.ID+"/password-reset", "")
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("reset %d: %d %s", i+1, rec.Code, rec.Body.String())
			}
			pw = decode[struct {
				TemporaryPassword string `json:"temporary_password"`
			}](t, rec).TemporaryPassword
		}
		wantError(t, admin.Do(http.MethodPost, "/api/v1/users/"+u.ID+"/password-reset", ""), http.StatusConflict, "password_reset_limit")
		// The temporary password works once, for a change only.
		wantError(t, a.Client(clientAddr).Login(tn.Slug, agentEmail, pw, nil), http.StatusForbidden, "password_change_required")
		if n := len(a.Audit.Find(account.ActionPasswordReset)); n != 3 {
			t.Errorf("%d reset events, want 3", n)
		}
		for _, e := range a.Audit.Events() {
			if strings.Contains(fmt.Sprintf("%+v", e), pw) {
				t.Fatalf("audit event %s carries the temporary password", e.Action)
			}
		}
	})
}

// TestExpiryWaivedWithMFA: pci-dss-4 lifts the 90-day expiry for users who must use MFA.
func TestExpiryWaivedWithMFA(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, admin := adminAndTenant(t, a)
		a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		if rec := admin.Do(http.MethodPut, "/api/v1/security/settings/mfa", `{"required":true}`); rec.Code != http.StatusOK {
			t.Fatalf("MFA policy: %d %s", rec.Code, rec.Body.String())
		}
		c := a.Client(clientAddr)
		wantError(t, c.Login(tn.Slug, agentEmail, agentPass, nil), http.StatusForbidden, "mfa_enrolment_required")
		c.CSRF = decode[struct {
			CSRFToken string `json:"csrf_token"`
		}](t, c.Do(http.MethodGet, "/api/v1/auth/session", "")).CSRFToken
		key, _ := enrolMFA(t, a, c)
		// Sign-ins keep the account active; expiry alone would ask for a change after 90 days.
		for _, days := range []int{80, 40} {
			a.Clock.Advance(time.Duration(days) * 24 * time.Hour)
			rec := a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, map[string]string{"totp": totpCode(t, key, a.Clock.Now())})
			if rec.Code != http.StatusOK {
				t.Fatalf("sign-in %d days on: %d %s", days, rec.Code, rec.Body.String())
			}
		}
	})
}

// TestPasswordExpiry: pci-dss-4 asks for a change 90 days after the last one when the password is
// the only factor.
func TestPasswordExpiry(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, _ := a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		// Signing in meanwhile keeps the account from going inactive first.
		a.Clock.Advance(89 * 24 * time.Hour)
		signedIn(t, a, tn, agentEmail, agentPass)
		a.Clock.Advance(24 * time.Hour)
		wantError(t, a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, nil), http.StatusForbidden, "password_change_required")
	})
}
