package accounthttp_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounthttp"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestNoEnumeration: an unknown organisation, an unknown account, an invited or disabled account
// and a wrong password get the same status, code and message, and all cost a password check.
func TestNoEnumeration(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, admin := adminAndTenant(t, a)
		a.CreateUser("Acme Bank", "gone@acme.test", agentPass, "agent", false)
		rec := admin.Do(http.MethodPost, "/api/v1/users/invitations", `{"email":"new@acme.test","role":"agent"}`)
		if rec.Code != http.StatusCreated {
			t.Fatalf("invite: %d %s", rec.Code, rec.Body.String())
		}
		users := decode[accounthttp_UserList](t, admin.Do(http.MethodGet, "/api/v1/users", ""))
		for _, u := range users.Users {
			if u.Email == "gone@acme.test" {
				if rec := admin.Do(http.MethodPost, "/api/v1/users/"+u.ID+"/disable", ""); rec.Code != http.StatusNoContent {
					t.Fatalf("disable: %d %s", rec.Code, rec.Body.String())
				}
			}
		}
		cases := []struct{ name, tenant, email, password string }{
			{"wrong password", tn.Slug, ownerEmail, "Wrong guess 123456"},
			{"unknown account", tn.Slug, "nobody@acme.test", "Wrong guess 123456"},
			{"unknown organisation", "no-such-bank", ownerEmail, ownerPass},
			{"invited account", tn.Slug, "new@acme.test", "Wrong guess 123456"},
			{"disabled account, right password", tn.Slug, "gone@acme.test", agentPass},
		}
		var first errBody
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := a.Client(fmt.Sprintf("192.0.2.%d:4000", i+1))
				b := wantError(t, c.Login(tc.tenant, tc.email, tc.password, nil), http.StatusUnauthorized, "invalid_credentials")
				if i == 0 {
					first = b
					return
				}
				sameBody(t, tc.name, b, first)
			})
		}
		reasons := map[string]bool{}
		for _, e := range a.Audit.Find(account.ActionSignInFailure) {
			reasons[e.Reason] = true
		}
		for _, want := range []string{"wrong_password", "unknown_account", "unknown_tenant", "account_invited", "account_disabled"} {
			if !reasons[want] {
				t.Errorf("no sign-in failure audited with reason %q; got %v", want, reasons)
			}
		}
	})
}

type accounthttp_UserList = struct {
	Users []struct {
		ID     string `json:"id"`
		Email  string `json:"email"`
		Status string `json:"status"`
	} `json:"users"`
}

