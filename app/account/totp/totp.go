// Package totp implements Parley's second factor: time-based one-time
// passwords (RFC 6238, via github.com/pquerna/otp) that are never accepted
// twice, and single-use recovery codes.
//
// The package holds no state. Verify returns the time step of the accepted
// code; the caller stores it as the account's "last accepted step" with a
// compare-and-set on the value it read, so two concurrent sign-ins cannot
// both spend one code (RFC 6238 §5.2):
//
//	UPDATE users SET totp_last_step = :step
//	 WHERE id = :id AND totp_last_step = :lastStep
//
// Zero rows updated means another request won the race: treat it as
// ErrReplay. Recovery codes are consumed the same way (delete the matched
// hash and check that one row went).
//
// Secrets are raw bytes (type Secret) so the caller can encrypt them before
// they reach the database; Secret, Enrolment and errors never print a
// secret. Attempts are throttled by the sign-in lockout policy, not here.
package totp

import (
	"crypto/subtle"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

const (
	// Period is the length of a time step.
	Period = 30 * time.Second
	// Digits is the length of a code.
	Digits = 6
	// SecretSize is the size of a generated secret in bytes (160 bits, the
	// size RFC 4226 recommends for HMAC-SHA-1).
	SecretSize = 20
	// MinSecretSize is the smallest secret Verify accepts (128 bits).
	MinSecretSize = 16
	// Skew is how many steps before and after the current one are accepted.
	Skew = 1
)

var (
	// ErrInvalid means the code is malformed or wrong. Callers answer
	// mfa_invalid.
	ErrInvalid = errors.New("totp: invalid code")
	// ErrReplay means the code is right but its time step was already used
	// (or an earlier one was accepted later). Callers answer mfa_invalid too;
	// the distinction is for the audit log.
	ErrReplay = errors.New("totp: code already used")
	// ErrSecret means a stored secret is unusable (too short); it is a server
	// fault, not the user's.
	ErrSecret = errors.New("totp: unusable secret")
)

// Secret is a TOTP shared secret as raw bytes. Encrypt it before storing it
// (the vault package's envelope does); convert with []byte(s) only for that.
// Its String, GoString, LogValue and MarshalJSON methods hide the bytes, so
// a Secret passed to fmt, log/slog or encoding/json by mistake prints
// "[redacted]".
type Secret []byte

// String hides the secret from fmt's %v, %s, %x and %q.
func (Secret) String() string { return "[redacted]" }

// GoString hides the secret from fmt's %#v.
func (Secret) GoString() string { return "totp.Secret([redacted])" }

// LogValue hides the secret from log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalJSON hides the secret from encoding/json; store the encrypted
// bytes, never a Secret.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

var (
	_ slog.LogValuer = Secret(nil)
	_ json.Marshaler = Secret(nil)
)

// b32 is the RFC 4648 base32 alphabet without padding, as authenticator
// apps expect in otpauth URLs and manual keys.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// hotpOpts are the parameters every Parley code uses; they are also what
// Google Authenticator and most other apps assume.
var hotpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Step returns the RFC 6238 time step containing t.
func Step(t time.Time) int64 {
	s := t.Unix()
	p := int64(Period / time.Second)
	if s < 0 {
		return (s - p + 1) / p
	}
	return s / p
}

// Verify checks a code typed by the user against secret at time now,
// accepting the current step and Skew steps on either side, and never a
// step at or below lastStep (pass 0 for a secret that has never been used).
// On success it returns the code's step, which the caller must store with a
// compare-and-set on lastStep (see the package documentation).
//
// A malformed or wrong code is ErrInvalid; a right code whose step is not
// after lastStep is ErrReplay. Codes are compared in constant time and all
// candidate steps are computed whatever the input.
func Verify(secret Secret, code string, now time.Time, lastStep int64) (int64, error) {
	if len(secret) < MinSecretSize {
		return 0, ErrSecret
	}
	typed, err := parseCode(code)
	if err != nil {
		return 0, err
	}
	enc := b32.EncodeToString(secret)
	cur := Step(now)
	accepted, replayed := int64(-1), false
	for s := cur - Skew; s <= cur+Skew; s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(enc, uint64(s), hotpOpts)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", ErrSecret, err)
		}
		match := subtle.ConstantTimeCompare([]byte(want), typed) == 1
		switch {
		case match && s > lastStep:
			accepted = s // steps ascend: the latest matching step wins
		case match:
			replayed = true
		}
	}
	switch {
	case accepted >= 0:
		return accepted, nil
	case replayed:
		return 0, ErrReplay
	default:
		return 0, ErrInvalid
	}
}

// maxCodeInput bounds what parseCode looks at.
const maxCodeInput = 32

// parseCode accepts exactly Digits ASCII digits, ignoring spaces (apps show
// codes as "123 456"). Anything else is ErrInvalid.
func parseCode(s string) ([]byte, error) {
	if len(s) > maxCodeInput {
		return nil, ErrInvalid
	}
	out := make([]byte, 0, Digits)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
		case c >= '0' && c <= '9' && len(out) < Digits:
			out = append(out, c)
		default:
			return nil, ErrInvalid
		}
	}
	if len(out) != Digits {
		return nil, ErrInvalid
	}
	return out, nil
}
