package redact

import "fmt"

// Limits of TryRule.
const (
	// MaxSampleLen bounds the sample text of TryRule, in bytes.
	MaxSampleLen = 64 << 10
	// MaxTrialMatches bounds the matches TryRule lists.
	MaxTrialMatches = 100
)

// TrialMatch is one candidate a rule found in a sample text.
type TrialMatch struct {
	// Start and End are byte offsets into the sample.
	Start int `json:"start"`
	End   int `json:"end"`
	// Text is the matched text (the sample is the administrator's own).
	Text string `json:"text"`
	// Valid is false when the rule's validator rejected the candidate, so
	// it is left in the output.
	Valid bool `json:"valid"`
}

// Trial is the preview of one rule on a sample text.
type Trial struct {
	// Output is the sample with the rule applied.
	Output string `json:"output"`
	// Replaced counts the replaced matches.
	Replaced int `json:"replaced"`
	// Matches lists the candidates in order, up to MaxTrialMatches.
	Matches []TrialMatch `json:"matches"`
	// Truncated is true when more candidates were found than listed.
	Truncated bool `json:"truncated"`
}

// TryRule validates r and applies it to sample, whether or not it is
// enabled, for the "test your rule" page. Its error is a *RuleError, or
// wraps ErrSampleTooLarge.
func TryRule(r Rule, sample string) (Trial, error) {
	if len(sample) > MaxSampleLen {
		return Trial{}, fmt.Errorf("redact: sample of %d bytes, at most %d: %w", len(sample), MaxSampleLen, ErrSampleTooLarge)
	}
	c, err := compile(r)
	if err != nil {
		return Trial{}, err
	}
	var trace []span
	out, n := c.apply(sample, &trace)
	t := Trial{Output: out, Replaced: n, Matches: make([]TrialMatch, 0, min(len(trace), MaxTrialMatches))}
	for i, sp := range trace {
		if i == MaxTrialMatches {
			t.Truncated = true
			break
		}
		t.Matches = append(t.Matches, TrialMatch{Start: sp.start, End: sp.end, Text: sample[sp.start:sp.end], Valid: sp.valid})
	}
	return t, nil
}
