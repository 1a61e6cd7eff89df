package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/account/captcha"
	"github.com/parleyhq/parley/app/account/passhash"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/password"
)

// Sign-in errors. The HTTP layer maps each to one stable code; an unknown organisation, an
// unknown account, a disabled or invited account and a wrong password are all
// ErrInvalidCredentials, after the same password-hashing work, so a response never tells
// whether an account exists.
var (
	ErrInvalidCredentials = errors.New("invalid credentials")
	ErrCaptchaRequired    = errors.New("captcha required")
	ErrAccountLocked      = errors.New("account locked")
	ErrThrottled          = errors.New("too many sign-in attempts")
	ErrMFARequired        = errors.New("second factor required")
	ErrMFAInvalid         = errors.New("second factor invalid")
	// ErrMFAGraceOver means MFA is required, none is enrolled and the grace sign-ins are used up:
	// an administrator must reset the user's MFA.
	ErrMFAGraceOver = errors.New("second factor required and grace sign-ins used up")
	// ErrPasswordTooLong means a password over 1,024 bytes, refused before any hashing.
	ErrPasswordTooLong = errors.New("password longer than 1024 bytes")
	// ErrBusy means every password-hashing slot is taken; retry shortly.
	ErrBusy = errors.New("too many password checks in progress")
)

// SignInError is a refused sign-in: Err is one of the sign-in errors; Challenge is the new
// CAPTCHA to solve with ErrCaptchaRequired; RetryAt is when a lockout or throttle ends.
type SignInError struct {
	Err       error
	Challenge *captcha.Challenge
	RetryAt   time.Time
}

func (e *SignInError) Error() string { return "sign-in refused: " + e.Err.Error() }

// Unwrap returns Err.
func (e *SignInError) Unwrap() error { return e.Err }

// Credentials are what a sign-in submits: the organisation's sign-in id (slug), e-mail address,
// password, and when asked for them a TOTP or recovery code and a CAPTCHA answer.
type Credentials struct {
	Tenant, Email, Password  string
	TOTP                     string
	CaptchaID, CaptchaAnswer string
}

// SignInResult is a successful sign-in: a new session (restricted when the user must first change
// their password or enrol a second factor) and what the user is shown.
type SignInResult struct {
	Session NewSession
	User    User
	Roles   []string
	// Restriction is what the user must do before the session is a full one.
	Restriction Restriction
	// PreviousAt and PreviousIP are the sign-in before this one ("last sign-in from …").
	PreviousAt *time.Time
	PreviousIP string
	// RecoveryCodesLeft is set when a recovery code was used, with how many remain.
	RecoveryCodeUsed  bool
	RecoveryCodesLeft int
}

