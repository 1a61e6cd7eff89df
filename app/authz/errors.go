package authz

import (
	"errors"
	"strings"

	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/policy/rbac"
)

// Errors of the role editor, the guard and the access review.
var (
	ErrRoleNotFound       = errors.New("role not found")
	ErrRoleExists         = errors.New("a role with that name exists")
	ErrBuiltinRole        = errors.New("default roles cannot be changed or deleted")
	ErrRoleInUse          = errors.New("role is still assigned")
	ErrAssignmentNotFound = errors.New("role assignment not found")
	ErrAlreadyAssigned    = errors.New("the user already holds that role there")
	ErrLastOwner          = errors.New("the organisation's last owner keeps the owner role")
	ErrUserNotFound       = errors.New("user not found")
	ErrDepartmentNotFound = errors.New("department not found")
	// ErrEscalation is matched by every *EscalationError.
	ErrEscalation = errors.New("permission not held")
	// ErrReportChanged means an access review was signed off against a report that no longer
	// matches the current state: the reviewer must look again.
	ErrReportChanged = errors.New("the access review report changed")
	// ErrNoAuditor means no audit log is configured: every audited change is refused.
	ErrNoAuditor = errors.New("no audit log configured")
	// ErrAudit wraps a failure to record an event; the change it belonged to did not happen.
	ErrAudit = errors.New("audit record failed")
)

// ErrCardNumber is wrapped by CardNumberError.
var ErrCardNumber = errors.New("card number not allowed")

// CardNumberError means a value stored in clear (a role name) holds a card number; it is refused.
// Field names the request field ("name", "role").
type CardNumberError struct{ Field string }

func (e *CardNumberError) Error() string { return "a card number is not allowed in the " + e.Field }

// Unwrap lets errors.Is match ErrCardNumber.
func (e *CardNumberError) Unwrap() error { return ErrCardNumber }

// noCardNumber returns a CardNumberError for field when value holds a card number.
func noCardNumber(field, value string) error {
	if pan.Contains(value) {
		return &CardNumberError{Field: field}
	}
	return nil
}

// EscalationError is an attempt to grant, change or remove permissions the acting user does not
// hold in that scope. Missing lists them.
type EscalationError struct {
	Missing []string
}

// Error names the permissions not held.
func (e *EscalationError) Error() string {
	return "permissions not held: " + strings.Join(e.Missing, ", ")
}

// Is makes errors.Is(err, ErrEscalation) true.
func (e *EscalationError) Is(target error) bool { return target == ErrEscalation }

// UnknownRoleError names a role the tenant does not have.
type UnknownRoleError struct {
	Name string
}

// Error names the role.
func (e *UnknownRoleError) Error() string { return "unknown role " + e.Name }

// Is makes errors.Is(err, rbac.ErrUnknownRole) true.
func (e *UnknownRoleError) Is(target error) bool { return target == rbac.ErrUnknownRole }
