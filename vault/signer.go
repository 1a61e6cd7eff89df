package vault

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// SigningKeys is the Ed25519 signing both providers offer (transit ed25519 keys, or keys in the
// local key file), for the audit log's checkpoints and export bundles.
type SigningKeys interface {
	// EnsureSigningKey creates the signing key keyName unless it exists.
	EnsureSigningKey(ctx context.Context, keyName string) error
	// RotateSigningKey adds a version to keyName.
	RotateSigningKey(ctx context.Context, keyName string) error
	// Sign signs msg with the latest version and returns the signature and the version.
	Sign(ctx context.Context, keyName string, msg []byte) ([]byte, int, error)
	// SignVersion signs msg with one given version.
	SignVersion(ctx context.Context, keyName string, version int, msg []byte) ([]byte, error)
	// PublicKey returns the latest version's public key.
	PublicKey(ctx context.Context, keyName string) (ed25519.PublicKey, error)
	// PublicKeys returns every version's public key.
	PublicKeys(ctx context.Context, keyName string) (map[int]ed25519.PublicKey, error)
}

var (
	_ SigningKeys = (*Transit)(nil)
	_ SigningKeys = (*Local)(nil)
)

// KeySigner signs with one version of a provider's signing key, pinned when it is made, so every
// signature it makes verifies under the one public key it reports, even if the key is rotated
// meanwhile (make a new KeySigner to move to the new version). Its methods match the audit log's
// Signer.
type KeySigner struct {
	keys    SigningKeys
	name    string
	version int
	pub     ed25519.PublicKey
	id      string
}

// NewKeySigner creates the signing key keyName if needed and pins its latest version.
func NewKeySigner(ctx context.Context, keys SigningKeys, keyName string) (*KeySigner, error) {
	if err := keys.EnsureSigningKey(ctx, keyName); err != nil {
		return nil, err
	}
	all, err := keys.PublicKeys(ctx, keyName)
	if err != nil {
		return nil, err
	}
	latest := 0
	for v := range all {
		latest = max(latest, v)
	}
	if latest == 0 {
		return nil, fmt.Errorf("signing key %s: %w: no versions", keyName, ErrSignature)
	}
	pub := all[latest]
	fp := sha256.Sum256(pub)
	return &KeySigner{
		keys: keys, name: keyName, version: latest, pub: pub,
		id: "ed25519:" + hex.EncodeToString(fp[:8]),
	}, nil
}

// KeyID names the pinned key: "ed25519:" and the first 16 hexadecimal digits of the SHA-256 of
// the public key (the same derivation as the audit log's file signer).
func (s *KeySigner) KeyID() string { return s.id }

// KeyName is the provider's name of the signing key.
func (s *KeySigner) KeyName() string { return s.name }

// Version is the pinned key version.
func (s *KeySigner) Version() int { return s.version }

// PublicKey is the pinned version's public key.
func (s *KeySigner) PublicKey() ed25519.PublicKey { return s.pub }

// Sign returns the Ed25519 signature of msg under the pinned version, checked against its public
// key before it is returned.
func (s *KeySigner) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	sig, err := s.keys.SignVersion(ctx, s.name, s.version, msg)
	if err != nil {
		return nil, err
	}
	if !ed25519.Verify(s.pub, msg, sig) {
		return nil, fmt.Errorf("signing key %s v%d: %w: signature does not verify", s.name, s.version, ErrSignature)
	}
	return sig, nil
}
