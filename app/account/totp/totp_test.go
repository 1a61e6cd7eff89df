package totp

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// rfcSecret is the SHA-1 seed of RFC 6238 Appendix B.
var rfcSecret = Secret("12345678901234567890")

// codeAt computes the code for step with the same library Verify uses; the
// RFC vectors below pin the library down.
func codeAt(t testing.TB, secret Secret, step int64) string {
	t.Helper()
	c, err := hotp.GenerateCodeCustom(b32.EncodeToString(secret), uint64(step), hotpOpts)
	if err != nil {
		t.Fatalf("GenerateCodeCustom: %v", err)
	}
	return c
}

func TestRFC6238Vectors(t *testing.T) {
	tests := []struct {
		unix int64
		want string // 8-digit TOTP from RFC 6238 Appendix B, SHA-1
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.unix), func(t *testing.T) {
			now := time.Unix(tt.unix, 0).UTC()
			step := Step(now)
			got, err := hotp.GenerateCodeCustom(b32.EncodeToString(rfcSecret), uint64(step),
				hotp.ValidateOpts{Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1})
			if err != nil {
				t.Fatalf("GenerateCodeCustom: %v", err)
			}
			if got != tt.want {
				t.Fatalf("8-digit code: got %s, want %s", got, tt.want)
			}
			// A 6-digit code is the last six digits of the 8-digit one.
			acc, err := Verify(rfcSecret, tt.want[2:], now, 0)
			if err != nil {
				t.Fatalf("Verify(%s): %v", tt.want[2:], err)
			}
			if acc != step {
				t.Errorf("accepted step: got %d, want %d", acc, step)
			}
		})
	}
}

func TestStep(t *testing.T) {
	tests := []struct {
		unix int64
		want int64
	}{
		{0, 0}, {29, 0}, {30, 1}, {59, 1}, {60, 2}, {-1, -1}, {-30, -1}, {-31, -2},
	}
	for _, tt := range tests {
		if got := Step(time.Unix(tt.unix, 0)); got != tt.want {
			t.Errorf("Step(%d): got %d, want %d", tt.unix, got, tt.want)
		}
	}
}

func TestVerifySkewAndReplay(t *testing.T) {
	secret := Secret("an-enrolled-secret-20")
	now := time.Unix(1_700_000_010, 0) // 10 s into its step
	cur := Step(now)
	tests := []struct {
		name     string
		codeStep int64
		lastStep int64
		want     int64
		wantErr  error
	}{
		{"exact step", cur, 0, cur, nil},
		{"one step behind", cur - 1, 0, cur - 1, nil},
		{"one step ahead", cur + 1, 0, cur + 1, nil},
		{"two steps behind", cur - 2, 0, 0, ErrInvalid},
		{"two steps ahead", cur + 2, 0, 0, ErrInvalid},
		{"same code again", cur, cur, 0, ErrReplay},
		{"earlier code after a later one", cur - 1, cur, 0, ErrReplay},
		{"later code after an earlier one", cur + 1, cur, cur + 1, nil},
		{"current code after a future one", cur, cur + 1, 0, ErrReplay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Verify(secret, codeAt(t, secret, tt.codeStep), now, tt.lastStep)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify: got error %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("step: got %d, want %d", got, tt.want)
			}
		})
	}
}

// TestVerifyNeverTwice walks a sign-in sequence the way the account store
// does: each accepted step becomes the next lastStep.
func TestVerifyNeverTwice(t *testing.T) {
	secret := Secret("another-secret-of-20b")
	clock := time.Unix(1_800_000_000, 0)
	var last int64
	code := codeAt(t, secret, Step(clock))
	step, err := Verify(secret, code, clock, last)
	if err != nil {
		t.Fatalf("first use: %v", err)
	}
	last = step
	clock = clock.Add(5 * time.Second) // same step, seconds later
	if _, err := Verify(secret, code, clock, last); !errors.Is(err, ErrReplay) {
		t.Fatalf("second use within the step: got %v, want ErrReplay", err)
	}
	clock = clock.Add(Period) // next step: the old code is still in the window
	if _, err := Verify(secret, code, clock, last); !errors.Is(err, ErrReplay) {
		t.Fatalf("second use a step later: got %v, want ErrReplay", err)
	}
	next := codeAt(t, secret, Step(clock))
	step, err = Verify(secret, next, clock, last)
	if err != nil || step != last+1 {
		t.Fatalf("next code: got step %d err %v, want step %d", step, err, last+1)
	}
}

func TestVerifyRejectsBadInput(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	good := codeAt(t, rfcSecret, Step(now))
	tests := []struct {
		name    string
		secret  Secret
		code    string
		wantErr error
	}{
		{"spaced code accepted", rfcSecret, good[:3] + " " + good[3:], nil},
		{"short secret", Secret("0123456789abcde"), good, ErrSecret},
		{"empty", rfcSecret, "", ErrInvalid},
		{"five digits", rfcSecret, good[:5], ErrInvalid},
		{"seven digits", rfcSecret, good + "0", ErrInvalid},
		{"letter", rfcSecret, good[:5] + "a", ErrInvalid},
		{"hyphen", rfcSecret, good[:3] + "-" + good[3:], ErrInvalid},
		{"full-width digits", rfcSecret, "１２３４５６", ErrInvalid},
		{"sign", rfcSecret, "+" + good[1:], ErrInvalid},
		{"very long", rfcSecret, strings.Repeat(" ", 100) + good, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(tt.secret, tt.code, now, 0)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify: got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyBeforeEpoch(t *testing.T) {
	// A broken clock must not wrap to a huge counter or panic.
	if _, err := Verify(rfcSecret, "000000", time.Unix(-100, 0), 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("got %v, want ErrInvalid", err)
	}
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"123456", "123 456", " 000000 ", "12345", "1234567", "１２３４５６", "12a456", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseCode(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if len(got) != Digits {
			t.Fatalf("accepted %q as %q: want %d digits", s, got, Digits)
		}
		for _, c := range got {
			if c < '0' || c > '9' {
				t.Fatalf("accepted %q as %q: non-digit", s, got)
			}
		}
		if want := strings.ReplaceAll(s, " ", ""); string(got) != want {
			t.Fatalf("accepted %q as %q, want %q", s, got, want)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	secret := Secret("benchmark-secret-20by")
	now := time.Unix(1_700_000_000, 0)
	code := codeAt(b, secret, Step(now)+1) // worst case: the last candidate matches
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(secret, code, now, 0); err != nil {
			b.Fatal(err)
		}
	}
}
