package totp

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"regexp"
	"strings"
	"testing"
)

var testRecoveryKey = bytes.Repeat([]byte("k"), MinRecoveryKeySize)

func newRecovery(t testing.TB, seed byte) *RecoveryCodes {
	t.Helper()
	rc, err := NewRecoveryCodes(seeded(seed), testRecoveryKey)
	if err != nil {
		t.Fatalf("NewRecoveryCodes: %v", err)
	}
	return rc
}

var codeShape = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$`)

func TestRecoveryGenerate(t *testing.T) {
	rc := newRecovery(t, 1)
	codes, hashes, err := rc.Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
		t.Fatalf("got %d codes and %d hashes, want %d of each", len(codes), len(hashes), RecoveryCodeCount)
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if !codeShape.MatchString(c) {
			t.Errorf("code %q: want xxxx-xxxx-xxxx in Crockford base32", c)
		}
		if seen[c] {
			t.Errorf("code %q issued twice", c)
		}
		seen[c] = true
		if len(hashes[i]) != sha256.Size {
			t.Errorf("hash %d: got %d bytes, want %d", i, len(hashes[i]), sha256.Size)
		}
		plain := sha256.Sum256([]byte(strings.ReplaceAll(c, "-", "")))
		if bytes.Equal(hashes[i], plain[:]) || bytes.Contains(hashes[i], []byte(c)) {
			t.Errorf("hash %d is not keyed", i)
		}
	}
	again, _, err := newRecovery(t, 2).Generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range again {
		if seen[c] {
			t.Errorf("code %q repeated across sets from different seeds", c)
		}
	}
}

func TestRecoveryMatch(t *testing.T) {
	rc := newRecovery(t, 3)
	codes, hashes, err := rc.Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	c := codes[4]
	tests := []struct {
		name    string
		typed   string
		hashes  [][]byte
		want    int
		wantErr error
	}{
		{"as issued", c, hashes, 4, nil},
		{"upper case", strings.ToUpper(c), hashes, 4, nil},
		{"no hyphens", strings.ReplaceAll(c, "-", ""), hashes, 4, nil},
		{"spaces", strings.ReplaceAll(c, "-", " "), hashes, 4, nil},
		{"first code", codes[0], hashes, 0, nil},
		{"last code", codes[9], hashes, 9, nil},
		{"consumed (hash removed)", c, append(append([][]byte{}, hashes[:4]...), hashes[5:]...), -1, ErrInvalid},
		{"consumed (hash blanked)", c, blank(hashes, 4), -1, ErrInvalid},
		{"no codes left", c, nil, -1, ErrInvalid},
		{"one symbol changed", flip(c), hashes, -1, ErrInvalid},
		{"too short", c[:13], hashes, -1, ErrInvalid},
		{"too long", c + "a", hashes, -1, ErrInvalid},
		{"u is not a symbol", "uuuu-uuuu-uuuu", hashes, -1, ErrInvalid},
		{"punctuation", strings.ReplaceAll(c, "-", "."), hashes, -1, ErrInvalid},
		{"a TOTP code", "123456", hashes, -1, ErrInvalid},
		{"empty", "", hashes, -1, ErrInvalid},
		{"huge", strings.Repeat("a", 10000), hashes, -1, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rc.Match(tt.typed, tt.hashes)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Match: got error %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("index: got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRecoveryLookalikes(t *testing.T) {
	rc := newRecovery(t, 4)
	tests := []struct{ typed, canon string }{
		{"o0o0-iIlL-abcd", "0000-1111-abcd"},
		{"OOOO IIII LLLL", "0000-1111-1111"},
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			a, err := rc.Hash(tt.typed)
			if err != nil {
				t.Fatalf("Hash(%q): %v", tt.typed, err)
			}
			b, err := rc.Hash(tt.canon)
			if err != nil {
				t.Fatalf("Hash(%q): %v", tt.canon, err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("Hash(%q) differs from Hash(%q)", tt.typed, tt.canon)
			}
		})
	}
}

func TestRecoveryKey(t *testing.T) {
	if _, err := NewRecoveryCodes(nil, make([]byte, MinRecoveryKeySize-1)); err == nil {
		t.Errorf("short key: got nil error, want one")
	}
	a := newRecovery(t, 5)
	codes, hashes, err := a.Generate()
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewRecoveryCodes(nil, bytes.Repeat([]byte("z"), MinRecoveryKeySize))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Match(codes[0], hashes); !errors.Is(err, ErrInvalid) {
		t.Errorf("Match under another key: got %v, want ErrInvalid", err)
	}
	if _, _, err := (&RecoveryCodes{rand: bytes.NewReader(nil), key: a.key}).Generate(); err == nil {
		t.Errorf("Generate with an exhausted random source: got nil error, want one")
	}
}

func FuzzRecoveryCode(f *testing.F) {
	for _, s := range []string{"7f3k-q9zr-m2xa", "7F3KQ9ZRM2XA", "o0o0 iIlL abcd", "uuuu-uuuu-uuuu", "", "----"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		canon, err := canonicalRecoveryCode(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if len(canon) != recoveryChars {
			t.Fatalf("%q → %q: want %d symbols", s, canon, recoveryChars)
		}
		for i := 0; i < len(canon); i++ {
			if !strings.ContainsRune(recoveryAlphabet, rune(canon[i])) {
				t.Fatalf("%q → %q: symbol %q outside the alphabet", s, canon, canon[i])
			}
		}
		again, err := canonicalRecoveryCode(canon[0:4] + "-" + canon[4:8] + "-" + canon[8:])
		if err != nil || again != canon {
			t.Fatalf("canonical form %q does not map to itself: %q, %v", canon, again, err)
		}
	})
}

func BenchmarkRecoveryMatch(b *testing.B) {
	rc := newRecovery(b, 6)
	codes, hashes, err := rc.Generate()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rc.Match(codes[9], hashes); err != nil {
			b.Fatal(err)
		}
	}
}

func blank(h [][]byte, i int) [][]byte {
	out := append([][]byte{}, h...)
	out[i] = nil
	return out
}

// flip changes the first symbol of a code to another valid symbol.
func flip(c string) string {
	r := byte('0')
	if c[0] == '0' {
		r = '2'
	}
	return string(r) + c[1:]
}
