package policy_test

import (
	"errors"
	"testing"

	"github.com/parleyhq/parley/policy"
)

var (
	errInvalid = errors.New("demo: invalid policy")
	errBelow   = errors.New("demo: below profile")
)

func TestPolicyError(t *testing.T) {
	tests := []struct {
		name      string
		problems  []policy.Problem
		wantMsg   string
		wantBelow bool
	}{
		{"invalid only", []policy.Problem{{Field: "a", Message: "A.", Err: errInvalid}, {Field: "b", Message: "B."}},
			"demo: invalid policy: a: A.; b: B.", false},
		{"below profile", []policy.Problem{{Field: "a", Message: "A.", Err: errBelow}, {Field: "b", Message: "B.", Err: errBelow}},
			"demo: invalid policy: a: A.; b: B.", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error = &policy.PolicyError{Invalid: errInvalid, Problems: tc.problems}
			if got := err.Error(); got != tc.wantMsg {
				t.Errorf("Error() = %q, want %q", got, tc.wantMsg)
			}
			if !errors.Is(err, errInvalid) {
				t.Error("errors.Is(err, Invalid) = false, want true")
			}
			if got := errors.Is(err, errBelow); got != tc.wantBelow {
				t.Errorf("errors.Is(err, errBelow) = %v, want %v", got, tc.wantBelow)
			}
			if n := len(err.(*policy.PolicyError).Unwrap()); n != 1+btoi(tc.wantBelow) {
				t.Errorf("Unwrap() has %d errors, want each sentinel once", n)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
