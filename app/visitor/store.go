// Package visitor tracks the visitors of customers' sites (WhosOn's "Track"): who is on a site
// now, the page they are on, the pages they visited, how long they have been there, where they
// came from, their browser, device and language, and whether they are returning — as far as the
// site's cookie mode allows. Visitors are identified by an opaque token the widget keeps (stored
// here only as a hash); page URLs are stored without sensitive query parameters and with card
// numbers masked; IP addresses are shown only to users with visitor.view_pii. Rows are removed
// after the tenant's retention period.
package visitor

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/app/sanitize"
	"github.com/parleyhq/parley/migrations"
)

// Errors the store returns.
var (
	// ErrUnauthenticated means a visitor token is missing, malformed, unknown, expired or of
	// another site.
	ErrUnauthenticated = errors.New("visitor: unknown visitor token")
	// ErrNotFound means the visitor does not exist in the tenant.
	ErrNotFound = errors.New("visitor: not found")
	// ErrInvalidRetention means a retention period outside 1–3650 days.
	ErrInvalidRetention = errors.New("visitor: retention must be 1 to 3650 days")
)

// Cookie modes: how the widget keeps the visitor token (a site setting).
const (
	// CookiePersistent keeps the token across browser sessions: returning visitors are recognised.
	CookiePersistent = "persistent"
	// CookieSession keeps it until the browser tab closes.
	CookieSession = "session"
	// CookieNone keeps it in memory on one page only: every page load is a new visitor.
	CookieNone = "none"
)

// Tracking constants.
const (
	// VisitGap is the idle time after which a visitor's next page view starts a new visit.
	VisitGap = 30 * time.Minute
	// LiveWindow is how recently a visitor must have been seen to count as on the site now.
	LiveWindow = 10 * time.Minute
	// DefaultRetentionDays is the retention of visitor data when the tenant set none.
	DefaultRetentionDays = 30
	tokenPrefix          = "vt_"
	sessionTokenLife     = 12 * time.Hour
	noneTokenLife        = 2 * time.Hour
)

// Visitor is one row of visitors.
type Visitor struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	SiteID         string
	TokenHash      string `json:"-"`
	CookieMode     string
	FirstSeenAt    time.Time
	LastSeenAt     time.Time
	VisitStartedAt time.Time
	Visits         int
	VisitPages     int
	CurrentURL     string
	CurrentTitle   string
	Referrer       string
	Browser        string
	OS             string `gorm:"column:os"`
	Device         string
	Language       string
	IP             string `gorm:"column:ip"`
	IsReturning    bool
	ExpiresAt      time.Time
}

// TableName is the visitors table.
func (Visitor) TableName() string { return "visitors" }

// TimeOnSite is how long the current visit has lasted.
func (v Visitor) TimeOnSite() time.Duration { return v.LastSeenAt.Sub(v.VisitStartedAt) }

// PageView is one page a visitor loaded.
type PageView struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	VisitorID string
	URL       string `gorm:"column:url"`
	Title     string
	ViewedAt  time.Time
}

// TableName is the page_views table.
func (PageView) TableName() string { return "page_views" }

// retentionRow is the visitor kind's row of the organisation's retention periods (app/retention
// owns the table; the visitor store reads and writes only its own kind).
type retentionRow struct {
	TenantID  string `gorm:"primaryKey"`
	Kind      string `gorm:"primaryKey"`
	Days      int
	UpdatedAt time.Time
}

func (retentionRow) TableName() string { return "retention_periods" }

// RetentionKind is the visitor data's kind in the organisation's retention periods.
const RetentionKind = "visitors"

// Store reads and writes visitor tracking rows. Every query is scoped by tenant or site.
type Store struct {
	db    *gorm.DB
	now   func() time.Time
	rand  io.Reader
	masks Masks
}

// NewStore returns a store over db; masks gives the masker that hides card numbers (and other
// regulated data) in each tenant's page URLs and titles.
func NewStore(db *gorm.DB, now func() time.Time, rnd io.Reader, masks Masks) *Store {
	return &Store{db: db, now: now, rand: rnd, masks: masks}
}

