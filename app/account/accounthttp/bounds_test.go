package accounthttp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestSecuritySettingsUpperBounds: every threshold a tenant sets through the API has an upper
// bound; just inside is stored, just outside is refused with the request field named and the
// allowed range stated. Huge values saturate and are refused rather than wrapping into range.
func TestSecuritySettingsUpperBounds(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		_, admin := adminAndTenant(t, a)
		const (
			signin   = "/api/v1/security/settings/signin"
			session  = "/api/v1/security/settings/session"
			password = "/api/v1/security/settings/password"
			mfa      = "/api/v1/security/settings/mfa"
		)
		tests := []struct {
			name, path, inside, outside, field, rng string
		}{
			{"CAPTCHA per IP", signin, `{"ip_captcha_after":1000,"ip_throttle_after":1000}`, `{"ip_captcha_after":1001,"ip_throttle_after":1001}`,
				"ip_captcha_after", "1 to 1000"},
			{"CAPTCHA per IP, the scan's value", signin, `{"ip_captcha_after":10}`, `{"ip_captcha_after":100000,"ip_throttle_after":100000}`,
				"ip_captcha_after", "1 to 1000"},
			{"throttle per IP", signin, `{"ip_throttle_after":5000}`, `{"ip_throttle_after":5001}`, "ip_throttle_after", "to 5000"},
			{"lockout threshold", signin, `{"lockout_threshold":10}`, `{"lockout_threshold":11}`, "lockout_threshold", "1 to 10"},
			{"CAPTCHA per account", signin, `{"captcha_after":10,"lockout_threshold":10}`, `{"captcha_after":11,"lockout_threshold":10}`,
				"captcha_after", "1 to 10"},
			{"lockout duration", signin, `{"lockout_minutes":1440}`, `{"lockout_minutes":1441}`, "lockout_minutes", "30 minutes to 1 day"},
			{"lockout duration overflowing", signin, `{"lockout_minutes":30}`, `{"lockout_minutes":9223372036854775807}`, "lockout_minutes", "30 minutes to 1 day"},
			{"disable after", signin, `{"disable_after":100}`, `{"disable_after":101}`, "disable_after", "at most 100"},
			{"IP window", signin, `{"ip_window_minutes":1440}`, `{"ip_window_minutes":1441}`, "ip_window_minutes", "1 minute to 1 day"},
			{"absolute timeout", session, `{"absolute_timeout_minutes":1440}`, `{"absolute_timeout_minutes":1441}`, "absolute_timeout_minutes", "1 day"},
			{"idle timeout (PCI)", session, `{"idle_timeout_minutes":15}`, `{"idle_timeout_minutes":16}`, "idle_timeout_minutes", "at most 15 minutes"},
			{"idle timeout overflowing", session, `{"idle_timeout_minutes":15}`, `{"idle_timeout_minutes":-9223372036854775807}`, "idle_timeout_minutes", "1 minute to 1 day"},
			{"inactivity (PCI off)", session, `{"pci":false,"inactive_after_days":365}`, `{"pci":false,"inactive_after_days":366}`,
				"inactive_after_days", "1 day to 365 days"},
			{"minimum length", password, `{"profile":"custom","min_length":128}`, `{"profile":"custom","min_length":129}`, "min_length", "8 to 128"},
			{"maximum length", password, `{"profile":"custom","max_length":1024}`, `{"profile":"custom","max_length":1025}`, "max_length", "at most 1024"},
			{"history", password, `{"profile":"custom","history_depth":24}`, `{"profile":"custom","history_depth":25}`, "history_depth", "0 and 24"},
			{"expiry", password, `{"profile":"custom","expiry_days":365}`, `{"profile":"custom","expiry_days":366}`, "expiry_days", "0 (never) to 365 days"},
			{"expiry overflowing", password, `{"profile":"custom","expiry_days":90}`, `{"profile":"custom","expiry_days":9223372036854775807}`, "expiry_days", "365 days"},
			{"minimum age", password, `{"profile":"custom","min_age_days":7}`, `{"profile":"custom","min_age_days":8}`, "min_age_days", "0 to 7 days"},
			{"resets a day", password, `{"profile":"custom","max_resets_per_day":10}`, `{"profile":"custom","max_resets_per_day":11}`,
				"max_resets_per_day", "0 (unlimited) to 10"},
			{"MFA grace sign-ins", mfa, `{"grace_sign_ins":10}`, `{"grace_sign_ins":11}`, "grace_sign_ins", "1 to 10"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if rec := admin.Do(http.MethodPut, tt.path, tt.inside); rec.Code != http.StatusOK {
					t.Fatalf("just inside %s: status %d, want 200; body %s", tt.inside, rec.Code, rec.Body)
				}
				b := wantError(t, admin.Do(http.MethodPut, tt.path, tt.outside), http.StatusBadRequest, "invalid_settings")
				if b.Error.Field != tt.field {
					t.Errorf("just outside %s: field %q, want %q (%s)", tt.outside, b.Error.Field, tt.field, b.Error.Message)
				}
				if !strings.Contains(b.Error.Message, tt.rng) {
					t.Errorf("just outside %s: message %q does not state the range %q", tt.outside, b.Error.Message, tt.rng)
				}
			})
		}
	})
}

