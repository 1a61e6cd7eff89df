package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// LocalKeyFile is the name of the local provider's key file in the data directory.
const LocalKeyFile = "dev-keys.json"

// localWrapPrefix starts every data key the local provider wraps: "parley-local:v<N>:<base64>".
const localWrapPrefix = "parley-local"

// LocalConfig configures the local development key provider.
type LocalConfig struct {
	// DataDir is Parley's data directory; the key file is DataDir/dev-keys.json.
	DataDir string
	// Rand is the entropy source for keys and nonces; default crypto/rand.
	Rand io.Reader
	// Now is the clock for key creation times; default time.Now.
	Now func() time.Time
}

// Local is the development key provider: each tenant's key-encryption key lives, with all its
// versions, in a 0600 JSON file in the data directory, and data keys are wrapped with AES-256-GCM.
// Anyone who can read the file can read every transcript, so Production reports false.
//
// Several processes (the server and the CLI) may share the file: every change takes an exclusive
// lock on DataDir/dev-keys.json.lock, rereads the file and replaces it atomically, and readers
// reload it when it changed on disk.
type Local struct {
	path  string
	rand  io.Reader
	now   func() time.Time
	mu    sync.Mutex
	ring  *keyring
	stamp fileStamp
}

var _ KeyProvider = (*Local)(nil)

// OpenLocal opens the local key file, creating it (0600, in a 0700 directory) if missing. It
// refuses a file that group or others may read or write (ErrInsecureKeyFile).
func OpenLocal(cfg LocalConfig) (*Local, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("local key provider: data directory is required")
	}
	l := &Local{
		path: filepath.Join(cfg.DataDir, LocalKeyFile),
		rand: cfg.Rand,
		now:  cfg.Now,
	}
	if l.rand == nil {
		l.rand = rand.Reader
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.createIfMissing(); err != nil {
		return nil, err
	}
	if err := l.reload(); err != nil {
		return nil, err
	}
	return l, nil
}

// Path returns the key file's path.
func (l *Local) Path() string { return l.path }

// Kind reports KindLocal.
func (l *Local) Kind() string { return KindLocal }

// Production reports false: the keys sit in a file next to the data they protect.
func (l *Local) Production() bool { return false }

// Health checks that the key file is still there, private and readable.
func (l *Local) Health(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reload()
}

// CreateTenantKey adds the tenant's key (version 1) unless it exists.
func (l *Local) CreateTenantKey(_ context.Context, tenantID string) error {
	if err := validTenantID(tenantID); err != nil {
		return err
	}
	return l.update(func(r *keyring) error {
		if _, ok := r.Tenants[tenantID]; ok {
			return nil
		}
		k := &ringKey{Type: tenantKeyType, MinDecryption: 1}
		if err := k.addVersion(l.rand, l.now()); err != nil {
			return err
		}
		r.Tenants[tenantID] = k
		return nil
	})
}

// DeleteTenantKey removes every version of the tenant's key from the file.
func (l *Local) DeleteTenantKey(_ context.Context, tenantID string) error {
	if err := validTenantID(tenantID); err != nil {
		return err
	}
	return l.update(func(r *keyring) error {
		if k, ok := r.Tenants[tenantID]; ok {
			k.wipe()
			delete(r.Tenants, tenantID)
		}
		return nil
	})
}

