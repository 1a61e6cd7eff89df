package account

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/account/passhash"
	"github.com/parleyhq/parley/policy/password"
)

// Roles a user can be created with. The authorization package owns the full catalogue; these are
// the default roles every tenant starts with.
var DefaultRoles = []string{"owner", "admin", "supervisor", "agent", "auditor"}

// PasswordRejected lists every password rule a candidate broke.
type PasswordRejected struct {
	Violations []password.Violation
}

func (e *PasswordRejected) Error() string {
	msgs := make([]string, 0, len(e.Violations))
	for _, v := range e.Violations {
		msgs = append(msgs, v.Message)
	}
	return "password rejected: " + strings.Join(msgs, " ")
}

// ErrUnknownRole means a role name is not one of the roles a user can be given.
var ErrUnknownRole = errors.New("unknown role")

// Service creates users: it checks the e-mail address and the password against the tenant's
// policy, hashes the password and writes the user and its role in the caller's transaction.
type Service struct {
	Store  *Store
	Hasher *passhash.Hasher
	// Policy returns the password evaluator in force for a tenant.
	Policy func(ctx context.Context, tenantID string) (*password.Evaluator, error)
	// KnownRole reports whether a role name may be assigned; nil accepts DefaultRoles.
	KnownRole func(ctx context.Context, tenantID, role string) bool
}

// NewUser is what CreateUser needs.
type NewUser struct {
	TenantID   string
	TenantName string
	Email      string
	Name       string
	// Password is the password as typed; it is normalized (NFKC) before checking and hashing.
	Password string
	Role     string
	// MustChange forces a change at first sign-in (PCI DSS 8.3.5: first and reset passwords are
	// changed on first use). The setup flow's owner chose their own password, so it is false there.
	MustChange bool
}

// CreateUser creates an active user with a role, inside tx.
func (s *Service) CreateUser(ctx context.Context, tx *gorm.DB, in NewUser) (User, error) {
	email, key, err := CleanEmail(in.Email)
	if err != nil {
		return User{}, err
	}
	if !s.roleKnown(ctx, in.TenantID, in.Role) {
		return User{}, fmt.Errorf("%w %q", ErrUnknownRole, in.Role)
	}
	ev, err := s.Policy(ctx, in.TenantID)
	if err != nil {
		return User{}, fmt.Errorf("password policy: %w", err)
	}
	violations, err := ev.Evaluate(in.Password, password.Context{
		Username: in.Name, Email: email, TenantName: in.TenantName,
		History: password.HistoryFunc(func(string, int) (bool, error) { return false, nil }),
	})
	if err != nil {
		return User{}, err
	}
	if len(violations) > 0 {
		return User{}, &PasswordRejected{Violations: violations}
	}
	normalized, err := password.Normalize(in.Password)
	if err != nil {
		return User{}, err
	}
	hash, err := s.Hasher.Hash(ctx, []byte(normalized))
	if err != nil {
		return User{}, fmt.Errorf("hash password: %w", err)
	}
	now := s.Store.now().UTC()
	u := User{
		ID: uuid.Must(uuid.NewV7()).String(), TenantID: in.TenantID, Email: email, EmailKey: key,
		DisplayName: strings.TrimSpace(in.Name), Status: StatusActive, PasswordHash: hash,
		PasswordChangedAt: &now, MustChangePassword: in.MustChange,
	}
	st := s.Store.WithTx(tx)
	if err := st.Create(ctx, &u); err != nil {
		return User{}, err
	}
	if err := st.Assign(ctx, &RoleAssignment{ID: uuid.Must(uuid.NewV7()).String(), TenantID: in.TenantID, UserID: u.ID, Role: in.Role}); err != nil {
		return User{}, err
	}
	return u, nil
}

func (s *Service) roleKnown(ctx context.Context, tenantID, role string) bool {
	if s.KnownRole != nil {
		return s.KnownRole(ctx, tenantID, role)
	}
	for _, r := range DefaultRoles {
		if r == role {
			return true
		}
	}
	return false
}
