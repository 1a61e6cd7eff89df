package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"
)

const (
	// RecoveryCodeCount is how many recovery codes a user gets at a time.
	RecoveryCodeCount = 10
	// recoveryChars is the length of a code without separators: 12 symbols
	// of 5 bits, 60 bits of entropy.
	recoveryChars = 12
	// MinRecoveryKeySize is the smallest key NewRecoveryCodes accepts.
	MinRecoveryKeySize = 32
)

// recoveryAlphabet is Crockford's base32 in lower case: digits and letters
// without i, l, o and u, so no two symbols look alike.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// recoveryKeyLabel separates the recovery-code key from other uses of the
// same server secret.
const recoveryKeyLabel = "parley/totp/recovery-code/v1"

// RecoveryCodes issues and checks single-use recovery codes such as
// "7f3k-q9zr-m2xa".
//
// Only keyed hashes are stored: HMAC-SHA-256 under a server secret that
// never reaches the database. A plain SHA-256 of a 60-bit code could be
// brute-forced from a database dump by a determined attacker with GPUs; with
// the key, a dump alone reveals nothing. The key may be the same server
// secret given to other packages, as a purpose-specific key is derived from
// it. Rotating it invalidates every stored code, so users then need new ones.
type RecoveryCodes struct {
	rand io.Reader
	key  []byte
}

// NewRecoveryCodes returns a RecoveryCodes drawing codes from r (nil means
// crypto/rand.Reader) and hashing them under a key derived from secret,
// which must be at least MinRecoveryKeySize bytes.
func NewRecoveryCodes(r io.Reader, secret []byte) (*RecoveryCodes, error) {
	if len(secret) < MinRecoveryKeySize {
		return nil, fmt.Errorf("totp: recovery-code key shorter than %d bytes", MinRecoveryKeySize)
	}
	if r == nil {
		r = rand.Reader
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(recoveryKeyLabel))
	return &RecoveryCodes{rand: r, key: mac.Sum(nil)}, nil
}

// Generate returns RecoveryCodeCount new codes to show the user once, and
// their hashes, index for index, to store. Issuing a new set replaces the
// old one.
func (rc *RecoveryCodes) Generate() (codes []string, hashes [][]byte, err error) {
	codes = make([]string, 0, RecoveryCodeCount)
	hashes = make([][]byte, 0, RecoveryCodeCount)
	seen := make(map[string]bool, RecoveryCodeCount)
	var buf [8]byte
	for len(codes) < RecoveryCodeCount {
		if _, err := io.ReadFull(rc.rand, buf[:]); err != nil {
			return nil, nil, fmt.Errorf("totp: reading random bytes: %w", err)
		}
		v := binary.BigEndian.Uint64(buf[:])
		var sym [recoveryChars]byte
		for i := range sym {
			sym[i] = recoveryAlphabet[v&31]
			v >>= 5
		}
		canon := string(sym[:])
		if seen[canon] {
			continue
		}
		seen[canon] = true
		codes = append(codes, canon[0:4]+"-"+canon[4:8]+"-"+canon[8:12])
		hashes = append(hashes, rc.sum(canon))
	}
	return codes, hashes, nil
}

// Hash returns the stored form of a code typed by the user, for a lookup by
// hash. Input is forgiving: case, hyphens and spaces do not matter, and o,
// i and l are read as 0, 1 and 1. Malformed input is ErrInvalid.
func (rc *RecoveryCodes) Hash(code string) ([]byte, error) {
	canon, err := canonicalRecoveryCode(code)
	if err != nil {
		return nil, err
	}
	return rc.sum(canon), nil
}

// Match compares a typed code with the user's unused code hashes in
// constant time and returns the index of the one it matches, which the
// caller then marks consumed (with a compare-and-set, so it is spent once).
// A malformed or unknown code is ErrInvalid.
func (rc *RecoveryCodes) Match(code string, hashes [][]byte) (int, error) {
	h, err := rc.Hash(code)
	if err != nil {
		return -1, err
	}
	found := -1
	for i, stored := range hashes {
		eq := subtle.ConstantTimeCompare(h, stored)
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return -1, ErrInvalid
	}
	return found, nil
}

func (rc *RecoveryCodes) sum(canon string) []byte {
	mac := hmac.New(sha256.New, rc.key)
	mac.Write([]byte(canon))
	return mac.Sum(nil)
}

// canonicalRecoveryCode reduces typed input to the 12 lower-case symbols.
func canonicalRecoveryCode(s string) (string, error) {
	if len(s) > 4*recoveryChars {
		return "", ErrInvalid
	}
	out := make([]byte, 0, recoveryChars)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch c {
		case '-', ' ':
			continue
		case 'o':
			c = '0'
		case 'i', 'l':
			c = '1'
		}
		if len(out) == recoveryChars || !isRecoverySymbol(c) {
			return "", ErrInvalid
		}
		out = append(out, c)
	}
	if len(out) != recoveryChars {
		return "", ErrInvalid
	}
	return string(out), nil
}

func isRecoverySymbol(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z' && c != 'i' && c != 'l' && c != 'o' && c != 'u')
}
