package account

import (
	"context"
	"errors"
	"fmt"
	"github.com/parleyhq/parley/migrations"
)

// SecretSealer encrypts the secrets a user's second factor needs (the TOTP shared secret and the
// key of the recovery codes) before they reach the database, and opens them again. Production
// wires the key provider's envelope encryption (Vault transit); tests use a local key. The scope
// names what is sealed ("mfa:<user id>") and must be bound to the ciphertext, so a sealed value
// copied to another user or tenant does not open. Implementations fail closed: an error, never
// plaintext.
type SecretSealer interface {
	Seal(ctx context.Context, tenantID, scope string, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, tenantID, scope string, ciphertext []byte) ([]byte, error)
}

// ErrNoSealer means the application was assembled without a SecretSealer: enrolling and checking
// a second factor are refused (there is no plaintext fallback).
var ErrNoSealer = errors.New("no key provider configured for MFA secrets")

// ErrSealer wraps every failure of the SecretSealer.
var ErrSealer = errors.New("MFA secret encryption failed")

func mfaScope(userID string) string { return "mfa:" + userID }

func seal(ctx context.Context, s SecretSealer, tenantID, userID string, plaintext []byte) ([]byte, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if s == nil {
		return nil, ErrNoSealer
	}
	out, err := s.Seal(ctx, tenantID, mfaScope(userID), plaintext)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSealer, err)
	}
	return out, nil
}

func unseal(ctx context.Context, s SecretSealer, tenantID, userID string, ciphertext []byte) ([]byte, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if s == nil {
		return nil, ErrNoSealer
	}
	out, err := s.Open(ctx, tenantID, mfaScope(userID), ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSealer, err)
	}
	return out, nil
}
