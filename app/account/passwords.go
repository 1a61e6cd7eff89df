package account

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/password"
)

// Password errors.
var (
	// ErrWrongPassword means the current password given for a change is wrong.
	ErrWrongPassword = errors.New("current password is wrong")
	// ErrResetLimit means the user's password was reset as often as the policy allows today.
	ErrResetLimit = errors.New("password reset limit reached for today")
)

// TooSoonError means the policy's minimum age has not passed since the last change.
type TooSoonError struct{ AllowedAt time.Time }

func (e *TooSoonError) Error() string {
	return "password changed too recently; allowed from " + e.AllowedAt.UTC().Format(time.RFC3339)
}

// History kinds.
const (
	historyInitial    = "initial"
	historyChange     = "change"
	historyReset      = "reset"
	historyInvitation = "invitation"
)

// keepHistory is how many hashes are kept per user: the deepest history a policy may ask for.
const keepHistory = password.MaxHistoryDepth

type historyRow struct {
	ID           string `gorm:"primaryKey"`
	TenantID     string
	UserID       string
	PasswordHash string
	Kind         string
	CreatedAt    time.Time
}

func (historyRow) TableName() string { return "password_history" }

func addHistory(ctx context.Context, tx *gorm.DB, u User, hash, kind string, now time.Time) error {
	ctx = migrations.WithTenant(ctx, u.TenantID)
	tx = tx.WithContext(ctx)
	row := historyRow{ID: uuid.Must(uuid.NewV7()).String(), TenantID: u.TenantID, UserID: u.ID, PasswordHash: hash, Kind: kind, CreatedAt: now}
	if err := tx.WithContext(ctx).Create(&row).Error; err != nil {
		return err
	}
	// Keep the newest keepHistory hashes, and any reset of the last day (the reset limit counts them).
	var old []string
	if err := tx.WithContext(ctx).Model(&historyRow{}).Where("user_id = ?", u.ID).Order("created_at DESC, id DESC").
		Offset(keepHistory).Pluck("id", &old).Error; err != nil {
		return err
	}
	if len(old) == 0 {
		return nil
	}
	return tx.WithContext(ctx).Where("id IN ? AND NOT (kind = ? AND created_at > ?)", old, historyReset, now.Add(-24*time.Hour)).
		Delete(&historyRow{}).Error
}

