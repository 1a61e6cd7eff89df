package redact

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestValidSSN(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"123-45-6789", true},
		{"123 45 6789", true},
		{"123456789", true},
		{"001-01-0001", true},
		{"665-99-9999", true},
		{"899-12-3456", true},
		{"000-12-3456", false},
		{"666-12-3456", false},
		{"900-12-3456", false},
		{"999-12-3456", false},
		{"123-00-4567", false},
		{"123-45-0000", false},
		{"078-05-1120", false},
		{"219-09-9999", false},
		{"123-45 6789", false},
		{"123 45-6789", false},
		{"12-345-6789", false},
		{"123-456789", false},
		{"12345-6789", false},
		{"1234567890", false},
		{"12345678", false},
		{"123--45-6789", false},
		{"abc-de-fghi", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ValidSSN(tt.in); got != tt.want {
				t.Errorf("ValidSSN(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRuleValidation(t *testing.T) {
	ok := Rule{Name: "employee id", Pattern: `EMP-[0-9]{6}`, Replacement: "[EMP]", Enabled: true}
	with := func(f func(*Rule)) Rule {
		r := ok
		f(&r)
		return r
	}
	tests := []struct {
		name   string
		rule   Rule
		want   error
		field  string
		detail string
	}{
		{"empty name", with(func(r *Rule) { r.Name = "" }), ErrInvalidName, "name", "empty"},
		{"name with slash", with(func(r *Rule) { r.Name = "a/b" }), ErrInvalidName, "name", `'/'`},
		{"name starting with space", with(func(r *Rule) { r.Name = " a" }), ErrInvalidName, "name", "starting with"},
		{"long name", with(func(r *Rule) { r.Name = strings.Repeat("a", MaxNameLen+1) }), ErrInvalidName, "name", "at most"},
		{"empty pattern", with(func(r *Rule) { r.Pattern = "" }), ErrEmptyPattern, "pattern", ""},
		{"long pattern", with(func(r *Rule) { r.Pattern = strings.Repeat("a", MaxPatternLen+1) }), ErrPatternTooLong, "pattern", "at most"},
		{"syntax error", with(func(r *Rule) { r.Pattern = `EMP-(` }), ErrInvalidPattern, "pattern", "missing closing )"},
		{"backreference", with(func(r *Rule) { r.Pattern = `(a)\1` }), ErrInvalidPattern, "pattern", "escape"},
		{"lookahead", with(func(r *Rule) { r.Pattern = `a(?=b)` }), ErrInvalidPattern, "pattern", ""},
		{"invalid utf-8", with(func(r *Rule) { r.Pattern = "a\xff" }), ErrInvalidPattern, "pattern", "UTF-8"},
		{"huge repetition", with(func(r *Rule) { r.Pattern = `a{1001}` }), ErrInvalidPattern, "pattern", "repeat"},
		{"too complex", with(func(r *Rule) { r.Pattern = `\pL{1000}\pL{1000}\pL{1000}` }), ErrPatternTooComplex, "pattern", "instructions"},
		{"star matches empty", with(func(r *Rule) { r.Pattern = `a*` }), ErrMatchesEmpty, "pattern", ""},
		{"word boundary matches empty", with(func(r *Rule) { r.Pattern = `\b` }), ErrMatchesEmpty, "pattern", ""},
		{"optional alternative matches empty", with(func(r *Rule) { r.Pattern = `abc|` }), ErrMatchesEmpty, "pattern", ""},
		{"empty group", with(func(r *Rule) { r.Pattern = `(?:)` }), ErrMatchesEmpty, "pattern", ""},
		{"anchors only", with(func(r *Rule) { r.Pattern = `^$` }), ErrMatchesEmpty, "pattern", ""},
		{"long replacement", with(func(r *Rule) { r.Replacement = strings.Repeat("x", MaxReplacementLen+1) }), ErrReplacementTooLong, "replacement", ""},
		{"replacement unknown group", with(func(r *Rule) { r.Replacement = "$1" }), ErrInvalidReplacement, "replacement", "group 1"},
		{"replacement unknown name", with(func(r *Rule) { r.Replacement = "${id}" }), ErrInvalidReplacement, "replacement", "$id"},
		{"replacement lone dollar", with(func(r *Rule) { r.Replacement = "cost $" }), ErrInvalidReplacement, "replacement", "$$"},
		{"replacement number then letters", with(func(r *Rule) { r.Pattern = `(a)b`; r.Replacement = "$1x" }), ErrInvalidReplacement, "replacement", "${1}x"},
		{"replacement leading zero", with(func(r *Rule) { r.Pattern = `(a)b`; r.Replacement = "$01" }), ErrInvalidReplacement, "replacement", ""},
		{"replacement invalid utf-8", with(func(r *Rule) { r.Replacement = "\xff" }), ErrInvalidReplacement, "replacement", "UTF-8"},
		{"unknown validator", with(func(r *Rule) { r.Validator = "luhn" }), ErrUnknownValidator, "validator", ValidatorIBAN},
		{"card number in pattern", with(func(r *Rule) { r.Pattern = `4111111111111111` }), ErrCardNumber, "pattern", ""},
		{"card number spelt by a pattern", with(func(r *Rule) { r.Pattern = `4111[ -]?1111[ -]?1111[ -]?1111` }), ErrCardNumber, "pattern", ""},
		{"card number in replacement", with(func(r *Rule) { r.Replacement = "5500 0000 0000 0004" }), ErrCardNumber, "replacement", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewEngine([]Rule{tt.rule})
			if !errors.Is(err, tt.want) {
				t.Fatalf("NewEngine error = %v, want %v", err, tt.want)
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *RuleError", err)
			}
			if re.Field != tt.field || re.Rule != tt.rule.Name {
				t.Errorf("got field %q rule %q, want field %q rule %q", re.Field, re.Rule, tt.field, tt.rule.Name)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q does not mention %q", err.Error(), tt.detail)
			}
			if _, err := TryRule(tt.rule, "sample"); !errors.Is(err, tt.want) {
				t.Errorf("TryRule error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRuleValidationAccepts(t *testing.T) {
	for _, r := range []Rule{
		{Name: "a", Pattern: `x`, Replacement: ""},
		{Name: "named group", Pattern: `(?P<id>[0-9]+)-x`, Replacement: "id ${id}"},
		{Name: "Numbered-2.0", Pattern: `(a)(b)`, Replacement: "$2${1}x $$"},
		{Name: "unicode ñame", Pattern: `(?i)café\b`, Replacement: "☕"},
		{Name: "plus", Pattern: `a+`, Replacement: "A"},
		{Name: "repeat min", Pattern: `a{2,}`, Replacement: "A"},
	} {
		t.Run(r.Name, func(t *testing.T) {
			if err := Validate([]Rule{r}); err != nil {
				t.Errorf("Validate(%+v) = %v, want nil", r, err)
			}
		})
	}
	if err := Validate(BuiltinRules()); err != nil {
		t.Errorf("Validate(BuiltinRules()) = %v", err)
	}
}

func TestRuleSetValidation(t *testing.T) {
	dup := []Rule{{Name: "Card", Pattern: "a"}, {Name: "card", Pattern: "b"}}
	if err := Validate(dup); !errors.Is(err, ErrDuplicateName) {
		t.Errorf("duplicate names: error = %v, want ErrDuplicateName", err)
	}
	many := make([]Rule, MaxRules+1)
	for i := range many {
		many[i] = Rule{Name: fmt.Sprint("r", i), Pattern: "a"}
	}
	if err := Validate(many); !errors.Is(err, ErrTooManyRules) {
		t.Errorf("too many rules: error = %v, want ErrTooManyRules", err)
	}
	// A disabled rule is validated too.
	bad := []Rule{{Name: "off", Pattern: "(", Enabled: false}}
	if err := Validate(bad); !errors.Is(err, ErrInvalidPattern) {
		t.Errorf("disabled invalid rule: error = %v, want ErrInvalidPattern", err)
	}
}

func TestBuiltinRulesAreOff(t *testing.T) {
	rules := BuiltinRules()
	if len(rules) != 2 {
		t.Fatalf("got %d built-in rules, want 2", len(rules))
	}
	for _, r := range rules {
		if r.Enabled {
			t.Errorf("built-in rule %s is enabled by default", r.Name)
		}
	}
	e, err := NewEngine(rules)
	if err != nil {
		t.Fatal(err)
	}
	in := "SSN 123-45-6789, IBAN DE89 3704 0044 0532 0130 00"
	if got, res := e.Apply(in); got != in || res.Total() != 0 {
		t.Errorf("default built-ins changed %q to %q", in, got)
	}
}

// TestRuleNameCardNumber: a rule name that holds a card number is refused without being repeated
// in the error (which reaches logs).
func TestRuleNameCardNumber(t *testing.T) {
	for _, name := range []string{"4111111111111111", "card 6011-0000-0000-0004", "３５３０１１１３３３３０００００"} {
		_, err := NewEngine([]Rule{{Name: name, Pattern: `EMP-[0-9]{6}`, Replacement: "[EMP]"}})
		var re *RuleError
		if !errors.Is(err, ErrCardNumber) || !errors.As(err, &re) || re.Field != "name" || re.Rule != "" {
			t.Fatalf("NewEngine with name %q = %v, want ErrCardNumber on name without the name", name, err)
		}
		if strings.ContainsAny(err.Error(), "0123456789") {
			t.Errorf("error %q repeats digits of the name", err)
		}
	}
	for _, pattern := range []string{`\b[0-9]{16}\b`, `POL-([0-9]{4})([0-9]{4})`, `\d{4}-\d{4}-\d{4}-\d{4}`} {
		if _, err := NewEngine([]Rule{{Name: "numbers", Pattern: pattern, Replacement: "[x]"}}); err != nil {
			t.Errorf("pattern %q = %v, want accepted: it holds no card number", pattern, err)
		}
	}
}
