package vault

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Provider kinds reported by KeyProvider.Kind.
const (
	// KindTransit is HashiCorp Vault's transit secrets engine: keys never leave Vault.
	KindTransit = "vault-transit"
	// KindLocal is the development key file. It is not for production: readiness, the console and
	// the evidence report flag it.
	KindLocal = "local-dev"
)

// KeyProvider holds each tenant's key-encryption key and wraps, unwraps and rewraps the data keys
// the envelope uses. Implementations are safe for concurrent use. Errors wrap the package
// sentinels: ErrUnavailable (retryable), ErrUnreadable, ErrNoTenantKey, ErrInvalidID,
// ErrInvalidVersion.
type KeyProvider interface {
	// Kind names the implementation (KindTransit, KindLocal).
	Kind() string
	// Production reports whether the provider is fit for production data.
	Production() bool
	// Health returns nil when the provider answers and accepts Parley's credentials.
	Health(ctx context.Context) error

	// CreateTenantKey creates the tenant's key-encryption key; it is a no-op when it exists.
	CreateTenantKey(ctx context.Context, tenantID string) error
	// DeleteTenantKey destroys the tenant's key-encryption key and every version of it, which makes
	// every data key of the tenant, and so all its encrypted data, unreadable for good. It is a
	// no-op when the key does not exist.
	DeleteTenantKey(ctx context.Context, tenantID string) error

	// GenerateDataKey returns a new 256-bit data key in plaintext and wrapped under the tenant's
	// latest key version. The caller zeroes Plaintext when done.
	GenerateDataKey(ctx context.Context, tenantID string) (DataKey, error)
	// UnwrapDataKey returns the plaintext of a wrapped data key. The caller zeroes it when done.
	UnwrapDataKey(ctx context.Context, tenantID, wrapped string) ([]byte, error)
	// RewrapDataKeys re-encrypts wrapped data keys under the tenant's latest key version without
	// exposing their plaintext to Parley. Results are in input order; an item that cannot be
	// rewrapped carries its own error (wrapping ErrUnreadable) and leaves the others unaffected.
	RewrapDataKeys(ctx context.Context, tenantID string, wrapped []string) ([]RewrapResult, error)

	// RotateTenantKey adds a new version of the tenant's key; new data keys are wrapped under it.
	RotateTenantKey(ctx context.Context, tenantID string) error
	// SetMinDecryptionVersion retires key versions below version: data keys wrapped under them can
	// no longer be unwrapped.
	SetMinDecryptionVersion(ctx context.Context, tenantID string, version int) error
	// TenantKeyStatus describes the tenant's key: its versions and the minimum decryption version.
	TenantKeyStatus(ctx context.Context, tenantID string) (KeyStatus, error)
}

// DataKey is a freshly generated data key.
type DataKey struct {
	// Plaintext is the 32-byte key; never stored, never logged.
	Plaintext []byte
	// Wrapped is the key encrypted under the tenant key, safe to store.
	Wrapped string
	// KeyVersion is the tenant key version that wrapped it.
	KeyVersion int
}

// RewrapResult is the outcome of rewrapping one data key.
type RewrapResult struct {
	// Wrapped is the data key wrapped under KeyVersion; empty when Err is set.
	Wrapped string
	// KeyVersion is the tenant key version that now wraps the data key.
	KeyVersion int
	// Err is set when this data key could not be rewrapped; it wraps ErrUnreadable.
	Err error
}

// KeyStatus describes a tenant's key at the provider.
type KeyStatus struct {
	// Name is the key's name at the provider (e.g. parley-tenant-<id>).
	Name string `json:"name"`
	// Type is the key type (aes256-gcm96).
	Type string `json:"type"`
	// LatestVersion is the version new data keys are wrapped under.
	LatestVersion int `json:"latest_version"`
	// MinDecryptionVersion is the oldest version that can still unwrap.
	MinDecryptionVersion int `json:"min_decryption_version"`
	// Versions lists the versions still held, oldest first.
	Versions []KeyVersion `json:"versions"`
	// LastRotation is when the latest version was created; zero when the key was never rotated.
	LastRotation time.Time `json:"last_rotation,omitzero"`
}

// KeyVersion is one version of a tenant key.
type KeyVersion struct {
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
}

// maxIDLen bounds tenant and scope ids.
const maxIDLen = 128

// validTenantID reports whether id can name a provider key: 1–128 characters of [A-Za-z0-9_-].
func validTenantID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("%w: tenant id must be 1 to %d characters", ErrInvalidID, maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isIDChar(c) {
			return fmt.Errorf("%w: tenant id may only hold letters, digits, '-' and '_'", ErrInvalidID)
		}
	}
	return nil
}

// validScopeID reports whether id can name a scope: 1–128 characters of [A-Za-z0-9_.:-].
func validScopeID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("%w: scope id must be 1 to %d characters", ErrInvalidID, maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isIDChar(c) && c != '.' && c != ':' {
			return fmt.Errorf("%w: scope id may only hold letters, digits, '-', '_', '.' and ':'", ErrInvalidID)
		}
	}
	return nil
}

func isIDChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// WrappedKeyVersion returns the key version a wrapped data key names in its "<prefix>:v<N>:"
// header (Vault's "vault:v3:…" or the local provider's "parley-local:v3:…").
func WrappedKeyVersion(wrapped string) (int, error) {
	prefix, rest, ok := strings.Cut(wrapped, ":")
	if !ok || prefix == "" {
		return 0, fmt.Errorf("%w: wrapped key has no version header", ErrUnreadable)
	}
	ver, body, ok := strings.Cut(rest, ":")
	if !ok || body == "" || len(ver) < 2 || ver[0] != 'v' {
		return 0, fmt.Errorf("%w: wrapped key has no version header", ErrUnreadable)
	}
	n, err := strconv.Atoi(ver[1:])
	if err != nil || n < 1 || ver[1] == '0' || ver[1] == '+' {
		return 0, fmt.Errorf("%w: wrapped key has an invalid version", ErrUnreadable)
	}
	return n, nil
}
