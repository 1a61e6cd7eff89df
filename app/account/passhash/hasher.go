package passhash

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Config configures a Hasher. The zero value is usable: OWASP's cost, half
// the CPUs for hashing and crypto/rand for salts.
type Config struct {
	// Params is the cost for new hashes; zero means DefaultParams. Anything
	// below MinParams is refused.
	Params Params
	// MaxConcurrent bounds the derivations running at once; zero means
	// max(1, GOMAXPROCS/2). Memory held by hashing is at most
	// MaxConcurrent × Params.Memory KiB, CPU at most
	// MaxConcurrent × Params.Parallelism threads.
	MaxConcurrent int
	// MaxWaiting bounds the callers queued for a slot; zero means
	// 8 × MaxConcurrent. Callers beyond it get ErrBusy without waiting.
	MaxWaiting int
	// Rand is the source of salts; nil means crypto/rand.Reader.
	Rand io.Reader
}

// Hasher hashes and verifies passwords under a bound on concurrent work. It
// is safe for concurrent use.
type Hasher struct {
	params     Params
	rand       io.Reader
	slots      chan struct{}
	maxWaiting int64
	waiting    atomic.Int64
	rejected   atomic.Uint64
	// dummy is a well-formed hash of an unknowable password at the current
	// cost; DummyVerify checks against it so that an unknown account costs
	// what a wrong password costs.
	dummy string
}

// Stats is a snapshot of a Hasher's queue, for metrics and readiness checks.
type Stats struct {
	// InFlight is the number of derivations running now.
	InFlight int
	// Waiting is the number of callers queued for a slot.
	Waiting int
	// MaxConcurrent and MaxWaiting are the configured bounds.
	MaxConcurrent, MaxWaiting int
	// Rejected counts ErrBusy answers since the Hasher was made.
	Rejected uint64
}

// New returns a Hasher for cfg. It reads the dummy hash's salt and key from
// cfg.Rand, so a failing random source is reported here.
func New(cfg Config) (*Hasher, error) {
	p := cfg.Params
	if p == (Params{}) {
		p = DefaultParams()
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	if p.below(MinParams()) {
		return nil, fmt.Errorf("%w: cost below the minimum %s, 16-byte salt, 32-byte key", ErrInvalidParams, MinParams())
	}
	conc := cfg.MaxConcurrent
	if conc == 0 {
		conc = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if conc < 0 {
		return nil, fmt.Errorf("%w: MaxConcurrent is negative", ErrInvalidParams)
	}
	waiting := cfg.MaxWaiting
	if waiting == 0 {
		waiting = 8 * conc
	}
	if waiting < 0 {
		return nil, fmt.Errorf("%w: MaxWaiting is negative", ErrInvalidParams)
	}
	r := cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	h := &Hasher{
		params:     p,
		rand:       r,
		slots:      make(chan struct{}, conc),
		maxWaiting: int64(waiting),
	}
	buf := make([]byte, p.SaltLen+p.KeyLen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("passhash: reading random bytes: %w", err)
	}
	h.dummy = encode(p, buf[:p.SaltLen], buf[p.SaltLen:])
	return h, nil
}

// Params returns the cost new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Stats returns a snapshot of the queue.
func (h *Hasher) Stats() Stats {
	return Stats{
		InFlight:      len(h.slots),
		Waiting:       int(h.waiting.Load()),
		MaxConcurrent: cap(h.slots),
		MaxWaiting:    int(h.maxWaiting),
		Rejected:      h.rejected.Load(),
	}
}

// Hash derives a new PHC-encoded argon2id hash of password with a fresh salt
// at the Hasher's cost. It returns ErrTooLong, ErrBusy, or the context's
// error if ctx ends while queued.
func (h *Hasher) Hash(ctx context.Context, password []byte) (string, error) {
	if len(password) > MaxPasswordLen {
		return "", ErrTooLong
	}
	p := h.params
	salt := make([]byte, p.SaltLen)
	if _, err := io.ReadFull(h.rand, salt); err != nil {
		return "", fmt.Errorf("passhash: reading salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey(password, salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
	h.release()
	return encode(p, salt, key), nil
}

// Verify reports whether password matches encoded, comparing in constant
// time. needsRehash is true when the password matched and the hash was made
// with any parameter below the Hasher's current cost; the caller should then
// store a fresh Hash (upgrade on sign-in). A wrong password is ok == false
// with a nil error. Errors are ErrTooLong, ErrMalformed or ErrInvalidParams
// (a damaged stored hash), ErrBusy, or the context's error.
func (h *Hasher) Verify(ctx context.Context, encoded string, password []byte) (ok, needsRehash bool, err error) {
	if len(password) > MaxPasswordLen {
		return false, false, ErrTooLong
	}
	d, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	p := d.params
	key := argon2.IDKey(password, d.salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
	h.release()
	ok = subtle.ConstantTimeCompare(key, d.key) == 1
	clear(key)
	return ok, ok && p.below(h.params), nil
}

// DummyVerify spends the work of one Verify at the current cost, through the
// same queue, and discards the result. Call it when the account does not
// exist (or has no password) so that an unknown account and a wrong password
// take similar time and fail the same way. It returns the errors Verify
// would: ErrTooLong, ErrBusy or the context's error.
//
// Timing matches exactly for accounts whose hash uses the current cost;
// hashes awaiting an upgrade are cheaper until their owner signs in.
func (h *Hasher) DummyVerify(ctx context.Context, password []byte) error {
	_, _, err := h.Verify(ctx, h.dummy, password)
	return err
}

// acquire takes a hashing slot, queueing if MaxWaiting allows.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("passhash: %w", err)
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	if h.waiting.Add(1) > h.maxWaiting {
		h.waiting.Add(-1)
		h.rejected.Add(1)
		return ErrBusy
	}
	defer h.waiting.Add(-1)
	select {
	case h.slots <- struct{}{}:
		if err := ctx.Err(); err != nil {
			h.release()
			return fmt.Errorf("passhash: waiting for a hashing slot: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("passhash: waiting for a hashing slot: %w", ctx.Err())
	}
}

// release gives a slot back.
func (h *Hasher) release() { <-h.slots }
