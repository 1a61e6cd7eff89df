package chathttp

import (
	"testing"
	"time"
)

// TestStrikesLeak replays throttles at given offsets and checks when the socket is over its limit.
func TestStrikesLeak(t *testing.T) {
	const decay = 5 * time.Second
	tests := []struct {
		name string
		at   []time.Duration // offsets of the throttled frames
		want []bool          // over the limit after each
	}{
		{"burst closes on the fourth", []time.Duration{0, 0, 0, 0}, []bool{false, false, false, true}},
		{"one per decay never closes", []time.Duration{0, 5 * time.Second, 10 * time.Second, 15 * time.Second, 20 * time.Second, 25 * time.Second}, []bool{false, false, false, false, false, false}},
		{"a quiet period forgives what it covers", []time.Duration{0, 0, 0, 10 * time.Second, 10 * time.Second, 10 * time.Second}, []bool{false, false, false, false, false, true}},
		{"a long quiet period empties the count", []time.Duration{0, 0, 0, time.Hour, time.Hour, time.Hour}, []bool{false, false, false, false, false, false}},
		{"less than a decay forgives nothing", []time.Duration{0, 0, 0, 4 * time.Second}, []bool{false, false, false, true}},
		{"a clock going back forgives nothing", []time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second, 0}, []bool{false, false, false, true}},
	}
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := strikes{max: 3, decay: decay}
			for i, at := range tt.at {
				if got := s.strike(start.Add(at)); got != tt.want[i] {
					t.Fatalf("strike %d at +%v: over = %v, want %v (count %d)", i+1, at, got, tt.want[i], s.n)
				}
			}
		})
	}
}
