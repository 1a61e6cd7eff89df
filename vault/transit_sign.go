package vault

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/api"
)

// signingKeyType is the transit key type of signing keys.
const signingKeyType = "ed25519"

// ErrSignature means a signature or a public key answered by the provider is malformed.
var ErrSignature = errors.New("malformed signature or public key")

// validKeyName checks a signing key name: 1–128 characters of [A-Za-z0-9_-].
func validKeyName(name string) error {
	if err := validTenantID(name); err != nil {
		return fmt.Errorf("%w: key name must be 1 to %d letters, digits, '-' or '_'", ErrInvalidID, maxIDLen)
	}
	return nil
}

// EnsureSigningKey creates the ed25519 transit key keyName unless it exists.
func (t *Transit) EnsureSigningKey(ctx context.Context, keyName string) error {
	if err := validKeyName(keyName); err != nil {
		return err
	}
	return t.ensureKey(ctx, keyName, signingKeyType)
}

// Sign signs msg with the latest version of the ed25519 transit key keyName (plain Ed25519 over
// the message: transit does not hash ed25519 input, and prehashed Ed25519ph is not used). It
// returns the raw 64-byte signature, with Vault's "vault:vN:" prefix removed, and N.
func (t *Transit) Sign(ctx context.Context, keyName string, msg []byte) ([]byte, int, error) {
	return t.sign(ctx, keyName, 0, msg)
}

// SignVersion signs msg with the given version of the ed25519 transit key keyName.
func (t *Transit) SignVersion(ctx context.Context, keyName string, version int, msg []byte) ([]byte, error) {
	if version < 1 {
		return nil, fmt.Errorf("%w: signing key version %d", ErrInvalidVersion, version)
	}
	sig, _, err := t.sign(ctx, keyName, version, msg)
	return sig, err
}

func (t *Transit) sign(ctx context.Context, keyName string, version int, msg []byte) ([]byte, int, error) {
	if err := validKeyName(keyName); err != nil {
		return nil, 0, err
	}
	body := map[string]any{"input": base64.StdEncoding.EncodeToString(msg)}
	if version > 0 {
		body["key_version"] = version
	}
	sec, err := t.call(ctx, "sign", func(ctx context.Context) (*api.Secret, error) {
		return t.client.Logical().WriteWithContext(ctx, t.path("sign", keyName), body)
	})
	if err != nil {
		return nil, 0, keyError(err)
	}
	if sec == nil {
		return nil, 0, fmt.Errorf("vault sign: %w: empty answer", ErrUnavailable)
	}
	s, _ := sec.Data["signature"].(string)
	sig, v, err := parseVaultSignature(s)
	if err != nil {
		return nil, 0, err
	}
	if version > 0 && v != version {
		return nil, 0, fmt.Errorf("vault sign: %w: signed with version %d, asked for %d", ErrSignature, v, version)
	}
	return sig, v, nil
}

// parseVaultSignature splits "vault:v<N>:<base64 signature>".
func parseVaultSignature(s string) ([]byte, int, error) {
	ver, err := WrappedKeyVersion(s)
	if err != nil || !strings.HasPrefix(s, "vault:") {
		return nil, 0, fmt.Errorf("vault sign: %w", ErrSignature)
	}
	b64 := s[strings.LastIndexByte(s, ':')+1:]
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, 0, fmt.Errorf("vault sign: %w", ErrSignature)
	}
	return sig, ver, nil
}

// PublicKey returns the public key of the latest version of the ed25519 transit key keyName.
func (t *Transit) PublicKey(ctx context.Context, keyName string) (ed25519.PublicKey, error) {
	keys, latest, err := t.publicKeys(ctx, keyName)
	if err != nil {
		return nil, err
	}
	pk, ok := keys[latest]
	if !ok {
		return nil, fmt.Errorf("vault public key: %w: latest version missing", ErrSignature)
	}
	return pk, nil
}

// PublicKeys returns the public key of every version of the ed25519 transit key keyName still
// held, so signatures made before a rotation can be verified.
func (t *Transit) PublicKeys(ctx context.Context, keyName string) (map[int]ed25519.PublicKey, error) {
	keys, _, err := t.publicKeys(ctx, keyName)
	return keys, err
}

func (t *Transit) publicKeys(ctx context.Context, keyName string) (map[int]ed25519.PublicKey, int, error) {
	if err := validKeyName(keyName); err != nil {
		return nil, 0, err
	}
	sec, err := t.readKey(ctx, keyName)
	if err != nil {
		return nil, 0, err
	}
	if typ, _ := sec.Data["type"].(string); typ != signingKeyType {
		return nil, 0, fmt.Errorf("vault transit key %s has type %q, want %q", keyName, typ, signingKeyType)
	}
	raw, _ := sec.Data["keys"].(map[string]any)
	out := make(map[int]ed25519.PublicKey, len(raw))
	for v, entry := range raw {
		n, err := strconv.Atoi(v)
		if err != nil {
			continue
		}
		m, _ := entry.(map[string]any)
		b64, _ := m["public_key"].(string)
		pk, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(pk) != ed25519.PublicKeySize {
			return nil, 0, fmt.Errorf("vault public key: %w", ErrSignature)
		}
		out[n] = ed25519.PublicKey(pk)
	}
	return out, intOf(sec.Data["latest_version"]), nil
}

// RotateSigningKey adds a version to the ed25519 transit key keyName.
func (t *Transit) RotateSigningKey(ctx context.Context, keyName string) error {
	if err := validKeyName(keyName); err != nil {
		return err
	}
	_, err := t.call(ctx, "rotate signing key", func(ctx context.Context) (*api.Secret, error) {
		return t.client.Logical().WriteWithContext(ctx, t.path("keys", keyName, "rotate"), nil)
	})
	return keyError(err)
}
