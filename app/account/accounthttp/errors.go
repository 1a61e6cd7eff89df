package accounthttp

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/captcha"
	"github.com/parleyhq/parley/compliance/mode"
	"github.com/parleyhq/parley/policy"
	"github.com/parleyhq/parley/policy/allowlist"
	"github.com/parleyhq/parley/policy/password"

	"github.com/parleyhq/parley/app/api"
)

// The stable error codes of sign-in and account management (DESIGN.md §8).
var (
	errInvalidCredentials = api.New(http.StatusUnauthorized, "invalid_credentials", "The organisation, e-mail address or password is not right.")
	errCaptchaRequired    = api.New(http.StatusUnauthorized, "captcha_required", "Solve the picture (or audio) challenge to continue.")
	errAccountLocked      = api.New(http.StatusForbidden, "account_locked", "This account is locked after too many failed sign-ins. Try again later or ask an administrator to unlock it.")
	errMFARequired        = api.New(http.StatusUnauthorized, "mfa_required", "Enter the code from your authenticator app, or a recovery code.")
	errMFAInvalid         = api.New(http.StatusUnauthorized, "mfa_invalid", "That code is not valid. Wait for the next code and try again.")
	errMFAGraceOver       = api.New(http.StatusForbidden, "mfa_enrolment_expired", "Your organisation requires two-step verification. Ask an administrator to reset it so you can set it up.")
	errPasswordTooLong    = api.New(http.StatusBadRequest, "password_too_long", "Passwords are at most 1,024 bytes long.").WithField("password")
	errBusy               = api.New(http.StatusServiceUnavailable, "unavailable", "Too many sign-ins right now; try again in a moment.")
	errPasswordRejected   = api.New(http.StatusBadRequest, "password_rejected", "The new password does not meet your organisation's policy.")
	errWrongPassword      = api.New(http.StatusBadRequest, "current_password_wrong", "Your current password is not right.").WithField("current_password")
	errTooSoon            = api.New(http.StatusConflict, "password_change_too_soon", "You changed your password recently; your organisation's policy asks you to wait before changing it again.")
	errResetLimit         = api.New(http.StatusConflict, "password_reset_limit", "This user's password was reset as often as the policy allows today.")
	errNoPending          = api.New(http.StatusConflict, "mfa_enrolment_missing", "Start two-step verification set-up again; the previous one expired.")
	errMFAEnrolled        = api.New(http.StatusConflict, "mfa_already_enrolled", "Two-step verification is already set up; sign in with it to replace it.")
	errInvalidAllowlist   = api.New(http.StatusBadRequest, "invalid_allowlist", "The allowlist has entries that are not IP addresses or CIDR ranges.").WithField("entries")
	errExcludesSelf       = api.New(http.StatusConflict, "allowlist_excludes_you", "This list would shut out your own address. Send confirm_self_exclusion to save it anyway.")
	errInvalidSettings    = api.New(http.StatusBadRequest, "invalid_settings", "The settings are not acceptable.")
	errInvalidInvitation  = api.New(http.StatusNotFound, "invitation_invalid", "This invitation link is invalid, already used or expired. Ask your administrator for a new one.")
	errEmailTaken         = api.New(http.StatusConflict, "email_taken", "A user with this e-mail address already exists in your organisation.").WithField("email")
	errInvalidEmail       = api.New(http.StatusBadRequest, "invalid_request", "Enter a valid e-mail address.").WithField("email")
	errUnknownRole        = api.New(http.StatusBadRequest, "invalid_request", "That role does not exist.").WithField("role")
	errConflictState      = api.New(http.StatusConflict, "conflict", "The account's state does not allow this.")
	errCaptchaGone        = api.New(http.StatusNotFound, "captcha_expired", "This challenge expired; ask for a new one.")
)

