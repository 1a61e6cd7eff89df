// Package captcha is Parley's self-hosted CAPTCHA for the sign-in form: six
// digits drawn as a distorted image, with a spoken audio alternative, and
// no call to any third party.
//
// A challenge's answer is not stored anywhere. It is derived from the
// challenge's random 128-bit ID with HMAC-SHA-256 under a server key, so a
// Store only keeps IDs and expiry times: a database dump reveals no answers,
// and any node that shares the key can draw any challenge. The Store makes
// each challenge single-use: Solve consumes it first, right answer or wrong,
// so an answer can never be tried twice.
//
// Sign-in flow: when policy requires a CAPTCHA the handler calls Issue and
// returns captcha_id; the browser fetches the image (and on request the
// audio), which the handler renders with Challenge then WritePNG or
// WriteWAV; the next sign-in carries captcha_id and captcha_answer and the
// handler calls Solve. ErrNotFound, ErrExpired and ErrWrong all mean
// "captcha_required" again, with a fresh challenge.
package captcha

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

const (
	// AnswerLen is the number of digits in an answer.
	AnswerLen = 6
	// DefaultTTL is how long a challenge can be solved.
	DefaultTTL = 5 * time.Minute
	// MinKeySize is the smallest server key New accepts.
	MinKeySize = 32
	// idBytes is the size of a challenge ID before encoding (128 bits).
	idBytes = 16
	// answerKeyLabel separates the answer key from other uses of the same
	// server secret.
	answerKeyLabel = "parley/captcha/answer/v1"
)

var (
	// ErrNotFound means no live challenge has this ID: it never existed, was
	// malformed, or was already used.
	ErrNotFound = errors.New("captcha: no such challenge")
	// ErrExpired means the challenge existed but its time ran out; it is
	// consumed all the same.
	ErrExpired = errors.New("captcha: challenge expired")
	// ErrWrong means the answer did not match; the challenge is consumed.
	ErrWrong = errors.New("captcha: wrong answer")
	// ErrFull means the store holds as many live challenges as it may; the
	// handler answers 503.
	ErrFull = errors.New("captcha: too many open challenges")
	// ErrExists means a Store was asked to create an ID it already holds.
	ErrExists = errors.New("captcha: challenge already exists")
)

// Challenge is one CAPTCHA. Answer is what the image and audio show; it is
// derived from ID, never stored, and never sent to the client except as
// pixels and sound.
type Challenge struct {
	// ID is the public handle: 128 random bits, URL-safe base64 (22 chars).
	ID string
	// Answer is AnswerLen ASCII digits.
	Answer string
	// ExpiresAt is when the challenge stops being solvable.
	ExpiresAt time.Time
}

// LogValue logs the challenge without its answer.
func (c Challenge) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", c.ID), slog.Time("expires_at", c.ExpiresAt))
}

var _ slog.LogValuer = Challenge{}

// Store keeps the live challenges: IDs and expiry times only. Consume must
// be atomic, so that of two concurrent calls for one ID exactly one
// succeeds (in SQL: DELETE … WHERE id = ? RETURNING expires_at). Stores
// may drop expired challenges at any time.
type Store interface {
	// Create records a challenge. It returns ErrFull when the store is at
	// capacity and ErrExists for an ID it already holds.
	Create(ctx context.Context, id string, expiresAt time.Time) error
	// Lookup returns a challenge's expiry without consuming it, or
	// ErrNotFound.
	Lookup(ctx context.Context, id string) (time.Time, error)
	// Consume removes a challenge and returns its expiry, or ErrNotFound.
	Consume(ctx context.Context, id string) (time.Time, error)
}

// Config configures a Service.
type Config struct {
	// Key is the server secret answers are derived from, at least
	// MinKeySize bytes, shared by every node. It may be the same secret
	// given to other packages: a purpose-specific key is derived from it.
	// Changing it invalidates open challenges, nothing else.
	Key []byte
	// Store keeps live challenges.
	Store Store
	// Rand is the source of challenge IDs; nil means crypto/rand.Reader.
	Rand io.Reader
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TTL is how long a challenge lives; zero means DefaultTTL.
	TTL time.Duration
}

// Service issues and checks challenges. It is safe for concurrent use if
// its Store and random source are.
type Service struct {
	key   []byte
	store Store
	rand  io.Reader
	now   func() time.Time
	ttl   time.Duration
}