// SignIn checks credentials and, when every factor passes, creates a session. All factors are
// checked before any session exists (PCI DSS 8.5.1). Refusals are *SignInError; every attempt is
// audited.
func (s *Service) SignIn(ctx context.Context, in Credentials, o Origin) (SignInResult, error) {
	if len(in.Password) > password.MaxBytes {
		return SignInResult{}, ErrPasswordTooLong
	}
	pw, err := password.Normalize(in.Password)
	if err != nil {
		return SignInResult{}, fmt.Errorf("%w: %w", ErrPasswordTooLong, err)
	}
	id, err := s.identityOf(ctx, in.Tenant, in.Email)
	if err != nil {
		return SignInResult{}, err
	}

	var (
		t    *tenant.Tenant
		user *User
		st   = DefaultSettings()
	)
	if tt, err := s.Tenants.BySlug(ctx, id.tenant); err == nil {
		t = &tt
	} else if !errors.Is(err, tenant.ErrNotFound) {
		return SignInResult{}, err
	}
	tenantID := ""
	if t != nil {
		tenantID = t.ID
		ctx = migrations.WithTenant(ctx, t.ID)
		if st, err = s.Settings(ctx, t.ID); err != nil {
			return SignInResult{}, err
		}
		// The tenant-wide list is checked before any credential, so an address outside it learns
		// nothing about passwords.
		if err := s.checkAllowlists(ctx, s.db(), t.ID, "", nil, st, o, "sign_in"); err != nil {
			return SignInResult{}, refused(err)
		}
		u, err := s.Store.ByEmail(ctx, t.ID, id.email)
		switch {
		case err == nil:
			user = &u
		case !errors.Is(err, ErrNotFound):
			return SignInResult{}, err
		}
	}

	id.account = user != nil
	att, ref, err := s.beginAttempt(ctx, id, st.SignIn, tenantID, user, o)
	if err != nil {
		return SignInResult{}, err
	}
	if ref != nil {
		return SignInResult{}, &SignInError{Err: ref.err, RetryAt: ref.until}
	}
	settled := false
	defer func() {
		if !settled {
			if err := s.releaseAttempt(ctx, att); err != nil {
				s.log().ErrorContext(ctx, "release sign-in attempt", "request_id", o.RequestID, "cause", err.Error())
			}
		}
	}()
	fail := func(reason, action string, refusal error) (SignInResult, error) {
		out, err := s.recordFailure(ctx, att, st.SignIn, tenantID, user, reason, action, o)
		settled = err == nil
		if err != nil {
			return SignInResult{}, err
		}
		se := &SignInError{Err: refusal}
		if d := st.SignIn.Decide(out.state, s.now()); d.Locked || d.Disabled {
			se.RetryAt = d.LockedUntil
		}
		if errors.Is(refusal, ErrCaptchaRequired) {
			if se.Challenge, err = s.issueCaptcha(ctx, tenantID, user, id, o); err != nil {
				return SignInResult{}, err
			}
		}
		return SignInResult{}, se
	}

	if att.decision.CaptchaRequired {
		if in.CaptchaID == "" {
			if d, err := s.countAddress(ctx, o.IP, st.SignIn); err != nil {
				return SignInResult{}, err
			} else if d.Throttled {
				return SignInResult{}, &SignInError{Err: ErrThrottled, RetryAt: d.ThrottledUntil}
			}
			ch, err := s.issueCaptcha(ctx, tenantID, user, id, o)
			if err != nil {
				return SignInResult{}, err
			}
			return SignInResult{}, &SignInError{Err: ErrCaptchaRequired, Challenge: ch}
		}
		switch err := s.solveCaptcha(ctx, in.CaptchaID, in.CaptchaAnswer); {
		case errors.Is(err, captcha.ErrWrong):
			return fail("captcha_wrong", ActionSignInFailure, ErrCaptchaRequired)
		case errors.Is(err, captcha.ErrExpired), errors.Is(err, captcha.ErrNotFound):
			ch, err := s.issueCaptcha(ctx, tenantID, user, id, o)
			if err != nil {
				return SignInResult{}, err
			}
			return SignInResult{}, &SignInError{Err: ErrCaptchaRequired, Challenge: ch}
		case err != nil:
			return SignInResult{}, err
		}
	}

	ok, rehash, reason, err := s.verifyPassword(ctx, t, user, pw)
	if err != nil {
		return SignInResult{}, err
	}
	if !ok {
		return fail(reason, ActionSignInFailure, ErrInvalidCredentials)
	}
	u := *user
	now := s.now()
	if st.Session.AccountInactive(lastActive(u), now) {
		settled = true
		if err := s.releaseAttempt(ctx, att); err != nil {
			return SignInResult{}, err
		}
		err := migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
			return s.disableTx(ctx, tx, Actor{TenantID: u.TenantID, UserID: "inactivity", System: true, Origin: o}, u, "inactive")
		})
		if err != nil {
			return SignInResult{}, err
		}
		return SignInResult{}, &SignInError{Err: ErrInvalidCredentials}
	}

	roles, err := s.roleNames(ctx, s.db(), u)
	if err != nil {
		return SignInResult{}, err
	}
	enforced := st.MFA.EnforcedFor(roles)
	res := SignInResult{User: u, Roles: roles, PreviousAt: u.LastLoginAt, PreviousIP: u.LastLoginIP}
	var factor secondFactor
	grace := false
	switch {
	case u.MFAEnabled && in.TOTP == "":
		return SignInResult{}, &SignInError{Err: ErrMFARequired}
	case u.MFAEnabled:
		factor, err = s.checkSecondFactor(ctx, u, in.TOTP)
		switch {
		case errors.Is(err, errFactorRejected):
			return fail(factor.reason, ActionMFAFailure, ErrMFAInvalid)
		case err != nil:
			return SignInResult{}, err
		}
		res.RecoveryCodeUsed, res.RecoveryCodesLeft = factor.recovery, factor.left
	case enforced && u.MFAGraceUsed >= st.MFA.GraceSignIns:
		e := o.event(u.TenantID, ActionSignInFailure, u.ID, Failure)
		e.Target, e.Reason = Target{Kind: "user", ID: u.ID}, "mfa_grace_over"
		if err := record(ctx, s.Auditor, nil, e); err != nil {
			return SignInResult{}, err
		}
		return SignInResult{}, &SignInError{Err: ErrMFAGraceOver}
	case enforced:
		grace = true
		res.Restriction = RestrictMFAEnrolment
	}
	if err := s.checkAllowlists(ctx, s.db(), u.TenantID, u.ID, roles, st, o, "sign_in"); err != nil {
		return SignInResult{}, refused(err)
	}
	if u.MustChangePassword || st.Password.Expired(deref(u.PasswordChangedAt), now, enforced) {
		res.Restriction = RestrictPasswordChange
	}
	var newHash string
	if rehash {
		if newHash, err = s.Hasher.Hash(ctx, []byte(pw)); err != nil {
			newHash = "" // the upgrade waits for the next sign-in
		}
	}

	err = migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		if err := s.recordSuccess(ctx, tx, att, st.SignIn); err != nil {
			return err
		}
		upd := map[string]any{"last_login_at": now, "last_login_ip": o.IP, "previous_login_at": u.LastLoginAt,
			"previous_login_ip": u.LastLoginIP, "updated_at": now}
		if u.Status == StatusLocked {
			upd["status"] = StatusActive
		}
		if newHash != "" {
			upd["password_hash"] = newHash
		}
		if grace {
			upd["mfa_grace_used"] = gorm.Expr("mfa_grace_used + 1")
		}
		if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(upd).Error; err != nil {
			return err
		}
		if res.Session, err = s.createSession(ctx, tx, u, u.MFAEnabled, res.Restriction, o); err != nil {
			return err
		}
		if factor.recovery {
			e := o.event(u.TenantID, ActionRecoveryCodeUsed, u.ID, Success)
			e.Target = Target{Kind: "user", ID: u.ID}
			e.Details = map[string]string{"codes_left": fmt.Sprint(factor.left)}
			if err := record(ctx, s.Auditor, tx, e); err != nil {
				return err
			}
		}
		e := o.event(u.TenantID, ActionSignInSuccess, u.ID, Success)
		e.Target = Target{Kind: "session", ID: res.Session.Session.ID}
		e.Details = map[string]string{"mfa": fmt.Sprint(u.MFAEnabled), "restriction": string(res.Restriction)}
		if grace {
			e.Details["mfa_grace_sign_in"] = fmt.Sprint(u.MFAGraceUsed + 1)
		}
		return record(ctx, s.Auditor, tx, e)
	})
	if err != nil {
		return SignInResult{}, err
	}
	settled = true
	res.User.LastLoginAt, res.User.LastLoginIP = &now, o.IP
	return res, nil
}