// classify maps an account error to the error the client sees; unknown errors stay internal.
func classify(err error) error {
	var (
		se       *account.SignInError
		rejected *account.PasswordRejected
		tooSoon  *account.TooSoonError
		perr     *allowlist.ParseError
		setErr   *account.SettingsError
		card     *account.CardNumberError
		polErr   *policy.PolicyError // password, sign-in and session policies
	)
	switch {
	case errors.Is(err, mode.ErrRefused):
		return api.Classify(err)
	case errors.As(err, &card):
		return api.ErrCardNumber.WithField(card.Field)
	case errors.As(err, &se):
		return signInError(se)
	case errors.Is(err, account.ErrPasswordTooLong):
		return errPasswordTooLong.Wrap(err)
	case errors.Is(err, account.ErrBusy):
		return errBusy.Wrap(err)
	case errors.As(err, &rejected):
		return errPasswordRejected.WithField("new_password").WithDetails(violations(rejected.Violations)).
			WithMessage(joinMessages(rejected.Violations))
	case errors.Is(err, account.ErrWrongPassword):
		return errWrongPassword
	case errors.As(err, &tooSoon):
		return errTooSoon.WithDetails(map[string]string{"allowed_at": tooSoon.AllowedAt.UTC().Format(time.RFC3339)})
	case errors.Is(err, account.ErrResetLimit):
		return errResetLimit
	case errors.Is(err, account.ErrNoPendingEnrolment):
		return errNoPending
	case errors.Is(err, account.ErrMFAAlreadyEnrolled):
		return errMFAEnrolled
	case errors.Is(err, account.ErrMFAInvalid):
		return errMFAInvalid.WithField("code")
	case errors.Is(err, account.ErrMFARequired):
		return errMFARequired
	case errors.As(err, &perr):
		return allowlistError(perr)
	case errors.Is(err, allowlist.ErrTooManyEntries):
		return errInvalidAllowlist.WithMessage(fmt.Sprintf("An allowlist holds at most %d entries.", allowlist.MaxEntries))
	case errors.Is(err, account.ErrExcludesSelf):
		return errExcludesSelf
	case errors.Is(err, account.ErrUnknownRoleList), errors.Is(err, account.ErrUnknownRole):
		return errUnknownRole
	case errors.As(err, &setErr):
		return settingsError(setErr.Problems)
	case errors.As(err, &polErr):
		ps := make([]account.Problem, len(polErr.Problems))
		for i, p := range polErr.Problems {
			ps[i] = account.Problem{Field: requestField(p.Field), Message: p.Message}
		}
		return settingsError(ps)
	case errors.Is(err, account.ErrInvalidSettings):
		return errInvalidSettings.Wrap(err)
	case errors.Is(err, account.ErrUnknownDepartment):
		return api.ErrInvalidRequest.WithField("department_id").WithMessage("That department does not exist.")
	case errors.Is(err, account.ErrInvalidInvitation):
		return errInvalidInvitation
	case errors.Is(err, account.ErrEmailTaken):
		return errEmailTaken
	case errors.Is(err, account.ErrInvalidEmail):
		return errInvalidEmail
	case errors.Is(err, account.ErrInvalidName):
		return api.ErrInvalidRequest.WithField("name").WithMessage("The name is at most 200 characters, without control characters.")
	case errors.Is(err, account.ErrNotFound), errors.Is(err, account.ErrNoSession):
		return api.ErrNotFound
	case errors.Is(err, account.ErrNotPermitted):
		return api.ErrForbidden.Wrap(err)
	case errors.Is(err, account.ErrLastOwner):
		return errConflictState.WithMessage("This is the organisation's last active owner; make someone else owner first.")
	case errors.Is(err, account.ErrConflictState):
		return errConflictState.Wrap(err)
	case errors.Is(err, account.ErrIPNotAllowed):
		return errIPNotAllowed
	case errors.Is(err, account.ErrAudit), errors.Is(err, account.ErrSealer), errors.Is(err, account.ErrNoSealer),
		errors.Is(err, account.ErrIdentityKey),
		errors.Is(err, captcha.ErrFull):
		// Fail closed: without the audit log or the key provider the action does not happen.
		return api.ErrUnavailable.Wrap(err)
	}
	return err
}

