package captcha

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var testKey = bytes.Repeat([]byte("s"), MinKeySize)

// clock is a settable test clock.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.t.Add(int64(d)) }

func seeded(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

type fixture struct {
	svc   *Service
	store *MemoryStore
	clock *clock
}

func newFixture(t testing.TB, capacity int) fixture {
	t.Helper()
	c := newClock()
	st := NewMemoryStore(capacity, c.Now)
	svc, err := New(Config{Key: testKey, Store: st, Rand: seeded(1), Now: c.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return fixture{svc: svc, store: st, clock: c}
}

func TestIssue(t *testing.T) {
	f := newFixture(t, 0)
	ctx := context.Background()
	c, err := f.svc.Issue(ctx)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.ID)
	if err != nil || len(raw) != 16 {
		t.Errorf("ID %q: got %d bytes (err %v), want 16", c.ID, len(raw), err)
	}
	if !validAnswer(c.Answer) {
		t.Errorf("answer %q: want %d digits", c.Answer, AnswerLen)
	}
	if want := f.clock.Now().Add(DefaultTTL); !c.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt: got %v, want %v", c.ExpiresAt, want)
	}
	if f.store.Len() != 1 {
		t.Errorf("store: got %d challenges, want 1", f.store.Len())
	}
	c2, err := f.svc.Issue(ctx)
	if err != nil {
		t.Fatalf("second Issue: %v", err)
	}
	if c2.ID == c.ID {
		t.Errorf("two challenges share ID %q", c.ID)
	}
}

func TestAnswerDependsOnKey(t *testing.T) {
	a, err := New(Config{Key: testKey, Store: NewMemoryStore(0, nil)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{Key: bytes.Repeat([]byte("t"), MinKeySize), Store: NewMemoryStore(0, nil)})
	if err != nil {
		t.Fatal(err)
	}
	differ := 0
	for i := range 8 {
		id := bytes.Repeat([]byte{byte(i)}, idBytes)
		first, second := a.answer(id), a.answer(id)
		if first != second {
			t.Fatalf("answer for one ID changed between calls: %s then %s", first, second)
		}
		if first != b.answer(id) {
			differ++
		}
	}
	if differ < 7 {
		t.Errorf("answers under two keys: %d of 8 differ, want nearly all", differ)
	}
}

func TestChallengeForDrawing(t *testing.T) {
	f := newFixture(t, 0)
	ctx := context.Background()
	c, err := f.svc.Issue(ctx)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	for range 2 { // looking does not consume
		got, err := f.svc.Challenge(ctx, c.ID)
		if err != nil {
			t.Fatalf("Challenge: %v", err)
		}
		if got != c {
			t.Fatalf("Challenge: got %+v, want %+v", got, c)
		}
	}
	tests := []struct {
		name string
		id   string
		want error
	}{
		{"unknown", base64.RawURLEncoding.EncodeToString(make([]byte, 16)), ErrNotFound},
		{"malformed", "not-an-id", ErrNotFound},
		{"padded", c.ID + "==", ErrNotFound},
		{"empty", "", ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.svc.Challenge(ctx, tt.id); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	f.clock.Advance(DefaultTTL)
	if _, err := f.svc.Challenge(ctx, c.ID); !errors.Is(err, ErrExpired) {
		t.Errorf("after the TTL: got %v, want ErrExpired", err)
	}
}

func TestSolve(t *testing.T) {
	tests := []struct {
		name    string
		answer  func(c Challenge) string
		wait    time.Duration
		wantErr error
	}{
		{"right", func(c Challenge) string { return c.Answer }, 0, nil},
		{"right just before expiry", func(c Challenge) string { return c.Answer }, DefaultTTL - time.Nanosecond, nil},
		{"spaces", func(c Challenge) string { return " " + c.Answer[:3] + " " + c.Answer[3:] + " " }, 0, nil},
		{"full-width digits", func(c Challenge) string { return fullWidth(c.Answer) }, 0, nil},
		{"wrong", func(c Challenge) string { return otherAnswer(c.Answer) }, 0, ErrWrong},
		{"too short", func(c Challenge) string { return c.Answer[:5] }, 0, ErrWrong},
		{"too long", func(c Challenge) string { return c.Answer + "0" }, 0, ErrWrong},
		{"letters", func(c Challenge) string { return "abcdef" }, 0, ErrWrong},
		{"empty", func(c Challenge) string { return "" }, 0, ErrWrong},
		{"huge", func(c Challenge) string { return strings.Repeat(c.Answer, 1000) }, 0, ErrWrong},
		{"right but expired", func(c Challenge) string { return c.Answer }, DefaultTTL, ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 0)
			ctx := context.Background()
			c, err := f.svc.Issue(ctx)
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			f.clock.Advance(tt.wait)
			if err := f.svc.Solve(ctx, c.ID, tt.answer(c)); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Solve: got %v, want %v", err, tt.wantErr)
			}
			// Whatever happened, the challenge is spent.
			if err := f.svc.Solve(ctx, c.ID, c.Answer); !errors.Is(err, ErrNotFound) {
				t.Errorf("second Solve with the right answer: got %v, want ErrNotFound", err)
			}
			if f.store.Len() != 0 {
				t.Errorf("store: got %d challenges, want 0", f.store.Len())
			}
		})
	}
}

func TestSolveUnknownOrMalformedID(t *testing.T) {
	f := newFixture(t, 0)
	ctx := context.Background()
	c, err := f.svc.Issue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "x", c.ID[:21], c.ID + "A", strings.ToUpper(c.ID) + "!", base64.RawURLEncoding.EncodeToString(make([]byte, 16))} {
		if err := f.svc.Solve(ctx, id, c.Answer); !errors.Is(err, ErrNotFound) {
			t.Errorf("Solve(%q): got %v, want ErrNotFound", id, err)
		}
	}
	if err := f.svc.Solve(ctx, c.ID, c.Answer); err != nil {
		t.Errorf("the real challenge was disturbed: %v", err)
	}
}

