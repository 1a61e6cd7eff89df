package account

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/account/totp"
	"github.com/parleyhq/parley/migrations"
)

// MFA errors.
var (
	// ErrNoPendingEnrolment means there is no enrolment to activate, or it is too old.
	ErrNoPendingEnrolment = errors.New("no MFA enrolment to activate; start again")
	// ErrMFAAlreadyEnrolled means the user has an active second factor and the session did not
	// prove it, so it may not be replaced.
	ErrMFAAlreadyEnrolled = errors.New("a second factor is already enrolled")
)

// PendingTTL is how long an enrolment waits for its first code.
const PendingTTL = 15 * time.Minute

// mfaKeys is what the sealed mfa_secret holds: the TOTP secret and the key of the user's
// recovery-code hashes, so a database dump alone can check neither.
type mfaKeys struct {
	secret      totp.Secret
	recoveryKey []byte
}

const (
	mfaKeysVersion = 1
	recoveryKeyLen = 32
)

func (k mfaKeys) marshal() []byte {
	out := make([]byte, 0, 1+len(k.secret)+recoveryKeyLen)
	out = append(out, mfaKeysVersion)
	out = append(out, k.recoveryKey...)
	return append(out, k.secret...)
}

func parseMFAKeys(b []byte) (mfaKeys, error) {
	if len(b) < 1+recoveryKeyLen+totp.MinSecretSize || b[0] != mfaKeysVersion {
		return mfaKeys{}, fmt.Errorf("%w: unreadable MFA secret", ErrSealer)
	}
	return mfaKeys{recoveryKey: b[1 : 1+recoveryKeyLen], secret: totp.Secret(b[1+recoveryKeyLen:])}, nil
}

// recoveryCode is a stored recovery code hash.
type recoveryCode struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	UserID    string
	CodeHash  []byte
	CreatedAt time.Time
}

func (recoveryCode) TableName() string { return "recovery_codes" }

// secondFactor is the outcome of checking a code at sign-in.
type secondFactor struct {
	recovery bool
	left     int
	reason   string
}

// errFactorRejected means the code was wrong, replayed or already spent; the reason says which.
var errFactorRejected = errors.New("second factor rejected")

// checkSecondFactor verifies a TOTP code (6 digits) or a recovery code and spends it: the TOTP
// step by compare-and-set on the last accepted step, the recovery code by deleting its row.
func (s *Service) checkSecondFactor(ctx context.Context, u User, code string) (secondFactor, error) {
	ctx = migrations.WithTenant(ctx, u.TenantID)
	plain, err := unseal(ctx, s.Sealer, u.TenantID, u.ID, u.MFASecret)
	if err != nil {
		return secondFactor{}, err
	}
	keys, err := parseMFAKeys(plain)
	if err != nil {
		return secondFactor{}, err
	}
	if isTOTPShape(code) {
		step, err := totp.Verify(keys.secret, code, s.now(), u.TOTPLastStep)
		switch {
		case errors.Is(err, totp.ErrReplay):
			return secondFactor{reason: "mfa_replay"}, errFactorRejected
		case errors.Is(err, totp.ErrInvalid):
			return secondFactor{reason: "mfa_invalid"}, errFactorRejected
		case err != nil:
			return secondFactor{}, err
		}
		res := s.db().WithContext(ctx).Model(&User{}).Where("id = ? AND totp_last_step = ?", u.ID, u.TOTPLastStep).
			Update("totp_last_step", step)
		if res.Error != nil {
			return secondFactor{}, res.Error
		}
		if res.RowsAffected != 1 {
			return secondFactor{reason: "mfa_replay"}, errFactorRejected
		}
		return secondFactor{}, nil
	}
	rc, err := totp.NewRecoveryCodes(s.rand(), keys.recoveryKey)
	if err != nil {
		return secondFactor{}, err
	}
	var rows []recoveryCode
	if err := s.db().WithContext(ctx).Where("user_id = ?", u.ID).Order("id").Find(&rows).Error; err != nil {
		return secondFactor{}, err
	}
	hashes := make([][]byte, len(rows))
	for i, r := range rows {
		hashes[i] = r.CodeHash
	}
	i, err := rc.Match(code, hashes)
	if err != nil {
		return secondFactor{reason: "recovery_code_invalid"}, errFactorRejected
	}
	res := s.db().WithContext(ctx).Where("id = ?", rows[i].ID).Delete(&recoveryCode{})
	if res.Error != nil {
		return secondFactor{}, res.Error
	}
	if res.RowsAffected != 1 {
		return secondFactor{reason: "recovery_code_spent"}, errFactorRejected
	}
	return secondFactor{recovery: true, left: len(rows) - 1}, nil
}

