package authz

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// Actions this package audits. The names are those of the audit log's catalogue, so an adapter
// passes them through unchanged.
const (
	ActionRoleCreate          = "role.create"
	ActionRoleChange          = "role.change"
	ActionRoleDelete          = "role.delete"
	ActionRoleAssign          = "role.assign"
	ActionRoleUnassign        = "role.unassign"
	ActionAccessReviewSignOff = "access_review.sign_off"
	ActionAccessDenied        = "access.denied"
	ActionEscalationAttempt   = "access.escalation_attempt"
)

// Outcome says whether an audited action succeeded.
type Outcome string

// The outcomes of an audited action.
const (
	Success Outcome = "success"
	Failure Outcome = "failure"
)

// Event is one audited authorization event. It never carries a secret.
type Event struct {
	TenantID string
	// Action is one of the Action constants.
	Action string
	// ActorID is the user who acted.
	ActorID    string
	TargetKind string
	TargetID   string
	Outcome    Outcome
	// Reason is a short machine-readable cause: "permission", "not_found", "escalation",
	// "policy_error".
	Reason    string
	RequestID string
	ClientIP  string
	UserAgent string
	// Details are further safe facts: the route, the permission, the role, the department, the
	// permissions added or removed.
	Details map[string]string
}

// Auditor records authorization events in the audit log. Record runs inside tx, the transaction
// of the change it records, when there is one (nil for a refused request, which changes
// nothing). An error fails the change: Parley does not change access without a record.
type Auditor interface {
	Record(ctx context.Context, tx *gorm.DB, e Event) error
}

// record sends e to a, failing closed without one.
func record(ctx context.Context, a Auditor, tx *gorm.DB, e Event) error {
	if a == nil {
		return fmt.Errorf("%w: %w", ErrAudit, ErrNoAuditor)
	}
	if err := a.Record(ctx, tx, e); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrAudit, e.Action, err)
	}
	return nil
}

// Actor is who makes a change, and from where.
type Actor struct {
	TenantID  string
	UserID    string
	ClientIP  string
	UserAgent string
	RequestID string
}

func (a Actor) event(action string, outcome Outcome, targetKind, targetID string) Event {
	return Event{
		TenantID: a.TenantID, Action: action, ActorID: a.UserID, TargetKind: targetKind, TargetID: targetID,
		Outcome: outcome, RequestID: a.RequestID, ClientIP: a.ClientIP, UserAgent: a.UserAgent,
	}
}
