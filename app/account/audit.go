package account

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// Actions audited by the account package. The names are those of the audit log's catalogue, so
// the adapter to package audit passes them through unchanged.
const (
	ActionSignInSuccess    = "auth.sign_in.success"
	ActionSignInFailure    = "auth.sign_in.failure"
	ActionSignOut          = "auth.sign_out"
	ActionCaptchaShown     = "auth.captcha.shown"
	ActionLockout          = "auth.lockout"
	ActionUnlock           = "auth.unlock"
	ActionMFAEnrol         = "auth.mfa.enrol"
	ActionMFAReset         = "auth.mfa.reset"
	ActionMFAFailure       = "auth.mfa.failure"
	ActionRecoveryCodeUsed = "auth.mfa.recovery_code_used"
	ActionPasswordChange   = "auth.password.change"
	ActionPasswordReset    = "auth.password.reset"
	ActionSessionRevoke    = "auth.session.revoke"
	ActionSessionExpired   = "auth.session.expired"
	ActionIPDenied         = "auth.ip_denied"
	ActionAllowlistChange  = "security.allowlist.change"
	ActionSecurityPolicy   = "security.policy.change"
	ActionEmergencyAccess  = "system.emergency_access"
	ActionUserCreate       = "user.create"
	ActionUserUpdate       = "user.update"
	ActionUserDisable      = "user.disable"
	ActionUserEnable       = "user.enable"
)

// Outcome says whether an audited action succeeded.
type Outcome string

// The outcomes of an audited action.
const (
	Success Outcome = "success"
	Failure Outcome = "failure"
)

// Kinds of actor.
const (
	// ActorUser is a console user; ActorSystem is Parley itself (a job, the CLI).
	ActorUser   = "user"
	ActorSystem = "system"
	// Anonymous is the ActorID of an event whose actor is not identified: a sign-in naming no
	// account. What was typed goes to the details (masked there), never into an identifier.
	Anonymous = "anonymous"
)

// Target is the resource an audited action affected.
type Target struct {
	Kind string
	ID   string
}

// Event is one audited account or sign-in event. It never carries a secret: no password, token,
// TOTP code, recovery code or CAPTCHA answer, in any field.
type Event struct {
	// TenantID is the tenant the event belongs to; empty for an event that belongs to no tenant
	// (a sign-in naming an unknown organisation), which the audit log files in the installation's
	// own chain.
	TenantID string
	// Action is one of the Action constants.
	Action string
	// ActorID is the user who acted (the signing-in user, the administrator), or the job or
	// command name for the system; Anonymous when nobody is identified (unknown account).
	ActorID   string
	ActorKind string
	Target    Target
	Outcome   Outcome
	// Reason is a short machine-readable cause: "wrong_password", "unknown_account", "locked",
	// "mfa_replay", "idle", …
	Reason    string
	ClientIP  string
	UserAgent string
	RequestID string
	// Details are further safe facts (the e-mail address tried, the allowlist's entries, the
	// policy fields changed).
	Details map[string]string
}

// Auditor records account events in the audit log. Record runs inside tx, the transaction of the
// change it records, when there is one (tx may be nil for an event with no change of its own,
// such as a refused sign-in). An error fails the audited action: Parley does not act without a
// record (fail closed).
type Auditor interface {
	Record(ctx context.Context, tx *gorm.DB, e Event) error
}

// ErrAudit wraps every failure to record an event; the action it belonged to did not happen.
var ErrAudit = errors.New("audit record failed")

// ErrNoAuditor means the application was assembled without an Auditor: every audited action is
// refused until one is configured.
var ErrNoAuditor = errors.New("no audit log configured")

// record sends e to a, failing closed without one.
func record(ctx context.Context, a Auditor, tx *gorm.DB, e Event) error {
	if a == nil {
		return fmt.Errorf("%w: %w", ErrAudit, ErrNoAuditor)
	}
	if e.ActorKind == "" {
		e.ActorKind = ActorUser
	}
	if e.ActorID == "" {
		e.ActorID = Anonymous
	}
	if err := a.Record(ctx, tx, e); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrAudit, e.Action, err)
	}
	return nil
}

// Origin is where a request came from, for the audit record and the session.
type Origin struct {
	// IP is the client address as resolved through the trusted proxies.
	IP        string
	UserAgent string
	RequestID string
}

// event starts an Event from o.
func (o Origin) event(tenantID, action, actorID string, outcome Outcome) Event {
	return Event{
		TenantID: tenantID, Action: action, ActorID: actorID, ActorKind: ActorUser, Outcome: outcome,
		ClientIP: o.IP, UserAgent: o.UserAgent, RequestID: o.RequestID,
	}
}
