package redact

import (
	"errors"
	"fmt"
)

// Sentinel errors. A RuleError wraps one of them.
var (
	ErrInvalidName        = errors.New("invalid rule name")
	ErrDuplicateName      = errors.New("duplicate rule name")
	ErrEmptyPattern       = errors.New("empty pattern")
	ErrPatternTooLong     = errors.New("pattern too long")
	ErrInvalidPattern     = errors.New("invalid regular expression")
	ErrPatternTooComplex  = errors.New("pattern too complex")
	ErrMatchesEmpty       = errors.New("pattern can match empty text")
	ErrReplacementTooLong = errors.New("replacement too long")
	ErrInvalidReplacement = errors.New("invalid replacement")
	ErrUnknownValidator   = errors.New("unknown validator")
	ErrTooManyRules       = errors.New("too many rules")
	ErrSampleTooLarge     = errors.New("sample text too large")
	// ErrCardNumber means a rule's name, pattern or replacement holds a card number: rules are
	// stored in clear, so it is refused. The RuleError carrying it never repeats the value.
	ErrCardNumber = errors.New("a card number is not allowed here")
)

// RuleError explains why a rule was rejected, in words an administrator can
// act on: which rule, which field and what is wrong. Errors.Is matches its
// sentinel.
type RuleError struct {
	// Rule is the rule's name (possibly empty or invalid itself).
	Rule string
	// Field is "name", "pattern", "replacement" or "validator".
	Field string
	// Detail adds specifics, such as the parser's message; may be empty.
	Detail string
	// Err is the sentinel.
	Err error
}

// Error describes the problem.
func (e *RuleError) Error() string {
	msg := fmt.Sprintf("redaction rule %q: %s: %v", e.Rule, e.Field, e.Err)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the sentinel.
func (e *RuleError) Unwrap() error { return e.Err }