// verifyPassword checks pw against the user's hash, or spends the same work on a dummy hash when
// there is no usable account, and names the reason of a failure for the audit record.
func (s *Service) verifyPassword(ctx context.Context, t *tenant.Tenant, user *User, pw string) (ok, rehash bool, reason string, err error) {
	vctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	usable := user != nil && user.PasswordHash != "" && (user.Status == StatusActive || user.Status == StatusLocked)
	if usable {
		ok, rehash, err = s.Hasher.Verify(vctx, user.PasswordHash, []byte(pw))
	} else {
		err = s.Hasher.DummyVerify(vctx, []byte(pw))
	}
	switch {
	case errors.Is(err, passhash.ErrBusy), errors.Is(err, context.DeadlineExceeded):
		return false, false, "", ErrBusy
	case errors.Is(err, passhash.ErrTooLong):
		return false, false, "", ErrPasswordTooLong
	case err != nil:
		return false, false, "", err
	}
	switch {
	case ok:
		return true, rehash, "", nil
	case t == nil:
		return false, false, "unknown_tenant", nil
	case user == nil:
		return false, false, "unknown_account", nil
	case !usable:
		return false, false, "account_" + string(user.Status), nil
	default:
		return false, false, "wrong_password", nil
	}
}

// lastActive is the start of a user's inactivity clock.
func lastActive(u User) time.Time {
	t := u.CreatedAt
	for _, c := range []*time.Time{u.ActivatedAt, u.LastLoginAt} {
		if c != nil && c.After(t) {
			t = *c
		}
	}
	return t
}

func refused(err error) error {
	if errors.Is(err, ErrIPNotAllowed) {
		return &SignInError{Err: ErrIPNotAllowed}
	}
	return err
}
