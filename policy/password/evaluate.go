package password

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Code is the stable identifier of a broken password rule, fit for an API
// response and for translation.
type Code string

// The rules a candidate password can break, in the order Evaluate reports them.
const (
	CodeTooLong            Code = "too_long"
	CodeInvalidCharacters  Code = "invalid_characters"
	CodeTooShort           Code = "too_short"
	CodeNeedsUpper         Code = "needs_upper"
	CodeNeedsLower         Code = "needs_lower"
	CodeNeedsLetter        Code = "needs_letter"
	CodeNeedsDigit         Code = "needs_digit"
	CodeNeedsSpecial       Code = "needs_special"
	CodeCommonPassword     Code = "common_password"
	CodeContainsUsername   Code = "contains_username"
	CodeContainsEmail      Code = "contains_email"
	CodeContainsTenantName Code = "contains_tenant_name"
	CodeReused             Code = "reused"
)

// MinPersonalLength is the shortest username, email local part, tenant name or
// word of one that is banned as a substring of a password; shorter ones are
// banned only as the whole password.
const MinPersonalLength = 4

// maxPersonalBytes bounds the personal values Evaluate looks at.
const maxPersonalBytes = 256

// Violation is one rule a candidate password breaks.
type Violation struct {
	// Code identifies the rule.
	Code Code
	// Message tells the user, in plain words, what to change. It never
	// contains the password or the personal values it was checked against.
	Message string
	// Limit and Actual carry the numbers of a length rule (too_short,
	// too_long) and of reused (Limit is the history depth); zero otherwise.
	Limit, Actual int
}

// HistoryChecker answers whether a candidate matches one of a user's previous
// passwords. The hashes and their comparison belong to the caller.
type HistoryChecker interface {
	// Reused reports whether the normalized candidate matches one of the
	// user's last depth passwords, the current one included.
	Reused(normalized string, depth int) (bool, error)
}

// HistoryFunc adapts a function to HistoryChecker.
type HistoryFunc func(normalized string, depth int) (bool, error)

// Reused calls f.
func (f HistoryFunc) Reused(normalized string, depth int) (bool, error) { return f(normalized, depth) }

var _ HistoryChecker = HistoryFunc(nil)

// Context is what Evaluate knows about the user choosing a password.
type Context struct {
	// Username is the user's login or display name.
	Username string
	// Email is the user's email address; its local part is banned.
	Email string
	// TenantName is the name of the user's organization.
	TenantName string
	// MFAEnforced reports that the user must present a second factor, which
	// selects Policy.MinLengthWithMFA.
	MFAEnforced bool
	// History checks reuse; it is required when the policy has a history
	// depth. For a first password, pass a checker that answers false.
	History HistoryChecker
}

// Evaluator applies one Policy, with a shared Blocklist, to candidate
// passwords. It is immutable and safe for concurrent use.
type Evaluator struct {
	policy Policy
	common *Blocklist
}

// NewEvaluator validates p and returns its Evaluator. common may be nil only
// when p does not ban common passwords.
func NewEvaluator(p Policy, common *Blocklist) (*Evaluator, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.BanCommon && common == nil {
		return nil, ErrNoBlocklist
	}
	return &Evaluator{policy: p, common: common}, nil
}

// Policy returns the evaluator's policy.
func (e *Evaluator) Policy() Policy { return e.policy }

// Evaluate returns every rule of the policy that candidate breaks, in the
// order of the Code constants, or none when it is acceptable. The candidate is
// the password as typed; Evaluate normalizes it as Normalize does.
//
// A candidate over MaxBytes, or not UTF-8, is reported at once (too_long or
// invalid_characters) and nothing else is checked, so hostile input costs
// nothing. Control characters are never accepted.
//
// The personal-information rules compare case-insensitively and ignore
// everything but letters and digits, so "John.Smith" is found in
// "johnsmith2024!". The username, the email local part and the tenant name —
// and each word of them, split at anything that is not a letter or digit — are
// banned anywhere in the password when at least MinPersonalLength characters
// long, and otherwise only as the whole password.
//
// The common-password rule bans an exact (case-insensitive) match and a listed
// password with only digits, punctuation or spaces added at either end
// ("Dragon2024!").
//
// Reuse is checked through c.History on every call, even when other rules are
// broken, so the user learns every problem at once. An error from the checker
// wraps ErrHistory and must be treated as a rejection.
func (e *Evaluator) Evaluate(candidate string, c Context) ([]Violation, error) {
	p := e.policy
	if len(candidate) > MaxBytes {
		return []Violation{tooLongBytes()}, nil
	}
	if !utf8.ValidString(candidate) {
		return []Violation{invalidCharacters()}, nil
	}
	pw := norm.NFKC.String(candidate)
	if len(pw) > MaxBytes {
		return []Violation{tooLongBytes()}, nil
	}

	var (
		vs                                   []Violation
		n                                    int
		upper, lower, letter, digit, special bool
		control                              bool
	)
	for _, r := range pw {
		n++
		switch {
		case unicode.IsControl(r) || r == utf8.RuneError:
			control = true
		case unicode.IsLetter(r):
			letter = true
			upper = upper || unicode.IsUpper(r)
			lower = lower || unicode.IsLower(r)
		case unicode.IsNumber(r):
			digit = digit || unicode.IsDigit(r)
		case unicode.IsMark(r):
		default:
			special = true
		}
	}
	if p.MaxLength > 0 && n > p.MaxLength {
		vs = append(vs, Violation{Code: CodeTooLong, Limit: p.MaxLength, Actual: n,
			Message: fmt.Sprintf("Use at most %d characters; this one has %d.", p.MaxLength, n)})
	}
	if control {
		vs = append(vs, invalidCharacters())
	}
	if minLen := p.MinLengthFor(c.MFAEnforced); n < minLen {
		vs = append(vs, Violation{Code: CodeTooShort, Limit: minLen, Actual: n,
			Message: fmt.Sprintf("Use at least %d characters; this one has %d.", minLen, n)})
	}
	if p.RequireUpper && !upper {
		vs = append(vs, Violation{Code: CodeNeedsUpper, Message: "Add an upper-case letter."})
	}
	if p.RequireLower && !lower {
		vs = append(vs, Violation{Code: CodeNeedsLower, Message: "Add a lower-case letter."})
	}
	if p.RequireLetterAndDigit && !letter && !(p.RequireUpper || p.RequireLower) {
		vs = append(vs, Violation{Code: CodeNeedsLetter, Message: "Add a letter."})
	}
	if (p.RequireDigit || p.RequireLetterAndDigit) && !digit {
		vs = append(vs, Violation{Code: CodeNeedsDigit, Message: "Add a digit (0-9)."})
	}
	if p.RequireSpecial && !special {
		vs = append(vs, Violation{Code: CodeNeedsSpecial, Message: "Add a symbol, punctuation mark or space, such as $ & # @."})
	}

	lowered := strings.ToLower(pw)
	if p.BanCommon && e.common != nil {
		if v, ok := e.commonViolation(lowered); ok {
			vs = append(vs, v)
		}
	}
	if p.BanPersonal {
		vs = append(vs, personalViolations(fold(lowered), c)...)
	}
	if p.HistoryDepth > 0 {
		if c.History == nil {
			return vs, ErrNoHistory
		}
		reused, err := c.History.Reused(pw, p.HistoryDepth)
		if err != nil {
			return vs, fmt.Errorf("%w: %w", ErrHistory, err)
		}
		if reused {
			vs = append(vs, Violation{Code: CodeReused, Limit: p.HistoryDepth,
				Message: reusedMessage(p.HistoryDepth)})
		}
	}
	return vs, nil
}