// isTOTPShape reports whether code looks like a TOTP code (digits and spaces, six digits).
func isTOTPShape(code string) bool {
	n := 0
	for i := 0; i < len(code); i++ {
		switch c := code[i]; {
		case c == ' ':
		case c >= '0' && c <= '9':
			n++
		default:
			return false
		}
	}
	return n == totp.Digits
}

// Enrolment is a started TOTP enrolment to show the user once.
type Enrolment = totp.Enrolment

// BeginMFAEnrolment creates a TOTP secret for the session's user and keeps it, sealed, as
// pending until ActivateMFA accepts a first code. A user with an active factor may replace it
// only from a session that passed it.
func (s *Service) BeginMFAEnrolment(ctx context.Context, cur Current) (*Enrolment, error) {
	u := cur.User
	if u.MFAEnabled && !cur.Session.MFA {
		return nil, ErrMFAAlreadyEnrolled
	}
	t, err := s.Tenants.ByID(ctx, u.TenantID)
	if err != nil {
		return nil, err
	}
	enr, err := s.Enroller.Enrol(t.Name, u.Email)
	if err != nil {
		return nil, err
	}
	sealed, err := seal(ctx, s.Sealer, u.TenantID, u.ID, enr.Secret)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := s.db().WithContext(ctx).Model(&User{}).Where("id = ?", u.ID).
		Updates(map[string]any{"mfa_pending": sealed, "mfa_pending_at": now, "updated_at": now}).Error; err != nil {
		return nil, err
	}
	return enr, nil
}

// ActivateMFA checks a first code against the pending enrolment; when it is right the factor
// becomes active, ten recovery codes replace any earlier ones, every other session of the user
// ends and the current one is replaced by a new token (a privilege change). It returns the
// recovery codes, to show once, and the new session.
func (s *Service) ActivateMFA(ctx context.Context, cur Current, code string, o Origin) ([]string, NewSession, error) {
	u, err := s.Store.ByID(ctx, cur.User.TenantID, cur.User.ID)
	if err != nil {
		return nil, NewSession{}, err
	}
	now := s.now()
	if len(u.MFAPending) == 0 || u.MFAPendingAt == nil || now.Sub(*u.MFAPendingAt) > PendingTTL {
		return nil, NewSession{}, ErrNoPendingEnrolment
	}
	if u.MFAEnabled && !cur.Session.MFA {
		return nil, NewSession{}, ErrMFAAlreadyEnrolled
	}
	secret, err := unseal(ctx, s.Sealer, u.TenantID, u.ID, u.MFAPending)
	if err != nil {
		return nil, NewSession{}, err
	}
	step, err := totp.Verify(totp.Secret(secret), code, now, 0)
	if err != nil {
		if errors.Is(err, totp.ErrInvalid) || errors.Is(err, totp.ErrReplay) {
			return nil, NewSession{}, ErrMFAInvalid
		}
		return nil, NewSession{}, err
	}
	keys := mfaKeys{secret: totp.Secret(secret), recoveryKey: make([]byte, recoveryKeyLen)}
	if _, err := io.ReadFull(s.rand(), keys.recoveryKey); err != nil {
		return nil, NewSession{}, err
	}
	sealed, err := seal(ctx, s.Sealer, u.TenantID, u.ID, keys.marshal())
	if err != nil {
		return nil, NewSession{}, err
	}
	codes, hashes, err := s.recoveryCodes(keys.recoveryKey)
	if err != nil {
		return nil, NewSession{}, err
	}
	var ns NewSession
	err = migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		res := tx.Model(&User{}).Where("id = ? AND mfa_pending_at = ?", u.ID, *u.MFAPendingAt).Updates(map[string]any{
			"mfa_enabled": true, "mfa_secret": sealed, "mfa_pending": nil, "mfa_pending_at": nil,
			"mfa_enrolled_at": now, "totp_last_step": step, "mfa_grace_used": 0, "updated_at": now,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrNoPendingEnrolment
		}
		if err := s.replaceRecoveryCodes(ctx, tx, u, hashes); err != nil {
			return err
		}
		if err := tx.Where("tenant_id = ? AND user_id = ? AND id <> ?", u.TenantID, u.ID, cur.Session.ID).
			Delete(&Session{}).Error; err != nil {
			return err
		}
		r := RestrictNone
		if cur.Session.Restriction == RestrictPasswordChange {
			r = RestrictPasswordChange
		}
		u.MFAEnabled = true
		if ns, err = s.rotateSession(ctx, tx, cur.Session, u, true, r, o); err != nil {
			return err
		}
		e := o.event(u.TenantID, ActionMFAEnrol, u.ID, Success)
		e.Target = Target{Kind: "user", ID: u.ID}
		e.Details = map[string]string{"method": "totp", "codes_issued": fmt.Sprint(len(codes))}
		return record(ctx, s.Auditor, tx, e)
	})
	if err != nil {
		return nil, NewSession{}, err
	}
	return codes, ns, nil
}

