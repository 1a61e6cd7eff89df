// Package setup replaces default credentials with a one-time setup link: on an empty installation
// `parley serve` prints a link (single use, valid one hour) whose page creates the first tenant
// and its owner. The link's token is stored only as a SHA-256 hash.
package setup

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
)

// TokenTTL is how long a setup link works.
const TokenTTL = time.Hour

// Errors the service returns.
var (
	// ErrInvalidToken covers unknown, used and expired links alike.
	ErrInvalidToken = errors.New("setup link is invalid, used or expired")
	// ErrAlreadySetUp means a tenant exists; the setup flow is closed.
	ErrAlreadySetUp = errors.New("parley is already set up")
	// ErrPasswordMismatch means the two password fields differ.
	ErrPasswordMismatch = errors.New("the two passwords differ")
)

// Token is a stored setup token.
type Token struct {
	ID        string `gorm:"primaryKey"`
	TokenHash string
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// TableName maps Token to setup_tokens.
func (Token) TableName() string { return "setup_tokens" }

// Hooks run inside the setup transaction, so that what they write (the audit record, the tenant's
// encryption key) commits or fails with the tenant itself.
type Hooks struct {
	// TenantCreated runs after the tenant and owner rows are written.
	TenantCreated func(ctx context.Context, tx *gorm.DB, t tenant.Tenant, owner account.User) error
}

// Service issues and redeems setup links.
type Service struct {
	DB       *gorm.DB
	Tenants  *tenant.Store
	Accounts *account.Service
	Hooks    Hooks
	Now      func() time.Time
	Rand     io.Reader
}

// Issue creates a new setup link token when no tenant exists, invalidating earlier unused ones.
// ok is false when the installation is already set up.
func (s *Service) Issue(ctx context.Context) (token string, expires time.Time, ok bool, err error) {
	n, err := s.Tenants.Count(ctx)
	if err != nil || n > 0 {
		return "", time.Time{}, false, err
	}
	var b [32]byte
	if _, err := io.ReadFull(s.Rand, b[:]); err != nil {
		return "", time.Time{}, false, err
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	now := s.Now().UTC()
	expires = now.Add(TokenTTL)
	err = migrations.Transaction(s.DB.WithContext(ctx), func(tx *gorm.DB) error {
		if err := tx.Where("used_at IS NULL").Delete(&Token{}).Error; err != nil {
			return err
		}
		return tx.Create(&Token{ID: uuid.Must(uuid.NewV7()).String(), TokenHash: hashToken(token), ExpiresAt: expires, CreatedAt: now}).Error
	})
	if err != nil {
		return "", time.Time{}, false, err
	}
	return token, expires, true, nil
}

// Valid reports whether token is a usable setup link and when it expires.
func (s *Service) Valid(ctx context.Context, token string) (time.Time, error) {
	if token == "" || len(token) > 128 {
		return time.Time{}, ErrInvalidToken
	}
	var t Token
	err := s.DB.WithContext(ctx).Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", hashToken(token), s.Now().UTC()).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return time.Time{}, ErrInvalidToken
	}
	return t.ExpiresAt, err
}

// Form is what the setup page submits.
type Form struct {
	Token, TenantName, Email, Password, Confirm string
}

// Complete redeems token: in one transaction it consumes the token, creates the tenant and its
// owner and runs the hooks. Any failure leaves nothing behind and the link still usable.
func (s *Service) Complete(ctx context.Context, f Form) (tenant.Tenant, account.User, error) {
	if f.Password != f.Confirm {
		return tenant.Tenant{}, account.User{}, ErrPasswordMismatch
	}
	var (
		t tenant.Tenant
		u account.User
	)
	err := migrations.Transaction(s.DB.WithContext(ctx), func(tx *gorm.DB) error {
		now := s.Now().UTC()
		res := tx.Model(&Token{}).
			Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", hashToken(f.Token), now).
			Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrInvalidToken
		}
		tenants := s.Tenants.WithTx(tx)
		n, err := tenants.Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return ErrAlreadySetUp
		}
		if t, err = tenants.CreateTenant(ctx, f.TenantName); err != nil {
			return err
		}
		u, err = s.Accounts.CreateUser(ctx, tx, account.NewUser{
			TenantID: t.ID, TenantName: t.Name, Email: f.Email, Password: f.Password, Role: "owner",
		})
		if err != nil {
			return err
		}
		if s.Hooks.TenantCreated != nil {
			return s.Hooks.TenantCreated(ctx, tx, t, u)
		}
		return nil
	})
	if err != nil {
		return tenant.Tenant{}, account.User{}, err
	}
	return t, u, nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
