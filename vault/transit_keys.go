package vault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/parleyhq/parley/migrations"
)

// tenantKeyType is the transit key type of every tenant key.
const tenantKeyType = "aes256-gcm96"

// KeyName returns the transit key name of a tenant.
func (t *Transit) KeyName(tenantID string) (string, error) {
	if err := validTenantID(tenantID); err != nil {
		return "", err
	}
	return t.prefix + tenantID, nil
}

func (t *Transit) path(parts ...string) string {
	p := t.mount
	for _, s := range parts {
		p += "/" + s
	}
	return p
}

// CreateTenantKey creates the tenant's aes256-gcm96 transit key; an existing key of that type is
// kept as it is.
func (t *Transit) CreateTenantKey(ctx context.Context, tenantID string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	name, err := t.KeyName(tenantID)
	if err != nil {
		return err
	}
	return t.ensureKey(ctx, name, tenantKeyType)
}

// ensureKey creates a transit key of the given type unless it exists, and checks its type.
func (t *Transit) ensureKey(ctx context.Context, name, typ string) error {
	sec, err := t.readKey(ctx, name)
	if err != nil && !errors.Is(err, ErrNoTenantKey) {
		return err
	}
	if sec == nil {
		_, err := t.call(ctx, "create key", func(ctx context.Context) (*api.Secret, error) {
			return t.client.Logical().WriteWithContext(ctx, t.path("keys", name), map[string]any{"type": typ})
		})
		if err != nil {
			return err
		}
		if sec, err = t.readKey(ctx, name); err != nil {
			return err
		}
	}
	if got, _ := sec.Data["type"].(string); got != typ {
		return fmt.Errorf("vault transit key %s has type %q, want %q", name, got, typ)
	}
	return nil
}

// readKey reads a transit key; a missing key is ErrNoTenantKey.
func (t *Transit) readKey(ctx context.Context, name string) (*api.Secret, error) {
	sec, err := t.call(ctx, "read key", func(ctx context.Context) (*api.Secret, error) {
		return t.client.Logical().ReadWithContext(ctx, t.path("keys", name))
	})
	if err != nil {
		return nil, err
	}
	if sec == nil || sec.Data == nil {
		return nil, fmt.Errorf("vault transit key %s: %w", name, ErrNoTenantKey)
	}
	return sec, nil
}

// DeleteTenantKey allows deletion of the tenant's transit key and deletes it with all its versions.
func (t *Transit) DeleteTenantKey(ctx context.Context, tenantID string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	name, err := t.KeyName(tenantID)
	if err != nil {
		return err
	}
	if _, err := t.readKey(ctx, name); err != nil {
		if errors.Is(err, ErrNoTenantKey) {
			return nil
		}
		return err
	}
	if _, err := t.call(ctx, "allow key deletion", func(ctx context.Context) (*api.Secret, error) {
		return t.client.Logical().WriteWithContext(ctx, t.path("keys", name, "config"), map[string]any{"deletion_allowed": true})
	}); err != nil {
		return err
	}
	_, err = t.call(ctx, "delete key", func(ctx context.Context) (*api.Secret, error) {
		return t.client.Logical().DeleteWithContext(ctx, t.path("keys", name))
	})
	return err
}

