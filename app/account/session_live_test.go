package account_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestSessionLive: what keeps an agent's chat socket open. A session stands until it is signed
// out or revoked, its user is disabled, or its absolute lifetime passes; the idle timeout is
// not applied (the socket is the agent at work) and the check does not refresh the session.
func TestSessionLive(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		a := accounttest.New(t, db, nil)
		tn, u := a.CreateUser("Acme Bank", "ada@acme.test", "Tr1cky-Lantern-Harbour", "agent", false)
		signIn := func() string {
			t.Helper()
			if rec := a.Client("198.51.100.7:4000").Login(tn.Slug, "ada@acme.test", "Tr1cky-Lantern-Harbour", nil); rec.Code != http.StatusOK {
				t.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
			}
			var id string
			migratetest.Beneath(t, db).Gorm.Model(&account.Session{}).Where("user_id = ?", u.ID).Order("created_at DESC").Limit(1).Pluck("id", &id)
			return id
		}
		live := func(sessionID string) bool {
			t.Helper()
			ok, err := a.Accounts.SessionLive(ctx, tn.ID, u.ID, sessionID)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		id := signIn()
		if !live(id) {
			t.Fatal("a fresh session is not live")
		}
		if live("00000000-0000-7000-8000-000000000000") || func() bool {
			ok, _ := a.Accounts.SessionLive(ctx, "another-tenant", u.ID, id)
			return ok
		}() {
			t.Fatal("an unknown session, or the session under another tenant, is live")
		}
		// Past the idle timeout (15 min) but within the absolute lifetime (12 h): still live, and
		// the check did not count as activity.
		var before time.Time
		migratetest.Beneath(t, db).Gorm.Model(&account.Session{}).Where("id = ?", id).Pluck("last_seen_at", &before)
		a.Clock.Advance(time.Hour)
		if !live(id) {
			t.Fatal("an idle session's socket was closed; only the absolute lifetime applies")
		}
		var after time.Time
		migratetest.Beneath(t, db).Gorm.Model(&account.Session{}).Where("id = ?", id).Pluck("last_seen_at", &after)
		if !after.Equal(before) {
			t.Fatalf("the check refreshed the session: last seen %v → %v", before, after)
		}
		a.Clock.Advance(12 * time.Hour)
		if live(id) {
			t.Fatal("a session past its absolute lifetime is live")
		}
		// Disabled user; revoked session.
		id = signIn()
		migratetest.Beneath(t, db).Gorm.Exec("UPDATE users SET status = ? WHERE id = ?", account.StatusDisabled, u.ID)
		if live(id) {
			t.Fatal("a disabled user's session is live")
		}
		migratetest.Beneath(t, db).Gorm.Exec("UPDATE users SET status = ? WHERE id = ?", account.StatusActive, u.ID)
		if !live(id) {
			t.Fatal("the session of a user enabled again is not live")
		}
		migratetest.Beneath(t, db).Gorm.Exec("DELETE FROM sessions WHERE id = ?", id)
		if live(id) {
			t.Fatal("a revoked session is live")
		}
	})
}
