package accounthttp_test

import (
	"net/http"
	"testing"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestProductionAuditLog runs the account events through the audit log Parley ships (not the
// test recorder): every event is accepted (no detail named like a secret, a tenant or the
// installation's chain for each) and lands in the log.
func TestProductionAuditLog(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.NewWith(t, db, nil, accounttest.Options{NoAuditor: true})
		tn, admin := adminAndTenant(t, a)
		_, agent := a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		ok := func(rec interface{ Result() *http.Response }, what string) {
			t.Helper()
			if code := rec.Result().StatusCode; code >= 300 {
				t.Fatalf("%s: status %d", what, code)
			}
		}
		// Failures: wrong password, unknown organisation, CAPTCHA, lockout.
		c := a.Client(clientAddr)
		wantError(t, c.Login("no-such-bank", agentEmail, agentPass, nil), http.StatusUnauthorized, "invalid_credentials")
		for range 5 {
			c.Login(tn.Slug, agentEmail, "Wrong guess 123456", nil)
		}
		wantError(t, c.Login(tn.Slug, agentEmail, agentPass, nil), http.StatusUnauthorized, "captcha_required")
		ok(admin.Do(http.MethodPost, "/api/v1/users/"+agent.ID+"/unlock", ""), "unlock")
		// MFA enrolment, a recovery code, a password change, session revocation.
		ac := signedIn(t, a, tn, agentEmail, agentPass)
		_, codes := enrolMFA(t, a, ac)
		rc := a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, map[string]string{"totp": codes[0]})
		ok(rc, "recovery code")
		ok(admin.Do(http.MethodPost, "/api/v1/users/"+agent.ID+"/mfa-reset", ""), "MFA reset")
		ok(admin.Do(http.MethodPost, "/api/v1/users/"+agent.ID+"/password-reset", ""), "password reset")
		// Settings, allowlists, an invitation, sign-out.
		ok(admin.Do(http.MethodPut, "/api/v1/security/settings/password", `{"profile":"nist-800-63b"}`), "password policy")
		ok(admin.Do(http.MethodPut, "/api/v1/security/settings/mfa", `{"required_roles":["admin"]}`), "MFA policy")
		ok(admin.Do(http.MethodPut, "/api/v1/security/allowlists/roles/agent", `{"entries":["192.0.2.0/24"]}`), "allowlist")
		ok(admin.Do(http.MethodPost, "/api/v1/users/invitations", `{"email":"new@acme.test","role":"agent"}`), "invitation")
		ok(admin.Do(http.MethodPost, "/api/v1/auth/logout", ""), "sign-out")

		var actions []string
		err := migratetest.Beneath(t, db).Gorm.Raw("SELECT action FROM audit_outbox UNION ALL SELECT action FROM audit_events").Scan(&actions).Error
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, x := range actions {
			got[x]++
		}
		for _, want := range []string{
			account.ActionSignInFailure, account.ActionCaptchaShown, account.ActionUnlock, account.ActionSignInSuccess,
			account.ActionMFAEnrol, account.ActionRecoveryCodeUsed, account.ActionMFAReset, account.ActionPasswordReset,
			account.ActionSecurityPolicy, account.ActionAllowlistChange, account.ActionUserCreate, account.ActionSignOut,
		} {
			if got[want] == 0 {
				t.Errorf("no %s event in the audit log; have %v", want, got)
			}
		}
		var system int64
		migratetest.Beneath(t, db).Gorm.Raw("SELECT COUNT(*) FROM (SELECT tenant_id FROM audit_outbox WHERE action = ? UNION ALL SELECT tenant_id FROM audit_events WHERE action = ?) x WHERE tenant_id = '_system'",
			account.ActionSignInFailure, account.ActionSignInFailure).Scan(&system)
		if system != 1 {
			t.Errorf("%d sign-in failures in the installation's chain, want 1 (the unknown organisation)", system)
		}
	})
}
