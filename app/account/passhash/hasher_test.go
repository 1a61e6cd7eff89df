package passhash

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// seeded returns a deterministic random source for tests.
func seeded(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

func newTestHasher(t *testing.T, cfg Config) *Hasher {
	t.Helper()
	if cfg.Rand == nil {
		cfg.Rand = seeded(1)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

// TestVerifyReferenceVectors checks interoperability with the argon2
// reference implementation (phc-winner-argon2 and libar2 test suites).
func TestVerifyReferenceVectors(t *testing.T) {
	h := newTestHasher(t, Config{})
	tests := []struct {
		name     string
		password string
		encoded  string
	}{
		{"m=256 p=1", "password", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
		{"m=256 p=2", "password", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"},
		{"m=64MiB t=2", "password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"},
		{"other password", "differentpassword", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$C4TWUs9rDEvq7w3+J4umqA32aWKB1+DSiRuBfYxFj94"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, _, err := h.Verify(context.Background(), tt.encoded, []byte(tt.password))
			if err != nil || !ok {
				t.Fatalf("Verify(right password): got ok=%v err=%v, want ok=true err=nil", ok, err)
			}
			ok, _, err = h.Verify(context.Background(), tt.encoded, []byte(tt.password+"x"))
			if err != nil || ok {
				t.Fatalf("Verify(wrong password): got ok=%v err=%v, want ok=false err=nil", ok, err)
			}
		})
	}
}

func TestHashAndVerify(t *testing.T) {
	h := newTestHasher(t, Config{})
	ctx := context.Background()
	password := []byte("correct horse battery staple 4111")
	enc, err := h.Hash(ctx, password)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(enc, want) {
		t.Fatalf("Hash: got %q, want prefix %q", enc, want)
	}
	if bytes.Contains([]byte(enc), password) {
		t.Fatalf("Hash output contains the password")
	}
	enc2, err := h.Hash(ctx, password)
	if err != nil {
		t.Fatalf("second Hash: %v", err)
	}
	if enc == enc2 {
		t.Fatalf("two hashes of one password are equal; salts are not fresh")
	}
	tests := []struct {
		name     string
		password []byte
		want     bool
	}{
		{"right password", password, true},
		{"wrong password", []byte("correct horse battery staple 4112"), false},
		{"prefix", password[:len(password)-1], false},
		{"empty", nil, false},
		{"case differs", bytes.ToUpper(password), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, enc, tt.password)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tt.want {
				t.Errorf("ok: got %v, want %v", ok, tt.want)
			}
			if rehash {
				t.Errorf("needsRehash: got true for a hash at the current cost, want false")
			}
		})
	}
}

func TestVerifyTamperedHash(t *testing.T) {
	h := newTestHasher(t, Config{})
	ctx := context.Background()
	enc, err := h.Hash(ctx, []byte("s3cret-passphrase"))
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	i := strings.LastIndexByte(enc, '$')
	flipped := []byte(enc)
	if flipped[i+1] == 'A' {
		flipped[i+1] = 'B'
	} else {
		flipped[i+1] = 'A'
	}
	tests := []struct {
		name    string
		encoded string
		wantErr error
	}{
		{"hash byte changed", string(flipped), nil},
		{"cost lowered", strings.Replace(enc, "t=2", "t=1", 1), nil},
		{"hash removed", enc[:i+1], ErrInvalidParams},
		{"algorithm swapped", strings.Replace(enc, "argon2id", "argon2i", 1), ErrMalformed},
		{"field dropped", strings.Replace(enc, "$v=19", "", 1), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, _, err := h.Verify(ctx, tt.encoded, []byte("s3cret-passphrase"))
			if ok {
				t.Fatalf("Verify accepted a tampered hash")
			}
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Verify: got error %v, want a plain mismatch", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify: got error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	password := []byte("rehash-me-please-1")
	cur := Params{Memory: 32 * 1024, Iterations: 3, Parallelism: 2, SaltLen: 16, KeyLen: 32}
	h := newTestHasher(t, Config{Params: cur})
	salt := bytes.Repeat([]byte{7}, 32)
	tests := []struct {
		name   string
		stored Params
		want   bool
	}{
		{"same cost", cur, false},
		{"higher cost", Params{Memory: 40 * 1024, Iterations: 4, Parallelism: 2, SaltLen: 32, KeyLen: 64}, false},
		{"less memory", Params{Memory: 19 * 1024, Iterations: 3, Parallelism: 2, SaltLen: 16, KeyLen: 32}, true},
		{"fewer iterations", Params{Memory: 32 * 1024, Iterations: 2, Parallelism: 2, SaltLen: 16, KeyLen: 32}, true},
		{"fewer lanes", Params{Memory: 32 * 1024, Iterations: 3, Parallelism: 1, SaltLen: 16, KeyLen: 32}, true},
		{"shorter salt", Params{Memory: 32 * 1024, Iterations: 3, Parallelism: 2, SaltLen: 8, KeyLen: 32}, true},
		{"shorter key", Params{Memory: 32 * 1024, Iterations: 3, Parallelism: 2, SaltLen: 16, KeyLen: 16}, true},
		{"legacy weak hash", Params{Memory: 256, Iterations: 1, Parallelism: 1, SaltLen: 8, KeyLen: 16}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.stored
			s := salt[:p.SaltLen]
			enc := encode(p, s, argon2.IDKey(password, s, p.Iterations, p.Memory, p.Parallelism, p.KeyLen))
			ok, rehash, err := h.Verify(ctx, enc, password)
			if err != nil || !ok {
				t.Fatalf("Verify: got ok=%v err=%v, want ok=true", ok, err)
			}
			if rehash != tt.want {
				t.Errorf("needsRehash: got %v, want %v", rehash, tt.want)
			}
			ok, rehash, err = h.Verify(ctx, enc, []byte("wrong"))
			if err != nil || ok || rehash {
				t.Errorf("Verify(wrong): got ok=%v rehash=%v err=%v, want all false/nil", ok, rehash, err)
			}
		})
	}
}

func TestTooLong(t *testing.T) {
	h := newTestHasher(t, Config{MaxConcurrent: 1, MaxWaiting: 1})
	ctx := context.Background()
	max := bytes.Repeat([]byte("a"), MaxPasswordLen)
	enc, err := h.Hash(ctx, max)
	if err != nil {
		t.Fatalf("Hash(%d bytes): %v", MaxPasswordLen, err)
	}
	long := append(bytes.Clone(max), 'a')
	// Hold every slot: an overlong password must be refused before it
	// queues, so these calls return at once with ErrTooLong, not ErrBusy.
	fill(t, h)
	defer drain(h)
	if _, err := h.Hash(ctx, long); !errors.Is(err, ErrTooLong) {
		t.Errorf("Hash: got %v, want ErrTooLong", err)
	}
	if _, _, err := h.Verify(ctx, enc, long); !errors.Is(err, ErrTooLong) {
		t.Errorf("Verify: got %v, want ErrTooLong", err)
	}
	if err := h.DummyVerify(ctx, long); !errors.Is(err, ErrTooLong) {
		t.Errorf("DummyVerify: got %v, want ErrTooLong", err)
	}
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr error
	}{
		{"defaults", Config{}, nil},
		{"stronger", Config{Params: Params{Memory: 64 * 1024, Iterations: 3, Parallelism: 2, SaltLen: 16, KeyLen: 32}}, nil},
		{"below OWASP memory", Config{Params: Params{Memory: 16 * 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}}, ErrInvalidParams},
		{"one iteration", Config{Params: Params{Memory: 19 * 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}}, ErrInvalidParams},
		{"short salt", Config{Params: Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLen: 8, KeyLen: 32}}, ErrInvalidParams},
		{"absurd memory", Config{Params: Params{Memory: 1 << 30, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}}, ErrInvalidParams},
		{"negative concurrency", Config{MaxConcurrent: -1}, ErrInvalidParams},
		{"negative queue", Config{MaxWaiting: -1}, ErrInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Rand = seeded(2)
			h, err := New(tt.cfg)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("New: got error %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				st := h.Stats()
				if st.MaxConcurrent < 1 || st.MaxWaiting < 1 {
					t.Errorf("bounds: got %+v, want both at least 1", st)
				}
			}
		})
	}
}