func signInError(se *account.SignInError) error {
	switch {
	case errors.Is(se.Err, account.ErrInvalidCredentials):
		return errInvalidCredentials
	case errors.Is(se.Err, account.ErrCaptchaRequired):
		e := errCaptchaRequired
		if se.Challenge != nil {
			e = e.WithDetails(challengeBody(*se.Challenge))
		}
		return e
	case errors.Is(se.Err, account.ErrAccountLocked):
		return errAccountLocked
	case errors.Is(se.Err, account.ErrThrottled):
		return api.ErrRateLimited
	case errors.Is(se.Err, account.ErrMFARequired):
		return errMFARequired
	case errors.Is(se.Err, account.ErrMFAInvalid):
		return errMFAInvalid
	case errors.Is(se.Err, account.ErrMFAGraceOver):
		return errMFAGraceOver
	case errors.Is(se.Err, account.ErrIPNotAllowed):
		return errIPNotAllowed
	}
	return se
}

// retryAfter sets Retry-After for a lockout, throttle or busy answer.
func retryAfter(c echo.Context, err error, now time.Time) {
	var se *account.SignInError
	switch {
	case errors.As(err, &se) && !se.RetryAt.IsZero():
		secs := int(se.RetryAt.Sub(now).Seconds()) + 1
		if secs > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		}
	case errors.Is(err, account.ErrBusy):
		c.Response().Header().Set("Retry-After", "1")
	}
}

// Violation is one broken password rule as the API shows it.
type Violation struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func violations(vs []password.Violation) []Violation {
	out := make([]Violation, len(vs))
	for i, v := range vs {
		out[i] = Violation{Code: string(v.Code), Message: v.Message}
	}
	return out
}

func joinMessages(vs []password.Violation) string {
	msg := "The new password does not meet your organisation's policy:"
	for _, v := range vs {
		msg += " " + v.Message
	}
	return msg
}

// EntryProblem is one bad allowlist entry as the API shows it.
type EntryProblem struct {
	Position int    `json:"position"`
	Entry    string `json:"entry"`
	Reason   string `json:"reason"`
}

func allowlistError(perr *allowlist.ParseError) error {
	ps := make([]EntryProblem, len(perr.Entries))
	msg := "These entries are not IP addresses or CIDR ranges:"
	for i, e := range perr.Entries {
		ps[i] = EntryProblem{Position: e.Position, Entry: e.Entry, Reason: e.Reason}
		msg += fmt.Sprintf(" entry %d %q (%s);", e.Position, e.Entry, e.Reason)
	}
	if perr.More > 0 {
		msg += fmt.Sprintf(" and %d more.", perr.More)
	}
	return errInvalidAllowlist.WithMessage(msg).WithDetails(ps)
}

func settingsError(ps []account.Problem) error {
	msg := "The settings are not acceptable:"
	for _, p := range ps {
		msg += " " + p.Message
	}
	e := errInvalidSettings.WithMessage(msg).WithDetails(ps)
	if len(ps) > 0 {
		e = e.WithField(ps[0].Field)
	}
	return e
}

// policyFields names, for each policy setting whose request field carries a unit, the field the
// request sent, so a refusal points at what the administrator typed.
var policyFields = map[string]string{
	"max_age":          "expiry_days",
	"min_age":          "min_age_days",
	"lockout_duration": "lockout_minutes",
	"ip_window":        "ip_window_minutes",
	"idle_timeout":     "idle_timeout_minutes",
	"absolute_timeout": "absolute_timeout_minutes",
	"inactive_after":   "inactive_after_days",
}

// requestField returns the request field of a policy setting.
func requestField(policyField string) string {
	if f, ok := policyFields[policyField]; ok {
		return f
	}
	return policyField
}
