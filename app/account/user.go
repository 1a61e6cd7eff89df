// Package account owns Parley's console users: creation with a checked and hashed password, the
// user store, and (in its subpackages) password hashing, TOTP and CAPTCHA. Users belong to one
// tenant; an e-mail address is unique within it and an id never changes or is reused.
package account

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
)

// Status is a user's lifecycle state.
type Status string

// The states a user can be in.
const (
	StatusInvited  Status = "invited"
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
	StatusLocked   Status = "locked"
)

// Errors the store and service return.
var (
	ErrNotFound     = errors.New("user not found")
	ErrEmailTaken   = errors.New("e-mail address already in use in this organisation")
	ErrInvalidEmail = errors.New("not a valid e-mail address")
	// ErrInvalidName means a display name is too long or holds control characters.
	ErrInvalidName = errors.New("display name must be at most 200 characters without control characters")
)

// User is a console user of one tenant.
type User struct {
	ID       string `gorm:"primaryKey"`
	TenantID string
	// Email, EmailKey and DisplayName are stored in clear: CleanEmail and CleanDisplayName
	// refuse card numbers in them.
	Email              string
	EmailKey           string
	DisplayName        string
	Status             Status
	PasswordHash       string
	PasswordChangedAt  *time.Time
	MustChangePassword bool
	LastLoginAt        *time.Time
	LastLoginIP        string
	// PreviousLoginAt and PreviousLoginIP are the sign-in before the last one, which the user is
	// shown after signing in ("last sign-in from …").
	PreviousLoginAt *time.Time
	PreviousLoginIP string
	// MFAEnabled reports an activated TOTP second factor; MFASecret holds it sealed.
	MFAEnabled bool   `gorm:"column:mfa_enabled"`
	MFASecret  []byte `gorm:"column:mfa_secret"`
	// MFAPending is an enrolment awaiting its first correct code, sealed.
	MFAPending    []byte     `gorm:"column:mfa_pending"`
	MFAPendingAt  *time.Time `gorm:"column:mfa_pending_at"`
	MFAEnrolledAt *time.Time `gorm:"column:mfa_enrolled_at"`
	// TOTPLastStep is the time step of the last accepted code (RFC 6238 §5.2).
	TOTPLastStep int64 `gorm:"column:totp_last_step"`
	// MFAGraceUsed counts sign-ins without a second factor while one is required but not enrolled.
	MFAGraceUsed int `gorm:"column:mfa_grace_used"`
	// ActivatedAt is when the account became usable (created active, invitation accepted,
	// re-enabled): the start of the inactivity clock before a first sign-in.
	ActivatedAt    *time.Time
	DisabledAt     *time.Time
	DisabledReason string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// RoleAssignment grants a role to a user tenant-wide (DepartmentID nil) or in one department.
type RoleAssignment struct {
	ID           string `gorm:"primaryKey"`
	TenantID     string
	UserID       string
	Role         string
	DepartmentID *string
	CreatedAt    time.Time
}

// CleanEmail checks an address and returns it trimmed with its lookup key (lower-cased).
// An address that holds a card number ("4111111111111111@example.com") is refused with a
// CardNumberError for field "email": the address and its key are stored in clear. A '+' is read
// as the sub-address separator it is in an address, not as the start of a phone number, so
// "ada+3400.0000.0000.009@example.com" is refused too.
func CleanEmail(email string) (clean, key string, err error) {
	email = strings.TrimSpace(email)
	if pan.Contains(email) || pan.Contains(strings.ReplaceAll(email, "+", " ")) {
		return "", "", &CardNumberError{Field: "email"}
	}
	if len(email) > 254 || email == "" {
		return "", "", ErrInvalidEmail
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return "", "", ErrInvalidEmail
	}
	at := strings.LastIndexByte(email, '@')
	if at < 1 || at > 64 || !strings.Contains(email[at:], ".") {
		return "", "", ErrInvalidEmail
	}
	return email, strings.ToLower(email), nil
}

// MaxDisplayNameRunes bounds a user's display name.
const MaxDisplayNameRunes = 200

// CleanDisplayName trims a user's display name and checks it: at most MaxDisplayNameRunes
// characters, no control or bidi characters (ErrInvalidName), and no card number (a
// CardNumberError for field "name": the name is stored in clear and shown everywhere).
func CleanDisplayName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if pan.Contains(name) {
		return "", &CardNumberError{Field: "name"}
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxDisplayNameRunes {
		return "", ErrInvalidName
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return "", ErrInvalidName
		}
	}
	return name, nil
}

