package pan

import (
	"strings"
	"testing"
)

// luhnComplete returns an n-digit number that starts with prefix, is padded
// with digits derived from seed and ends with the Luhn check digit.
func luhnComplete(prefix string, n int, seed int) string {
	b := []byte(prefix)
	for len(b) < n-1 {
		seed = seed*1103515245 + 12345
		b = append(b, byte('0'+(seed>>16&0x7fff)%10))
	}
	for c := byte('0'); c <= '9'; c++ {
		if refLuhn(string(b) + string(c)) {
			return string(b) + string(c)
		}
	}
	panic("no check digit")
}

// breakLuhn returns digits with the check digit changed so Luhn fails.
func breakLuhn(digits string) string {
	last := digits[len(digits)-1]
	return digits[:len(digits)-1] + string('0'+(last-'0'+1)%10)
}

// maskedDigits returns digits masked by mode with mask rune '•'.
func maskedDigits(digits string, mode Mode) string {
	n := len(digits)
	front := refKeepFront(mode, n)
	return digits[:front] + strings.Repeat("•", n-front-4) + digits[n-4:]
}

// group writes digits in groups of the given sizes joined by sep.
func group(digits string, sep string, sizes ...int) string {
	rs := []rune(digits)
	var parts []string
	for _, n := range sizes {
		n = min(n, len(rs))
		parts = append(parts, string(rs[:n]))
		rs = rs[n:]
	}
	if len(rs) > 0 {
		parts = append(parts, string(rs))
	}
	return strings.Join(parts, sep)
}

// toScript rewrites the ASCII digits of s with the digits whose zero is zero.
func toScript(s string, zero rune) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			r = zero + (r - '0')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// interleave puts sep between every two runes of s.
func interleave(s, sep string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// newMasker builds a Masker or fails the test.
func newMasker(tb testing.TB, o Options) *Masker {
	tb.Helper()
	m, err := NewMasker(o)
	if err != nil {
		tb.Fatalf("NewMasker(%+v): %v", o, err)
	}
	return m
}