// RegenerateRecoveryCodes replaces a user's recovery codes from a session that passed the second
// factor, and returns the new codes to show once.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, cur Current, o Origin) ([]string, error) {
	u, err := s.Store.ByID(ctx, cur.User.TenantID, cur.User.ID)
	if err != nil {
		return nil, err
	}
	if !u.MFAEnabled || !cur.Session.MFA {
		return nil, ErrMFARequired
	}
	plain, err := unseal(ctx, s.Sealer, u.TenantID, u.ID, u.MFASecret)
	if err != nil {
		return nil, err
	}
	keys, err := parseMFAKeys(plain)
	if err != nil {
		return nil, err
	}
	codes, hashes, err := s.recoveryCodes(keys.recoveryKey)
	if err != nil {
		return nil, err
	}
	err = migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		if err := s.replaceRecoveryCodes(ctx, tx, u, hashes); err != nil {
			return err
		}
		e := o.event(u.TenantID, ActionMFAEnrol, u.ID, Success)
		e.Target, e.Reason = Target{Kind: "user", ID: u.ID}, "recovery_codes_regenerated"
		return record(ctx, s.Auditor, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// RecoveryCodesLeft counts a user's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context, tenantID, userID string) (int, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var n int64
	err := s.db().WithContext(ctx).Model(&recoveryCode{}).Where("tenant_id = ? AND user_id = ?", tenantID, userID).Count(&n).Error
	return int(n), err
}

func (s *Service) recoveryCodes(key []byte) ([]string, [][]byte, error) {
	rc, err := totp.NewRecoveryCodes(s.rand(), key)
	if err != nil {
		return nil, nil, err
	}
	return rc.Generate()
}

func (s *Service) replaceRecoveryCodes(ctx context.Context, tx *gorm.DB, u User, hashes [][]byte) error {
	ctx = migrations.WithTenant(ctx, u.TenantID)
	tx = tx.WithContext(ctx)
	if err := tx.WithContext(ctx).Where("user_id = ?", u.ID).Delete(&recoveryCode{}).Error; err != nil {
		return err
	}
	now := s.now()
	rows := make([]recoveryCode, len(hashes))
	for i, h := range hashes {
		rows[i] = recoveryCode{ID: uuid.Must(uuid.NewV7()).String(), TenantID: u.TenantID, UserID: u.ID, CodeHash: h, CreatedAt: now}
	}
	return tx.WithContext(ctx).Create(&rows).Error
}

// ResetMFA removes a user's second factor and recovery codes, gives their grace sign-ins back and
// ends their sessions: an administrator's reset after confirming the user's identity.
func (s *Service) ResetMFA(ctx context.Context, by Actor, userID string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	if err := s.checkOutranks(ctx, by, userID); err != nil {
		return err
	}
	return migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		u, err := s.Store.WithTx(tx).ByID(ctx, by.TenantID, userID)
		if err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{
			"mfa_enabled": false, "mfa_secret": nil, "mfa_pending": nil, "mfa_pending_at": nil,
			"mfa_enrolled_at": nil, "totp_last_step": 0, "mfa_grace_used": 0, "updated_at": s.now(),
		}).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", u.ID).Delete(&recoveryCode{}).Error; err != nil {
			return err
		}
		n, err := s.RevokeUserSessions(ctx, tx, u.TenantID, u.ID)
		if err != nil {
			return err
		}
		e := by.event(by.TenantID, ActionMFAReset, Success)
		e.Target = Target{Kind: "user", ID: u.ID}
		e.Details = map[string]string{"email": u.Email, "had_mfa": fmt.Sprint(u.MFAEnabled), "sessions_ended": fmt.Sprint(n)}
		return record(ctx, s.Auditor, tx, e)
	})
}
