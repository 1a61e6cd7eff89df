package policy

import (
	"slices"
	"strings"
)

// Problem is one reason a policy's settings are not acceptable.
type Problem struct {
	// Field is the setting at fault, in snake case ("min_length", "lockout_threshold").
	Field string
	// Message is a sentence an administrator understands.
	Message string
	// Err is a sentinel error the problem adds to its PolicyError beyond Invalid (a password
	// policy's ErrBelowProfile); nil or Invalid adds none.
	Err error
}

// PolicyError lists every Problem of a policy (password, sign-in, session). errors.Is matches
// it against Invalid and against the Err of each problem.
type PolicyError struct {
	// Invalid is the sentinel error of the deciding package ("password: invalid policy"); the
	// message starts with it.
	Invalid error
	// Problems are reported in the order the settings were checked.
	Problems []Problem
}

// Error joins the problems' fields and messages after Invalid.
func (e *PolicyError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Field + ": " + p.Message
	}
	prefix := "invalid policy"
	if e.Invalid != nil {
		prefix = e.Invalid.Error()
	}
	return prefix + ": " + strings.Join(msgs, "; ")
}

// Unwrap returns Invalid and the distinct sentinel errors of the problems.
func (e *PolicyError) Unwrap() []error {
	var errs []error
	if e.Invalid != nil {
		errs = append(errs, e.Invalid)
	}
	for _, p := range e.Problems {
		if p.Err != nil && !slices.Contains(errs, p.Err) {
			errs = append(errs, p.Err)
		}
	}
	return errs
}
