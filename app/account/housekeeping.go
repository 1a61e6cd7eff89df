package account

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
)

// DisableInactive disables every active or locked account whose last sign-in (or activation,
// for an account never used) is older than its tenant's inactivity period (PCI DSS 8.2.6), each
// in its own audited transaction. It returns how many it disabled.
func (s *Service) DisableInactive(ctx context.Context) (int, error) {
	ctx = migrations.AcrossTenants(ctx) // housekeeping spans tenants (SECURITY.md)
	tenants, err := s.Tenants.List(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	total := 0
	var errs []error
	for _, t := range tenants {
		st, err := s.Settings(ctx, t.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if st.Session.InactiveAfter <= 0 {
			continue
		}
		cutoff := now.Add(-st.Session.InactiveAfter)
		var users []User
		// A coarse filter in SQL; lastActive decides.
		if err := s.db().WithContext(ctx).Where("tenant_id = ? AND status IN ? AND created_at <= ? AND (last_login_at IS NULL OR last_login_at <= ?)",
			t.ID, []Status{StatusActive, StatusLocked}, cutoff, cutoff).Find(&users).Error; err != nil {
			errs = append(errs, err)
			continue
		}
		for _, u := range users {
			if !st.Session.AccountInactive(lastActive(u), now) {
				continue
			}
			err := migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
				return s.disableTx(ctx, tx, Actor{TenantID: t.ID, UserID: "inactivity", System: true}, u, "inactive")
			})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			total++
		}
	}
	return total, errors.Join(errs...)
}

// staleIdentityAge is how long the failure record of an identity that names no account is kept
// after its last failure.
const staleIdentityAge = 90 * 24 * time.Hour

// Sweep deletes what has expired: sessions past the longest absolute timeout, CAPTCHA
// challenges, per-address windows, invitation links, and failure records of identities that name
// no account and have not failed for 90 days.
func (s *Service) Sweep(ctx context.Context) error {
	ctx = migrations.AcrossTenants(ctx) // housekeeping spans tenants (SECURITY.md)
	now := s.now()
	db := s.db().WithContext(ctx)
	return errors.Join(
		db.Where("created_at < ?", now.Add(-25*time.Hour)).Delete(&Session{}).Error,
		db.Where("expires_at <= ?", now).Delete(&captchaRow{}).Error,
		db.Where("window_start < ?", now.Add(-25*time.Hour)).Delete(&ipRow{}).Error,
		db.Where("expires_at < ? AND used_at IS NULL", now.Add(-30*24*time.Hour)).Delete(&invitationRow{}).Error,
		db.Where("last_failure_at < ? AND (locked_until IS NULL OR locked_until < ?) AND NOT names_account",
			now.Add(-staleIdentityAge), now).Delete(&attemptRow{}).Error,
	)
}

// RunHousekeeping disables inactive accounts and sweeps expired rows every interval until ctx
// ends. `parley serve` runs it on every node; the work is idempotent.
func (s *Service) RunHousekeeping(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.DisableInactive(ctx); err != nil {
			s.log().ErrorContext(ctx, "disable inactive accounts", "cause", err.Error())
		} else if n > 0 {
			s.log().InfoContext(ctx, "inactive accounts disabled", "count", n)
		}
		if err := s.Sweep(ctx); err != nil {
			s.log().ErrorContext(ctx, "sweep expired sign-in data", "cause", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
