package account

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/account/captcha"
	"github.com/parleyhq/parley/app/account/passhash"
	"github.com/parleyhq/parley/app/account/totp"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
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

// Service is Parley's account domain: it creates users, signs them in and out, keeps their
// sessions, passwords, second factors and sign-in counters, and applies each tenant's security
// settings and IP allowlists. Every security event goes to Auditor inside the transaction of the
// change it records. Build it with its fields set; Auditor and Sealer have no fallback (fail
// closed).
type Service struct {
	Store  *Store
	Hasher *passhash.Hasher
	// Escalation keeps administrative actions within the actor's own permissions (invitations,
	// disabling, password and MFA resets of other users); without it those actions are refused.
	Escalation Escalation
	// Policy returns the password evaluator in force for a tenant; nil uses the tenant's
	// settings (PasswordEvaluator).
	Policy func(ctx context.Context, tenantID string) (*password.Evaluator, error)
	// KnownRole reports whether a role name may be assigned; nil accepts DefaultRoles.
	KnownRole func(ctx context.Context, tenantID, role string) bool
	// Compliance is the organisation's compliance mode: a security setting that would break one
	// of its controls is refused. Nil enforces no mode.
	Compliance ComplianceModes

	// DB is the database the account tables live in.
	DB *migrations.DB
	// Tenants resolves the organisation named at sign-in.
	Tenants *tenant.Store
	// Common is the common-password blocklist password policies use.
	Common *password.Blocklist
	// Auditor records every security event; without it audited actions are refused.
	Auditor Auditor
	// Sealer encrypts TOTP secrets; without it MFA cannot be enrolled or checked.
	Sealer SecretSealer
	// Captcha issues and checks sign-in CAPTCHAs.
	Captcha *captcha.Service
	// Enroller creates TOTP enrolments.
	Enroller *totp.Enroller
	// IdentityKey returns an installation key by name (vault.InstallationKeys.Key): the sign-in
	// bookkeeping stores keyed hashes of the identities a sign-in named, never the text. Without
	// it sign-ins fail closed.
	IdentityKey func(ctx context.Context, name string) ([]byte, error)
	// Now is the clock; Rand the source of tokens.
	Now  func() time.Time
	Rand io.Reader
	Log  *slog.Logger

	// userCache and secCache hold, for Authenticate, users with their roles and tenants' security
	// settings and allowlists, by the version of their rows.
	userCache versionedCache[cachedUser]
	secCache  versionedCache[*tenantSecurity]
	// authSQL is Authenticate's session query, built on first use.
	authSQLOnce sync.Once
	authSQL     *sessionQuery
	authSQLErr  error
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
	ctx = migrations.WithTenant(ctx, in.TenantID)
	tx = tx.WithContext(ctx)
	email, key, err := CleanEmail(in.Email)
	if err != nil {
		return User{}, err
	}
	name, err := CleanDisplayName(in.Name)
	if err != nil {
		return User{}, err
	}
	if !s.roleKnown(ctx, in.TenantID, in.Role) {
		return User{}, fmt.Errorf("%w %q", ErrUnknownRole, in.Role)
	}
	ev, err := s.evaluator(ctx, tx, in.TenantID)
	if err != nil {
		return User{}, fmt.Errorf("password policy: %w", err)
	}
	violations, err := ev.Evaluate(in.Password, password.Context{
		Username: name, Email: email, TenantName: in.TenantName,
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
		DisplayName: name, Status: StatusActive, PasswordHash: hash,
		PasswordChangedAt: &now, MustChangePassword: in.MustChange, ActivatedAt: &now,
	}
	st := s.Store.WithTx(tx)
	if err := st.Create(ctx, &u); err != nil {
		return User{}, err
	}
	if err := addHistory(ctx, tx, u, hash, historyInitial, now); err != nil {
		return User{}, err
	}
	if err := st.Assign(ctx, &RoleAssignment{ID: uuid.Must(uuid.NewV7()).String(), TenantID: in.TenantID, UserID: u.ID, Role: in.Role}); err != nil {
		return User{}, err
	}
	return u, nil
}

func (s *Service) roleKnown(ctx context.Context, tenantID, role string) bool {
	ctx = migrations.WithTenant(ctx, tenantID)
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

// evaluator returns the password evaluator in force for a tenant.
func (s *Service) evaluator(ctx context.Context, tx *gorm.DB, tenantID string) (*password.Evaluator, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	tx = tx.WithContext(ctx)
	if s.Policy != nil {
		return s.Policy(ctx, tenantID)
	}
	st, err := s.settingsTx(ctx, tx, tenantID)
	if err != nil {
		return nil, err
	}
	return password.NewEvaluator(st.Password, s.Common)
}

// PasswordEvaluator returns the evaluator of a tenant's password policy.
func (s *Service) PasswordEvaluator(ctx context.Context, tenantID string) (*password.Evaluator, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	return s.evaluator(ctx, s.db(), tenantID)
}

func (s *Service) db() *gorm.DB { return s.DB.Gorm }

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return rand.Reader
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}
