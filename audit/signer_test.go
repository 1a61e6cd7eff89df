package audit

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFileSigner(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", DefaultKeyFile)
	if _, err := LoadFileSigner(path); !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, ErrKeyFile) {
		t.Fatalf("got %v, want ErrKeyFile wrapping ErrNotExist", err)
	}
	s, err := LoadOrCreateFileSigner(path, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("got mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	pubPEM, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKeyPEM(pubPEM)
	if err != nil || pub.ID != s.KeyID() || !pub.Key.Equal(s.PublicKey()) {
		t.Fatalf("got published key %+v (%v), want the signer's", pub, err)
	}

	again, err := LoadOrCreateFileSigner(path, nil)
	if err != nil || again.KeyID() != s.KeyID() {
		t.Fatalf("got %v (%v), want the same key reloaded", again, err)
	}

	cp := Checkpoint{Tenant: "t1", Seq: 7, Head: Hash{1, 2, 3}, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), KeyID: s.KeyID()}
	cp.Signature, err = s.Sign(context.Background(), cp.Message())
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.VerifySignature(pub); err != nil {
		t.Errorf("got %v, want a valid signature", err)
	}
	cp.Seq = 8
	if err := cp.VerifySignature(pub); err == nil {
		t.Error("got a valid signature over a changed checkpoint")
	}

	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFileSigner(path); !errors.Is(err, ErrKeyFile) {
		t.Errorf("got %v, want ErrKeyFile for a group-readable key", err)
	}
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFileSigner(bad); !errors.Is(err, ErrKeyFile) {
		t.Errorf("got %v, want ErrKeyFile for garbage", err)
	}
}