// New returns a Service for cfg.
func New(cfg Config) (*Service, error) {
	if len(cfg.Key) < MinKeySize {
		return nil, fmt.Errorf("captcha: key shorter than %d bytes", MinKeySize)
	}
	if cfg.Store == nil {
		return nil, errors.New("captcha: no Store")
	}
	if cfg.TTL < 0 {
		return nil, errors.New("captcha: negative TTL")
	}
	s := &Service{store: cfg.Store, rand: cfg.Rand, now: cfg.Now, ttl: cfg.TTL}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ttl == 0 {
		s.ttl = DefaultTTL
	}
	mac := hmac.New(sha256.New, cfg.Key)
	mac.Write([]byte(answerKeyLabel))
	s.key = mac.Sum(nil)
	return s, nil
}

// Issue creates a new challenge and records it in the Store.
func (s *Service) Issue(ctx context.Context) (Challenge, error) {
	var raw [idBytes]byte
	if _, err := io.ReadFull(s.rand, raw[:]); err != nil {
		return Challenge{}, fmt.Errorf("captcha: reading random bytes: %w", err)
	}
	c := Challenge{
		ID:        base64.RawURLEncoding.EncodeToString(raw[:]),
		Answer:    s.answer(raw[:]),
		ExpiresAt: s.now().Add(s.ttl),
	}
	if err := s.store.Create(ctx, c.ID, c.ExpiresAt); err != nil {
		return Challenge{}, fmt.Errorf("captcha: recording a challenge: %w", err)
	}
	return c, nil
}

// Challenge returns a live challenge for drawing, without consuming it. It
// returns ErrNotFound or ErrExpired.
func (s *Service) Challenge(ctx context.Context, id string) (Challenge, error) {
	raw, ok := parseID(id)
	if !ok {
		return Challenge{}, ErrNotFound
	}
	exp, err := s.store.Lookup(ctx, id)
	if err != nil {
		return Challenge{}, err
	}
	if !s.now().Before(exp) {
		return Challenge{}, ErrExpired
	}
	return Challenge{ID: id, Answer: s.answer(raw), ExpiresAt: exp}, nil
}

// Solve checks answer against challenge id and consumes the challenge
// whatever the outcome. It returns nil for a right answer in time, else
// ErrNotFound, ErrExpired, ErrWrong or a Store error. Answers are compared
// in constant time; spaces and full-width digits are accepted.
func (s *Service) Solve(ctx context.Context, id, answer string) error {
	raw, ok := parseID(id)
	if !ok {
		return ErrNotFound
	}
	exp, err := s.store.Consume(ctx, id)
	if err != nil {
		return err
	}
	if !s.now().Before(exp) {
		return ErrExpired
	}
	typed, ok := normalizeAnswer(answer)
	want := s.answer(raw)
	if subtle.ConstantTimeCompare(typed, []byte(want)) != 1 || !ok {
		return ErrWrong
	}
	return nil
}

// answer derives the digits for an ID.
func (s *Service) answer(id []byte) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write(id)
	n := binary.BigEndian.Uint64(mac.Sum(nil)) % 1_000_000 // bias below 1e-13
	return fmt.Sprintf("%0*d", AnswerLen, n)
}

// parseID accepts exactly the IDs Issue makes.
func parseID(id string) ([]byte, bool) {
	if len(id) != base64.RawURLEncoding.EncodedLen(idBytes) {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(id)
	if err != nil || len(raw) != idBytes {
		return nil, false
	}
	return raw, true
}

// maxAnswerInput bounds what normalizeAnswer looks at.
const maxAnswerInput = 64

// normalizeAnswer reduces typed input to ASCII digits: spaces are dropped and
// full-width digits (U+FF10–U+FF19, typed by CJK input methods) are read as
// ASCII. It reports false for anything else or the wrong length.
func normalizeAnswer(s string) ([]byte, bool) {
	if len(s) > maxAnswerInput {
		return nil, false
	}
	out := make([]byte, 0, AnswerLen)
	for _, r := range s {
		switch {
		case r == ' ' || r == '\u3000':
			continue
		case r >= '0' && r <= '9':
		case r >= '０' && r <= '９':
			r = '0' + (r - '０')
		default:
			return nil, false
		}
		if len(out) == AnswerLen {
			return nil, false
		}
		out = append(out, byte(r))
	}
	return out, len(out) == AnswerLen
}
