package vault

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLocalKeyFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	l, err := OpenLocal(LocalConfig{DataDir: dir})
	if err != nil {
		t.Fatalf("OpenLocal on a new directory: %v", err)
	}
	info, err := os.Stat(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode = %#o, want 0600", got)
	}
	if d, err := os.Stat(dir); err != nil || d.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode = %v, %v; want 0700", d.Mode().Perm(), err)
	}
	if l.Production() || l.Kind() != KindLocal {
		t.Errorf("Production/Kind = %v/%s, want false/%s", l.Production(), l.Kind(), KindLocal)
	}
	ctx := ctxT(t)
	if err := l.CreateTenantKey(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(l.Path()); info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode after a write = %#o, want 0600", info.Mode().Perm())
	}
	tests := []struct {
		name string
		mode os.FileMode
		want error
	}{
		{name: "group readable", mode: 0o640, want: ErrInsecureKeyFile},
		{name: "world readable", mode: 0o604, want: ErrInsecureKeyFile},
		{name: "group writable", mode: 0o620, want: ErrInsecureKeyFile},
		{name: "owner read only", mode: 0o400},
		{name: "owner only", mode: 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.Chmod(l.Path(), tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := OpenLocal(LocalConfig{DataDir: dir})
			if !errors.Is(err, tt.want) {
				t.Errorf("OpenLocal with mode %#o = %v, want %v", tt.mode, err, tt.want)
			}
			if err := l.Health(ctx); !errors.Is(err, tt.want) {
				t.Errorf("Health with mode %#o = %v, want %v", tt.mode, err, tt.want)
			}
			if tt.want != nil {
				if _, err := l.GenerateDataKey(ctx, "acme"); !errors.Is(err, tt.want) {
					t.Errorf("GenerateDataKey with mode %#o = %v, want %v", tt.mode, err, tt.want)
				}
			}
		})
	}
	if err := os.Chmod(l.Path(), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), LocalKeyFile)
	if err := os.Symlink(l.Path(), link); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLocal(LocalConfig{DataDir: filepath.Dir(link)}); !errors.Is(err, ErrInsecureKeyFile) {
		t.Errorf("OpenLocal on a symlinked key file = %v, want ErrInsecureKeyFile", err)
	}
	if err := os.WriteFile(l.Path(), []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLocal(LocalConfig{DataDir: dir}); err == nil {
		t.Error("OpenLocal on a damaged key file succeeded, want an error")
	}
}

