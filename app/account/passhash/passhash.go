// Package passhash hashes and verifies Parley passwords with argon2id.
//
// Every hash is stored as a PHC string that carries its own cost parameters
// ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"), so the configured cost
// can be raised at any time: Verify reports needsRehash for a hash made with
// lower parameters and the caller stores a fresh Hash after the sign-in.
//
// A Hasher bounds the work: at most MaxConcurrent derivations run at once
// (memory in use is at most MaxConcurrent × Params.Memory KiB) and at most
// MaxWaiting callers queue for a slot; anyone beyond that gets ErrBusy at
// once, which the HTTP layer answers with 503 and Retry-After. A sign-in
// storm therefore costs a fixed share of the CPU and memory and cannot starve
// chat traffic.
//
// Passwords are bytes. Callers normalize them to Unicode NFKC
// (golang.org/x/text/unicode/norm.NFKC) before hashing and before verifying,
// so a password typed on another keyboard or operating system still matches.
// Passwords longer than MaxPasswordLen bytes are rejected with ErrTooLong
// before any work is done.
package passhash

import "errors"

// MaxPasswordLen is the longest password accepted, in bytes after NFKC
// normalization. Longer input is rejected before hashing so that nobody can
// make the server hash megabytes.
const MaxPasswordLen = 1024

var (
	// ErrTooLong means the password is longer than MaxPasswordLen bytes.
	ErrTooLong = errors.New("passhash: password too long")
	// ErrBusy means every hashing slot is taken and the wait queue is full;
	// the caller should answer 503 (or 429) and let the client retry.
	ErrBusy = errors.New("passhash: too many password checks in progress")
	// ErrMalformed means a stored hash is not a PHC argon2id string Parley
	// can read.
	ErrMalformed = errors.New("passhash: malformed hash")
	// ErrInvalidParams means cost parameters are out of the accepted range,
	// either in a Config or in a stored hash.
	ErrInvalidParams = errors.New("passhash: invalid parameters")
)