// TestCaptchaAndLockout walks the default defence with the clock: CAPTCHA from the 5th
// consecutive failure, lockout at the 10th for 30 minutes even for the right password, then the
// CAPTCHA is still asked until a success. An unknown account faces exactly the same answers.
func TestCaptchaAndLockout(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, u := a.CreateUser("Acme Bank", ownerEmail, ownerPass, "owner", false)
		for _, email := range []string{ownerEmail, "ghost@acme.test"} {
			t.Run(email, func(t *testing.T) {
				c := a.Client(clientAddr)
				for i := 1; i <= 4; i++ {
					wantError(t, c.Login(tn.Slug, email, "Wrong guess 123456", nil), http.StatusUnauthorized, "invalid_credentials")
				}
				// The 5th attempt after 4 failures is still a plain one; it fails too.
				wantError(t, c.Login(tn.Slug, email, "Wrong guess 123456", nil), http.StatusUnauthorized, "invalid_credentials")
				// From now on a CAPTCHA is required, and without one the password is not checked.
				ch := challengeOf(t, wantError(t, c.Login(tn.Slug, email, ownerPass, nil), http.StatusUnauthorized, "captcha_required"))
				for i := 6; i <= 10; i++ {
					fields := map[string]string{"captcha_id": ch.CaptchaID, "captcha_answer": challengeAnswer(t, a, ch.CaptchaID)}
					rec := c.Login(tn.Slug, email, "Wrong guess 123456", fields)
					if i < 10 {
						wantError(t, rec, http.StatusUnauthorized, "invalid_credentials")
						ch = challengeOf(t, wantError(t, c.Login(tn.Slug, email, "Wrong guess 123456", nil), http.StatusUnauthorized, "captcha_required"))
					} else {
						wantError(t, rec, http.StatusUnauthorized, "invalid_credentials")
					}
				}
				rec := c.Login(tn.Slug, email, ownerPass, nil)
				wantError(t, rec, http.StatusForbidden, "account_locked")
				if ra := rec.Header().Get("Retry-After"); ra == "" {
					t.Errorf("account_locked without Retry-After")
				}
				a.Clock.Advance(29 * time.Minute)
				wantError(t, c.Login(tn.Slug, email, ownerPass, nil), http.StatusForbidden, "account_locked")
				a.Clock.Advance(time.Minute)
				ch = challengeOf(t, wantError(t, c.Login(tn.Slug, email, ownerPass, nil), http.StatusUnauthorized, "captcha_required"))
				if email != ownerEmail {
					return
				}
				fields := map[string]string{"captcha_id": ch.CaptchaID, "captcha_answer": challengeAnswer(t, a, ch.CaptchaID)}
				if rec := c.Login(tn.Slug, email, ownerPass, fields); rec.Code != http.StatusOK {
					t.Fatalf("sign-in after the lockout: %d %s", rec.Code, rec.Body.String())
				}
				// A success clears the count: no CAPTCHA next time.
				if rec := a.Client(clientAddr).Login(tn.Slug, email, ownerPass, nil); rec.Code != http.StatusOK {
					t.Fatalf("sign-in after a success: %d %s", rec.Code, rec.Body.String())
				}
			})
		}
		lockouts := a.Audit.Find(account.ActionLockout)
		if len(lockouts) != 2 || lockouts[0].ActorID != u.ID || lockouts[1].ActorID != account.Anonymous {
			t.Errorf("lockout events = %+v, want one for %s and one for the unknown account", lockouts, u.ID)
		}
		if n := len(a.Audit.Find(account.ActionCaptchaShown)); n < 6 {
			t.Errorf("%d CAPTCHA-shown events, want at least 6", n)
		}
	})
}

// TestLockoutPolicy applies custom thresholds set through the API.
func TestLockoutPolicy(t *testing.T) {
	cases := []struct {
		name                    string
		body                    string
		captchaAfter, lockAfter int
		lockFor                 time.Duration
	}{
		{"captcha at 2, lock at 3 for 45 min", `{"captcha_after":2,"lockout_threshold":3,"lockout_minutes":45}`, 2, 3, 45 * time.Minute},
		{"captcha and lock at 1 for 30 min", `{"captcha_after":1,"lockout_threshold":1,"lockout_minutes":30}`, 1, 1, 30 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
				a := accounttest.New(t, db, nil)
				tn, admin := adminAndTenant(t, a)
				if rec := admin.Do(http.MethodPut, "/api/v1/security/settings/signin", tc.body); rec.Code != http.StatusOK {
					t.Fatalf("set policy: %d %s", rec.Code, rec.Body.String())
				}
				a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
				c := a.Client(clientAddr)
				var ch string
				for i := 1; i <= tc.lockAfter; i++ {
					var fields map[string]string
					if i > tc.captchaAfter {
						fields = map[string]string{"captcha_id": ch, "captcha_answer": challengeAnswer(t, a, ch)}
					}
					wantError(t, c.Login(tn.Slug, agentEmail, "Wrong guess 123456", fields), http.StatusUnauthorized, "invalid_credentials")
					if i >= tc.captchaAfter && i < tc.lockAfter {
						ch = challengeOf(t, wantError(t, c.Login(tn.Slug, agentEmail, agentPass, nil), http.StatusUnauthorized, "captcha_required")).CaptchaID
					}
				}
				wantError(t, c.Login(tn.Slug, agentEmail, agentPass, nil), http.StatusForbidden, "account_locked")
				a.Clock.Advance(tc.lockFor - time.Second)
				wantError(t, c.Login(tn.Slug, agentEmail, agentPass, nil), http.StatusForbidden, "account_locked")
				a.Clock.Advance(time.Second)
				wantError(t, c.Login(tn.Slug, agentEmail, agentPass, nil), http.StatusUnauthorized, "captcha_required")
			})
		})
	}
}