// GenerateDataKey asks transit/datakey/plaintext for a 256-bit data key.
func (t *Transit) GenerateDataKey(ctx context.Context, tenantID string) (DataKey, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	name, err := t.KeyName(tenantID)
	if err != nil {
		return DataKey{}, err
	}
	sec, err := t.call(ctx, "generate data key", func(ctx context.Context) (*api.Secret, error) {
		return t.client.Logical().WriteWithContext(ctx, t.path("datakey", "plaintext", name), map[string]any{"bits": 256})
	})
	if err != nil {
		return DataKey{}, keyError(err)
	}
	if sec == nil {
		return DataKey{}, fmt.Errorf("vault generate data key: %w: empty answer", ErrUnavailable)
	}
	wrapped, _ := sec.Data["ciphertext"].(string)
	b64, _ := sec.Data["plaintext"].(string)
	key, derr := base64.StdEncoding.DecodeString(b64)
	if derr != nil || len(key) != 32 || wrapped == "" {
		clear(key)
		return DataKey{}, fmt.Errorf("vault generate data key: %w: malformed answer", ErrUnavailable)
	}
	ver, err := WrappedKeyVersion(wrapped)
	if err != nil {
		clear(key)
		return DataKey{}, fmt.Errorf("vault generate data key: %w: malformed answer", ErrUnavailable)
	}
	return DataKey{Plaintext: key, Wrapped: wrapped, KeyVersion: ver}, nil
}

// UnwrapDataKey decrypts a wrapped data key with transit/decrypt.
func (t *Transit) UnwrapDataKey(ctx context.Context, tenantID, wrapped string) ([]byte, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	name, err := t.KeyName(tenantID)
	if err != nil {
		return nil, err
	}
	sec, err := t.call(ctx, "unwrap data key", func(ctx context.Context) (*api.Secret, error) {
		return t.client.Logical().WriteWithContext(ctx, t.path("decrypt", name), map[string]any{"ciphertext": wrapped})
	})
	if err != nil {
		return nil, unwrapError(err)
	}
	if sec == nil {
		return nil, fmt.Errorf("vault unwrap data key: %w: empty answer", ErrUnavailable)
	}
	b64, _ := sec.Data["plaintext"].(string)
	key, derr := base64.StdEncoding.DecodeString(b64)
	if derr != nil || len(key) != 32 {
		clear(key)
		return nil, fmt.Errorf("vault unwrap data key: %w: not a 256-bit data key", ErrUnreadable)
	}
	return key, nil
}

// RewrapDataKeys rewraps data keys with transit/rewrap and batch_input: Vault decrypts and
// re-encrypts them under the latest key version; Parley never sees their plaintext.
func (t *Transit) RewrapDataKeys(ctx context.Context, tenantID string, wrapped []string) ([]RewrapResult, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	name, err := t.KeyName(tenantID)
	if err != nil {
		return nil, err
	}
	if len(wrapped) == 0 {
		return nil, nil
	}
	items := make([]map[string]any, len(wrapped))
	for i, w := range wrapped {
		items[i] = map[string]any{"ciphertext": w}
	}
	sec, err := t.call(ctx, "rewrap data keys", func(ctx context.Context) (*api.Secret, error) {
		return t.client.Logical().WriteWithContext(ctx, t.path("rewrap", name), map[string]any{"batch_input": items})
	})
	if err != nil {
		return nil, keyError(err)
	}
	if sec == nil {
		return nil, fmt.Errorf("vault rewrap data keys: %w: empty answer", ErrUnavailable)
	}
	raw, _ := sec.Data["batch_results"].([]any)
	if len(raw) != len(wrapped) {
		return nil, fmt.Errorf("vault rewrap data keys: %w: %d results for %d keys", ErrUnavailable, len(raw), len(wrapped))
	}
	out := make([]RewrapResult, len(raw))
	for i, r := range raw {
		m, _ := r.(map[string]any)
		if msg, _ := m["error"].(string); msg != "" {
			out[i].Err = fmt.Errorf("%w: vault could not rewrap this data key: %s", ErrUnreadable, truncate(msg))
			continue
		}
		ct, _ := m["ciphertext"].(string)
		ver, err := WrappedKeyVersion(ct)
		if err != nil {
			out[i].Err = fmt.Errorf("%w: vault returned a malformed rewrapped key", ErrUnreadable)
			continue
		}
		out[i] = RewrapResult{Wrapped: ct, KeyVersion: ver}
	}
	return out, nil
}

