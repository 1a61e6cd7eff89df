package account

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/app/account/captcha"
	"github.com/parleyhq/parley/migrations"
)

// issueCaptcha creates a challenge for a sign-in that must solve one, and audits that a CAPTCHA
// was shown.
func (s *Service) issueCaptcha(ctx context.Context, tenantID string, user *User, id identity, o Origin) (*captcha.Challenge, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if s.Captcha == nil {
		return nil, errors.New("no CAPTCHA service configured")
	}
	ch, err := s.Captcha.Issue(ctx)
	if err != nil {
		return nil, err
	}
	e := o.event(tenantID, ActionCaptchaShown, userID(user), Success)
	e.Target = Target{Kind: "captcha", ID: ch.ID}
	e.Details = map[string]string{"email": id.email, "tenant": id.tenant}
	if err := record(ctx, s.Auditor, nil, e); err != nil {
		return nil, err
	}
	return &ch, nil
}

// NewChallenge issues a CAPTCHA challenge to an anonymous client (a fresh picture on the sign-in
// form). Each counts against the client address's sign-in window, so one address cannot flood
// the challenge store; a throttled address gets a *SignInError wrapping ErrThrottled.
func (s *Service) NewChallenge(ctx context.Context, o Origin) (captcha.Challenge, error) {
	if s.Captcha == nil {
		return captcha.Challenge{}, errors.New("no CAPTCHA service configured")
	}
	d, err := s.countAddress(ctx, o.IP, DefaultSettings().SignIn)
	if err != nil {
		return captcha.Challenge{}, err
	}
	if d.Throttled {
		return captcha.Challenge{}, &SignInError{Err: ErrThrottled, RetryAt: d.ThrottledUntil}
	}
	return s.Captcha.Issue(ctx)
}

func (s *Service) solveCaptcha(ctx context.Context, id, answer string) error {
	if s.Captcha == nil {
		return errors.New("no CAPTCHA service configured")
	}
	return s.Captcha.Solve(ctx, id, answer)
}

// CaptchaStore keeps live CAPTCHA challenges in the database (ids and expiry times only), so
// every node behind a load balancer can check a challenge another node issued.
type CaptchaStore struct {
	DB *gorm.DB
	// Capacity bounds the live challenges; zero means captcha.DefaultMemoryCapacity × 10.
	Capacity int
	Now      func() time.Time
}

var _ captcha.Store = (*CaptchaStore)(nil)

type captchaRow struct {
	ID        string `gorm:"primaryKey"`
	ExpiresAt time.Time
}

func (captchaRow) TableName() string { return "captcha_challenges" }

// Create records a challenge after dropping expired ones; ErrFull at capacity.
func (c *CaptchaStore) Create(ctx context.Context, id string, expiresAt time.Time) error {
	db := c.DB.WithContext(ctx)
	if err := db.Where("expires_at <= ?", c.Now().UTC()).Delete(&captchaRow{}).Error; err != nil {
		return err
	}
	capacity := c.Capacity
	if capacity <= 0 {
		capacity = 10 * captcha.DefaultMemoryCapacity
	}
	var n int64
	if err := db.Model(&captchaRow{}).Count(&n).Error; err != nil {
		return err
	}
	if n >= int64(capacity) {
		return captcha.ErrFull
	}
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&captchaRow{ID: id, ExpiresAt: expiresAt.UTC()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return captcha.ErrExists
	}
	return nil
}

// Lookup returns a challenge's expiry.
func (c *CaptchaStore) Lookup(ctx context.Context, id string) (time.Time, error) {
	var row captchaRow
	err := c.DB.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return time.Time{}, captcha.ErrNotFound
	}
	return row.ExpiresAt, err
}

// Consume removes a challenge and returns its expiry; of two concurrent calls one wins.
func (c *CaptchaStore) Consume(ctx context.Context, id string) (time.Time, error) {
	exp, err := c.Lookup(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	res := c.DB.WithContext(ctx).Where("id = ?", id).Delete(&captchaRow{})
	if res.Error != nil {
		return time.Time{}, res.Error
	}
	if res.RowsAffected != 1 {
		return time.Time{}, captcha.ErrNotFound
	}
	return exp, nil
}

type authKeyRow struct {
	Name      string `gorm:"primaryKey"`
	KeyBytes  []byte
	CreatedAt time.Time
}

func (authKeyRow) TableName() string { return "auth_keys" }

// SharedKey returns the installation-wide key called name, creating it from r on first use, so
// every node derives the same values from it. It holds the CAPTCHA answer key: a key whose
// disclosure lets someone solve CAPTCHAs and nothing more, so it lives in the database rather
// than the key provider.
func SharedKey(ctx context.Context, db *gorm.DB, name string, r io.Reader, now time.Time) ([]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	fresh := make([]byte, 32)
	if _, err := io.ReadFull(r, fresh); err != nil {
		return nil, fmt.Errorf("shared key %s: %w", name, err)
	}
	if err := db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&authKeyRow{Name: name, KeyBytes: fresh, CreatedAt: now.UTC()}).Error; err != nil {
		return nil, fmt.Errorf("shared key %s: %w", name, err)
	}
	var row authKeyRow
	if err := db.WithContext(ctx).Where("name = ?", name).Take(&row).Error; err != nil {
		return nil, fmt.Errorf("shared key %s: %w", name, err)
	}
	if len(row.KeyBytes) < 32 {
		return nil, fmt.Errorf("shared key %s: stored key is too short", name)
	}
	return row.KeyBytes, nil
}