func TestLockoutPolicyLimits(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		_, admin := adminAndTenant(t, a)
		for _, tc := range []struct{ body, field string }{
			{`{"lockout_threshold":11}`, "lockout_threshold"},
			{`{"lockout_minutes":29}`, "lockout_minutes"},
			{`{"disable_after":101}`, "disable_after"},
			{`{"captcha_after":0}`, "captcha_after"},
		} {
			t.Run(tc.body, func(t *testing.T) {
				b := wantError(t, admin.Do(http.MethodPut, "/api/v1/security/settings/signin", tc.body), http.StatusBadRequest, "invalid_settings")
				if b.Error.Field != tc.field {
					t.Errorf("field = %q, want %q (%s)", b.Error.Field, tc.field, b.Error.Message)
				}
			})
		}
	})
}

// TestExpiredCaptcha: an answer to an expired challenge is asked again with a new challenge.
func TestExpiredCaptcha(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, _ := a.CreateUser("Acme Bank", ownerEmail, ownerPass, "owner", false)
		c := a.Client(clientAddr)
		for range 5 {
			c.Login(tn.Slug, ownerEmail, "Wrong guess 123456", nil)
		}
		ch := challengeOf(t, wantError(t, c.Login(tn.Slug, ownerEmail, ownerPass, nil), http.StatusUnauthorized, "captcha_required"))
		answer := challengeAnswer(t, a, ch.CaptchaID)
		a.Clock.Advance(6 * time.Minute)
		b := wantError(t, c.Login(tn.Slug, ownerEmail, ownerPass, map[string]string{"captcha_id": ch.CaptchaID, "captcha_answer": answer}),
			http.StatusUnauthorized, "captcha_required")
		if next := challengeOf(t, b); next.CaptchaID == ch.CaptchaID {
			t.Errorf("expired challenge answered with the same challenge %s", ch.CaptchaID)
		}
		wantError(t, c.Do(http.MethodGet, ch.ImageURL, ""), http.StatusNotFound, "captcha_expired")
		// A wrong answer counts as a failure and is asked again.
		before := len(a.Audit.Find(account.ActionSignInFailure))
		next := challengeOf(t, b)
		wantError(t, c.Login(tn.Slug, ownerEmail, ownerPass, map[string]string{"captcha_id": next.CaptchaID, "captcha_answer": "000000x"}),
			http.StatusUnauthorized, "captcha_required")
		if after := a.Audit.Find(account.ActionSignInFailure); len(after) != before+1 || after[len(after)-1].Reason != "captcha_wrong" {
			t.Errorf("wrong CAPTCHA answer not counted: %+v", after[before:])
		}
	})
}

func TestCaptchaEndpoints(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		rec := a.Do(apptestGet("/api/v1/auth/captcha"))
		if rec.Code != http.StatusOK {
			t.Fatalf("new challenge: %d %s", rec.Code, rec.Body.String())
		}
		ch := decode[accounthttp_Challenge](t, rec)
		img := a.Do(apptestGet(ch.ImageURL))
		if img.Code != http.StatusOK || img.Header().Get("Content-Type") != "image/png" || !strings.HasPrefix(img.Body.String(), "\x89PNG") {
			t.Errorf("image: %d %q", img.Code, img.Header().Get("Content-Type"))
		}
		wav := a.Do(apptestGet(ch.AudioURL + "?lang=de"))
		if wav.Code != http.StatusOK || wav.Header().Get("Content-Type") != "audio/wav" || !strings.HasPrefix(wav.Body.String(), "RIFF") {
			t.Errorf("audio: %d %q", wav.Code, wav.Header().Get("Content-Type"))
		}
		wantError(t, a.Do(apptestGet("/api/v1/auth/captcha/not-an-id/image")), http.StatusNotFound, "captcha_expired")
		// One address cannot flood the challenge store: new challenges count against its window.
		var last int
		for range 60 {
			rec := a.Do(apptest.Request{Method: http.MethodGet, Path: "/api/v1/auth/captcha", RemoteAddr: "203.0.113.200:1"})
			if last = rec.Code; last != http.StatusOK {
				wantError(t, rec, http.StatusTooManyRequests, "rate_limited")
				break
			}
		}
		if last != http.StatusTooManyRequests {
			t.Errorf("60 challenges from one address were all issued")
		}
	})
}

