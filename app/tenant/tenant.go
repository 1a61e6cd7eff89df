// Package tenant owns Parley's tenancy: tenants (organisations), their sites (websites, each with
// a public site key for the widget and its allowed origins) and departments. Every method takes
// the tenant explicitly; an object of another tenant is reported as not found, never as
// forbidden, so ids are no existence oracle.
package tenant

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
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
)

// Tenant is an organisation: the unit of data segregation.
type Tenant struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	Slug      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Site is a website that embeds the widget.
type Site struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	Name           string
	SiteKey        string
	AllowedOrigins string
	Enabled        bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Origins returns the site's allowed origins.
func (s Site) Origins() []string { return strings.Fields(s.AllowedOrigins) }

// Department groups agents and chats inside a tenant.
type Department struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	Name      string
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

// NormalizeOrigin checks an origin (scheme://host[:port], no path) and returns its canonical form.
// Origins are stored in clear: one that holds a card number is refused with ErrCardNumber (and
// is not repeated in the error).
func NormalizeOrigin(o string) (string, error) {
	if pan.Contains(o) {
		return "", ErrCardNumber
	}
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%w: %q", ErrInvalidOrigin, o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// CreateSite adds a website with a fresh public site key.
func (s *Store) CreateSite(ctx context.Context, tenantID, name string, origins []string) (Site, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	name, err := CleanName(name)
	if err != nil {
		return Site{}, err
	}
	clean := make([]string, 0, len(origins))
	for _, o := range origins {
		n, err := NormalizeOrigin(o)
		if err != nil {
			return Site{}, err
		}
		clean = append(clean, n)
	}
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Site{}, err
	}
	now := s.now().UTC()
	site := Site{
		ID: uuid.Must(uuid.NewV7()).String(), TenantID: tenantID, Name: name,
		SiteKey:        "site_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])),
		AllowedOrigins: strings.Join(clean, " "), Enabled: true, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.db.WithContext(ctx).Create(&site).Error; err != nil {
		if migrations.IsUniqueViolation(err) {
			return Site{}, ErrNameTaken
		}
		return Site{}, err
	}
	return site, nil
}

// Sites lists a tenant's sites.
func (s *Store) Sites(ctx context.Context, tenantID string) ([]Site, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []Site
	err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("name").Find(&out).Error
	return out, err
}

// SiteByKey finds an enabled site by its public key (the widget's only credential).
func (s *Store) SiteByKey(ctx context.Context, key string) (Site, error) {
	ctx = migrations.AcrossTenants(ctx) // resolution: which tenant a widget's site key belongs to
	var site Site
	err := s.db.WithContext(ctx).Where("site_key = ? AND enabled = ?", key, true).Take(&site).Error
	return site, notFound(err)
}

// CreateDepartment adds a department to a tenant.
func (s *Store) CreateDepartment(ctx context.Context, tenantID, name string) (Department, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	name, err := CleanName(name)
	if err != nil {
		return Department{}, err
	}
	now := s.now().UTC()
	d := Department{ID: uuid.Must(uuid.NewV7()).String(), TenantID: tenantID, Name: name, CreatedAt: now, UpdatedAt: now}
	if err := s.db.WithContext(ctx).Create(&d).Error; err != nil {
		if migrations.IsUniqueViolation(err) {
			return Department{}, ErrNameTaken
		}
		return Department{}, err
	}
	return d, nil
}

// Departments lists a tenant's departments.
func (s *Store) Departments(ctx context.Context, tenantID string) ([]Department, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []Department
	err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("name").Find(&out).Error
	return out, err
}

// Department finds one department of a tenant; another tenant's is ErrNotFound.
func (s *Store) Department(ctx context.Context, tenantID, id string) (Department, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var d Department
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&d).Error
	return d, notFound(err)
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}
