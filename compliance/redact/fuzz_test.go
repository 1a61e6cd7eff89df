package redact

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// sentinels are the errors rule validation may return.
var sentinels = []error{
	ErrInvalidName, ErrEmptyPattern, ErrPatternTooLong, ErrInvalidPattern, ErrPatternTooComplex,
	ErrMatchesEmpty, ErrReplacementTooLong, ErrInvalidReplacement, ErrUnknownValidator,
}

func FuzzRuleEngine(f *testing.F) {
	f.Add(`EMP-[0-9]{6}`, "[EMP]", "", "id EMP-123456 here")
	f.Add(`(?P<id>[0-9]+)-x`, "id ${id}", "", "12-x 34-x")
	f.Add(`\b[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}\b`, "[SSN]", ValidatorUSSSN, "123-45-6789")
	f.Add(`\b[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]){11,30}`, "[IBAN]", ValidatorIBAN, "DE89 3704 0044 0532 0130 00 ok")
	f.Add(`a*`, "x", "", "aaa")
	f.Add(`(`, "x", "", "(")
	f.Add(`.`, "$1", "", "\xff\xfe")
	f.Fuzz(func(t *testing.T, pattern, repl, validator, text string) {
		rule := Rule{Name: "fuzz", Pattern: pattern, Replacement: repl, Validator: validator, Enabled: true}
		e, err := NewEngine([]Rule{rule})
		if err != nil {
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("NewEngine error %v wraps no sentinel", err)
			}
			return
		}
		out, res := e.Apply(text)
		if res.Total() == 0 && out != text {
			t.Fatalf("Apply(%q) = %q without a replacement", text, out)
		}
		if res.Total() > 0 && len(res.Counts) != 1 {
			t.Fatalf("got counts %+v for one rule", res.Counts)
		}
		if utf8.ValidString(text) && !utf8.ValidString(out) {
			t.Fatalf("Apply(%q) = %q is not valid UTF-8", text, out)
		}
		if len(text) <= 4096 {
			tr, err := TryRule(rule, text)
			if err != nil {
				t.Fatalf("TryRule: %v", err)
			}
			if tr.Output != out || tr.Replaced != res.Total() {
				t.Fatalf("TryRule disagrees with Apply: %q (%d) vs %q (%d)", tr.Output, tr.Replaced, out, res.Total())
			}
			for _, m := range tr.Matches {
				if m.Start < 0 || m.End > len(text) || m.Start > m.End || text[m.Start:m.End] != m.Text {
					t.Fatalf("trial match %+v out of range", m)
				}
				if m.Valid && m.Start == m.End {
					t.Fatalf("empty replaced match %+v", m)
				}
			}
		}
	})
}

func FuzzValidIBAN(f *testing.F) {
	for _, s := range registryExamples[:10] {
		f.Add(s)
	}
	f.Add("GB29 NWBK 6016 1331 9268 19")
	f.Add("gb29nwbk60161331926819")
	f.Fuzz(func(t *testing.T, s string) {
		got := ValidIBAN(s)
		compact := strings.ToUpper(strings.ReplaceAll(s, " ", ""))
		want := !strings.Contains(s, "  ") && !strings.HasPrefix(s, " ") && !strings.HasSuffix(s, " ") &&
			len(compact) >= 5 && ibanLengths[compact[:2]] == len(compact) &&
			compact[2:4] >= "02" && compact[2:4] <= "98" && isDigit(compact[2]) && isDigit(compact[3]) &&
			strings.Trim(compact, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" && refIBANChecksum(compact) == 1
		if got != want {
			t.Fatalf("ValidIBAN(%q) = %v, reference %v", s, got, want)
		}
		// The validator agrees with ValidIBAN on a lone candidate.
		if end, ok := validateIBAN(s, 0, len(s)); ok && (end != len(s) || !got) {
			t.Fatalf("validateIBAN(%q) = %d, %v; ValidIBAN %v", s, end, ok, got)
		}
	})
}

func FuzzValidSSN(f *testing.F) {
	for _, s := range []string{"123-45-6789", "123 45 6789", "123456789", "000-12-3456", "078-05-1120", "123-45 6789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ValidSSN(s)
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
		var want bool
		switch {
		case len(s) == 9:
			want = digits == s
		case len(s) == 11:
			want = (s[3] == '-' && s[6] == '-' || s[3] == ' ' && s[6] == ' ') && s[:3]+s[4:6]+s[7:] == digits
		}
		if want {
			area, group, serial := digits[:3], digits[3:5], digits[5:]
			want = area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000" &&
				digits != "078051120" && digits != "219099999"
		}
		if got != want {
			t.Fatalf("ValidSSN(%q) = %v, reference %v", s, got, want)
		}
	})
}