// Masks gives a tenant's masker: its card-number masking mode and redaction rules. An error
// refuses the page view (nothing is stored unmasked).
type Masks interface {
	MaskerFor(ctx context.Context, tenantID string) (Masker, error)
}

// FixedMasks uses one masker for every tenant.
type FixedMasks struct{ Masker Masker }

// MaskerFor returns the one masker.
func (f FixedMasks) MaskerFor(context.Context, string) (Masker, error) {
	if f.Masker == nil {
		return nil, errNoMasker
	}
	return f.Masker, nil
}

// MasksFunc adapts a function to Masks.
type MasksFunc func(ctx context.Context, tenantID string) (Masker, error)

// MaskerFor calls f.
func (f MasksFunc) MaskerFor(ctx context.Context, tenantID string) (Masker, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	return f(ctx, tenantID)
}

var errNoMasker = errors.New("visitor: no card-number masker configured")

// View is a page view report, after the site was identified from its key.
type View struct {
	TenantID, SiteID string
	CookieMode       string
	SensitiveParams  []string
	// Token is the visitor token the widget presented ("" for none).
	Token                                 string
	URL, Title, Referrer, Language, Agent string
	IP                                    string
	// Heartbeat only keeps the visitor live; it records no page.
	Heartbeat bool
}

// Identity is the visitor a page view was recorded for.
type Identity struct {
	Visitor Visitor
	// Token is the token to use from now on: the presented one, or a new one when NewToken.
	Token     string
	NewToken  bool
	Returning bool
}

// HashToken returns the stored form of a visitor token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (s *Store) newToken() (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", fmt.Errorf("visitor token: %w", err)
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func wellFormed(token string) bool {
	return len(token) == len(tokenPrefix)+43 && strings.HasPrefix(token, tokenPrefix)
}

// Record stores a page view: it recognises the visitor by token (a new visitor and token
// otherwise), starts a new visit after VisitGap, and updates the live state.
func (s *Store) Record(ctx context.Context, v View) (Identity, error) {
	ctx = migrations.WithTenant(ctx, v.TenantID)
	now := s.now().UTC()
	life, err := s.tokenLife(ctx, v.TenantID, v.CookieMode)
	if err != nil {
		return Identity{}, err
	}
	if s.masks == nil {
		return Identity{}, errNoMasker
	}
	m, err := s.masks.MaskerFor(ctx, v.TenantID)
	if err != nil {
		return Identity{}, err
	}
	url := CleanURL(v.URL, v.SensitiveParams, m)
	title := m.MaskString(sanitize.Truncate(v.Title, sanitize.Limits{MaxRunes: 300}))
	ref := CleanURL(v.Referrer, v.SensitiveParams, m)
	client := ParseUserAgent(v.Agent)
	lang := CleanLanguage(v.Language)
	var out Identity
	err = migrations.Transaction(s.db.WithContext(ctx), func(tx *gorm.DB) error {
		var cur Visitor
		found := false
		if wellFormed(v.Token) {
			err := tx.Where("token_hash = ? AND site_id = ? AND expires_at > ?", HashToken(v.Token), v.SiteID, now).Take(&cur).Error
			switch {
			case err == nil:
				found = true
			case !errors.Is(err, gorm.ErrRecordNotFound):
				return err
			}
		}
		if !found {
			tok, err := s.newToken()
			if err != nil {
				return err
			}
			cur = Visitor{
				ID: uuid.Must(uuid.NewV7()).String(), TenantID: v.TenantID, SiteID: v.SiteID, TokenHash: HashToken(tok),
				CookieMode: v.CookieMode, FirstSeenAt: now, LastSeenAt: now, VisitStartedAt: now, Visits: 1,
				CurrentURL: url, CurrentTitle: title, Referrer: ref, Browser: client.Browser, OS: client.OS,
				Device: client.Device, Language: lang, IP: v.IP, ExpiresAt: now.Add(life),
			}
			if !v.Heartbeat {
				cur.VisitPages = 1
			}
			if err := tx.Create(&cur).Error; err != nil {
				return err
			}
			out = Identity{Visitor: cur, Token: tok, NewToken: true}
		} else {
			upd := map[string]any{"last_seen_at": now, "ip": v.IP, "expires_at": now.Add(life),
				"browser": client.Browser, "os": client.OS, "device": client.Device}
			if lang != "" {
				upd["language"] = lang
			}
			if now.Sub(cur.LastSeenAt) > VisitGap {
				cur.Visits++
				cur.VisitPages = 0
				cur.VisitStartedAt = now
				upd["visits"], upd["visit_started_at"], upd["referrer"] = cur.Visits, now, ref
				cur.Referrer = ref
				if v.CookieMode != CookieNone {
					cur.IsReturning = true
					upd["is_returning"] = true
				}
			}
			if !v.Heartbeat {
				cur.VisitPages++
				upd["visit_pages"], upd["current_url"], upd["current_title"] = cur.VisitPages, url, title
				cur.CurrentURL, cur.CurrentTitle = url, title
			}
			if err := tx.Model(&Visitor{}).Where("id = ?", cur.ID).Updates(upd).Error; err != nil {
				return err
			}
			cur.LastSeenAt, cur.IP, cur.ExpiresAt = now, v.IP, now.Add(life)
			out = Identity{Visitor: cur, Token: v.Token, Returning: cur.IsReturning}
		}
		if v.Heartbeat || url == "" {
			return nil
		}
		return tx.Create(&PageView{ID: uuid.Must(uuid.NewV7()).String(), TenantID: v.TenantID, VisitorID: cur.ID,
			URL: url, Title: title, ViewedAt: now}).Error
	})
	if err != nil {
		return Identity{}, err
	}
	out.Returning = out.Visitor.IsReturning
	return out, nil
}

