package password

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns the form of a password that Parley checks, hashes and
// verifies: its NFKC normalization, so that the same password typed on
// different keyboards or input methods (composed or decomposed accents,
// full-width digits, ligatures) is the same password. Use it both when a
// password is set and when it is verified.
//
// The input is rejected with ErrTooLong when it exceeds MaxBytes, before any
// other work, and with ErrInvalidUTF8 when it is not UTF-8. Because NFKC can
// lengthen a string, the result is held to MaxBytes as well, which also makes
// Normalize idempotent. Nothing is trimmed or truncated: spaces are part of the
// password.
func Normalize(pw string) (string, error) {
	if len(pw) > MaxBytes {
		return "", ErrTooLong
	}
	if !utf8.ValidString(pw) {
		return "", ErrInvalidUTF8
	}
	n := norm.NFKC.String(pw)
	if len(n) > MaxBytes {
		return "", ErrTooLong
	}
	return n, nil
}
