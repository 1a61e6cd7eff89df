package rbac

import (
	"testing"
	"time"
)

func TestReviewStatusAt(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ptr := func(v time.Time) *time.Time { return &v }
	tests := []struct {
		name    string
		last    *time.Time
		now     time.Time
		overdue bool
		due     time.Time
	}{
		{"never reviewed", nil, at("2026-01-05T09:00:00Z"), true, at("2026-01-05T09:00:00Z")},
		{"fresh", ptr(at("2026-01-01T00:00:00Z")), at("2026-03-01T00:00:00Z"), false, at("2026-07-01T00:00:00Z")},
		{"exactly six months", ptr(at("2026-01-01T00:00:00Z")), at("2026-07-01T00:00:00Z"), false, at("2026-07-01T00:00:00Z")},
		{"one second past", ptr(at("2026-01-01T00:00:00Z")), at("2026-07-01T00:00:01Z"), true, at("2026-07-01T00:00:00Z")},
		{"other zone", ptr(at("2026-01-01T01:00:00+01:00")), at("2026-06-30T23:00:00Z"), false, at("2026-07-01T00:00:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ReviewStatusAt(tt.last, tt.now)
			if got.Overdue != tt.overdue {
				t.Errorf("Overdue = %v, want %v", got.Overdue, tt.overdue)
			}
			if !got.DueBy.Equal(tt.due) {
				t.Errorf("DueBy = %s, want %s", got.DueBy, tt.due)
			}
		})
	}
}

func TestInactivity(t *testing.T) {
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	recent := now.Add(-24 * time.Hour)
	old := now.Add(-91 * 24 * time.Hour)
	future := now.Add(time.Hour)
	tests := []struct {
		name     string
		last     *time.Time
		created  time.Time
		idle     time.Duration
		inactive bool
	}{
		{"signed in yesterday", &recent, created, 24 * time.Hour, false},
		{"signed in 91 days ago", &old, created, 91 * 24 * time.Hour, true},
		{"never signed in, old account", nil, created, now.Sub(created), true},
		{"never signed in, new account", nil, now.Add(-time.Hour), time.Hour, false},
		{"clock skew", &future, created, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idle, inactive := Inactivity(tt.last, tt.created, now)
			if idle != tt.idle || inactive != tt.inactive {
				t.Errorf("Inactivity = %s, %v; want %s, %v", idle, inactive, tt.idle, tt.inactive)
			}
		})
	}
}