func (s *Store) tokenLife(ctx context.Context, tenantID, mode string) (time.Duration, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	switch mode {
	case CookieSession:
		return sessionTokenLife, nil
	case CookieNone:
		return noneTokenLife, nil
	}
	days, err := s.Retention(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	return time.Duration(days) * 24 * time.Hour, nil
}

// Authenticate returns the visitor a token belongs to on a site, or ErrUnauthenticated. ctx is
// scoped to the site's tenant (the widget's site key resolved it).
func (s *Store) Authenticate(ctx context.Context, siteID, token string) (Visitor, error) {
	if !wellFormed(token) {
		return Visitor{}, ErrUnauthenticated
	}
	var v Visitor
	err := s.db.WithContext(ctx).Where("token_hash = ? AND site_id = ? AND expires_at > ?", HashToken(token), siteID, s.now().UTC()).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Visitor{}, ErrUnauthenticated
	}
	return v, err
}

// Seen marks a visitor active now (chat traffic keeps them live between page views).
func (s *Store) Seen(ctx context.Context, visitorID, ip string) error {
	upd := map[string]any{"last_seen_at": s.now().UTC()}
	if ip != "" {
		upd["ip"] = ip
	}
	return s.db.WithContext(ctx).Model(&Visitor{}).Where("id = ?", visitorID).Updates(upd).Error
}

// Get returns one visitor of a tenant.
func (s *Store) Get(ctx context.Context, tenantID, id string) (Visitor, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var v Visitor
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Visitor{}, ErrNotFound
	}
	return v, err
}

// Live lists the tenant's visitors seen within LiveWindow, most recent first; siteID narrows it
// to one site.
func (s *Store) Live(ctx context.Context, tenantID, siteID string, limit int) ([]Visitor, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	q := s.db.WithContext(ctx).Where("tenant_id = ? AND last_seen_at > ?", tenantID, s.now().UTC().Add(-LiveWindow))
	if siteID != "" {
		q = q.Where("site_id = ?", siteID)
	}
	var out []Visitor
	err := q.Order("last_seen_at DESC").Limit(limit).Find(&out).Error
	return out, err
}