type accounthttp_Challenge = struct {
	CaptchaID string `json:"captcha_id"`
	ImageURL  string `json:"image_url"`
	AudioURL  string `json:"audio_url"`
}

// TestDisableAfterLifetimeFailures: the 100th failure over an account's lifetime disables it;
// only an administrator re-enables it, and that clears the counts.
func TestDisableAfterLifetimeFailures(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, admin := adminAndTenant(t, a)
		_, u := a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		// Arrange 99 earlier failures, none consecutive: one failure makes the identity's record
		// (stored under keyed hashes, so found by its count), then the counts are set.
		c := a.Client(clientAddr)
		wantError(t, c.Login(tn.Slug, agentEmail, "Wrong guess 123456", nil), http.StatusUnauthorized, "invalid_credentials")
		if res := migratetest.Beneath(t, db).Gorm.Exec("UPDATE signin_attempts SET consecutive = 0, lifetime = 99 WHERE consecutive = 1 AND names_account"); res.Error != nil || res.RowsAffected != 1 {
			t.Fatalf("arrange failures: %v, %d rows", res.Error, res.RowsAffected)
		}
		wantError(t, c.Login(tn.Slug, agentEmail, "Wrong guess 123456", nil), http.StatusUnauthorized, "invalid_credentials")
		wantError(t, c.Login(tn.Slug, agentEmail, agentPass, nil), http.StatusForbidden, "account_locked")
		disabled := a.Audit.Find(account.ActionUserDisable)
		if len(disabled) != 1 || disabled[0].Target.ID != u.ID || disabled[0].Reason != "failed_sign_ins" {
			t.Fatalf("disable events = %+v", disabled)
		}
		if rec := admin.Do(http.MethodPost, "/api/v1/users/"+u.ID+"/enable", ""); rec.Code != http.StatusNoContent {
			t.Fatalf("enable: %d %s", rec.Code, rec.Body.String())
		}
		if rec := c.Login(tn.Slug, agentEmail, agentPass, nil); rec.Code != http.StatusOK {
			t.Fatalf("sign-in after re-enabling: %d %s", rec.Code, rec.Body.String())
		}
	})
}

// TestAdminUnlock: an administrator ends a lockout at once.
func TestAdminUnlock(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, admin := adminAndTenant(t, a)
		_, u := a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		if rec := admin.Do(http.MethodPut, "/api/v1/security/settings/signin", `{"captcha_after":3,"lockout_threshold":3}`); rec.Code != http.StatusOK {
			t.Fatalf("policy: %d %s", rec.Code, rec.Body.String())
		}
		c := a.Client(clientAddr)
		for range 3 {
			var fields map[string]string
			c.Login(tn.Slug, agentEmail, "Wrong guess 123456", fields)
		}
		wantError(t, c.Login(tn.Slug, agentEmail, agentPass, nil), http.StatusForbidden, "account_locked")
		view := decode[accounthttp.UserBody](t, admin.Do(http.MethodGet, "/api/v1/users/"+u.ID, ""))
		if view.Status != "locked" || view.LockedUntil == nil || view.FailedSignIns != 3 {
			t.Fatalf("locked user view = %+v", view)
		}
		wantError(t, c.Do(http.MethodPost, "/api/v1/users/"+u.ID+"/unlock", ""), http.StatusUnauthorized, "unauthenticated")
		if rec := admin.Do(http.MethodPost, "/api/v1/users/"+u.ID+"/unlock", ""); rec.Code != http.StatusNoContent {
			t.Fatalf("unlock: %d %s", rec.Code, rec.Body.String())
		}
		if rec := c.Login(tn.Slug, agentEmail, agentPass, nil); rec.Code != http.StatusOK {
			t.Fatalf("sign-in after unlock: %d %s", rec.Code, rec.Body.String())
		}
		if ev := a.Audit.Find(account.ActionUnlock); len(ev) != 1 || ev[0].Target.ID != u.ID {
			t.Errorf("unlock events = %+v", ev)
		}
	})
}

