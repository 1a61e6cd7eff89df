package vault

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/vault/vaulttest"
)

// auditSigner is the shape of the audit log's Signer, which KeySigner serves.
type auditSigner interface {
	KeyID() string
	PublicKey() ed25519.PublicKey
	Sign(ctx context.Context, msg []byte) ([]byte, error)
}

var _ auditSigner = (*KeySigner)(nil)

func TestSigning(t *testing.T) {
	cases := []struct {
		name string
		open func(t *testing.T) SigningKeys
	}{
		{name: "local", open: func(t *testing.T) SigningKeys { return newLocal(t) }},
		{name: "transit", open: func(t *testing.T) SigningKeys { return newTransit(t, vaulttest.Require(t), nil) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t)
			s := tc.open(t)
			name := vaulttest.Name("parley-audit-")
			if _, _, err := s.Sign(ctx, name, []byte("x")); !errors.Is(err, ErrNoTenantKey) {
				t.Errorf("Sign with a missing key = %v, want ErrNoTenantKey", err)
			}
			for range 2 {
				if err := s.EnsureSigningKey(ctx, name); err != nil {
					t.Fatalf("EnsureSigningKey: %v", err)
				}
			}
			msg := []byte("checkpoint tenant=acme seq=42 hash=9f86d081884c7d65")
			sig1, v1, err := s.Sign(ctx, name, msg)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			pub1, err := s.PublicKey(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if v1 != 1 || !ed25519.Verify(pub1, msg, sig1) {
				t.Fatalf("signature version %d does not verify with the public key; want v1 and a valid signature", v1)
			}
			if ed25519.Verify(pub1, append(msg, '!'), sig1) {
				t.Error("signature verifies for another message")
			}
			pinned, err := NewKeySigner(ctx, s, name)
			if err != nil {
				t.Fatal(err)
			}
			if pinned.Version() != 1 || !pinned.PublicKey().Equal(pub1) || !strings.HasPrefix(pinned.KeyID(), "ed25519:") || len(pinned.KeyID()) != len("ed25519:")+16 {
				t.Fatalf("KeySigner = v%d, id %q; want v1 with the key's public half and an ed25519: id", pinned.Version(), pinned.KeyID())
			}
			if err := s.RotateSigningKey(ctx, name); err != nil {
				t.Fatal(err)
			}
			// The pinned signer keeps signing with version 1 after the rotation.
			psig, err := pinned.Sign(ctx, msg)
			if err != nil || !ed25519.Verify(pub1, msg, psig) {
				t.Errorf("pinned KeySigner after rotation: %v; want a version-1 signature", err)
			}
			next, err := NewKeySigner(ctx, s, name)
			if err != nil {
				t.Fatal(err)
			}
			if next.Version() != 2 || next.KeyID() == pinned.KeyID() {
				t.Errorf("new KeySigner = v%d, id %q; want v2 with a new id", next.Version(), next.KeyID())
			}
			if _, err := s.SignVersion(ctx, name, 7, msg); err == nil {
				t.Error("SignVersion with a missing version succeeded, want an error")
			}
			sig2, v2, err := s.Sign(ctx, name, msg)
			if err != nil {
				t.Fatal(err)
			}
			keys, err := s.PublicKeys(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if v2 != 2 || len(keys) != 2 {
				t.Fatalf("after rotation: version %d, %d public keys; want 2 and 2", v2, len(keys))
			}
			if !ed25519.Verify(keys[1], msg, sig1) || !ed25519.Verify(keys[2], msg, sig2) || ed25519.Verify(keys[2], msg, sig1) {
				t.Error("signatures do not verify with exactly their own version's key")
			}
			if pub, _ := s.PublicKey(ctx, name); !pub.Equal(keys[2]) {
				t.Error("PublicKey is not the latest version's key")
			}
			if _, _, err := s.Sign(ctx, "bad/name", msg); !errors.Is(err, ErrInvalidID) {
				t.Errorf("Sign with an invalid key name = %v, want ErrInvalidID", err)
			}
		})
	}
}

func TestParseVaultSignature(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{name: "valid", in: "vault:v2:" + b64(make([]byte, 64)), ok: true},
		{name: "short signature", in: "vault:v1:" + b64(make([]byte, 63))},
		{name: "not base64", in: "vault:v1:@@@"},
		{name: "other prefix", in: "local:v1:" + b64(make([]byte, 64))},
		{name: "no version", in: "vault::" + b64(make([]byte, 64))},
		{name: "empty", in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, v, err := parseVaultSignature(tt.in)
			if tt.ok && (err != nil || len(sig) != 64 || v != 2) {
				t.Errorf("parseVaultSignature = %d bytes, v%d, %v; want 64 bytes, v2", len(sig), v, err)
			}
			if !tt.ok && !errors.Is(err, ErrSignature) {
				t.Errorf("parseVaultSignature = %v, want ErrSignature", err)
			}
		})
	}
}