// RotateTenantKey adds a version to the tenant's transit key.
func (t *Transit) RotateTenantKey(ctx context.Context, tenantID string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	name, err := t.KeyName(tenantID)
	if err != nil {
		return err
	}
	_, err = t.call(ctx, "rotate key", func(ctx context.Context) (*api.Secret, error) {
		return t.client.Logical().WriteWithContext(ctx, t.path("keys", name, "rotate"), nil)
	})
	return keyError(err)
}

// SetMinDecryptionVersion sets the key's min_decryption_version; version must lie between 1 and
// the latest version.
func (t *Transit) SetMinDecryptionVersion(ctx context.Context, tenantID string, version int) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	st, err := t.TenantKeyStatus(ctx, tenantID)
	if err != nil {
		return err
	}
	if version < 1 || version > st.LatestVersion {
		return fmt.Errorf("%w: %d is outside 1..%d", ErrInvalidVersion, version, st.LatestVersion)
	}
	_, err = t.call(ctx, "set min decryption version", func(ctx context.Context) (*api.Secret, error) {
		return t.client.Logical().WriteWithContext(ctx, t.path("keys", st.Name, "config"), map[string]any{"min_decryption_version": version})
	})
	return keyError(err)
}

// TenantKeyStatus reads the tenant's transit key.
func (t *Transit) TenantKeyStatus(ctx context.Context, tenantID string) (KeyStatus, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	name, err := t.KeyName(tenantID)
	if err != nil {
		return KeyStatus{}, err
	}
	sec, err := t.readKey(ctx, name)
	if err != nil {
		return KeyStatus{}, err
	}
	st := KeyStatus{
		Name:                 name,
		LatestVersion:        intOf(sec.Data["latest_version"]),
		MinDecryptionVersion: intOf(sec.Data["min_decryption_version"]),
	}
	st.Type, _ = sec.Data["type"].(string)
	keys, _ := sec.Data["keys"].(map[string]any)
	for v, created := range keys {
		n, err := strconv.Atoi(v)
		if err != nil {
			continue
		}
		kv := KeyVersion{Version: n}
		switch c := created.(type) {
		case json.Number: // symmetric keys: unix seconds
			if s, err := c.Int64(); err == nil {
				kv.CreatedAt = time.Unix(s, 0).UTC()
			}
		case map[string]any: // asymmetric keys: RFC 3339 creation_time
			if s, _ := c["creation_time"].(string); s != "" {
				kv.CreatedAt, _ = time.Parse(time.RFC3339Nano, s)
			}
		}
		st.Versions = append(st.Versions, kv)
	}
	sort.Slice(st.Versions, func(i, j int) bool { return st.Versions[i].Version < st.Versions[j].Version })
	if st.LatestVersion > 1 {
		for _, v := range st.Versions {
			if v.Version == st.LatestVersion {
				st.LastRotation = v.CreatedAt
			}
		}
	}
	return st, nil
}

// keyError maps a missing transit key to ErrNoTenantKey; other errors pass through.
func keyError(err error) error {
	if err == nil {
		return nil
	}
	if hasMessage(err, "key not found") || hasMessage(err, "could not be found") || statusOf(err) == http.StatusNotFound {
		return fmt.Errorf("%w: %w", ErrNoTenantKey, err)
	}
	return err
}

// unwrapError maps Vault's refusal to decrypt a wrapped key (damaged, retired version, deleted
// tenant key) to ErrUnreadable; transient failures stay ErrUnavailable.
func unwrapError(err error) error {
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalidID) {
		return err
	}
	if hasMessage(err, "encryption key not found") {
		return fmt.Errorf("%w: %w: %w", ErrUnreadable, ErrNoTenantKey, err)
	}
	return fmt.Errorf("%w: %w", ErrUnreadable, err)
}

func intOf(v any) int {
	switch n := v.(type) {
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	case float64:
		return int(n)
	case int:
		return n
	}
	return 0
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