func TestLocalWrapping(t *testing.T) {
	ctx := ctxT(t)
	clock := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	l, err := OpenLocal(LocalConfig{DataDir: t.TempDir(), Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"acme", "globex"} {
		if err := l.CreateTenantKey(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	dk, err := l.GenerateDataKey(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(dk.Plaintext) != 32 || dk.KeyVersion != 1 || !strings.HasPrefix(dk.Wrapped, "parley-local:v1:") {
		t.Fatalf("data key = %d bytes, version %d, wrapped %.20q…; want 32 bytes, v1, parley-local:v1:", len(dk.Plaintext), dk.KeyVersion, dk.Wrapped)
	}
	got, err := l.UnwrapDataKey(ctx, "acme", dk.Wrapped)
	if err != nil || !bytes.Equal(got, dk.Plaintext) {
		t.Fatalf("UnwrapDataKey = %v; want the data key back", err)
	}
	if _, err := l.UnwrapDataKey(ctx, "globex", dk.Wrapped); !errors.Is(err, ErrUnreadable) {
		t.Errorf("unwrap under another tenant = %v, want ErrUnreadable", err)
	}
	if _, err := l.UnwrapDataKey(ctx, "nobody", dk.Wrapped); !errors.Is(err, ErrNoTenantKey) {
		t.Errorf("unwrap for a tenant without a key = %v, want ErrNoTenantKey", err)
	}
	for _, bad := range []string{"", "vault:v1:abc", "parley-local:v9:" + dk.Wrapped[len("parley-local:v1:"):], "parley-local:v1:!!!", "parley-local:v1:AAAA"} {
		if _, err := l.UnwrapDataKey(ctx, "acme", bad); !errors.Is(err, ErrUnreadable) {
			t.Errorf("UnwrapDataKey(%.24q) = %v, want ErrUnreadable", bad, err)
		}
	}

	clock = clock.Add(24 * time.Hour)
	if err := l.RotateTenantKey(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	st, err := l.TenantKeyStatus(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if st.LatestVersion != 2 || st.MinDecryptionVersion != 1 || len(st.Versions) != 2 || !st.LastRotation.Equal(clock) {
		t.Errorf("status = %+v, want latest 2, min 1, rotated at %s", st, clock)
	}
	res, err := l.RewrapDataKeys(ctx, "acme", []string{dk.Wrapped, "garbage"})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[0].KeyVersion != 2 || !strings.HasPrefix(res[0].Wrapped, "parley-local:v2:") {
		t.Errorf("rewrap result = %+v, want a v2 key", res[0])
	}
	if !errors.Is(res[1].Err, ErrUnreadable) {
		t.Errorf("rewrap of garbage = %+v, want ErrUnreadable", res[1])
	}
	if got, err := l.UnwrapDataKey(ctx, "acme", res[0].Wrapped); err != nil || !bytes.Equal(got, dk.Plaintext) {
		t.Errorf("unwrap after rewrap = %v; want the same data key", err)
	}
	if err := l.SetMinDecryptionVersion(ctx, "acme", 2); err != nil {
		t.Fatal(err)
	}
	if _, err := l.UnwrapDataKey(ctx, "acme", dk.Wrapped); !errors.Is(err, ErrUnreadable) {
		t.Errorf("unwrap of a v1 key after min version 2 = %v, want ErrUnreadable", err)
	}
	for _, v := range []int{0, 3} {
		if err := l.SetMinDecryptionVersion(ctx, "acme", v); !errors.Is(err, ErrInvalidVersion) {
			t.Errorf("SetMinDecryptionVersion(%d) = %v, want ErrInvalidVersion", v, err)
		}
	}

	// A second process (the CLI) sees the server's rotation and vice versa.
	other, err := OpenLocal(LocalConfig{DataDir: filepath.Dir(l.Path())})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.RotateTenantKey(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	dk3, err := l.GenerateDataKey(ctx, "acme")
	if err != nil || dk3.KeyVersion != 3 {
		t.Errorf("GenerateDataKey after another process rotated = v%d, %v; want v3", dk3.KeyVersion, err)
	}
	if err := l.DeleteTenantKey(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.UnwrapDataKey(ctx, "acme", dk3.Wrapped); !errors.Is(err, ErrUnreadable) {
		t.Errorf("unwrap after the tenant key was deleted = %v, want ErrUnreadable", err)
	}
	raw, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `"acme"`) {
		t.Error("deleted tenant key still in the key file")
	}
}

func TestWrappedKeyVersion(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{in: "vault:v1:abc", want: 1, ok: true},
		{in: "vault:v12:abc", want: 12, ok: true},
		{in: "parley-local:v3:QUJD", want: 3, ok: true},
		{in: "vault:v0:abc"},
		{in: "vault:v01:abc"},
		{in: "vault:v+1:abc"},
		{in: "vault:v-1:abc"},
		{in: "vault:1:abc"},
		{in: "vault:v1:"},
		{in: "vault:v1"},
		{in: ":v1:abc"},
		{in: ""},
		{in: "vault:v99999999999999999999:abc"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := WrappedKeyVersion(tt.in)
			if tt.ok && (err != nil || got != tt.want) {
				t.Errorf("WrappedKeyVersion(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
			if !tt.ok && !errors.Is(err, ErrUnreadable) {
				t.Errorf("WrappedKeyVersion(%q) = %d, %v; want ErrUnreadable", tt.in, got, err)
			}
		})
	}
}

func FuzzWrappedKeyVersion(f *testing.F) {
	for _, s := range []string{"vault:v1:abc", "parley-local:v2:QUJD", "vault:v0:x", "::", "v1:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := WrappedKeyVersion(s)
		if err == nil && v < 1 {
			t.Fatalf("WrappedKeyVersion(%q) = %d without error", s, v)
		}
		if err != nil && !errors.Is(err, ErrUnreadable) {
			t.Fatalf("WrappedKeyVersion(%q) error %v does not wrap ErrUnreadable", s, err)
		}
	})
}