func tooLongBytes() Violation {
	return Violation{Code: CodeTooLong, Limit: MaxBytes,
		Message: fmt.Sprintf("Use a shorter password; this one is over %d bytes.", MaxBytes)}
}

func invalidCharacters() Violation {
	return Violation{Code: CodeInvalidCharacters,
		Message: "Use only letters, digits, spaces and symbols; this one has a control character or is not valid text."}
}

func reusedMessage(depth int) string {
	if depth == 1 {
		return "This is your current password; choose a new one."
	}
	return fmt.Sprintf("You have used this password recently; choose one that differs from your last %d.", depth)
}

// commonViolation checks the lower-cased password, then its cores: with
// everything but letters and digits trimmed from both ends ("password1!"), and
// with everything but letters trimmed ("dragon2024!").
func (e *Evaluator) commonViolation(lowered string) (Violation, bool) {
	if e.common.has(lowered) {
		return Violation{Code: CodeCommonPassword,
			Message: "This is one of the most commonly used passwords; choose one that is harder to guess."}, true
	}
	alnumCore := strings.TrimFunc(lowered, func(r rune) bool { return !isAlnum(r) })
	letterCore := strings.TrimFunc(alnumCore, func(r rune) bool { return !unicode.IsLetter(r) })
	for _, core := range [...]string{alnumCore, letterCore} {
		if core != "" && core != lowered && e.common.has(core) {
			return Violation{Code: CodeCommonPassword,
				Message: "This is a commonly used password with digits or symbols added; choose one that is harder to guess."}, true
		}
	}
	return Violation{}, false
}

// personalViolations reports the personal values found in the folded password.
func personalViolations(folded string, c Context) []Violation {
	var vs []Violation
	local := c.Email
	if i := strings.LastIndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	emailTokens := personalTokens(local)
	userTokens := personalTokens(c.Username)
	// Where people sign in with their email, the username adds nothing.
	if len(userTokens) > 0 && len(emailTokens) > 0 &&
		(userTokens[0] == emailTokens[0] || userTokens[0] == fold(strings.ToLower(c.Email))) {
		userTokens = nil
	}
	if foundAny(folded, userTokens) {
		vs = append(vs, Violation{Code: CodeContainsUsername, Message: "Don't use your username in your password."})
	}
	if foundAny(folded, emailTokens) {
		vs = append(vs, Violation{Code: CodeContainsEmail, Message: "Don't use your email address in your password."})
	}
	if foundAny(folded, personalTokens(c.TenantName)) {
		vs = append(vs, Violation{Code: CodeContainsTenantName, Message: "Don't use your organization's name in your password."})
	}
	return vs
}

// personalTokens returns the folded whole value first, then its words.
func personalTokens(v string) []string {
	if v == "" {
		return nil
	}
	if len(v) > maxPersonalBytes {
		v = truncate(v, maxPersonalBytes)
	}
	v = strings.ToLower(norm.NFKC.String(v))
	whole := fold(v)
	if whole == "" {
		return nil
	}
	tokens := []string{whole}
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return !isAlnum(r) }) {
		if w != whole {
			tokens = append(tokens, w)
		}
	}
	return tokens
}

func foundAny(folded string, tokens []string) bool {
	for _, t := range tokens {
		if utf8.RuneCountInString(t) >= MinPersonalLength {
			if strings.Contains(folded, t) {
				return true
			}
		} else if folded == t {
			return true
		}
	}
	return false
}

// fold keeps only the letters and digits of s.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if isAlnum(r) {
			return r
		}
		return -1
	}, s)
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }

// has reports whether the lower-cased, normalized s is listed.
func (b *Blocklist) has(lowered string) bool {
	_, ok := b.set[lowered]
	return ok
}