func TestSolveRace(t *testing.T) {
	f := newFixture(t, 0)
	ctx := context.Background()
	c, err := f.svc.Issue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if f.svc.Solve(ctx, c.ID, c.Answer) == nil {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if got := wins.Load(); got != 1 {
		t.Errorf("concurrent solves of one challenge: %d succeeded, want exactly 1", got)
	}
}

func TestNewConfig(t *testing.T) {
	st := NewMemoryStore(0, nil)
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"minimal", Config{Key: testKey, Store: st}, true},
		{"short key", Config{Key: testKey[:31], Store: st}, false},
		{"no store", Config{Key: testKey}, false},
		{"negative TTL", Config{Key: testKey, Store: st, TTL: -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Errorf("New: got error %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestIssueErrors(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	if _, err := f.svc.Issue(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Issue(ctx); !errors.Is(err, ErrFull) {
		t.Errorf("Issue on a full store: got %v, want ErrFull", err)
	}
	svc, err := New(Config{Key: testKey, Store: NewMemoryStore(0, nil), Rand: bytes.NewReader(make([]byte, 3))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Issue(ctx); err == nil {
		t.Errorf("Issue with an exhausted random source: got nil error, want one")
	}
}

func TestChallengeLogHidesAnswer(t *testing.T) {
	c := Challenge{ID: "abc", Answer: "493817", ExpiresAt: time.Unix(0, 0)}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("issued", "captcha", c)
	if strings.Contains(buf.String(), c.Answer) || !strings.Contains(buf.String(), `"id":"abc"`) {
		t.Errorf("log line: got %s, want the ID and no answer", buf.String())
	}
}

func FuzzNormalizeAnswer(f *testing.F) {
	for _, s := range []string{"123456", " 123 456 ", "１２３４５６", "12345", "1234567", "12a456", "", "\u3000123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := normalizeAnswer(s)
		if !ok {
			return
		}
		if !validAnswer(string(got)) {
			t.Fatalf("%q normalized to %q, not %d ASCII digits", s, got, AnswerLen)
		}
		if again, ok := normalizeAnswer(string(got)); !ok || !bytes.Equal(again, got) {
			t.Fatalf("normal form %q is not stable: %q %v", got, again, ok)
		}
	})
}

func FuzzParseID(f *testing.F) {
	f.Add("AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("_-_-_-_-_-_-_-_-_-_-_w")
	f.Add("AAAAAAAAAAAAAAAAAAAAAB")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		raw, ok := parseID(s)
		if !ok {
			return
		}
		if len(raw) != idBytes || base64.RawURLEncoding.EncodeToString(raw) != s {
			t.Fatalf("accepted %q, which is not the canonical encoding of %d bytes", s, idBytes)
		}
	})
}

func fullWidth(s string) string {
	var sb strings.Builder
	for _, r := range s {
		sb.WriteRune('０' + (r - '0'))
	}
	return sb.String()
}

// otherAnswer changes the last digit.
func otherAnswer(a string) string {
	last := a[len(a)-1]
	return a[:len(a)-1] + string('0'+(last-'0'+1)%10)
}
