package redact

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// enabled returns the built-in rules with every rule turned on.
func enabled(rules ...Rule) []Rule {
	out := make([]Rule, len(rules))
	for i, r := range rules {
		r.Enabled = true
		out[i] = r
	}
	return out
}

func newEngine(t testing.TB, rules []Rule) *Engine {
	t.Helper()
	e, err := NewEngine(rules)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

func TestEngineBuiltins(t *testing.T) {
	e := newEngine(t, enabled(BuiltinRules()...))
	tests := []struct {
		name, in, want string
		counts         []Count
	}{
		{"ssn dashed", "my SSN is 123-45-6789.", "my SSN is [SSN].", []Count{{BuiltinUSSSN, 1}}},
		{"ssn spaced and plain", "123 45 6789 or 123456789", "[SSN] or [SSN]", []Count{{BuiltinUSSSN, 2}}},
		{"invalid ssn area kept", "000-12-3456 and 666-12-3456 and 912-34-5678", "000-12-3456 and 666-12-3456 and 912-34-5678", nil},
		{"ssn inside a longer number kept", "call 1-123-45-6789 or 123-45-6789-1 or 0123456789", "call 1-123-45-6789 or 123-45-6789-1 or 0123456789", nil},
		{"mixed ssn separators kept", "123-45 6789", "123-45 6789", nil},
		{"iban compact", "IBAN DE89370400440532013000 please", "IBAN [IBAN] please", []Count{{BuiltinIBAN, 1}}},
		{"iban print format then words", "to DE89 3704 0044 0532 0130 00 thanks", "to [IBAN] thanks", []Count{{BuiltinIBAN, 1}}},
		{"iban lower case", "gb29 nwbk 6016 1331 9268 19.", "[IBAN].", []Count{{BuiltinIBAN, 1}}},
		{"iban after a rejected candidate", "ref XX12 DE89 3704 0044 0532 0130 00", "ref XX12 [IBAN]", []Count{{BuiltinIBAN, 1}}},
		{"iban bad checksum kept", "DE89 3704 0044 0532 0130 01", "DE89 3704 0044 0532 0130 01", nil},
		{"iban glued to more characters kept", "DE89370400440532013000X", "DE89370400440532013000X", nil},
		{"two ibans", "NL91ABNA0417164300, BE68539007547034", "[IBAN], [IBAN]", []Count{{BuiltinIBAN, 2}}},
		{"both rules", "SSN 123-45-6789 IBAN CH9300762011623852957", "SSN [SSN] IBAN [IBAN]", []Count{{BuiltinUSSSN, 1}, {BuiltinIBAN, 1}}},
		{"nothing", "hello there, order 12345", "hello there, order 12345", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, res := e.Apply(tt.in)
			if got != tt.want {
				t.Errorf("Apply(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !reflect.DeepEqual(res.Counts, tt.counts) {
				t.Errorf("Apply(%q) counts = %+v, want %+v", tt.in, res.Counts, tt.counts)
			}
		})
	}
}

func TestEngineCustomRules(t *testing.T) {
	rules := []Rule{
		{Name: "member", Pattern: `(?i)\bmember[ -]?(?P<id>[0-9]{8})\b`, Replacement: "member ****${id}", Enabled: false},
		{Name: "policy", Pattern: `\bPOL-([0-9]{4})([0-9]{4})\b`, Replacement: "POL-$1****", Enabled: true},
		{Name: "dollar", Pattern: `secret`, Replacement: "$$$$", Enabled: true},
		{Name: "chained", Pattern: `POL-[0-9]{4}\*{4}`, Replacement: "[policy]", Enabled: true},
	}
	e := newEngine(t, rules)
	if got, want := e.Rules(), []string{"policy", "dollar", "chained"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Rules() = %v, want %v", got, want)
	}
	in := "member 12345678 has POL-12345678 and a secret; POL-1234567"
	want := "member 12345678 has [policy] and a $$; POL-1234567"
	got, res := e.Apply(in)
	if got != want {
		t.Errorf("Apply(%q) = %q, want %q", in, got, want)
	}
	if res.Total() != 3 {
		t.Errorf("Total() = %d, want 3", res.Total())
	}
}

func TestEngineNoMatchReturnsInput(t *testing.T) {
	e := newEngine(t, enabled(BuiltinRules()...))
	in := strings.Repeat("nothing to see here ", 10)
	got, res := e.Apply(in)
	if got != in || res.Counts != nil {
		t.Errorf("Apply changed text without matches")
	}
	if a := testing.AllocsPerRun(100, func() { e.Apply(in) }); a != 0 {
		t.Errorf("Apply without matches allocates %.0f times, want 0", a)
	}
	empty := newEngine(t, nil)
	if got, _ := empty.Apply(in); got != in {
		t.Errorf("engine without rules changed the text")
	}
}

func TestTryRule(t *testing.T) {
	r := BuiltinRules()[0] // disabled: TryRule ignores Enabled
	sample := "a 123-45-6789 b 000-12-3456 c 219-09-9999"
	tr, err := TryRule(r, sample)
	if err != nil {
		t.Fatal(err)
	}
	want := Trial{
		Output:   "a [SSN] b 000-12-3456 c 219-09-9999",
		Replaced: 1,
		Matches: []TrialMatch{
			{Start: 2, End: 13, Text: "123-45-6789", Valid: true},
			{Start: 16, End: 27, Text: "000-12-3456", Valid: false},
			{Start: 30, End: 41, Text: "219-09-9999", Valid: false},
		},
	}
	if !reflect.DeepEqual(tr, want) {
		t.Errorf("TryRule = %+v, want %+v", tr, want)
	}
	custom := Rule{Name: "x", Pattern: `x`, Replacement: "y"}
	tr, err = TryRule(custom, strings.Repeat("x", MaxTrialMatches+5))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Matches) != MaxTrialMatches || !tr.Truncated || tr.Replaced != MaxTrialMatches+5 {
		t.Errorf("got %d matches, truncated %v, replaced %d", len(tr.Matches), tr.Truncated, tr.Replaced)
	}
	if _, err := TryRule(custom, strings.Repeat("a", MaxSampleLen+1)); !errors.Is(err, ErrSampleTooLarge) {
		t.Errorf("large sample error = %v, want ErrSampleTooLarge", err)
	}
}
