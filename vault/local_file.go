package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// keyringFormat names the key file's layout.
const keyringFormat = "parley-dev-keys/1"

// keyring is the local key file: tenant keys and signing keys, each with all its versions.
type keyring struct {
	Format  string              `json:"format"`
	Tenants map[string]*ringKey `json:"tenants"`
	Signing map[string]*ringKey `json:"signing"`
}

// ringKey is one named key with its versions.
type ringKey struct {
	Type          string                 `json:"type"`
	Latest        int                    `json:"latest_version"`
	MinDecryption int                    `json:"min_decryption_version"`
	Versions      map[int]ringKeyVersion `json:"versions"`
}

// ringKeyVersion is one version's key material: a 256-bit AES key or an Ed25519 seed.
type ringKeyVersion struct {
	Key       []byte    `json:"key"`
	CreatedAt time.Time `json:"created_at"`
}

func (k *ringKey) addVersion(r io.Reader, now time.Time) error {
	key := make([]byte, 32)
	if _, err := io.ReadFull(r, key); err != nil {
		return fmt.Errorf("local key provider: %w: entropy: %w", ErrUnavailable, err)
	}
	if k.Versions == nil {
		k.Versions = map[int]ringKeyVersion{}
	}
	k.Latest++
	k.Versions[k.Latest] = ringKeyVersion{Key: key, CreatedAt: now.UTC()}
	return nil
}

func (k *ringKey) wipe() {
	for _, v := range k.Versions {
		clear(v.Key)
	}
}

func (r *keyring) wipe() {
	for _, k := range r.Tenants {
		k.wipe()
	}
	for _, k := range r.Signing {
		k.wipe()
	}
}

// fileStamp identifies one state of the key file on disk: a rewrite is a new file (rename), so
// the same file with the same time and size has not changed.
type fileStamp struct {
	info fs.FileInfo
}

func (s fileStamp) same(info fs.FileInfo) bool {
	return s.info != nil && os.SameFile(s.info, info) && s.info.ModTime().Equal(info.ModTime()) && s.info.Size() == info.Size()
}

// checkKeyFile refuses a key file that is not a regular file or that group or others may access.
func checkKeyFile(path string) (fs.FileInfo, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("local key provider: %w: %w", ErrUnavailable, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("local key provider: %w: %s is not a regular file", ErrInsecureKeyFile, path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("local key provider: %w: %s has mode %#o, want 0600 (chmod 600 it)", ErrInsecureKeyFile, path, perm)
	}
	return info, nil
}

// reload rereads the key file when it changed on disk, checking its permissions every time.
// l.mu is held.
func (l *Local) reload() error {
	info, err := checkKeyFile(l.path)
	if err != nil {
		return err
	}
	if l.ring != nil && l.stamp.same(info) {
		return nil
	}
	r, err := readKeyring(l.path)
	if err != nil {
		return err
	}
	if l.ring != nil {
		l.ring.wipe()
	}
	l.ring, l.stamp = r, fileStamp{info: info}
	return nil
}

func readKeyring(path string) (*keyring, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- the path is the configured data directory's key file
	if err != nil {
		return nil, fmt.Errorf("local key provider: %w: %w", ErrUnavailable, err)
	}
	defer clear(b)
	var r keyring
	if err := json.Unmarshal(b, &r); err != nil || r.Format != keyringFormat {
		return nil, fmt.Errorf("local key provider: %w: %s is not a Parley key file", ErrUnavailable, path)
	}
	if r.Tenants == nil {
		r.Tenants = map[string]*ringKey{}
	}
	if r.Signing == nil {
		r.Signing = map[string]*ringKey{}
	}
	for _, set := range []map[string]*ringKey{r.Tenants, r.Signing} {
		for name, k := range set {
			if _, ok := k.Versions[k.Latest]; !ok || k.MinDecryption < 1 || k.MinDecryption > k.Latest {
				return nil, fmt.Errorf("local key provider: %w: key %s in %s is inconsistent", ErrUnavailable, name, path)
			}
			for _, v := range k.Versions {
				if len(v.Key) != 32 {
					return nil, fmt.Errorf("local key provider: %w: key %s in %s is damaged", ErrUnavailable, name, path)
				}
			}
		}
	}
	return &r, nil
}

// createIfMissing writes an empty key file unless one exists. l.mu is held.
func (l *Local) createIfMissing() error {
	if _, err := os.Lstat(l.path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("local key provider: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return fmt.Errorf("local key provider: create data directory: %w", err)
	}
	unlock, err := lockFile(l.path + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Lstat(l.path); err == nil {
		return nil // another process created it while we waited for the lock
	}
	return writeKeyring(l.path, &keyring{Format: keyringFormat, Tenants: map[string]*ringKey{}, Signing: map[string]*ringKey{}})
}

// update applies fn to the current key file under an exclusive lock and replaces the file
// atomically.
func (l *Local) update(fn func(*keyring) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	unlock, err := lockFile(l.path + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := checkKeyFile(l.path); err != nil {
		return err
	}
	r, err := readKeyring(l.path)
	if err != nil {
		return err
	}
	defer r.wipe()
	if err := fn(r); err != nil {
		return err
	}
	if err := writeKeyring(l.path, r); err != nil {
		return err
	}
	l.stamp = fileStamp{} // force a reload of what was written
	return l.reload()
}

// writeKeyring writes the key file through a 0600 temporary file and a rename.
func writeKeyring(path string, r *keyring) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("local key provider: %w", err)
	}
	defer clear(b)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dev-keys-*.tmp")
	if err != nil {
		return fmt.Errorf("local key provider: write key file: %w", err)
	}
	name := tmp.Name()
	defer func() { _ = os.Remove(name) }()
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("local key provider: write key file: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("local key provider: write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("local key provider: write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("local key provider: write key file: %w", err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("local key provider: write key file: %w", err)
	}
	return nil
}
