package password

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestUpperBounds: every knob of a custom policy has an upper bound, checked just inside and just
// outside, and the refusal names the field and the allowed range.
func TestUpperBounds(t *testing.T) {
	tests := []struct {
		name  string
		ok    func(*Policy)
		bad   func(*Policy)
		field string
		rng   string
	}{
		{"min_length", func(p *Policy) { p.MinLength, p.MaxLength = 128, 128 }, func(p *Policy) { p.MinLength, p.MaxLength = 129, 0 },
			"min_length", "8 to 128"},
		{"max_length", func(p *Policy) { p.MaxLength = MaxBytes }, func(p *Policy) { p.MaxLength = MaxBytes + 1 }, "max_length", "at most 1024"},
		{"max_age", func(p *Policy) { p.MaxAge = 365 * Day }, func(p *Policy) { p.MaxAge = 366 * Day }, "max_age", "0 (never) to 365 days"},
		{"min_age", func(p *Policy) { p.MinAge = 7 * Day }, func(p *Policy) { p.MinAge = 7*Day + time.Hour }, "min_age", "0 to 7 days"},
		{"history_depth", func(p *Policy) { p.HistoryDepth = 24 }, func(p *Policy) { p.HistoryDepth = 25 }, "history_depth", "0 and 24"},
		{"max_resets_per_day", func(p *Policy) { p.MaxResetsPerDay = 10 }, func(p *Policy) { p.MaxResetsPerDay = 11 },
			"max_resets_per_day", "0 (unlimited) to 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := custom(tt.ok).Validate(); err != nil {
				t.Errorf("just inside: %v", err)
			}
			err := custom(tt.bad).Validate()
			var pe *PolicyError
			if !errors.As(err, &pe) || len(pe.Problems) == 0 || pe.Problems[0].Field != tt.field {
				t.Fatalf("just outside: %v, want a problem with %s first", err, tt.field)
			}
			if !strings.Contains(pe.Problems[0].Message, tt.rng) {
				t.Errorf("just outside: %q does not state the range %q", pe.Problems[0].Message, tt.rng)
			}
		})
	}
}