// history returns a HistoryChecker over the user's current and previous hashes.
func (s *Service) history(ctx context.Context, u User) password.HistoryChecker {
	ctx = migrations.WithTenant(ctx, u.TenantID)
	return password.HistoryFunc(func(normalized string, depth int) (bool, error) {
		var hashes []string
		if err := s.db().WithContext(ctx).Model(&historyRow{}).Where("user_id = ?", u.ID).
			Order("created_at DESC, id DESC").Limit(depth).Pluck("password_hash", &hashes).Error; err != nil {
			return false, err
		}
		if u.PasswordHash != "" && (len(hashes) == 0 || hashes[0] != u.PasswordHash) {
			hashes = append([]string{u.PasswordHash}, hashes...)
		}
		if len(hashes) > depth {
			hashes = hashes[:depth]
		}
		for _, h := range hashes {
			ok, _, err := s.Hasher.Verify(ctx, h, []byte(normalized))
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
		return false, nil
	})
}

// checkNewPassword evaluates a candidate against the tenant's policy for u and returns its hash.
func (s *Service) checkNewPassword(ctx context.Context, u User, st Settings, candidate string) (string, error) {
	ctx = migrations.WithTenant(ctx, u.TenantID)
	if len(candidate) > password.MaxBytes {
		return "", ErrPasswordTooLong
	}
	t, err := s.Tenants.ByID(ctx, u.TenantID)
	if err != nil {
		return "", err
	}
	roles, err := s.roleNames(ctx, s.db(), u)
	if err != nil {
		return "", err
	}
	ev, err := s.evaluator(ctx, s.db(), u.TenantID)
	if err != nil {
		return "", err
	}
	vs, err := ev.Evaluate(candidate, password.Context{
		Username: u.DisplayName, Email: u.Email, TenantName: t.Name,
		MFAEnforced: st.MFA.EnforcedFor(roles), History: s.history(ctx, u),
	})
	if err != nil {
		return "", err
	}
	if len(vs) > 0 {
		return "", &PasswordRejected{Violations: vs}
	}
	normalized, err := password.Normalize(candidate)
	if err != nil {
		return "", err
	}
	return s.Hasher.Hash(ctx, []byte(normalized))
}

// ChangePassword changes the session user's password: the current one must be right (a wrong
// one counts as a failed sign-in), the minimum age must have passed unless the change is forced
// (first use, reset, expiry), and the new one must meet the policy and differ from the history.
// Every other session of the user ends and the current one gets a new token, restricted to MFA
// enrolment when that is still owed.
func (s *Service) ChangePassword(ctx context.Context, cur Current, current, next string, o Origin) (NewSession, error) {
	if len(current) > password.MaxBytes || len(next) > password.MaxBytes {
		return NewSession{}, ErrPasswordTooLong
	}
	u, err := s.Store.ByID(ctx, cur.User.TenantID, cur.User.ID)
	if err != nil {
		return NewSession{}, err
	}
	st, err := s.Settings(ctx, u.TenantID)
	if err != nil {
		return NewSession{}, err
	}
	now := s.now()
	roles, err := s.roleNames(ctx, s.db(), u)
	if err != nil {
		return NewSession{}, err
	}
	enforced := st.MFA.EnforcedFor(roles)
	forced := u.MustChangePassword || st.Password.Expired(deref(u.PasswordChangedAt), now, enforced)
	if !forced && st.Password.TooSoon(deref(u.PasswordChangedAt), now) {
		return NewSession{}, &TooSoonError{AllowedAt: st.Password.ChangeAllowedAt(deref(u.PasswordChangedAt))}
	}
	normalized, err := password.Normalize(current)
	if err != nil {
		return NewSession{}, ErrPasswordTooLong
	}
	ok, _, err := s.Hasher.Verify(ctx, u.PasswordHash, []byte(normalized))
	if err != nil {
		return NewSession{}, err
	}
	if !ok {
		t, err := s.Tenants.ByID(ctx, u.TenantID)
		if err != nil {
			return NewSession{}, err
		}
		id, err := s.identityOf(ctx, t.Slug, u.Email)
		if err != nil {
			return NewSession{}, err
		}
		id.account = true
		att := attempt{id: id, ip: ipKey(o.IP)}
		if _, err := s.recordFailure(ctx, att, st.SignIn, u.TenantID, &u, "wrong_current_password", ActionSignInFailure, o); err != nil {
			return NewSession{}, err
		}
		return NewSession{}, ErrWrongPassword
	}
	hash, err := s.checkNewPassword(ctx, u, st, next)
	if err != nil {
		return NewSession{}, err
	}
	var ns NewSession
	err = migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{
			"password_hash": hash, "password_changed_at": now, "must_change_password": false, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		if err := addHistory(ctx, tx, u, hash, historyChange, now); err != nil {
			return err
		}
		if err := tx.Where("tenant_id = ? AND user_id = ? AND id <> ?", u.TenantID, u.ID, cur.Session.ID).
			Delete(&Session{}).Error; err != nil {
			return err
		}
		r := RestrictNone
		if enforced && !u.MFAEnabled {
			r = RestrictMFAEnrolment
		}
		if ns, err = s.rotateSession(ctx, tx, cur.Session, u, cur.Session.MFA, r, o); err != nil {
			return err
		}
		e := o.event(u.TenantID, ActionPasswordChange, u.ID, Success)
		e.Target = Target{Kind: "user", ID: u.ID}
		e.Details = map[string]string{"forced": fmt.Sprint(forced)}
		return record(ctx, s.Auditor, tx, e)
	})
	return ns, err
}

