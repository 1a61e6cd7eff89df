package redact

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/compliance/pan"
)

// Limits on rules, so that one tenant's configuration cannot make every
// message slow or the configuration page unusable.
const (
	// MaxNameLen bounds a rule name, in bytes.
	MaxNameLen = 64
	// MaxPatternLen bounds a pattern, in bytes.
	MaxPatternLen = 1024
	// MaxProgramSize bounds the compiled pattern, in RE2 instructions.
	MaxProgramSize = 2500
	// MaxReplacementLen bounds a replacement, in bytes.
	MaxReplacementLen = 256
	// MaxRules bounds the rules of one tenant.
	MaxRules = 50
)

// Rule is one redaction rule of a tenant.
type Rule struct {
	// Name identifies the rule within the tenant: letters, digits, spaces,
	// '_', '-' and '.', starting with a letter or digit. Rules are stored in
	// clear, so a card number in the name, pattern or replacement is refused
	// (ErrCardNumber), never masked.
	Name string `json:"name"`
	// Pattern is a Go RE2 regular expression (regexp/syntax, Perl flags). It
	// may not hold a card number, as written or spelt by its digits alone.
	Pattern string `json:"pattern"`
	// Replacement replaces each match; $1, ${1} and ${name} refer to the
	// pattern's groups, $$ is a dollar sign.
	Replacement string `json:"replacement"`
	// Enabled rules are applied; disabled ones are kept and validated.
	Enabled bool `json:"enabled"`
	// Validator optionally names a check a match must pass, such as a
	// checksum: ValidatorUSSSN or ValidatorIBAN. Empty means none.
	Validator string `json:"validator,omitempty"`
}

// compiledRule is a validated rule ready to apply.
type compiledRule struct {
	name     string
	re       *regexp.Regexp
	repl     string
	literal  bool // the replacement has no group reference
	validate validatorFunc
	mayMatch func(string) bool
}

// compile validates r and compiles it.
func compile(r Rule) (*compiledRule, error) {
	fail := func(field string, err error, detail string) error {
		return &RuleError{Rule: r.Name, Field: field, Err: err, Detail: detail}
	}
	if holdsCardNumber(r.Name) {
		return nil, &RuleError{Field: "name", Err: ErrCardNumber}
	}
	if err := checkName(r.Name); err != nil {
		return nil, fail("name", ErrInvalidName, err.Error())
	}
	if holdsCardNumber(r.Pattern) {
		return nil, fail("pattern", ErrCardNumber, "")
	}
	if holdsCardNumber(r.Replacement) {
		return nil, fail("replacement", ErrCardNumber, "")
	}
	switch {
	case r.Pattern == "":
		return nil, fail("pattern", ErrEmptyPattern, "")
	case len(r.Pattern) > MaxPatternLen:
		return nil, fail("pattern", ErrPatternTooLong, fmt.Sprintf("%d bytes, at most %d", len(r.Pattern), MaxPatternLen))
	case !utf8.ValidString(r.Pattern):
		return nil, fail("pattern", ErrInvalidPattern, "not valid UTF-8")
	}
	tree, err := syntax.Parse(r.Pattern, syntax.Perl)
	if err != nil {
		return nil, fail("pattern", ErrInvalidPattern, parseDetail(err))
	}
	if minLen(tree) == 0 {
		return nil, fail("pattern", ErrMatchesEmpty, "every match must contain at least one character")
	}
	prog, err := syntax.Compile(tree.Simplify())
	if err != nil {
		return nil, fail("pattern", ErrInvalidPattern, parseDetail(err))
	}
	if len(prog.Inst) > MaxProgramSize {
		return nil, fail("pattern", ErrPatternTooComplex,
			fmt.Sprintf("%d instructions, at most %d; use fewer or smaller repetitions", len(prog.Inst), MaxProgramSize))
	}
	re, err := regexp.Compile(r.Pattern)
	if err != nil {
		return nil, fail("pattern", ErrInvalidPattern, parseDetail(err))
	}
	if len(r.Replacement) > MaxReplacementLen {
		return nil, fail("replacement", ErrReplacementTooLong, fmt.Sprintf("%d bytes, at most %d", len(r.Replacement), MaxReplacementLen))
	}
	if !utf8.ValidString(r.Replacement) {
		return nil, fail("replacement", ErrInvalidReplacement, "not valid UTF-8")
	}
	literal, err := checkTemplate(r.Replacement, re)
	if err != nil {
		return nil, fail("replacement", ErrInvalidReplacement, err.Error())
	}
	c := &compiledRule{name: r.Name, re: re, repl: r.Replacement, literal: literal}
	if r.Validator != "" {
		v, ok := validators[r.Validator]
		if !ok {
			return nil, fail("validator", ErrUnknownValidator, fmt.Sprintf("%q; known: %s, %s", r.Validator, ValidatorUSSSN, ValidatorIBAN))
		}
		c.validate, c.mayMatch = v.check, v.mayMatch
	}
	if literal {
		c.repl = strings.ReplaceAll(r.Replacement, "$$", "$")
	}
	return c, nil
}

