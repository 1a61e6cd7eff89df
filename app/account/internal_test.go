package account

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/parleyhq/parley/app/account/totp"
)

func TestIPKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::ffff", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"", "unknown"},
		{"not an address", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ipKey(tt.in); got != tt.want {
				t.Errorf("ipKey(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsTOTPShape(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"123456", true},
		{"123 456", true},
		{" 123456 ", true},
		{"12345", false},
		{"1234567", false},
		{"7f3k-q9zr-m2xa", false},
		{"12345a", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := isTOTPShape(tt.in); got != tt.want {
				t.Errorf("isTOTPShape(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestMFAKeysRoundTrip(t *testing.T) {
	k := mfaKeys{secret: totp.Secret(bytes.Repeat([]byte{7}, totp.SecretSize)), recoveryKey: bytes.Repeat([]byte{9}, recoveryKeyLen)}
	got, err := parseMFAKeys(k.marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.secret, k.secret) || !bytes.Equal(got.recoveryKey, k.recoveryKey) {
		t.Fatalf("round trip changed the keys")
	}
	for _, bad := range [][]byte{nil, {1}, append([]byte{2}, bytes.Repeat([]byte{0}, 60)...), k.marshal()[:1+recoveryKeyLen+totp.MinSecretSize-1]} {
		if _, err := parseMFAKeys(bad); err == nil {
			t.Errorf("parseMFAKeys(%d bytes, version %v) accepted", len(bad), bad)
		}
	}
}

func FuzzParseMFAKeys(f *testing.F) {
	f.Add(mfaKeys{secret: make(totp.Secret, totp.SecretSize), recoveryKey: make([]byte, recoveryKeyLen)}.marshal())
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := parseMFAKeys(b)
		if err != nil {
			return
		}
		if len(k.secret) < totp.MinSecretSize || len(k.recoveryKey) != recoveryKeyLen {
			t.Fatalf("accepted keys of %d and %d bytes", len(k.secret), len(k.recoveryKey))
		}
		if !bytes.Equal(k.marshal(), b) {
			t.Fatalf("marshal(parse(b)) != b")
		}
	})
}

func TestTokens(t *testing.T) {
	tok, err := newToken(bytes.NewReader(bytes.Repeat([]byte{1}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 43 || !validTokenShape(tok) {
		t.Fatalf("token %q: %d characters, valid shape %v", tok, len(tok), validTokenShape(tok))
	}
	if _, err := newToken(iotest.ErrReader(iotest.ErrTimeout)); err == nil {
		t.Error("a failing random source gave a token")
	}
	for _, bad := range []string{"", "short", strings.Repeat("a", 44), strings.Repeat("+", 43), strings.Repeat("a", 42) + "="} {
		if validTokenShape(bad) {
			t.Errorf("validTokenShape(%q) = true", bad)
		}
	}
	if HashToken(tok) == tok || len(HashToken(tok)) != 64 {
		t.Errorf("HashToken = %q", HashToken(tok))
	}
	other, _ := newToken(bytes.NewReader(bytes.Repeat([]byte{2}, 64)))
	csrf := CSRFToken(tok)
	switch {
	case !CheckCSRF(tok, csrf):
		t.Error("a session's own CSRF token is refused")
	case CheckCSRF(other, csrf):
		t.Error("another session's CSRF token is accepted")
	case CheckCSRF(tok, ""), CheckCSRF("", CSRFToken("")):
		t.Error("an empty token is accepted")
	case csrf == CSRFToken(other):
		t.Error("two sessions share a CSRF token")
	}
}

func TestPickUsesWholeSet(t *testing.T) {
	const set = "abc"
	seen := map[byte]bool{}
	r := bytes.NewReader([]byte{0, 1, 2, 255, 254, 253, 3, 4, 5})
	for range 6 {
		c, err := pick(r, set)
		if err != nil {
			t.Fatal(err)
		}
		seen[c] = true
	}
	if len(seen) != 3 {
		t.Errorf("picked %v, want every symbol of %q", seen, set)
	}
	// 255 is above the largest multiple of 3 below 256 and must be skipped, not folded.
	c, err := pick(bytes.NewReader([]byte{255, 1}), set)
	if err != nil || c != 'b' {
		t.Errorf("pick after a rejected byte = %q, %v; want 'b'", c, err)
	}
}

func TestIdentityOf(t *testing.T) {
	ctx := context.Background()
	key := bytes.Repeat([]byte{7}, 32)
	s := &Service{IdentityKey: func(context.Context, string) ([]byte, error) { return key, nil }}
	got, err := s.identityOf(ctx, "  Acme-Bank ", " Owner@ACME.test ")
	if err != nil {
		t.Fatal(err)
	}
	if got.tenant != "acme-bank" || got.email != "owner@acme.test" {
		t.Errorf("identityOf = %+v", got)
	}
	same, _ := s.identityOf(ctx, "acme-bank", "owner@acme.test")
	if same.tenantKey != got.tenantKey || same.emailKey != got.emailKey || len(got.tenantKey) != 64 || len(got.emailKey) != 64 {
		t.Errorf("keys %q %q, want the same 64-hex keys for the normalised identity (%q %q)", got.tenantKey, got.emailKey, same.tenantKey, same.emailKey)
	}
	if strings.Contains(got.tenantKey+got.emailKey, "acme") {
		t.Errorf("keys carry the typed text: %q %q", got.tenantKey, got.emailKey)
	}
	other, _ := s.identityOf(ctx, "other-bank", "owner@acme.test")
	if other.emailKey == got.emailKey || other.tenantKey == got.tenantKey {
		t.Error("the e-mail key does not depend on the organisation")
	}
	key2 := bytes.Repeat([]byte{8}, 32)
	s2 := &Service{IdentityKey: func(context.Context, string) ([]byte, error) { return key2, nil }}
	if k2, _ := s2.identityOf(ctx, "acme-bank", "owner@acme.test"); k2.emailKey == got.emailKey {
		t.Error("the keys do not depend on the installation key")
	}
	if _, err := (&Service{}).identityOf(ctx, "acme-bank", "x"); !errors.Is(err, ErrIdentityKey) {
		t.Errorf("without a key: %v, want ErrIdentityKey", err)
	}
	failing := &Service{IdentityKey: func(context.Context, string) ([]byte, error) { return nil, errors.New("vault down") }}
	if _, err := failing.identityOf(ctx, "acme-bank", "x"); !errors.Is(err, ErrIdentityKey) {
		t.Errorf("key provider down: %v, want ErrIdentityKey", err)
	}
}

func TestSplitRoles(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"owner", []string{"owner"}},
		{"supervisor,agent,supervisor", []string{"agent", "supervisor"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := splitRoles(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("splitRoles(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestListsFor(t *testing.T) {
	sec := &tenantSecurity{lists: []Allowlist{{Role: ""}, {Role: "agent"}, {Role: "supervisor"}}}
	roles := func(ls []Allowlist) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.Role)
		}
		return out
	}
	if got := roles(sec.listsFor([]string{"agent"})); !slices.Equal(got, []string{"", "agent"}) {
		t.Errorf("lists for an agent = %q, want the tenant's and the agents'", got)
	}
	if got := roles(sec.listsFor(nil)); !slices.Equal(got, []string{""}) {
		t.Errorf("lists for no role = %q, want the tenant's", got)
	}
}
