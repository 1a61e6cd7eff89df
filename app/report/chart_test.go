package report

import (
	"strings"
	"testing"
	"time"
)

func TestNiceStep(t *testing.T) {
	for _, tc := range []struct{ max, step int }{{0, 1}, {3, 1}, {4, 1}, {5, 2}, {8, 2}, {9, 5}, {20, 5}, {21, 10}, {333, 100}, {10000, 2500 * 2}} {
		if got := niceStep(tc.max); got != tc.step {
			t.Errorf("niceStep(%d) = %d, want %d", tc.max, got, tc.step)
		}
		if got := niceStep(tc.max) * axisTicks; got < tc.max {
			t.Errorf("axis top %d below the largest value %d", got, tc.max)
		}
	}
}

func TestCharts(t *testing.T) {
	day := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := DaysChart([]Day{{Date: day, Chats: 4, Missed: 1}, {Date: day.AddDate(0, 0, 1)}})
	if len(c.Bars) != 3 || c.Bars[0].H != plotBottom-plotTop || c.Bars[1].H != (plotBottom-plotTop)/4 || c.Bars[2].H != 0 {
		t.Errorf("bars %+v", c.Bars)
	}
	if got := c.YTicks[len(c.YTicks)-1].Label; got != "4" {
		t.Errorf("axis top %s, want 4", got)
	}
	var counts [7][24]int
	counts[0][9], counts[6][23] = 10, 1
	h := HeatmapChart(counts)
	levels := map[int]int{}
	for _, cell := range h.Cells {
		levels[cell.Level]++
	}
	if len(h.Cells) != 7*24 || levels[5] != 1 || levels[1] != 1 || levels[0] != 7*24-2 {
		t.Errorf("heat levels %v", levels)
	}
	if !strings.HasPrefix(h.Cells[9].Title, "Mon 09:00–10:00: 10 chats") {
		t.Errorf("cell title %q", h.Cells[9].Title)
	}
}

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")", "+1": "'+1", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx",
		"Cards": "Cards", "": "", "Pay 4111 1111 1111 1111": "Pay ************1111",
	} {
		got := SafeCell(in)
		if want == "Pay ************1111" {
			if strings.Contains(got, "4111 1111") || !strings.HasSuffix(got, "1111") {
				t.Errorf("SafeCell(card) = %q", got)
			}
			continue
		}
		if got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPeriod(t *testing.T) {
	cases := []struct {
		from, to, tz string
		field        string
		days         int
	}{
		{"2026-01-01", "2026-01-01", "", "", 1},
		{"2025-01-05", "2026-01-05", "", "", 366},
		{"2025-01-04", "2026-01-05", "", "from", 0},
		{"2026-03-28", "2026-03-30", "Europe/Berlin", "", 3},
		{"2026-01-02", "2026-01-01", "", "to", 0},
		{"2026-1-2", "2026-01-03", "", "from", 0},
		{"2026-01-02", "", "", "to", 0},
		{"2026-01-02", "2026-01-03", "Local", "tz", 0},
	}
	for _, tc := range cases {
		p, err := ParsePeriod(tc.from, tc.to, tc.tz)
		var field string
		if ie, ok := err.(*InputError); ok {
			field = ie.Field
		} else if err != nil {
			t.Fatalf("%v: %v", tc, err)
		}
		if field != tc.field || (err == nil && p.Days() != tc.days) {
			t.Errorf("%v: field %q, %d days", tc, field, p.Days())
		}
	}
	// Across the change to summer time the last day still ends at midnight.
	p, _ := ParsePeriod("2026-03-28", "2026-03-29", "Europe/Berlin")
	if got := p.End().Sub(p.Start()); got != 47*time.Hour {
		t.Errorf("period across the change lasts %v, want 47h", got)
	}
}
