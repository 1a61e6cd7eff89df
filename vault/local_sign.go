package vault

import (
	"context"
	"crypto/ed25519"
	"fmt"
)

// EnsureSigningKey adds the Ed25519 signing key keyName to the key file unless it exists.
func (l *Local) EnsureSigningKey(_ context.Context, keyName string) error {
	if err := validKeyName(keyName); err != nil {
		return err
	}
	return l.update(func(r *keyring) error {
		if _, ok := r.Signing[keyName]; ok {
			return nil
		}
		k := &ringKey{Type: signingKeyType, MinDecryption: 1}
		if err := k.addVersion(l.rand, l.now()); err != nil {
			return err
		}
		r.Signing[keyName] = k
		return nil
	})
}

// RotateSigningKey adds a version to the signing key keyName.
func (l *Local) RotateSigningKey(_ context.Context, keyName string) error {
	if err := validKeyName(keyName); err != nil {
		return err
	}
	return l.update(func(r *keyring) error {
		k, ok := r.Signing[keyName]
		if !ok {
			return fmt.Errorf("local key provider: signing key %s: %w", keyName, ErrNoTenantKey)
		}
		return k.addVersion(l.rand, l.now())
	})
}

// Sign signs msg with the latest version of the Ed25519 key keyName and returns the 64-byte
// signature and the version.
func (l *Local) Sign(_ context.Context, keyName string, msg []byte) ([]byte, int, error) {
	k, err := l.signingKey(keyName)
	if err != nil {
		return nil, 0, err
	}
	defer k.wipe()
	priv := ed25519.NewKeyFromSeed(k.Versions[k.Latest].Key)
	defer clear(priv)
	return ed25519.Sign(priv, msg), k.Latest, nil
}

// SignVersion signs msg with the given version of the Ed25519 key keyName.
func (l *Local) SignVersion(_ context.Context, keyName string, version int, msg []byte) ([]byte, error) {
	k, err := l.signingKey(keyName)
	if err != nil {
		return nil, err
	}
	defer k.wipe()
	kv, ok := k.Versions[version]
	if !ok {
		return nil, fmt.Errorf("%w: signing key %s has no version %d", ErrInvalidVersion, keyName, version)
	}
	priv := ed25519.NewKeyFromSeed(kv.Key)
	defer clear(priv)
	return ed25519.Sign(priv, msg), nil
}

// PublicKey returns the public key of the latest version of keyName.
func (l *Local) PublicKey(_ context.Context, keyName string) (ed25519.PublicKey, error) {
	k, err := l.signingKey(keyName)
	if err != nil {
		return nil, err
	}
	defer k.wipe()
	return publicFromSeed(k.Versions[k.Latest].Key), nil
}

// PublicKeys returns the public key of every version of keyName.
func (l *Local) PublicKeys(_ context.Context, keyName string) (map[int]ed25519.PublicKey, error) {
	k, err := l.signingKey(keyName)
	if err != nil {
		return nil, err
	}
	defer k.wipe()
	out := make(map[int]ed25519.PublicKey, len(k.Versions))
	for v, kv := range k.Versions {
		out[v] = publicFromSeed(kv.Key)
	}
	return out, nil
}

// signingKey returns a copy of the signing key keyName, so it can be used without the lock.
func (l *Local) signingKey(keyName string) (*ringKey, error) {
	if err := validKeyName(keyName); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.reload(); err != nil {
		return nil, err
	}
	k, ok := l.ring.Signing[keyName]
	if !ok {
		return nil, fmt.Errorf("local key provider: signing key %s: %w", keyName, ErrNoTenantKey)
	}
	cp := &ringKey{Type: k.Type, Latest: k.Latest, MinDecryption: k.MinDecryption, Versions: make(map[int]ringKeyVersion, len(k.Versions))}
	for v, kv := range k.Versions {
		cp.Versions[v] = ringKeyVersion{Key: append([]byte(nil), kv.Key...), CreatedAt: kv.CreatedAt}
	}
	return cp, nil
}

func publicFromSeed(seed []byte) ed25519.PublicKey {
	priv := ed25519.NewKeyFromSeed(seed)
	defer clear(priv)
	return append(ed25519.PublicKey(nil), priv.Public().(ed25519.PublicKey)...)
}
