package accounthttp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounthttp"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestTOTP: enrolment needs a correct first code; sign-in then needs a code within one step of
// now, never the same step twice; recovery codes work once each.
func TestTOTP(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, u := a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		c := signedIn(t, a, tn, agentEmail, agentPass)
		rec := c.Do(http.MethodPost, "/api/v1/account/mfa/enrolment", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("enrolment: %d %s", rec.Code, rec.Body.String())
		}
		enr := decode[accounthttp.EnrolmentBody](t, rec)
		if !strings.HasPrefix(enr.QRCode, "data:image/png;base64,") || !strings.HasPrefix(enr.OTPAuthURL, "otpauth://totp/") || len(strings.ReplaceAll(enr.ManualKey, " ", "")) != 32 {
			t.Fatalf("enrolment body = %+v", enr)
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("enrolment response may be cached")
		}
		wantError(t, c.Do(http.MethodPost, "/api/v1/account/mfa/activation", `{"code":"000000"}`), http.StatusUnauthorized, "mfa_invalid")
		var stored account.User
		migratetest.Beneath(t, db).Gorm.Where("id = ?", u.ID).Take(&stored)
		if stored.MFAEnabled || len(stored.MFAPending) == 0 || strings.Contains(string(stored.MFAPending), strings.ReplaceAll(enr.ManualKey, " ", "")) {
			t.Fatalf("pending enrolment not stored sealed, or activated by a wrong code")
		}
		oldCSRF := c.CSRF
		rec = c.Do(http.MethodPost, "/api/v1/account/mfa/activation", fmt.Sprintf(`{"code":%q}`, totpCode(t, enr.ManualKey, a.Clock.Now())))
		if rec.Code != http.StatusOK {
			t.Fatalf("activation: %d %s", rec.Code, rec.Body.String())
		}
		act := decode[accounthttp.ActivationBody](t, rec)
		if len(act.RecoveryCodes) != 10 || act.CSRFToken == oldCSRF {
			t.Fatalf("activation = %d codes, csrf rotated %v", len(act.RecoveryCodes), act.CSRFToken != oldCSRF)
		}
		c.CSRF = act.CSRFToken
		if rec := c.Do(http.MethodGet, "/api/v1/auth/session", ""); rec.Code != http.StatusOK {
			t.Fatalf("rotated session: %d", rec.Code)
		}
		var codes int64
		migratetest.Beneath(t, db).Gorm.Table("recovery_codes").Where("user_id = ?", u.ID).Count(&codes)
		if codes != 10 {
			t.Fatalf("%d recovery code hashes stored, want 10", codes)
		}

		a.Clock.Advance(time.Minute)
		fresh := a.Client(clientAddr)
		wantError(t, fresh.Login(tn.Slug, agentEmail, agentPass, nil), http.StatusUnauthorized, "mfa_required")
		if n := len(a.Audit.Find(account.ActionSignInSuccess)); n != 1 {
			t.Fatalf("a session exists before the second factor: %d sign-ins", n)
		}
		now := a.Clock.Now()
		cases := []struct {
			name   string
			at     time.Time
			status int
			code   string
		}{
			{"two steps old", now.Add(-60 * time.Second), http.StatusUnauthorized, "mfa_invalid"},
			{"two steps ahead", now.Add(60 * time.Second), http.StatusUnauthorized, "mfa_invalid"},
			{"one step old", now.Add(-30 * time.Second), http.StatusOK, ""},
			{"the same code again", now.Add(-30 * time.Second), http.StatusUnauthorized, "mfa_invalid"},
			{"the current step", now, http.StatusOK, ""},
			{"the current step replayed", now, http.StatusUnauthorized, "mfa_invalid"},
			{"an earlier step after a later one", now.Add(-30 * time.Second), http.StatusUnauthorized, "mfa_invalid"},
			{"one step ahead", now.Add(30 * time.Second), http.StatusOK, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rec := a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, map[string]string{"totp": totpCode(t, enr.ManualKey, tc.at)})
				if tc.status == http.StatusOK {
					if rec.Code != http.StatusOK {
						t.Fatalf("%d %s", rec.Code, rec.Body.String())
					}
					return
				}
				wantError(t, rec, tc.status, tc.code)
			})
		}
		reasons := map[string]int{}
		for _, e := range a.Audit.Find(account.ActionMFAFailure) {
			reasons[e.Reason]++
		}
		if reasons["mfa_replay"] != 3 || reasons["mfa_invalid"] != 2 {
			t.Errorf("MFA failure reasons = %v, want 3 replays and 2 invalid", reasons)
		}

		t.Run("recovery code", func(t *testing.T) {
			code := act.RecoveryCodes[3]
			rec := a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, map[string]string{"totp": strings.ToUpper(code)})
			if rec.Code != http.StatusOK {
				t.Fatalf("recovery code: %d %s", rec.Code, rec.Body.String())
			}
			body := decode[struct {
				Left *int `json:"recovery_codes_left"`
			}](t, rec)
			if body.Left == nil || *body.Left != 9 {
				t.Errorf("recovery_codes_left = %v, want 9", body.Left)
			}
			wantError(t, a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, map[string]string{"totp": code}),
				http.StatusUnauthorized, "mfa_invalid")
			if ev := a.Audit.Find(account.ActionRecoveryCodeUsed); len(ev) != 1 {
				t.Errorf("recovery-code events = %+v", ev)
			}
		})
		t.Run("secret not in the audit trail", func(t *testing.T) {
			key := strings.ReplaceAll(enr.ManualKey, " ", "")
			for _, e := range a.Audit.Events() {
				s := fmt.Sprintf("%+v", e)
				if strings.Contains(s, key) || strings.Contains(s, agentPass) || strings.Contains(s, act.RecoveryCodes[0]) {
					t.Fatalf("audit event carries a secret: %s", e.Action)
				}
			}
		})
	})
}

