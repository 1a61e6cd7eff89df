package tenant

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
)

// Bounds of a site's allowed origins, as the console and the API enforce them (CheckOrigins).
const (
	// MaxOrigins is how many origins a site may allow.
	MaxOrigins = 20
	// MaxOriginLength is the longest origin accepted, in bytes.
	MaxOriginLength = 200
)

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

// CheckOrigins is the rule for the origins a person gives a site: one to MaxOrigins of them,
// each at most MaxOriginLength bytes, scheme://host[:port] with no path, https (plain http only
// for localhost and 127.0.0.1, for development), no card number, no duplicate. It returns their
// canonical forms; an error is a *FieldError on allowed_origins naming the origin's position.
func CheckOrigins(origins []string) ([]string, error) {
	field := func(i int, err error) error { return &FieldError{Field: "allowed_origins", Index: i, Err: err} }
	if len(origins) == 0 {
		return nil, field(-1, ErrNoOrigins)
	}
	if len(origins) > MaxOrigins {
		return nil, field(-1, ErrTooManyOrigins)
	}
	out := make([]string, 0, len(origins))
	seen := map[string]bool{}
	for i, o := range origins {
		if len(o) > MaxOriginLength {
			return nil, field(i, ErrInvalidOrigin)
		}
		n, err := NormalizeOrigin(o)
		if err != nil {
			return nil, field(i, err)
		}
		u, _ := url.Parse(n) // n is canonical, so it parses
		if u.Scheme == "http" && !loopback(u.Hostname()) {
			return nil, field(i, ErrInvalidOrigin)
		}
		if u.Port() != "" {
			if p := u.Port(); len(p) > 5 || strings.TrimLeft(p, "0123456789") != "" {
				return nil, field(i, ErrInvalidOrigin)
			}
		}
		if seen[n] {
			return nil, field(i, ErrDuplicateOrigin)
		}
		seen[n] = true
		out = append(out, n)
	}
	return out, nil
}

// loopback reports whether host is localhost or the IPv4 loopback address.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.Equal(net.IPv4(127, 0, 0, 1))
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

// Site finds one site of a tenant, enabled or not; another tenant's is ErrNotFound.
func (s *Store) Site(ctx context.Context, tenantID, id string) (Site, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var site Site
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&site).Error
	return site, notFound(err)
}

// SiteByKey finds an enabled site by its public key (the widget's only credential).
func (s *Store) SiteByKey(ctx context.Context, key string) (Site, error) {
	ctx = migrations.AcrossTenants(ctx) // resolution: which tenant a widget's site key belongs to
	var site Site
	err := s.db.WithContext(ctx).Where("site_key = ? AND enabled = ?", key, true).Take(&site).Error
	return site, notFound(err)
}

// updateSite writes a site's name, origins and enabled flag (already checked); a name another
// site of the tenant has is ErrNameTaken.
func (s *Store) updateSite(ctx context.Context, site *Site) error {
	ctx = migrations.WithTenant(ctx, site.TenantID)
	site.UpdatedAt = s.now().UTC()
	res := s.db.WithContext(ctx).Model(&Site{}).Where("tenant_id = ? AND id = ?", site.TenantID, site.ID).
		Updates(map[string]any{"name": site.Name, "allowed_origins": site.AllowedOrigins, "enabled": site.Enabled, "updated_at": site.UpdatedAt})
	switch {
	case migrations.IsUniqueViolation(res.Error):
		return ErrNameTaken
	case res.Error != nil:
		return res.Error
	case res.RowsAffected == 0:
		return ErrNotFound
	}
	return nil
}
