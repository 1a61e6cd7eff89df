package accounthttp_test

import (
	"net/http"
	"testing"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestSignInAndOut(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, u := a.CreateUser("Acme Bank", ownerEmail, ownerPass, "owner", false)
		c := a.Client(clientAddr)
		rec := c.Login(tn.Slug, ownerEmail, ownerPass, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("login: %d %s", rec.Code, rec.Body.String())
		}
		body := decode[struct {
			User struct {
				ID    string `json:"id"`
				Email string `json:"email"`
			} `json:"user"`
			CSRFToken  string `json:"csrf_token"`
			LastSignIn *struct {
				IP string `json:"ip"`
			} `json:"last_sign_in"`
		}](t, rec)
		if body.User.ID != u.ID || body.CSRFToken == "" || body.LastSignIn != nil {
			t.Fatalf("login body = %+v, want user %s, a CSRF token and no previous sign-in", body, u.ID)
		}
		c.CSRF = body.CSRFToken
		if got := a.Audit.Find(account.ActionSignInSuccess); len(got) != 1 || got[0].ActorID != u.ID || got[0].ClientIP != "198.51.100.7" {
			t.Fatalf("success events = %+v, want one for %s from 198.51.100.7", got, u.ID)
		}
		if rec := c.Do(http.MethodGet, "/api/v1/auth/session", ""); rec.Code != http.StatusOK {
			t.Fatalf("session: %d %s", rec.Code, rec.Body.String())
		}
		if rec := c.Do(http.MethodPost, "/api/v1/auth/logout", ""); rec.Code != http.StatusNoContent {
			t.Fatalf("logout: %d %s", rec.Code, rec.Body.String())
		}
		wantError(t, c.Do(http.MethodGet, "/api/v1/auth/session", ""), http.StatusUnauthorized, "unauthenticated")
	})
}