// holdsCardNumber reports whether s holds a card number as written, or once everything but its
// digits is taken out: a pattern such as 4111[ -]?1111[ -]?1111[ -]?1111 spells a card number
// although its text, with the classes between the groups, is not one.
func holdsCardNumber(s string) bool {
	if pan.Contains(s) {
		return true
	}
	digits := make([]byte, 0, 32)
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits = append(digits, s[i])
		}
	}
	return len(digits) >= 13 && pan.Contains(string(digits))
}

// checkName validates a rule name.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("empty")
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%d bytes, at most %d", len(name), MaxNameLen)
	}
	for i, r := range name {
		ok := unicode.IsLetter(r) || unicode.IsDigit(r)
		if i > 0 {
			ok = ok || r == ' ' || r == '_' || r == '-' || r == '.'
		}
		if !ok {
			return fmt.Errorf("character %q at byte %d; use letters, digits, spaces, '_', '-' or '.', starting with a letter or digit", r, i)
		}
	}
	return nil
}

// parseDetail returns the parser's explanation without the "error parsing
// regexp:" prefix.
func parseDetail(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s: `%s`", se.Code, se.Expr)
	}
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// minLen returns the least number of runes a match of re contains (capped).
func minLen(re *syntax.Regexp) int {
	const capLen = 1 << 20
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minLen(re.Sub[0])
	case syntax.OpRepeat:
		return min(capLen, re.Min*minLen(re.Sub[0]))
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n = min(capLen, n+minLen(s))
		}
		return n
	case syntax.OpAlternate:
		n := capLen
		for _, s := range re.Sub {
			n = min(n, minLen(s))
		}
		return n
	}
	// OpNoMatch matches nothing at all; treat it as harmless but useless.
	if re.Op == syntax.OpNoMatch {
		return capLen
	}
	// Empty match, anchors, word boundaries, star, quest.
	return 0
}

// checkTemplate verifies that every group reference of a replacement names
// a group of re, and reports whether the replacement is literal.
func checkTemplate(tmpl string, re *regexp.Regexp) (literal bool, err error) {
	literal = true
	names := re.SubexpNames()
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] != '$' {
			continue
		}
		rest := tmpl[i+1:]
		if strings.HasPrefix(rest, "$") {
			i++
			continue
		}
		name, n := templateRef(rest)
		if n == 0 {
			return false, fmt.Errorf("lone '$' at byte %d; write $$ for a dollar sign", i)
		}
		literal = false
		if num, ok := groupNumber(name); ok {
			if num > re.NumSubexp() {
				return false, fmt.Errorf("$%s refers to group %d, the pattern has %d", name, num, re.NumSubexp())
			}
		} else if !containsName(names, name) {
			return false, fmt.Errorf("$%s refers to no named group; write ${1}x to follow a group number with letters", name)
		}
		i += n
	}
	return literal, nil
}

// templateRef parses a group reference after '$' the way regexp.Expand
// does and returns its name and length, or n == 0.
func templateRef(s string) (name string, n int) {
	brace := strings.HasPrefix(s, "{")
	if brace {
		s = s[1:]
	}
	i := 0
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
			break
		}
		i += w
	}
	if i == 0 {
		return "", 0
	}
	if brace {
		if i >= len(s) || s[i] != '}' {
			return "", 0
		}
		return s[:i], i + 2
	}
	return s[:i], i
}

// groupNumber parses a reference as regexp.Expand does: up to eight
// decimal digits without a leading zero; anything else is a group name.
func groupNumber(name string) (int, bool) {
	if len(name) > 8 || (len(name) > 1 && name[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(name)
	return n, err == nil
}

// containsName reports whether name is one of the group names.
func containsName(names []string, name string) bool {
	for _, n := range names {
		if n != "" && n == name {
			return true
		}
	}
	return false
}

// Validate checks a tenant's rules, as NewEngine does, and returns the
// first problem found.
func Validate(rules []Rule) error {
	_, err := compileAll(rules)
	return err
}

// compileAll validates and compiles rules.
func compileAll(rules []Rule) ([]*compiledRule, error) {
	if len(rules) > MaxRules {
		return nil, fmt.Errorf("redact: %d rules, at most %d: %w", len(rules), MaxRules, ErrTooManyRules)
	}
	seen := make(map[string]bool, len(rules))
	out := make([]*compiledRule, 0, len(rules))
	for _, r := range rules {
		key := strings.ToLower(r.Name)
		if seen[key] {
			return nil, &RuleError{Rule: r.Name, Field: "name", Err: ErrDuplicateName}
		}
		seen[key] = true
		c, err := compile(r)
		if err != nil {
			return nil, err
		}
		if r.Enabled {
			out = append(out, c)
		}
	}
	return out, nil
}
