package cobrowse

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/app/cobrowse/dom"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// Settings are a site's co-browsing settings.
type Settings struct {
	// Enabled lets the site's agents ask visitors to share their page; off by default.
	Enabled bool `json:"enabled"`
	// InputAllowlist names the form fields (name, else id) whose values agents may see; every
	// other value is masked. Card, password and other secret fields cannot be listed.
	InputAllowlist []string `json:"input_allowlist"`
	// IdleSeconds is how long the agent may leave the shared page untouched before the session
	// ends (10 to 3600; 120 unless set).
	IdleSeconds int `json:"idle_seconds"`
}

// Setting limits.
const (
	DefaultIdleSeconds = 120
	MinIdleSeconds     = 10
	MaxIdleSeconds     = 3600
	maxAllowlist       = 50
)

var fieldNameRE = regexp.MustCompile(`^[A-Za-z0-9_.:\[\]-]{1,64}$`)

// InvalidError names a setting that is not valid; Message is safe to show.
type InvalidError struct {
	Field, Message string
}

func (e *InvalidError) Error() string { return "cobrowse: invalid " + e.Field + ": " + e.Message }

// Validate checks the settings.
func (s Settings) Validate() error {
	if s.IdleSeconds < MinIdleSeconds || s.IdleSeconds > MaxIdleSeconds {
		return &InvalidError{"idle_seconds", fmt.Sprintf("Between %d and %d seconds.", MinIdleSeconds, MaxIdleSeconds)}
	}
	if len(s.InputAllowlist) > maxAllowlist {
		return &InvalidError{"input_allowlist", fmt.Sprintf("At most %d fields.", maxAllowlist)}
	}
	for _, n := range s.InputAllowlist {
		if !fieldNameRE.MatchString(n) {
			return &InvalidError{"input_allowlist", "Field names are letters, digits and _ . : [ ] - (at most 64)."}
		}
		if dom.SecretField(n) {
			return &InvalidError{"input_allowlist", "Card, password and other secret fields are never shown."}
		}
	}
	return nil
}

// DefaultSettings are a site's settings until an administrator changes them.
func DefaultSettings() Settings {
	return Settings{IdleSeconds: DefaultIdleSeconds, InputAllowlist: []string{}}
}

// SiteSettings returns a site's co-browsing settings.
func (s *Service) SiteSettings(ctx context.Context, tenantID, siteID string) (Settings, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r settingsRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND site_id = ?", tenantID, siteID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return DefaultSettings(), nil
	}
	if err != nil {
		return Settings{}, err
	}
	list := strings.Fields(r.InputAllowlist)
	if list == nil {
		list = []string{}
	}
	return Settings{Enabled: r.Enabled, InputAllowlist: list, IdleSeconds: r.IdleSeconds}, nil
}

// SetSiteSettings validates and stores a site's settings (audited cobrowse.settings.change).
func (s *Service) SetSiteSettings(ctx context.Context, userID string, site tenant.Site, in Settings, o Origin) error {
	ctx = migrations.WithTenant(ctx, site.TenantID)
	if err := in.Validate(); err != nil {
		return err
	}
	row := settingsRow{SiteID: site.ID, TenantID: site.TenantID, Enabled: in.Enabled, InputAllowlist: strings.Join(in.InputAllowlist, " "),
		IdleSeconds: in.IdleSeconds, UpdatedBy: userID, UpdatedAt: s.now().UTC()}
	ev := s.event(site.TenantID, userActor(userID), audit.ActionCobrowseSettings, "", o, map[string]string{
		"enabled": strconv.FormatBool(in.Enabled), "input_allowlist": strconv.Itoa(len(in.InputAllowlist)) + " fields",
		"idle_seconds": strconv.Itoa(in.IdleSeconds)})
	ev.Target = audit.Target{Kind: "site", ID: site.ID}
	return migrations.Transaction(s.db.WithContext(ctx), func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error; err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, ev)
	})
}
