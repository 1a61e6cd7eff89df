package accounthttp_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
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

func form(v url.Values) apptest.Request {
	return apptest.Request{Method: http.MethodPost, ContentType: "application/x-www-form-urlencoded", Body: v.Encode()}
}

// TestInvitation: an invited user cannot sign in, chooses a password through the one-time link,
// and the link works once.
func TestInvitation(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, admin := adminAndTenant(t, a)
		wantError(t, admin.Do(http.MethodPost, "/api/v1/users/invitations", `{"email":"new@acme.test","role":"wizard"}`), http.StatusBadRequest, "invalid_request")
		rec := admin.Do(http.MethodPost, "/api/v1/users/invitations", `{"email":"new@acme.test","name":"Nia Ortega","role":"agent"}`)
		if rec.Code != http.StatusCreated {
			t.Fatalf("invite: %d %s", rec.Code, rec.Body.String())
		}
		inv := decode[accounthttp.InvitationBody](t, rec)
		if inv.User.Status != "invited" || !strings.HasPrefix(inv.InvitationURL, "http://parley.test/invite?token=") {
			t.Fatalf("invitation = %+v", inv)
		}
		wantError(t, admin.Do(http.MethodPost, "/api/v1/users/invitations", `{"email":"NEW@acme.test","role":"agent"}`), http.StatusConflict, "email_taken")
		u, _ := url.Parse(inv.InvitationURL)
		token := u.Query().Get("token")
		var stored int64
		migratetest.Beneath(t, db).Gorm.Table("invitations").Where("token_hash = ?", token).Count(&stored)
		if stored != 0 {
			t.Fatal("the invitation token is stored in the clear")
		}
		page := a.Do(apptestGet("/invite?token=" + url.QueryEscape(token)))
		if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "new@acme.test") {
			t.Fatalf("invitation page: %d", page.Code)
		}
		req := form(url.Values{"token": {token}, "password": {"short"}, "confirm": {"short"}})
		req.Path = "/invite"
		if rec := a.Do(req); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "at least 12 characters") {
			t.Fatalf("weak password: %d", rec.Code)
		}
		req = form(url.Values{"token": {token}, "password": {"Lanterns 2040 go"}, "confirm": {"Lanterns 2040 go"}})
		req.Path = "/invite"
		if rec := a.Do(req); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "is ready") {
			t.Fatalf("accept: %d %s", rec.Code, rec.Body.String())
		}
		if rec := a.Do(req); rec.Code != http.StatusNotFound {
			t.Fatalf("second use of the link: %d", rec.Code)
		}
		a.RefreshPolicy()
		if rec := a.Client(clientAddr).Login(tn.Slug, "new@acme.test", "Lanterns 2040 go", nil); rec.Code != http.StatusOK {
			t.Fatalf("sign-in after accepting: %d %s", rec.Code, rec.Body.String())
		}
		if ev := a.Audit.Find(account.ActionUserCreate); len(ev) != 1 || ev[0].Reason != "invitation" {
			t.Errorf("user-create events = %+v", ev)
		}
	})
}

// TestInvitationExpires: a link is refused after 72 hours.
func TestInvitationExpires(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		_, admin := adminAndTenant(t, a)
		inv := decode[accounthttp.InvitationBody](t, admin.Do(http.MethodPost, "/api/v1/users/invitations", `{"email":"new@acme.test","role":"agent"}`))
		a.Clock.Advance(72 * time.Hour)
		if rec := a.Do(apptestGet(strings.TrimPrefix(inv.InvitationURL, "http://parley.test"))); rec.Code != http.StatusNotFound {
			t.Fatalf("expired link: %d", rec.Code)
		}
	})
}