// TestStoredSettingsBeyondBounds: settings stored before the bounds existed are read as the
// bound, so the tenant keeps signing in; the next change stores bounded values.
func TestStoredSettingsBeyondBounds(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, admin := adminAndTenant(t, a)
		if rec := admin.Do(http.MethodPut, "/api/v1/security/settings/signin", `{"ip_captcha_after":10}`); rec.Code != http.StatusOK {
			t.Fatalf("store settings: %d %s", rec.Code, rec.Body)
		}
		err := migratetest.Beneath(t, a.DB).Gorm.Exec(`UPDATE security_settings SET signin_policy = ?, password_policy = ?, session_policy = ? WHERE tenant_id = ?`,
			`{"captcha_after":5,"lockout_threshold":10,"lockout_minutes":100000,"disable_after":100,"ip_window_minutes":15,"ip_captcha_after":100000,"ip_throttle_after":200000}`,
			`{"profile":"custom","min_length":500,"max_length":0,"ban_common":true,"ban_personal":true,"expiry_days":3000,"min_age_days":300,"history_depth":4,"max_resets_per_day":99}`,
			`{"idle_timeout_minutes":15,"absolute_timeout_minutes":720,"inactive_after_days":3000,"pci":false}`,
			tn.ID).Error
		if err != nil {
			t.Fatal(err)
		}
		rec := admin.Do(http.MethodGet, "/api/v1/security/settings", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("settings: %d %s", rec.Code, rec.Body)
		}
		got := decode[struct {
			Password struct {
				MinLength       int `json:"min_length"`
				ExpiryDays      int `json:"expiry_days"`
				MinAgeDays      int `json:"min_age_days"`
				MaxResetsPerDay int `json:"max_resets_per_day"`
			} `json:"password"`
			SignIn struct {
				LockoutMinutes  int `json:"lockout_minutes"`
				IPCaptchaAfter  int `json:"ip_captcha_after"`
				IPThrottleAfter int `json:"ip_throttle_after"`
			} `json:"signin"`
			Session struct {
				InactiveAfterDays int `json:"inactive_after_days"`
			} `json:"session"`
		}](t, rec)
		checks := []struct {
			name      string
			got, want int
		}{
			{"min_length", got.Password.MinLength, 128},
			{"expiry_days", got.Password.ExpiryDays, 365},
			{"min_age_days", got.Password.MinAgeDays, 7},
			{"max_resets_per_day", got.Password.MaxResetsPerDay, 10},
			{"lockout_minutes", got.SignIn.LockoutMinutes, 1440},
			{"ip_captcha_after", got.SignIn.IPCaptchaAfter, 1000},
			{"ip_throttle_after", got.SignIn.IPThrottleAfter, 5000},
			{"inactive_after_days", got.Session.InactiveAfterDays, 365},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s read as %d, want the bound %d", c.name, c.got, c.want)
			}
		}
	})
}