// ResetPassword gives a user a temporary password, to hand over out of band, that must be
// changed at first use (PCI DSS 8.3.5); it ends their sessions. The policy's daily reset limit
// applies.
func (s *Service) ResetPassword(ctx context.Context, by Actor, userID string) (string, error) {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	if err := s.checkOutranks(ctx, by, userID); err != nil {
		return "", err
	}
	u, err := s.Store.ByID(ctx, by.TenantID, userID)
	if err != nil {
		return "", err
	}
	if u.Status == StatusInvited {
		return "", fmt.Errorf("%w: the user has not accepted the invitation", ErrConflictState)
	}
	st, err := s.Settings(ctx, u.TenantID)
	if err != nil {
		return "", err
	}
	now := s.now()
	var resets int64
	if err := s.db().WithContext(ctx).Model(&historyRow{}).
		Where("user_id = ? AND kind = ? AND created_at > ?", u.ID, historyReset, now.Add(-24*time.Hour)).Count(&resets).Error; err != nil {
		return "", err
	}
	if !st.Password.ResetAllowed(int(resets)) {
		return "", ErrResetLimit
	}
	temp, err := s.temporaryPassword(ctx, u, st)
	if err != nil {
		return "", err
	}
	normalized, err := password.Normalize(temp)
	if err != nil {
		return "", err
	}
	hash, err := s.Hasher.Hash(ctx, []byte(normalized))
	if err != nil {
		return "", err
	}
	err = migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{
			"password_hash": hash, "password_changed_at": now, "must_change_password": true, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		if err := addHistory(ctx, tx, u, hash, historyReset, now); err != nil {
			return err
		}
		n, err := s.RevokeUserSessions(ctx, tx, u.TenantID, u.ID)
		if err != nil {
			return err
		}
		e := by.event(u.TenantID, ActionPasswordReset, Success)
		e.Target = Target{Kind: "user", ID: u.ID}
		e.Details = map[string]string{"email": u.Email, "sessions_ended": fmt.Sprint(n), "must_change": "true"}
		return record(ctx, s.Auditor, tx, e)
	})
	if err != nil {
		return "", err
	}
	return temp, nil
}

// ErrConflictState means the account is not in a state that allows the action.
var ErrConflictState = errors.New("the account's state does not allow this")

// temporaryPassword draws a random password that meets the tenant's policy.
func (s *Service) temporaryPassword(ctx context.Context, u User, st Settings) (string, error) {
	ctx = migrations.WithTenant(ctx, u.TenantID)
	const (
		upper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		lower   = "abcdefghijkmnpqrstuvwxyz"
		digits  = "23456789"
		symbols = "!#$%&*+-=?@^_"
	)
	all := upper + lower + digits + symbols
	n := max(20, st.Password.MinLength)
	if st.Password.MaxLength > 0 && n > st.Password.MaxLength {
		n = st.Password.MaxLength
	}
	ev, err := s.evaluator(ctx, s.db(), u.TenantID)
	if err != nil {
		return "", err
	}
	t, err := s.Tenants.ByID(ctx, u.TenantID)
	if err != nil {
		return "", err
	}
	for range 20 {
		out := make([]byte, n)
		for i := range out {
			set := all
			switch i {
			case 0:
				set = upper
			case 1:
				set = lower
			case 2:
				set = digits
			case 3:
				set = symbols
			}
			c, err := pick(s.rand(), set)
			if err != nil {
				return "", err
			}
			out[i] = c
		}
		vs, err := ev.Evaluate(string(out), password.Context{
			Username: u.DisplayName, Email: u.Email, TenantName: t.Name, History: s.history(ctx, u),
		})
		if err != nil {
			return "", err
		}
		if len(vs) == 0 {
			return string(out), nil
		}
	}
	return "", errors.New("could not draw a temporary password that meets the policy")
}

// pick draws one byte of set uniformly (rejection sampling, no modulo bias).
func pick(r io.Reader, set string) (byte, error) {
	limit := 256 - 256%len(set)
	var b [1]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, err
		}
		if int(b[0]) < limit {
			return set[int(b[0])%len(set)], nil
		}
	}
}