// TestInactiveAccounts: accounts unused for 90 days are disabled by the periodic job, and an
// inactive account cannot sign in even before the job ran.
func TestInactiveAccounts(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, _ := a.CreateUser("Acme Bank", ownerEmail, ownerPass, "owner", false)
		a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		a.CreateUser("Acme Bank", "busy@acme.test", agentPass, "agent", false)
		a.Clock.Advance(60 * 24 * time.Hour)
		signedIn(t, a, tn, "busy@acme.test", agentPass)
		a.Clock.Advance(30*24*time.Hour - time.Minute)
		ctx := context.Background()
		if n, err := a.Accounts.DisableInactive(ctx); err != nil || n != 0 {
			t.Fatalf("before 90 days: disabled %d, %v", n, err)
		}
		a.Clock.Advance(time.Minute)
		// Sign-in notices inactivity before the job does.
		wantError(t, a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, nil), http.StatusUnauthorized, "invalid_credentials")
		n, err := a.Accounts.DisableInactive(ctx)
		if err != nil || n != 1 {
			t.Fatalf("at 90 days: disabled %d, %v; want the owner", n, err)
		}
		got := map[string]string{}
		for _, e := range a.Audit.Find(account.ActionUserDisable) {
			got[e.Details["email"]] = e.Reason
		}
		if got[ownerEmail] != "inactive" || got[agentEmail] != "inactive" || got["busy@acme.test"] != "" {
			t.Errorf("disabled = %v, want owner and agent as inactive", got)
		}
		if err := a.Accounts.Sweep(ctx); err != nil {
			t.Fatalf("sweep: %v", err)
		}
	})
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// TestConsolePages walks the console's forms: sign-in page, account page with the last
// sign-in, password change page, two-step verification set-up, sign-out.
func TestConsolePages(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, _ := a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", true)
		b := a.Client(clientAddr)
		if rec := b.Do(http.MethodGet, "/account", ""); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
			t.Fatalf("account page signed out: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		page := b.Do(http.MethodGet, "/login", "")
		m := csrfField.FindStringSubmatch(page.Body.String())
		if page.Code != http.StatusOK || m == nil || strings.Contains(page.Body.String(), "<script>") {
			t.Fatalf("sign-in page: %d", page.Code)
		}
		req := form(url.Values{"tenant": {tn.Slug}, "email": {agentEmail}, "password": {"Wrong guess 123456"}, "csrf_token": {m[1]}})
		req.Path = "/login"
		if rec := b.DoRequest(req); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "is not right") {
			t.Fatalf("wrong password on the page: %d", rec.Code)
		}
		// A card number typed as the e-mail address is shown back masked, never as typed.
		req = form(url.Values{"tenant": {tn.Slug}, "email": {"4111 1111 1111 1111"}, "password": {"Wrong guess 123456"}, "csrf_token": {m[1]}})
		req.Path = "/login"
		if rec := b.DoRequest(req); rec.Code != http.StatusUnauthorized || strings.Contains(rec.Body.String(), "4111 1111 1111 1111") ||
			!strings.Contains(rec.Body.String(), "1111") {
			t.Fatalf("card number as e-mail on the page: %d, shown as typed or not at all", rec.Code)
		}
		req = form(url.Values{"tenant": {tn.Slug}, "email": {agentEmail}, "password": {agentPass}, "csrf_token": {m[1]}})
		req.Path = "/login"
		rec := b.DoRequest(req)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/account/password" {
			t.Fatalf("first sign-in: %d to %q, want the password page", rec.Code, rec.Header().Get("Location"))
		}
		pw := b.Do(http.MethodGet, "/account/password", "")
		m = csrfField.FindStringSubmatch(pw.Body.String())
		if pw.Code != http.StatusOK || m == nil || !strings.Contains(pw.Body.String(), "At least 12 characters.") {
			t.Fatalf("password page: %d", pw.Code)
		}
		req = form(url.Values{"current_password": {agentPass}, "new_password": {"password1234"}, "confirm": {"password1234"}, "csrf_token": {m[1]}})
		req.Path = "/account/password"
		if rec := b.DoRequest(req); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "commonly used") {
			t.Fatalf("common password on the page: %d", rec.Code)
		}
		req = form(url.Values{"current_password": {agentPass}, "new_password": {"Lanterns 2040 go"}, "confirm": {"Lanterns 2040 go"}, "csrf_token": {m[1]}})
		req.Path = "/account/password"
		if rec := b.DoRequest(req); rec.Code != http.StatusSeeOther {
			t.Fatalf("change on the page: %d %s", rec.Code, rec.Body.String())
		}
		acct := b.Do(http.MethodGet, "/account?done=password", "")
		if acct.Code != http.StatusOK || !strings.Contains(acct.Body.String(), "first sign-in") || !strings.Contains(acct.Body.String(), "This session") {
			t.Fatalf("account page: %d %s", acct.Code, acct.Body.String())
		}
		m = csrfField.FindStringSubmatch(acct.Body.String())
		// Two-step verification from the page.
		req = form(url.Values{"csrf_token": {m[1]}})
		req.Path = "/account/mfa/enrolment"
		enrol := b.DoRequest(req)
		key := regexp.MustCompile(`<code>([A-Z2-7 ]+)</code>`).FindStringSubmatch(enrol.Body.String())
		if enrol.Code != http.StatusOK || key == nil || !strings.Contains(enrol.Body.String(), `src="data:image/png;base64,`) {
			t.Fatalf("enrolment page: %d", enrol.Code)
		}
		req = form(url.Values{"csrf_token": {m[1]}, "code": {totpCode(t, key[1], a.Clock.Now())}})
		req.Path = "/account/mfa/activation"
		done := b.DoRequest(req)
		if done.Code != http.StatusOK || strings.Count(done.Body.String(), "<li><code>") != 10 {
			t.Fatalf("activation page: %d %s", done.Code, done.Body.String())
		}
		m = csrfField.FindStringSubmatch(b.Do(http.MethodGet, "/account", "").Body.String())
		req = form(url.Values{"csrf_token": {m[1]}})
		req.Path = "/logout"
		if rec := b.DoRequest(req); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
			t.Fatalf("sign-out: %d", rec.Code)
		}
		// Next sign-in on the page asks for the code and shows the previous sign-in.
		a.Clock.Advance(time.Minute)
		page = b.Do(http.MethodGet, "/login", "")
		m = csrfField.FindStringSubmatch(page.Body.String())
		req = form(url.Values{"tenant": {tn.Slug}, "email": {agentEmail}, "password": {"Lanterns 2040 go"}, "csrf_token": {m[1]}})
		req.Path = "/login"
		if rec := b.DoRequest(req); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "authenticator app") {
			t.Fatalf("sign-in without the code: %d", rec.Code)
		}
		req = form(url.Values{"tenant": {tn.Slug}, "email": {agentEmail}, "password": {"Lanterns 2040 go"}, "csrf_token": {m[1]},
			"totp": {totpCode(t, key[1], a.Clock.Now())}})
		req.Path = "/login"
		if rec := b.DoRequest(req); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/start" {
			t.Fatalf("sign-in with the code: %d to %q, want 303 to /start", rec.Code, rec.Header().Get("Location"))
		}
		if acct := b.Do(http.MethodGet, "/account", ""); !strings.Contains(acct.Body.String(), "Last sign-in") || !strings.Contains(acct.Body.String(), "198.51.100.7") {
			t.Fatalf("account page after the second sign-in lacks the last sign-in: %s", acct.Body.String())
		}
	})
}

