package audit

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestDigitRunMasker(t *testing.T) {
	cases := []struct{ in, want string }{
		{"no digits", "no digits"},
		{"order 123456789012", "order 123456789012"},
		{"4111111111111111", "************1111"},
		{"4111-1111-1111-1111", "****-****-****-1111"},
		{"4111 - 1111 - 1111 - 1111", "**** - **** - **** - 1111"},
		{"4111.1111.1111.1111", "****.****.****.1111"},
		{"４１１１１１１１１１１１１１１１", "************１１１１"},
		{"4111\u200b1111\u200b1111\u200b1111", "****\u200b****\u200b****\u200b1111"},
		{"two 4111111111111111 and 5555555555554444.", "two ************1111 and ************4444."},
		{"4111    1111 1111 1111", "****    **** **** 1111"},
		{"4111      1111 1111 1111", "4111      1111 1111 1111"}, // six separators end a run
		{"1234567890123456789012345", "*********************2345"},
		{"", ""},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := (DigitRunMasker{}).Mask(tc.in); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// longestRun counts the digits of the longest digit run as the masker defines it.
func longestRun(s string) int {
	best, cur, seps := 0, 0, 0
	for _, r := range s {
		switch {
		case unicode.IsDigit(r):
			cur++
			seps = 0
		case maskSeparator(r) && cur > 0 && seps < maxSeparatorRun:
			seps++
		default:
			cur, seps = 0, 0
		}
		best = max(best, cur)
	}
	return best
}

func FuzzDigitRunMasker(f *testing.F) {
	for _, s := range []string{"4111 1111 1111 1111", "٤١١١١١١١١١١١١١١١", "a1-2-3-4-5-6-7-8-9-0-1-2-3-4", "\xff4111111111111111"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := DigitRunMasker{}
		out := m.Mask(s)
		if utf8.ValidString(s) && utf8.RuneCountInString(out) != utf8.RuneCountInString(s) {
			t.Fatalf("rune count changed: %q -> %q", s, out)
		}
		if n := longestRun(out); n >= minMaskedRun {
			t.Fatalf("output %q still holds a run of %d digits", out, n)
		}
		if again := m.Mask(out); again != out {
			t.Fatalf("not idempotent: %q -> %q", out, again)
		}
	})
}