// ErrCardNumber is wrapped by CardNumberError.
var ErrCardNumber = errors.New("account: card number not allowed")

// CardNumberError means a value stored in clear (an e-mail address, a name) holds a card number;
// it is refused. Field names the input field. The value itself is never part of the error.
type CardNumberError struct{ Field string }

func (e *CardNumberError) Error() string { return "a card number is not allowed in the " + e.Field }

// Unwrap lets errors.Is match ErrCardNumber.
func (e *CardNumberError) Unwrap() error { return ErrCardNumber }

// Store reads and writes users and role assignments.
type Store struct {
	db  *gorm.DB
	now func() time.Time
}

// NewStore returns a user store over db.
func NewStore(db *gorm.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now}
}

// WithTx returns the store writing inside transaction tx.
func (s *Store) WithTx(tx *gorm.DB) *Store { return &Store{db: tx, now: s.now} }

// Create inserts a user.
func (s *Store) Create(ctx context.Context, u *User) error {
	ctx = migrations.WithTenant(ctx, u.TenantID)
	now := s.now().UTC()
	u.CreatedAt, u.UpdatedAt = now, now
	err := s.db.WithContext(ctx).Create(u).Error
	if migrations.IsUniqueViolation(err) {
		return ErrEmailTaken
	}
	return err
}

// ByEmail finds a tenant's user by e-mail address (case-insensitive).
func (s *Store) ByEmail(ctx context.Context, tenantID, email string) (User, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var u User
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND email_key = ?", tenantID, strings.ToLower(strings.TrimSpace(email))).Take(&u).Error
	return u, notFound(err)
}

// ByID finds a tenant's user; another tenant's user is ErrNotFound.
func (s *Store) ByID(ctx context.Context, tenantID, id string) (User, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var u User
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&u).Error
	return u, notFound(err)
}

// Person is how a user is named to other people: display name and e-mail address.
type Person struct {
	ID          string
	Email       string
	DisplayName string
}

// MaxPeople bounds the ids People looks up at once.
const MaxPeople = 1000

// People returns the tenant's users among ids, keyed by id, in one query. An id that names no
// user of the tenant (another tenant's user, a visitor, the system, a deleted user) is absent.
// At most MaxPeople ids are looked up; the rest are ignored.
func (s *Store) People(ctx context.Context, tenantID string, ids []string) (map[string]Person, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	out := map[string]Person{}
	if tenantID == "" || len(ids) == 0 {
		return out, nil
	}
	if len(ids) > MaxPeople {
		ids = ids[:MaxPeople]
	}
	var rows []Person
	err := s.db.WithContext(ctx).Model(&User{}).Select("id, email, display_name").
		Where("tenant_id = ? AND id IN ?", tenantID, ids).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	for _, p := range rows {
		out[p.ID] = p
	}
	return out, nil
}

// Colleagues returns up to limit active users of the tenant, by display name: the people a console
// user may chat with (agent-to-agent chat).
func (s *Store) Colleagues(ctx context.Context, tenantID string, limit int) ([]Person, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if limit <= 0 || limit > MaxPeople {
		limit = MaxPeople
	}
	var rows []Person
	err := s.db.WithContext(ctx).Model(&User{}).Select("id, email, display_name").
		Where("tenant_id = ? AND status = ?", tenantID, StatusActive).Order("display_name, id").Limit(limit).Find(&rows).Error
	return rows, err
}

// Assign grants role to a user, tenant-wide when departmentID is nil.
func (s *Store) Assign(ctx context.Context, a *RoleAssignment) error {
	ctx = migrations.WithTenant(ctx, a.TenantID)
	a.CreatedAt = s.now().UTC()
	return s.db.WithContext(ctx).Create(a).Error
}

// Roles lists a user's role assignments.
func (s *Store) Roles(ctx context.Context, tenantID, userID string) ([]RoleAssignment, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []RoleAssignment
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND user_id = ?", tenantID, userID).Order("created_at, id").Find(&out).Error
	return out, err
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}
