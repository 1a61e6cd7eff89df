package report

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/compliance/pan"
)

// FuzzParsePeriod: any input either gives a period of 1 to MaxDays days starting at midnight, or
// an *InputError naming from, to or tz; it never panics.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range [][3]string{{"2026-01-01", "2026-01-31", ""}, {"2026-03-29", "2026-03-29", "Europe/Berlin"},
		{"2026-02-30", "2026-03-01", "UTC"}, {"0000-01-01", "9999-12-31", "Local"}, {"2026-01-01", "2025-01-01", "../etc"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, from, to, tz string) {
		p, err := ParsePeriod(from, to, tz)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || (ie.Field != "from" && ie.Field != "to" && ie.Field != "tz") {
				t.Fatalf("error %v is not an input error on a known field", err)
			}
			return
		}
		if d := p.Days(); d < 1 || d > MaxDays {
			t.Fatalf("%d days", d)
		}
		if h, m, s := p.From.Clock(); h != 0 || m != 0 || s != 0 || !p.End().After(p.Start()) {
			t.Fatalf("period %v..%v", p.Start(), p.End())
		}
	})
}

// FuzzSafeCell: no cell leaves starting with a formula character, and no card number survives.
func FuzzSafeCell(f *testing.F) {
	for _, s := range []string{"=1+1", "+SUM(A1)", "-2", "@x", "\t=1", "Cards", "4111 1111 1111 1111", "=4111111111111111"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := SafeCell(s)
		if got != "" && strings.ContainsRune("=+-@\t\r", rune(got[0])) {
			t.Fatalf("SafeCell(%q) = %q starts with a formula character", s, got)
		}
		if pan.Contains(got) {
			t.Fatalf("SafeCell(%q) = %q keeps a card number", s, got)
		}
	})
}