// TestPermissions: user and security administration needs its permission.
func TestPermissions(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, _ := a.CreateUser("Acme Bank", ownerEmail, ownerPass, "owner", false)
		a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		agent := signedIn(t, a, tn, agentEmail, agentPass)
		for _, r := range []struct{ method, path, body string }{
			{http.MethodGet, "/api/v1/users", ""},
			{http.MethodPost, "/api/v1/users/invitations", `{"email":"x@acme.test","role":"owner"}`},
			{http.MethodGet, "/api/v1/security/settings", ""},
			{http.MethodPut, "/api/v1/security/settings/password", `{"profile":"custom","min_length":8}`},
			{http.MethodPut, "/api/v1/security/allowlists/tenant", `{"entries":["192.0.2.1"]}`},
		} {
			t.Run(r.method+" "+r.path, func(t *testing.T) {
				wantError(t, agent.Do(r.method, r.path, r.body), http.StatusForbidden, "forbidden")
			})
		}
		if rec := agent.Do(http.MethodGet, "/api/v1/account", ""); rec.Code != http.StatusOK {
			t.Fatalf("own account: %d %s", rec.Code, rec.Body.String())
		}
	})
}

// TestLastOwner: an administrator cannot disable an owner (that would reach beyond the admin's
// own permissions), nobody disables their own account, and an owner may disable another owner
// only while an active owner remains.
func TestLastOwner(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, owner := a.CreateUser("Acme Bank", ownerEmail, ownerPass, "owner", false)
		a.CreateUser("Acme Bank", "admin@acme.test", agentPass, "admin", false)
		admin := signedIn(t, a, tn, "admin@acme.test", agentPass)
		wantError(t, admin.Do(http.MethodPost, "/api/v1/users/"+owner.ID+"/disable", ""), http.StatusForbidden, "forbidden")
		own := signedIn(t, a, tn, ownerEmail, ownerPass)
		wantError(t, own.Do(http.MethodPost, "/api/v1/users/"+owner.ID+"/disable", ""), http.StatusConflict, "conflict")
		_, second := a.CreateUser("Acme Bank", "owner2@acme.test", agentPass, "owner", false)
		if rec := own.Do(http.MethodPost, "/api/v1/users/"+second.ID+"/disable", ""); rec.Code != http.StatusNoContent {
			t.Fatalf("disable with another owner left: %d %s", rec.Code, rec.Body.String())
		}
		list := decode[accounthttp_UserList](t, own.Do(http.MethodGet, "/api/v1/users", ""))
		status := map[string]string{}
		for _, u := range list.Users {
			status[u.Email] = u.Status
		}
		if status[ownerEmail] != "active" || status["owner2@acme.test"] != "disabled" || len(list.Users) != 3 {
			t.Errorf("users = %v", status)
		}
	})
}