// Pages returns a visitor's most recent page views, newest first.
func (s *Store) Pages(ctx context.Context, tenantID, visitorID string, limit int) ([]PageView, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	var out []PageView
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND visitor_id = ?", tenantID, visitorID).
		Order("viewed_at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// Retention returns the tenant's visitor retention in days.
func (s *Store) Retention(ctx context.Context, tenantID string) (int, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r retentionRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND kind = ?", tenantID, RetentionKind).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && r.Days == 0) {
		return DefaultRetentionDays, nil
	}
	return r.Days, err
}

// SetRetention sets the tenant's visitor retention.
func (s *Store) SetRetention(ctx context.Context, tenantID string, days int) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	if days < 1 || days > 3650 {
		return ErrInvalidRetention
	}
	row := retentionRow{TenantID: tenantID, Kind: RetentionKind, Days: days, UpdatedAt: s.now().UTC()}
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "kind"}},
		DoUpdates: clause.AssignmentColumns([]string{"days", "updated_at"}),
	}).Create(&row).Error
}

// PurgeScope is what one purge of a tenant's visitor data covers.
type PurgeScope struct {
	TenantID string
	// Sites narrows the purge to these sites; ExceptSites leaves these out (the sites with their
	// own period). Both empty means every site of the tenant.
	Sites, ExceptSites []string
	// Cutoff: page views older than it, and visitors not seen since it, go.
	Cutoff time.Time
	// Keep are visitors under legal hold: neither they nor their page views are touched.
	Keep []string
	// DryRun counts what would go and deletes nothing.
	DryRun bool
}

// PurgeResult counts what a purge removed (or, dry, would remove).
type PurgeResult struct {
	PageViews int64
	Visitors  int64
}

// PurgeTenant removes one tenant's visitor data past a cutoff (the retention job calls it per
// site period): page views older than the cutoff, visitors not seen since it, and visitors whose
// token expired — except the visitors in Keep.
func (s *Store) PurgeTenant(ctx context.Context, sc PurgeScope) (PurgeResult, error) {
	ctx = migrations.WithTenant(ctx, sc.TenantID)
	now := s.now().UTC()
	narrow := func(q *gorm.DB, visitorCol, siteQuery string) *gorm.DB {
		if len(sc.Sites) > 0 {
			q = q.Where(siteQuery+" IN ?", sc.Sites)
		}
		if len(sc.ExceptSites) > 0 {
			q = q.Where(siteQuery+" NOT IN ?", sc.ExceptSites)
		}
		if len(sc.Keep) > 0 {
			q = q.Where(visitorCol+" NOT IN ?", sc.Keep)
		}
		return q
	}
	var out PurgeResult
	db := s.db.WithContext(ctx)
	pv := narrow(db.Model(&PageView{}).Where("tenant_id = ? AND viewed_at < ?", sc.TenantID, sc.Cutoff.UTC()),
		"visitor_id", "(SELECT v.site_id FROM visitors v WHERE v.id = page_views.visitor_id)")
	vs := narrow(db.Model(&Visitor{}).Where("tenant_id = ? AND (last_seen_at < ? OR expires_at < ?)", sc.TenantID, sc.Cutoff.UTC(), now),
		"id", "site_id")
	if sc.DryRun {
		if err := pv.Count(&out.PageViews).Error; err != nil {
			return out, err
		}
		return out, vs.Count(&out.Visitors).Error
	}
	res := pv.Delete(&PageView{})
	if res.Error != nil {
		return out, res.Error
	}
	out.PageViews = res.RowsAffected
	res = vs.Delete(&Visitor{})
	if res.Error != nil {
		return out, res.Error
	}
	out.Visitors = res.RowsAffected
	return out, nil
}

// Purge removes every tenant's visitor data past the tenant's own retention, with no site
// period and no legal hold considered. It returns the rows removed. The retention job
// (app/retention) purges with both; this remains for installations' tooling and tests.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	now := s.now().UTC()
	var tenants []string
	// Retention visits every tenant (SECURITY.md, the narrow path), then works in each one's scope.
	if err := s.db.WithContext(migrations.AcrossTenants(ctx)).Model(&Visitor{}).Distinct("tenant_id").Pluck("tenant_id", &tenants).Error; err != nil {
		return 0, err
	}
	var total int64
	for _, t := range tenants {
		days, err := s.Retention(ctx, t)
		if err != nil {
			return total, err
		}
		r, err := s.PurgeTenant(ctx, PurgeScope{TenantID: t, Cutoff: now.Add(-time.Duration(days) * 24 * time.Hour)})
		total += r.PageViews + r.Visitors
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