// TestMFAEnforcement: a role that must use MFA gets grace sign-ins that can only enrol; after
// enrolment the session is a full one; once the grace is used up an administrator's reset gives
// it back.
func TestMFAEnforcement(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, admin := adminAndTenant(t, a)
		_, agent := a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		if rec := admin.Do(http.MethodPut, "/api/v1/security/settings/mfa", `{"required_roles":["agent"],"grace_sign_ins":2}`); rec.Code != http.StatusOK {
			t.Fatalf("MFA policy: %d %s", rec.Code, rec.Body.String())
		}
		wantError(t, admin.Do(http.MethodPut, "/api/v1/security/settings/mfa", `{"required_roles":["wizard"]}`), http.StatusBadRequest, "invalid_settings")

		c := a.Client(clientAddr)
		wantError(t, c.Login(tn.Slug, agentEmail, agentPass, nil), http.StatusForbidden, "mfa_enrolment_required")
		if c.Cookie("parley_session") == nil {
			t.Fatal("no restricted session cookie with mfa_enrolment_required")
		}
		c.CSRF = decode[struct {
			CSRFToken string                       `json:"csrf_token"`
			Session   struct{ Restriction string } `json:"session"`
		}](t, c.Do(http.MethodGet, "/api/v1/auth/session", "")).CSRFToken
		wantError(t, c.Do(http.MethodGet, "/api/v1/account/sessions", ""), http.StatusForbidden, "mfa_enrolment_required")
		wantError(t, c.Do(http.MethodPost, "/api/v1/account/password", `{"current_password":"x","new_password":"y"}`), http.StatusForbidden, "mfa_enrolment_required")
		page := c.Do(http.MethodGet, "/account", "")
		if page.Code != http.StatusSeeOther || page.Header().Get("Location") != "/account/mfa" {
			t.Errorf("restricted console page: %d to %q, want 303 to /account/mfa", page.Code, page.Header().Get("Location"))
		}
		enrolMFA(t, a, c)
		if rec := c.Do(http.MethodGet, "/api/v1/account/sessions", ""); rec.Code != http.StatusOK {
			t.Fatalf("after enrolment: %d %s", rec.Code, rec.Body.String())
		}

		// Grace used up: two password-only sign-ins, then refused.
		if rec := admin.Do(http.MethodPost, "/api/v1/users/"+agent.ID+"/mfa-reset", ""); rec.Code != http.StatusNoContent {
			t.Fatalf("MFA reset: %d %s", rec.Code, rec.Body.String())
		}
		wantError(t, c.Do(http.MethodGet, "/api/v1/auth/session", ""), http.StatusUnauthorized, "unauthenticated")
		for range 2 {
			wantError(t, a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, nil), http.StatusForbidden, "mfa_enrolment_required")
		}
		wantError(t, a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, nil), http.StatusForbidden, "mfa_enrolment_expired")
		if rec := admin.Do(http.MethodPost, "/api/v1/users/"+agent.ID+"/mfa-reset", ""); rec.Code != http.StatusNoContent {
			t.Fatalf("MFA reset: %d %s", rec.Code, rec.Body.String())
		}
		wantError(t, a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, nil), http.StatusForbidden, "mfa_enrolment_required")
		if n := len(a.Audit.Find(account.ActionMFAReset)); n != 2 {
			t.Errorf("%d MFA-reset events, want 2", n)
		}
		if n := len(a.Audit.Find(account.ActionMFAEnrol)); n != 1 {
			t.Errorf("%d MFA-enrol events, want 1", n)
		}
	})
}

// downSealer is a key provider that cannot be reached.
type downSealer struct{}

func (downSealer) Seal(context.Context, string, string, []byte) ([]byte, error) {
	return nil, errors.New("key provider unreachable")
}

func (downSealer) Open(context.Context, string, string, []byte) ([]byte, error) {
	return nil, errors.New("key provider unreachable")
}

// TestMFAFailsClosed: without a working key provider MFA cannot be enrolled, and nothing is
// stored in the clear.
func TestMFAFailsClosed(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.NewWith(t, db, nil, accounttest.Options{Sealer: downSealer{}})
		tn, u := a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		c := signedIn(t, a, tn, agentEmail, agentPass)
		wantError(t, c.Do(http.MethodPost, "/api/v1/account/mfa/enrolment", ""), http.StatusServiceUnavailable, "unavailable")
		var stored account.User
		migratetest.Beneath(t, db).Gorm.Where("id = ?", u.ID).Take(&stored)
		if len(stored.MFAPending) != 0 || len(stored.MFASecret) != 0 {
			t.Fatal("an MFA secret was stored without a sealer")
		}
	})
}

// TestAuditFailsClosed: when the audit log cannot record, sign-in is refused and no session is
// created.
func TestAuditFailsClosed(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, _ := a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		a.Audit.Fail = fmt.Errorf("audit store down")
		wantError(t, a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, nil), http.StatusServiceUnavailable, "unavailable")
		var n int64
		migratetest.Beneath(t, db).Gorm.Model(&account.Session{}).Count(&n)
		if n != 0 {
			t.Fatalf("%d sessions created while the audit log failed", n)
		}
		a.Audit.Fail = nil
		if rec := a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, nil); rec.Code != http.StatusOK {
			t.Fatalf("sign-in once the audit log works: %d %s", rec.Code, rec.Body.String())
		}
	})
}
