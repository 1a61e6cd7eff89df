package password

import (
	"reflect"
	"slices"
	"testing"
)

var knownCodes = []Code{
	CodeTooLong, CodeInvalidCharacters, CodeTooShort, CodeNeedsUpper, CodeNeedsLower,
	CodeNeedsLetter, CodeNeedsDigit, CodeNeedsSpecial, CodeCommonPassword,
	CodeContainsUsername, CodeContainsEmail, CodeContainsTenantName, CodeReused,
}

func FuzzEvaluate(f *testing.F) {
	f.Add("Tr0ub4dor&3x", "asmith", "alice.smith@example.com", "Acme Health", false)
	f.Add("correct horse battery", "", "", "", true)
	f.Add("Ｔｒ０ｕｂ４ｄｏｒ＆３ｘ", "ｓｍｉｔｈ", "smith@example.com", "Ｓｍｉｔｈ", false)
	f.Add("cafe\u0301\u0301\u0301 ﬁ ²", "é", "@", "@@", true)
	f.Add("pass\xffword", "\xff", "a@b@c", "\x00", false)
	f.Add("\uFDFA\uFDFA\uFDFA", "\uFDFA", "x", "y", false)
	f.Add("Dragon2024!!", "dragon", "dragon@example.com", "Dragon", true)

	common := NewBlocklist()
	all := custom(func(p *Policy) {
		p.RequireUpper, p.RequireLower, p.RequireDigit, p.RequireSpecial, p.RequireLetterAndDigit = true, true, true, true, true
		p.HistoryDepth, p.MinLengthWithMFA = 3, 8
	})
	var evaluators []*Evaluator
	for _, p := range []Policy{PCIDSS4(), NIST80063B(), all} {
		e, err := NewEvaluator(p, common)
		if err != nil {
			f.Fatalf("NewEvaluator: %v", err)
		}
		evaluators = append(evaluators, e)
	}

	f.Fuzz(func(t *testing.T, candidate, username, email, tenant string, mfa bool) {
		history := HistoryFunc(func(n string, _ int) (bool, error) { return n == "Tr0ub4dor&3x", nil })
		c := Context{Username: username, Email: email, TenantName: tenant, MFAEnforced: mfa, History: history}

		n, normErr := Normalize(candidate)
		if normErr == nil {
			again, err := Normalize(n)
			if err != nil || again != n {
				t.Fatalf("Normalize not idempotent: %q -> %q -> %q (%v)", candidate, n, again, err)
			}
		}
		for _, e := range evaluators {
			first, err := e.Evaluate(candidate, c)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			second, err := e.Evaluate(candidate, c)
			if err != nil || !reflect.DeepEqual(first, second) {
				t.Fatalf("Evaluate not deterministic: %v then %v (%v)", first, second, err)
			}
			last := -1
			for _, v := range first {
				i := slices.Index(knownCodes, v.Code)
				if i < 0 || i <= last || v.Message == "" {
					t.Fatalf("bad violation list %v: unknown, repeated or out-of-order code %q", codes(first), v.Code)
				}
				last = i
			}
			if normErr == nil {
				fromNormalized, err := e.Evaluate(n, c)
				if err != nil || !reflect.DeepEqual(first, fromNormalized) {
					t.Fatalf("normalized candidate judged differently: %v vs %v (%v)", codes(first), codes(fromNormalized), err)
				}
			} else if len(first) != 1 || (first[0].Code != CodeTooLong && first[0].Code != CodeInvalidCharacters) {
				t.Fatalf("got %v for input Normalize rejects (%v), want exactly too_long or invalid_characters", codes(first), normErr)
			}
		}
	})
}