// failingReader is a random source that is out of entropy.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy source closed") }

func TestRandomSourceFailure(t *testing.T) {
	if _, err := New(Config{Rand: failingReader{}}); err == nil {
		t.Errorf("New with a failing random source: got nil error, want one")
	}
	h := newTestHasher(t, Config{})
	h.rand = failingReader{}
	if _, err := h.Hash(context.Background(), []byte("pw")); err == nil {
		t.Errorf("Hash with a failing random source: got nil error, want one")
	}
}

func TestDummyVerifySpendsTheSameWork(t *testing.T) {
	h := newTestHasher(t, Config{MaxConcurrent: 1})
	ctx := context.Background()
	enc, err := h.Hash(ctx, []byte("known-user-password"))
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	const rounds = 5
	var known, unknown []time.Duration
	for range rounds {
		start := time.Now()
		if _, _, err := h.Verify(ctx, enc, []byte("a wrong guess")); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		known = append(known, time.Since(start))
		start = time.Now()
		if err := h.DummyVerify(ctx, []byte("a wrong guess")); err != nil {
			t.Fatalf("DummyVerify: %v", err)
		}
		unknown = append(unknown, time.Since(start))
	}
	k, u := median(known), median(unknown)
	// The CPU is shared with other tests, so only a gross difference (a
	// shortcut for unknown accounts) is a failure.
	if ratio := float64(u) / float64(k); ratio < 0.33 || ratio > 3 {
		t.Errorf("median DummyVerify %v vs wrong-password Verify %v: ratio %.2f, want between 0.33 and 3", u, k, ratio)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