// TestOverlongPassword: more than 1,024 bytes is refused before hashing and counts nothing.
func TestOverlongPassword(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, _ := a.CreateUser("Acme Bank", ownerEmail, ownerPass, "owner", false)
		c := a.Client(clientAddr)
		b := wantError(t, c.Login(tn.Slug, ownerEmail, strings.Repeat("a", 1025), nil), http.StatusBadRequest, "password_too_long")
		if b.Error.Field != "password" {
			t.Errorf("field = %q, want password", b.Error.Field)
		}
		if ev := a.Audit.Find(account.ActionSignInFailure); len(ev) != 0 {
			t.Errorf("overlong password counted as a failure: %+v", ev)
		}
		// Exactly 1,024 bytes is an ordinary (wrong) password.
		wantError(t, c.Login(tn.Slug, ownerEmail, strings.Repeat("a", 1024), nil), http.StatusUnauthorized, "invalid_credentials")
	})
}

// TestUnicodePasswordNFKC: a password set in one Unicode form signs in typed in another.
func TestUnicodePasswordNFKC(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		cases := []struct{ name, set, typed string }{
			{"composed and decomposed accent", "Caf\u00e9 au lait 2031", "Cafe\u0301 au lait 2031"},
			{"full-width digits", "Harbour 2031 lights", "Harbour \uff12\uff10\uff13\uff11 lights"},
			{"ligature", "\ufb01ve harbour 2031", "five harbour 2031"},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				email := fmt.Sprintf("u%d@acme.test", i)
				tn, _ := a.CreateUser("Acme Bank", email, tc.set, "agent", false)
				if rec := a.Client(clientAddr).Login(tn.Slug, email, tc.typed, nil); rec.Code != http.StatusOK {
					t.Fatalf("sign-in typed %q for %q: %d %s", tc.typed, tc.set, rec.Code, rec.Body.String())
				}
			})
		}
	})
}

// TestThrottledAddress: failures from one address across many accounts are counted too.
func TestThrottledAddress(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, admin := adminAndTenant(t, a)
		if rec := admin.Do(http.MethodPut, "/api/v1/security/settings/signin", `{"ip_captcha_after":3,"ip_throttle_after":5}`); rec.Code != http.StatusOK {
			t.Fatalf("policy: %d %s", rec.Code, rec.Body.String())
		}
		c := a.Client("203.0.113.50:1000")
		for i := range 3 {
			wantError(t, c.Login(tn.Slug, fmt.Sprintf("guess%d@acme.test", i), "Wrong guess 123456", nil), http.StatusUnauthorized, "invalid_credentials")
		}
		// Asking for a CAPTCHA counts against the address too (4), so it cannot flood the store.
		ch := challengeOf(t, wantError(t, c.Login(tn.Slug, "other@acme.test", "x", nil), http.StatusUnauthorized, "captcha_required"))
		wantError(t, c.Login(tn.Slug, "other@acme.test", "Wrong guess 123456",
			map[string]string{"captcha_id": ch.CaptchaID, "captcha_answer": challengeAnswer(t, a, ch.CaptchaID)}), http.StatusUnauthorized, "invalid_credentials")
		rec := c.Login(tn.Slug, ownerEmail, ownerPass, nil)
		wantError(t, rec, http.StatusTooManyRequests, "rate_limited")
		// Another address is unaffected.
		if rec := a.Client("203.0.113.51:1000").Login(tn.Slug, ownerEmail, ownerPass, nil); rec.Code != http.StatusOK {
			t.Fatalf("other address: %d %s", rec.Code, rec.Body.String())
		}
		a.Clock.Advance(15 * time.Minute)
		if rec := c.Login(tn.Slug, ownerEmail, ownerPass, nil); rec.Code != http.StatusOK {
			t.Fatalf("after the window: %d %s", rec.Code, rec.Body.String())
		}
	})
}
