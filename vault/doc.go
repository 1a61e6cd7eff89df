// Package vault owns Parley's keys and transcript encryption: the key providers (HashiCorp Vault
// transit for production, a local key file for development), envelope encryption of the sensitive
// fields of a conversation with one data key per conversation, the store of wrapped data keys,
// key rotation and rewrap, crypto-shredding, and Ed25519 signing for the audit log's checkpoints.
//
// Only the wrapped form of a data key is ever stored; the plaintext data key lives in a bounded,
// expiring in-memory cache. Every failure of the key provider fails closed: nothing is sealed,
// stored or returned in plaintext, and the error wraps ErrUnavailable so callers can refuse the
// operation with a retryable error.
package vault

import "errors"

// Errors returned by the key providers, the envelope and the key tools. Callers branch with
// errors.Is; the error strings never carry key material, plaintext or credentials.
var (
	// ErrUnavailable means the key provider could not be reached or did not answer in time (or
	// refused Parley's credentials after a fresh login). The operation can be retried later; nothing
	// was stored.
	ErrUnavailable = errors.New("key provider unavailable")
	// ErrDenied means the key provider refused Parley's credentials even after logging in again.
	// Errors wrapping ErrDenied also wrap ErrUnavailable.
	ErrDenied = errors.New("key provider denied access")
	// ErrUnreadable means a scope's data is unreadable: its wrapped data key is damaged, was wrapped
	// under a retired key version, or belongs to a deleted tenant key. Other scopes are unaffected.
	ErrUnreadable = errors.New("encrypted data is unreadable")
	// ErrShredded means the scope was crypto-shredded: its data key is gone for good. Errors
	// wrapping ErrShredded also wrap ErrUnreadable.
	ErrShredded = errors.New("scope was crypto-shredded")
	// ErrMismatch means a ciphertext does not authenticate for the tenant, scope, field and
	// sequence number it was presented with: it was moved, altered or forged. Map it to a generic
	// safe error (and an audit event); never show the cause to the client.
	ErrMismatch = errors.New("ciphertext does not match its location")
	// ErrMalformed means a ciphertext is not in a format this version of Parley understands.
	ErrMalformed = errors.New("malformed ciphertext")
	// ErrNoTenantKey means the tenant has no key at the provider (never created, or deleted at
	// offboarding).
	ErrNoTenantKey = errors.New("tenant key not found")
	// ErrInvalidID means a tenant id, scope id, field name, sequence number or key name is not
	// acceptable (empty, too long, negative, or with characters outside the allowed set).
	ErrInvalidID = errors.New("invalid tenant, scope, field or key name")
	// ErrInvalidVersion means a requested key version is out of range (below the current minimum
	// or above the latest version).
	ErrInvalidVersion = errors.New("invalid key version")
	// ErrNotFound means no wrapped data key is stored for the tenant and scope.
	ErrNotFound = errors.New("data key not found")
	// ErrRewrapIncomplete means a rewrap run left some data keys on an older key version (damaged
	// keys, or keys below the minimum decryption version); rerunning after a repair resumes.
	ErrRewrapIncomplete = errors.New("rewrap incomplete")
	// ErrInsecureKeyFile means the local key file is readable or writable by someone other than its
	// owner; the local provider refuses to start.
	ErrInsecureKeyFile = errors.New("local key file permissions are too open")
	// ErrClosed means the envelope was closed.
	ErrClosed = errors.New("envelope closed")
)
