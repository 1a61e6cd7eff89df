package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Signer signs checkpoints and export manifests with Ed25519. FileSigner keeps the key in a
// file in the data directory; the app wires Vault transit signing (an ed25519 transit key)
// through this interface when Vault is configured.
type Signer interface {
	// KeyID names the key; it is stored with every signature so verifiers can pick the key.
	KeyID() string
	// PublicKey is the key's public half, the one operators publish.
	PublicKey() ed25519.PublicKey
	// Sign returns the 64-byte Ed25519 signature of msg (the message itself, not a digest).
	Sign(ctx context.Context, msg []byte) ([]byte, error)
}

// PublicKey is a verification key trusted for checkpoints and bundles.
type PublicKey struct {
	ID  string
	Key ed25519.PublicKey
}

// Fingerprint is the SHA-256 of the raw public key in hexadecimal, for comparing a bundle's key
// with the published one.
func (k PublicKey) Fingerprint() string {
	s := sha256.Sum256(k.Key)
	return hex.EncodeToString(s[:])
}

// KeyIDFor derives the key id FileSigner uses: "ed25519:" and the first 16 hexadecimal digits
// of the key's fingerprint.
func KeyIDFor(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(s[:8])
}

// KeyRing holds the public keys a verifier trusts, by key id.
type KeyRing map[string]ed25519.PublicKey

// NewKeyRing returns a ring of the given keys; keys of the wrong size are left out.
func NewKeyRing(keys ...PublicKey) KeyRing {
	r := make(KeyRing, len(keys))
	for _, k := range keys {
		if len(k.Key) == ed25519.PublicKeySize {
			r[k.ID] = k.Key
		}
	}
	return r
}

// Verify checks sig over msg under the key named id.
func (r KeyRing) Verify(id string, msg, sig []byte) error {
	k, ok := r[id]
	if !ok {
		return fmt.Errorf("signed by unknown key %q", id)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(k, msg, sig) {
		return errors.New("signature does not verify")
	}
	return nil
}

// signChecked signs msg and checks the result under the signer's own public key, so a
// misbehaving remote signer cannot plant signatures that fail later verification.
func signChecked(ctx context.Context, s Signer, msg []byte) ([]byte, error) {
	sig, err := s.Sign(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSign, err)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(s.PublicKey(), msg, sig) {
		return nil, fmt.Errorf("%w: signature from key %q does not verify", ErrSign, s.KeyID())
	}
	return sig, nil
}

// FileSigner is a Signer whose Ed25519 private key lives in a PKCS#8 PEM file readable only by
// its owner (mode 0600). It is the signer when Vault is not configured; its public half is
// written next to it (FILE.pub) to be published.
type FileSigner struct {
	id   string
	priv ed25519.PrivateKey
}

var _ Signer = (*FileSigner)(nil)

// DefaultKeyFile is the signing key's file name inside PARLEY_DATA_DIR.
const DefaultKeyFile = "audit-signing.key"

// LoadOrCreateFileSigner loads the key at path, or, if there is none, generates one from rnd
// and writes it (0600) and its public half (path + ".pub", 0644).
func LoadOrCreateFileSigner(path string, rnd io.Reader) (*FileSigner, error) {
	s, err := LoadFileSigner(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}
	if rnd == nil {
		return nil, fmt.Errorf("%w: no randomness source to generate a key", ErrKeyFile)
	}
	pub, priv, err := ed25519.GenerateKey(rnd)
	if err != nil {
		return nil, fmt.Errorf("%w: generate key: %w", ErrKeyFile, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("%w: encode key: %w", ErrKeyFile, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("%w: create key folder: %w", ErrKeyFile, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the operator chooses the data directory
	if err != nil {
		return nil, fmt.Errorf("%w: create key file: %w", ErrKeyFile, err)
	}
	werr := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("%w: write key file: %w", ErrKeyFile, err)
	}
	s = &FileSigner{id: KeyIDFor(pub), priv: priv}
	if err := s.WritePublicKey(path + ".pub"); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadFileSigner loads an existing key file. It refuses a file that group or others may read
// or write. A missing file is reported with fs.ErrNotExist in the chain.
func LoadFileSigner(path string) (*FileSigner, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is accessible to group or others (mode %o); chmod 600 it", ErrKeyFile, path, st.Mode().Perm())
	}
	raw, err := os.ReadFile(path) // #nosec G304 -- the operator chooses the data directory
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	block, rest := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: %s is not a PEM PRIVATE KEY", ErrKeyFile, path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not a PKCS#8 key", ErrKeyFile, path)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s does not hold an Ed25519 key", ErrKeyFile, path)
	}
	pub, _ := priv.Public().(ed25519.PublicKey)
	return &FileSigner{id: KeyIDFor(pub), priv: priv}, nil
}

// KeyID implements Signer.
func (s *FileSigner) KeyID() string { return s.id }

// PublicKey implements Signer.
func (s *FileSigner) PublicKey() ed25519.PublicKey {
	pub, _ := s.priv.Public().(ed25519.PublicKey)
	return pub
}

// Sign implements Signer.
func (s *FileSigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	return ed25519.Sign(s.priv, msg), nil
}

// PublicKeyPEM returns the public key as a PEM "PUBLIC KEY" (PKIX) block.
func (s *FileSigner) PublicKeyPEM() []byte { return MarshalPublicKeyPEM(s.PublicKey()) }

// WritePublicKey writes the public key as PEM to path, readable by everyone: it is meant to be
// published.
func (s *FileSigner) WritePublicKey(path string) error {
	// #nosec G306 -- a public key is meant to be read by everyone
	err := os.WriteFile(path, s.PublicKeyPEM(), 0o644)
	if err != nil {
		return fmt.Errorf("%w: write public key: %w", ErrKeyFile, err)
	}
	return nil
}

// MarshalPublicKeyPEM encodes an Ed25519 public key as a PEM "PUBLIC KEY" block.
func MarshalPublicKeyPEM(pub ed25519.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// ParsePublicKeyPEM decodes a PEM "PUBLIC KEY" holding an Ed25519 key. The key's id is
// KeyIDFor(key); pass another id for keys that live elsewhere (a Vault transit key version).
func ParsePublicKeyPEM(b []byte) (PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PUBLIC KEY" {
		return PublicKey{}, fmt.Errorf("%w: not a PEM PUBLIC KEY", ErrKeyFile)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return PublicKey{}, fmt.Errorf("%w: not an Ed25519 public key", ErrKeyFile)
	}
	return PublicKey{ID: KeyIDFor(pub), Key: pub}, nil
}
