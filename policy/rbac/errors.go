package rbac

import (
	"errors"
	"strings"
)

// Errors of role definitions and policy evaluation.
var (
	// ErrInvalidRoleName means a custom role name breaks the naming rule.
	ErrInvalidRoleName = errors.New("invalid role name")
	// ErrRoleNameCardNumber means a role name holds a card number. Role names are stored in
	// clear (roles, role_permissions, role assignments, audit targets), so it is refused.
	ErrRoleNameCardNumber = errors.New("a card number is not allowed in a role name")
	// ErrReservedRoleName means a custom role would take a default role's or a reserved name.
	ErrReservedRoleName = errors.New("reserved role name")
	// ErrInvalidDescription means a role description is too long or holds control characters.
	ErrInvalidDescription = errors.New("invalid role description")
	// ErrNoPermissions means a custom role would grant nothing.
	ErrNoPermissions = errors.New("a role needs at least one permission")
	// ErrUnknownPermission is matched by every *UnknownPermissionsError.
	ErrUnknownPermission = errors.New("unknown permission")
	// ErrUnknownRole means an assignment names a role the tenant does not have.
	ErrUnknownRole = errors.New("unknown role")
	// ErrInvalidID means a tenant, user or department id is empty or holds characters ids never
	// have (the domain separators).
	ErrInvalidID = errors.New("invalid id")
	// ErrEvaluation wraps any failure to evaluate the policy; callers deny.
	ErrEvaluation = errors.New("policy evaluation failed")
	// ErrNotLoaded means the enforcer has no policy yet; callers deny.
	ErrNotLoaded = errors.New("policy not loaded")
)

// UnknownPermissionsError names the permissions that are not in the catalogue.
type UnknownPermissionsError struct {
	Names []string
}

// Error lists the unknown names.
func (e *UnknownPermissionsError) Error() string {
	return "unknown permissions: " + strings.Join(e.Names, ", ")
}

// Is makes errors.Is(err, ErrUnknownPermission) true.
func (e *UnknownPermissionsError) Is(target error) bool { return target == ErrUnknownPermission }
