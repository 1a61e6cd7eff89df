package account_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/account/captcha"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/password"
)

func TestCaptchaStore(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
		s := &account.CaptchaStore{DB: db.Gorm, Capacity: 3, Now: func() time.Time { return now }}
		exp := now.Add(5 * time.Minute)
		if err := s.Create(ctx, "a", exp); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(ctx, "a", exp); !errors.Is(err, captcha.ErrExists) {
			t.Errorf("duplicate id: %v, want ErrExists", err)
		}
		if got, err := s.Lookup(ctx, "a"); err != nil || !got.Equal(exp) {
			t.Errorf("Lookup = %v, %v; want %v", got, err, exp)
		}
		s.Create(ctx, "b", exp)
		s.Create(ctx, "c", exp)
		if err := s.Create(ctx, "d", exp); !errors.Is(err, captcha.ErrFull) {
			t.Errorf("over capacity: %v, want ErrFull", err)
		}
		// Of concurrent consumers of one challenge exactly one wins.
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := s.Consume(ctx, "a"); err == nil {
					wins.Add(1)
				} else if !errors.Is(err, captcha.ErrNotFound) {
					t.Errorf("Consume: %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("%d consumers won, want 1", wins.Load())
		}
		// Expired challenges make room.
		now = now.Add(6 * time.Minute)
		if err := s.Create(ctx, "e", now.Add(5*time.Minute)); err != nil {
			t.Errorf("after expiry: %v", err)
		}
		if _, err := s.Lookup(ctx, "b"); !errors.Is(err, captcha.ErrNotFound) {
			t.Errorf("expired challenge still held: %v", err)
		}
	})
}

func TestSharedKey(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		k1, err := account.SharedKey(ctx, db.Gorm, "captcha", nil, time.Now())
		if err != nil || len(k1) != 32 {
			t.Fatalf("first key: %d bytes, %v", len(k1), err)
		}
		k2, err := account.SharedKey(ctx, db.Gorm, "captcha", nil, time.Now())
		if err != nil || string(k1) != string(k2) {
			t.Fatalf("second call gave another key (%v)", err)
		}
		k3, _ := account.SharedKey(ctx, db.Gorm, "other", nil, time.Now())
		if string(k3) == string(k1) {
			t.Error("two names share a key")
		}
	})
}

// TestTemporaryPasswordMeetsPolicy: an administrator's reset always draws a password the
// tenant's policy accepts.
func TestTemporaryPasswordMeetsPolicy(t *testing.T) {
	strict := password.PCIDSS4()
	strict.Profile = password.ProfileCustom
	strict.MinLength, strict.MaxLength = 30, 32
	strict.RequireUpper, strict.RequireLower, strict.RequireDigit, strict.RequireSpecial = true, true, true, true
	for _, p := range []password.Policy{password.PCIDSS4(), password.NIST80063B(), strict} {
		t.Run(string(p.Profile), func(t *testing.T) {
			migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
				a := accounttest.New(t, db, nil)
				tn, owner := a.CreateUser("Acme Bank", "owner@acme.test", "Harbour lights 2031 far away", "owner", false)
				ctx := context.Background()
				by := account.Actor{TenantID: tn.ID, UserID: owner.ID}
				if err := a.Accounts.SetPasswordPolicy(ctx, by, p); err != nil {
					t.Fatal(err)
				}
				_, u := a.CreateUser("Acme Bank", "agent@acme.test", "Quiet Orchard 4471 by the sea!", "agent", false)
				temp, err := a.Accounts.ResetPassword(ctx, by, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				ev, _ := a.Accounts.PasswordEvaluator(ctx, tn.ID)
				vs, err := ev.Evaluate(temp, password.Context{Email: u.Email, TenantName: tn.Name,
					History: password.HistoryFunc(func(string, int) (bool, error) { return false, nil })})
				if err != nil || len(vs) > 0 {
					t.Fatalf("temporary password breaks %+v (%v)", vs, err)
				}
			})
		})
	}
}