// GenerateDataKey draws a 256-bit data key and wraps it under the tenant's latest key version.
func (l *Local) GenerateDataKey(_ context.Context, tenantID string) (DataKey, error) {
	if err := validTenantID(tenantID); err != nil {
		return DataKey{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k, err := l.tenantKey(tenantID)
	if err != nil {
		return DataKey{}, err
	}
	dk := make([]byte, 32)
	if _, err := io.ReadFull(l.rand, dk); err != nil {
		return DataKey{}, fmt.Errorf("local key provider: %w: entropy: %w", ErrUnavailable, err)
	}
	wrapped, err := l.wrap(tenantID, k, dk)
	if err != nil {
		clear(dk)
		return DataKey{}, err
	}
	return DataKey{Plaintext: dk, Wrapped: wrapped, KeyVersion: k.Latest}, nil
}

// UnwrapDataKey decrypts a data key wrapped by this provider.
func (l *Local) UnwrapDataKey(_ context.Context, tenantID, wrapped string) ([]byte, error) {
	if err := validTenantID(tenantID); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k, err := l.tenantKey(tenantID)
	if err != nil {
		if errors.Is(err, ErrNoTenantKey) {
			return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
		}
		return nil, err
	}
	return l.unwrap(tenantID, k, wrapped)
}

// RewrapDataKeys re-encrypts data keys under the tenant's latest key version; keys already on it
// are returned unchanged.
func (l *Local) RewrapDataKeys(_ context.Context, tenantID string, wrapped []string) ([]RewrapResult, error) {
	if err := validTenantID(tenantID); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k, err := l.tenantKey(tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]RewrapResult, len(wrapped))
	for i, w := range wrapped {
		if v, err := WrappedKeyVersion(w); err == nil && v == k.Latest && strings.HasPrefix(w, localWrapPrefix+":") {
			out[i] = RewrapResult{Wrapped: w, KeyVersion: v}
			continue
		}
		dk, err := l.unwrap(tenantID, k, w)
		if err != nil {
			out[i].Err = err
			continue
		}
		nw, err := l.wrap(tenantID, k, dk)
		clear(dk)
		if err != nil {
			return nil, err
		}
		out[i] = RewrapResult{Wrapped: nw, KeyVersion: k.Latest}
	}
	return out, nil
}

// RotateTenantKey adds a new version to the tenant's key.
func (l *Local) RotateTenantKey(_ context.Context, tenantID string) error {
	if err := validTenantID(tenantID); err != nil {
		return err
	}
	return l.update(func(r *keyring) error {
		k, ok := r.Tenants[tenantID]
		if !ok {
			return fmt.Errorf("local key provider: tenant %s: %w", tenantID, ErrNoTenantKey)
		}
		return k.addVersion(l.rand, l.now())
	})
}

// SetMinDecryptionVersion retires the tenant key's versions below version.
func (l *Local) SetMinDecryptionVersion(_ context.Context, tenantID string, version int) error {
	if err := validTenantID(tenantID); err != nil {
		return err
	}
	return l.update(func(r *keyring) error {
		k, ok := r.Tenants[tenantID]
		if !ok {
			return fmt.Errorf("local key provider: tenant %s: %w", tenantID, ErrNoTenantKey)
		}
		if version < 1 || version > k.Latest {
			return fmt.Errorf("%w: %d is outside 1..%d", ErrInvalidVersion, version, k.Latest)
		}
		k.MinDecryption = version
		return nil
	})
}

// TenantKeyStatus describes the tenant's key.
func (l *Local) TenantKeyStatus(_ context.Context, tenantID string) (KeyStatus, error) {
	if err := validTenantID(tenantID); err != nil {
		return KeyStatus{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k, err := l.tenantKey(tenantID)
	if err != nil {
		return KeyStatus{}, err
	}
	st := KeyStatus{
		Name:                 localWrapPrefix + "-tenant-" + tenantID,
		Type:                 k.Type,
		LatestVersion:        k.Latest,
		MinDecryptionVersion: k.MinDecryption,
	}
	for v, kv := range k.Versions {
		st.Versions = append(st.Versions, KeyVersion{Version: v, CreatedAt: kv.CreatedAt})
		if v == k.Latest && v > 1 {
			st.LastRotation = kv.CreatedAt
		}
	}
	sort.Slice(st.Versions, func(i, j int) bool { return st.Versions[i].Version < st.Versions[j].Version })
	return st, nil
}

// tenantKey returns the tenant's key after reloading the file if it changed. l.mu is held.
func (l *Local) tenantKey(tenantID string) (*ringKey, error) {
	if err := l.reload(); err != nil {
		return nil, err
	}
	k, ok := l.ring.Tenants[tenantID]
	if !ok {
		return nil, fmt.Errorf("local key provider: tenant %s: %w", tenantID, ErrNoTenantKey)
	}
	return k, nil
}

// dataKeyAAD binds a wrapped data key to its tenant.
func dataKeyAAD(tenantID string) []byte {
	return []byte("parley-local-data-key/" + tenantID)
}

func (l *Local) wrap(tenantID string, k *ringKey, dk []byte) (string, error) {
	aead, err := newGCM(k.Versions[k.Latest].Key)
	if err != nil {
		return "", fmt.Errorf("local key provider: %w: tenant key damaged", ErrUnavailable)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(dk)+aead.Overhead())
	if _, err := io.ReadFull(l.rand, nonce); err != nil {
		return "", fmt.Errorf("local key provider: %w: entropy: %w", ErrUnavailable, err)
	}
	sealed := aead.Seal(nonce, nonce, dk, dataKeyAAD(tenantID))
	return fmt.Sprintf("%s:v%d:%s", localWrapPrefix, k.Latest, base64.StdEncoding.EncodeToString(sealed)), nil
}

func (l *Local) unwrap(tenantID string, k *ringKey, wrapped string) ([]byte, error) {
	v, err := WrappedKeyVersion(wrapped)
	if err != nil || !strings.HasPrefix(wrapped, localWrapPrefix+":") {
		return nil, fmt.Errorf("local key provider: %w: not a local wrapped key", ErrUnreadable)
	}
	if v < k.MinDecryption {
		return nil, fmt.Errorf("local key provider: %w: key version %d is retired (minimum %d)", ErrUnreadable, v, k.MinDecryption)
	}
	kv, ok := k.Versions[v]
	if !ok {
		return nil, fmt.Errorf("local key provider: %w: unknown key version %d", ErrUnreadable, v)
	}
	raw, err := base64.StdEncoding.DecodeString(wrapped[strings.LastIndexByte(wrapped, ':')+1:])
	if err != nil {
		return nil, fmt.Errorf("local key provider: %w: wrapped key is not base64", ErrUnreadable)
	}
	aead, err := newGCM(kv.Key)
	if err != nil {
		return nil, fmt.Errorf("local key provider: %w: tenant key damaged", ErrUnreadable)
	}
	if len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("local key provider: %w: wrapped key too short", ErrUnreadable)
	}
	dk, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], dataKeyAAD(tenantID))
	if err != nil || len(dk) != 32 {
		clear(dk)
		return nil, fmt.Errorf("local key provider: %w: wrapped key does not authenticate", ErrUnreadable)
	}
	return dk, nil
}

// newGCM returns AES-256-GCM with a 96-bit nonce for a 32-byte key.
func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("key is not 256 bits")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
