package account

import (
	"context"
	"errors"
	"fmt"
	"github.com/parleyhq/parley/migrations"
)

// ErrNotPermitted means an administrative action would reach beyond the acting user's own
// permissions: inviting someone with a role the inviter could not grant, or disabling, resetting
// the password or second factor of a user who holds permissions the actor lacks (so an
// administrator cannot lock out an owner). The refusal is audited by the authorization service.
var ErrNotPermitted = errors.New("that would reach beyond your own permissions")

// Escalation is the authorization rule the account service asks before such actions. The
// application wires the authorization service into it; without it those actions are refused.
type Escalation interface {
	// CheckGrant returns nil when by may grant role tenant-wide (departmentID "") or in a
	// department.
	CheckGrant(ctx context.Context, by Actor, role, departmentID string) error
	// CheckOutranks returns nil when by holds every permission userID holds.
	CheckOutranks(ctx context.Context, by Actor, userID string) error
}

// checkGrant applies the grant rule to a user's action; Parley's own jobs and the emergency CLI
// (System actors) are not users and are not checked.
func (s *Service) checkGrant(ctx context.Context, by Actor, role, departmentID string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	if by.System {
		return nil
	}
	if s.Escalation == nil {
		return fmt.Errorf("%w: no authorization rule configured", ErrNotPermitted)
	}
	if err := s.Escalation.CheckGrant(ctx, by, role, departmentID); err != nil {
		return fmt.Errorf("%w: %w", ErrNotPermitted, err)
	}
	return nil
}

// checkOutranks applies the outrank rule to a user's action on another account.
func (s *Service) checkOutranks(ctx context.Context, by Actor, userID string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	if by.System || by.UserID == userID {
		return nil
	}
	// Another tenant's user is not found, never forbidden: ids are no existence oracle.
	if _, err := s.Store.ByID(ctx, by.TenantID, userID); err != nil {
		return err
	}
	if s.Escalation == nil {
		return fmt.Errorf("%w: no authorization rule configured", ErrNotPermitted)
	}
	if err := s.Escalation.CheckOutranks(ctx, by, userID); err != nil {
		return fmt.Errorf("%w: %w", ErrNotPermitted, err)
	}
	return nil
}
