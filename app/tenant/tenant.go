// Package tenant owns Parley's tenancy: tenants (organisations), their sites (websites, each with
// a public site key for the widget and its allowed origins) and departments. Every method takes
// the tenant explicitly; an object of another tenant is reported as not found, never as
// forbidden, so ids are no existence oracle.
package tenant

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
)

// Errors the store returns.
var (
	ErrNotFound    = errors.New("not found")
	ErrNameTaken   = errors.New("name already in use")
	ErrInvalidName = errors.New("name must be 2 to 100 printable characters")
	// ErrCardNumber means a name (or the slug derived from it) holds a card number: names and
	// slugs are stored in clear, so it is refused.
	ErrCardNumber    = errors.New("a card number is not allowed in a name")
	ErrInvalidOrigin = errors.New("origin must be scheme://host[:port]")
	// ErrNoOrigins, ErrTooManyOrigins and ErrDuplicateOrigin break CheckOrigins' bounds.
	ErrNoOrigins       = errors.New("a site needs at least one allowed origin")
	ErrTooManyOrigins  = errors.New("too many allowed origins")
	ErrDuplicateOrigin = errors.New("an origin is given twice")
	// ErrInvalidTimezone and ErrInvalidHours break Hours.Check.
	ErrInvalidTimezone = errors.New("unknown time zone")
	ErrInvalidHours    = errors.New("opening hours must be HH:MM to HH:MM on known weekdays")
	// ErrInvalidQueueTimeout is a department queue timeout out of bounds.
	ErrInvalidQueueTimeout = errors.New("queue timeout out of bounds")
	// ErrInUse refuses to delete a department that open chats or role grants still refer to.
	ErrInUse = errors.New("the department is in use")
)

// FieldError is an input error about one field of a site or department, as the API names it
// (name, allowed_origins, business_hours.days, ...). Index is the position of the value at fault
// in a list field, -1 otherwise. errors.Is sees the wrapped sentinel.
type FieldError struct {
	Field string
	Index int
	Err   error
}

// Error names the field and the problem (never the value).
func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the sentinel.
func (e *FieldError) Unwrap() error { return e.Err }

// Tenant is an organisation: the unit of data segregation.
type Tenant struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	Slug      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Store reads and writes tenancy rows.
type Store struct {
	db  *gorm.DB
	now func() time.Time
}

// NewStore returns a store over db with clock now.
func NewStore(db *gorm.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now}
}

// WithTx returns the store writing inside transaction tx.
func (s *Store) WithTx(tx *gorm.DB) *Store { return &Store{db: tx, now: s.now} }

// CleanName trims a display name and checks it: 2–100 characters, no control characters
// (ErrInvalidName), no card number (ErrCardNumber).
func CleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if pan.Contains(name) {
		return "", ErrCardNumber
	}
	n := utf8.RuneCountInString(name)
	if n < 2 || n > 100 || !utf8.ValidString(name) {
		return "", ErrInvalidName
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return "", ErrInvalidName
		}
	}
	return name, nil
}

// Slug derives the sign-in identifier of a tenant name: lower-case letters and digits joined by
// single hyphens.
func Slug(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		default:
			hyphen = true
		}
		if b.Len() >= 48 {
			break
		}
	}
	return b.String()
}

// CreateTenant creates a tenant with a unique slug.
func (s *Store) CreateTenant(ctx context.Context, name string) (Tenant, error) {
	name, err := CleanName(name)
	if err != nil {
		return Tenant{}, err
	}
	slug := Slug(name)
	if len(slug) < 2 {
		return Tenant{}, fmt.Errorf("%w (it needs at least two ASCII letters or digits)", ErrInvalidName)
	}
	if pan.Contains(slug) {
		// "4111€1111€1111€1111" holds no card number; its slug 4111-1111-1111-1111 does.
		return Tenant{}, ErrCardNumber
	}
	var n int64
	// Slugs are unique across tenants: the check looks at all of them (SECURITY.md, the narrow path).
	if err := s.db.WithContext(migrations.AcrossTenants(ctx)).Model(&Tenant{}).Where("slug = ?", slug).Count(&n).Error; err != nil {
		return Tenant{}, err
	}
	if n > 0 {
		return Tenant{}, ErrNameTaken
	}
	now := s.now().UTC()
	t := Tenant{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Slug: slug, CreatedAt: now, UpdatedAt: now}
	if err := s.db.WithContext(migrations.WithTenant(ctx, t.ID)).Create(&t).Error; err != nil {
		return Tenant{}, err
	}
	return t, nil
}

// Count returns how many tenants exist.
func (s *Store) Count(ctx context.Context) (int64, error) {
	ctx = migrations.AcrossTenants(ctx) // resolution: is there any tenant yet (setup)
	var n int64
	err := s.db.WithContext(ctx).Model(&Tenant{}).Count(&n).Error
	return n, err
}

// BySlug finds a tenant by its sign-in identifier (case-insensitive).
func (s *Store) BySlug(ctx context.Context, slug string) (Tenant, error) {
	ctx = migrations.AcrossTenants(ctx) // resolution: which tenant a sign-in names
	var t Tenant
	err := s.db.WithContext(ctx).Where("slug = ?", strings.ToLower(strings.TrimSpace(slug))).Take(&t).Error
	return t, notFound(err)
}

// ByID finds a tenant.
func (s *Store) ByID(ctx context.Context, id string) (Tenant, error) {
	ctx = migrations.WithTenant(ctx, id)
	var t Tenant
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&t).Error
	return t, notFound(err)
}

// List returns every tenant, oldest first.
func (s *Store) List(ctx context.Context) ([]Tenant, error) {
	ctx = migrations.AcrossTenants(ctx) // operators' commands and jobs that visit every tenant
	var out []Tenant
	err := s.db.WithContext(ctx).Order("created_at, id").Find(&out).Error
	return out, err
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}
