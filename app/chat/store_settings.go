package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
)

type settingsRow struct {
	SiteID              string `gorm:"primaryKey"`
	TenantID            string
	CookieMode          string
	DefaultLanguage     string
	Texts               string
	Appearance          string
	BusinessHours       string
	Prechat             string
	PostchatEnabled     bool
	FileTransfer        bool
	FileMaxBytes        int64
	TranscriptEmail     bool
	SensitiveParams     string
	DefaultDepartmentID *string
	QueueTimeoutSeconds int
	RateLimits          string
	UpdatedAt           time.Time
}

func (settingsRow) TableName() string { return "site_chat_settings" }

// settings returns a site's settings (the defaults when none are stored).
func (st *store) settings(ctx context.Context, siteID string) (Settings, error) {
	var r settingsRow
	err := st.db.WithContext(ctx).Where("site_id = ?", siteID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return DefaultSettings(), nil
	}
	if err != nil {
		return Settings{}, err
	}
	s := Settings{
		CookieMode: r.CookieMode, DefaultLanguage: r.DefaultLanguage, PostchatEnabled: r.PostchatEnabled,
		FileTransfer: r.FileTransfer, FileMaxBytes: r.FileMaxBytes, TranscriptEmail: r.TranscriptEmail,
		SensitiveParams: strings.Fields(r.SensitiveParams), DefaultDepartmentID: deref(r.DefaultDepartmentID),
		QueueTimeoutSeconds: r.QueueTimeoutSeconds,
	}
	if err := json.Unmarshal([]byte(r.Texts), &s.Texts); err != nil {
		return Settings{}, fmt.Errorf("site settings texts: %w", err)
	}
	if err := json.Unmarshal([]byte(r.Appearance), &s.Appearance); err != nil {
		return Settings{}, fmt.Errorf("site settings appearance: %w", err)
	}
	if err := json.Unmarshal([]byte(r.Prechat), &s.Prechat); err != nil {
		return Settings{}, fmt.Errorf("site settings prechat: %w", err)
	}
	if r.BusinessHours != "" {
		s.BusinessHours = &BusinessHours{}
		if err := json.Unmarshal([]byte(r.BusinessHours), s.BusinessHours); err != nil {
			return Settings{}, fmt.Errorf("site settings business hours: %w", err)
		}
	}
	if r.RateLimits != "" {
		s.RateLimits = &RateLimits{}
		if err := json.Unmarshal([]byte(r.RateLimits), s.RateLimits); err != nil {
			return Settings{}, fmt.Errorf("site settings rate limits: %w", err)
		}
	}
	s.fillEmpty()
	return s, nil
}

// saveSettings stores a site's validated settings with the audit record of the change, in one
// transaction.
func (st *store) saveSettings(ctx context.Context, site tenant.Site, s Settings, rec audit.Event) error {
	texts, _ := json.Marshal(s.Texts)
	app, _ := json.Marshal(s.Appearance)
	pre, _ := json.Marshal(s.Prechat)
	hours := ""
	if s.BusinessHours != nil {
		b, _ := json.Marshal(s.BusinessHours)
		hours = string(b)
	}
	limits := ""
	if !s.RateLimits.none() {
		b, _ := json.Marshal(s.RateLimits)
		limits = string(b)
	}
	row := settingsRow{
		SiteID: site.ID, TenantID: site.TenantID, CookieMode: s.CookieMode, DefaultLanguage: s.DefaultLanguage,
		Texts: string(texts), Appearance: string(app), BusinessHours: hours, Prechat: string(pre),
		PostchatEnabled: s.PostchatEnabled, FileTransfer: s.FileTransfer, FileMaxBytes: s.FileMaxBytes,
		TranscriptEmail: s.TranscriptEmail, SensitiveParams: strings.Join(s.SensitiveParams, " "),
		DefaultDepartmentID: ptr(s.DefaultDepartmentID), QueueTimeoutSeconds: s.QueueTimeoutSeconds, RateLimits: limits, UpdatedAt: st.now().UTC(),
	}
	return st.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "site_id"}}, UpdateAll: true}).Create(&row).Error; err != nil {
			return err
		}
		return st.audit.Append(ctx, tx, rec)
	})
}
