// Package nodeauth authenticates calls between the nodes of one Parley installation. A call is
// a body signed with HMAC-SHA-256 under a key derived (HKDF-SHA-256, a label per use) from the
// tenant's node secret, stamped with a time that must lie within a skew of the receiver's clock
// and a nonce the receiver accepts once. The secure card form (compliance/secureform) and
// co-browsing (app/cobrowse) share it, each under labels of its own, so a signature made for
// one can never be replayed against the other.
package nodeauth

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Keys gives the secret the nodes of an installation share for a tenant: at least 32 bytes, the
// same on every node.
type Keys interface {
	PeerKey(ctx context.Context, tenantID string) ([]byte, error)
}

// ErrAuth means a node-to-node call failed authentication: no key, a bad signature, a time
// outside the skew, a malformed or replayed nonce.
var ErrAuth = errors.New("nodeauth: node request not authenticated")

// DefaultMaxSkew is how far a call's time may be from the receiver's clock.
const DefaultMaxSkew = 30 * time.Second

// maxNonces bounds the replay cache of a Replay.
const maxNonces = 1 << 16

// Derive returns the 32-byte key labelled label, derived from tenantID's node secret.
func Derive(ctx context.Context, keys Keys, tenantID, label string) ([]byte, error) {
	if keys == nil || tenantID == "" {
		return nil, ErrAuth
	}
	secret, err := keys.PeerKey(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuth, err)
	}
	if len(secret) < 32 {
		return nil, fmt.Errorf("%w: node secret too short", ErrAuth)
	}
	return hkdf.Key(sha256.New, secret, nil, label, 32)
}

// Signature returns the signature of body under key in domain: "v1=" and 64 hex digits.
func Signature(key []byte, domain string, body []byte) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(domain + "\n"))
	h.Write(body)
	return "v1=" + hex.EncodeToString(h.Sum(nil))
}

// Check reports, in constant time, whether sig is body's signature under key in domain.
func Check(key []byte, domain string, body []byte, sig string) bool {
	return hmac.Equal([]byte(sig), []byte(Signature(key, domain, body)))
}

// NewNonce returns 128 random bits from r as 32 hex digits.
func NewNonce(r io.Reader) (string, error) {
	var n [16]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(n[:]), nil
}

// Replay admits each (scope, nonce) once, for calls whose time lies within a skew of now. The
// zero value is ready to use.
type Replay struct {
	mu     sync.Mutex
	nonces map[string]time.Time
}

// Admit checks a call's time (Unix seconds) against now, within maxSkew (zero means
// DefaultMaxSkew), and remembers its nonce under scope (a tenant id): a stale or future time, a
// nonce that is not 32 hex digits or one already seen wraps ErrAuth.
func (r *Replay) Admit(now time.Time, maxSkew time.Duration, unix int64, scope, nonce string) error {
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	at := time.Unix(unix, 0)
	if at.Before(now.Add(-maxSkew)) || at.After(now.Add(maxSkew)) {
		return fmt.Errorf("%w: request time outside the allowed skew", ErrAuth)
	}
	if len(nonce) != 32 {
		return fmt.Errorf("%w: malformed nonce", ErrAuth)
	}
	if _, err := hex.DecodeString(nonce); err != nil {
		return fmt.Errorf("%w: malformed nonce", ErrAuth)
	}
	key := scope + "/" + nonce
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.nonces == nil {
		r.nonces = map[string]time.Time{}
	}
	if _, seen := r.nonces[key]; seen {
		return fmt.Errorf("%w: replayed request", ErrAuth)
	}
	if len(r.nonces) >= maxNonces {
		for k, until := range r.nonces {
			if now.After(until) {
				delete(r.nonces, k)
			}
		}
		if len(r.nonces) >= maxNonces {
			return fmt.Errorf("%w: too many requests in flight", ErrAuth)
		}
	}
	r.nonces[key] = now.Add(2 * maxSkew)
	return nil
}
