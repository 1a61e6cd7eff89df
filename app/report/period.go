package report

import (
	"fmt"
	"strings"
	"time"
)

// MaxDays is the longest period a report covers.
const MaxDays = 366

// DateLayout is how dates are written in forms, links and exports.
const DateLayout = "2006-01-02"

// The years a report may name; anything else is a typing mistake.
const (
	minYear = 2000
	maxYear = 2100
)

// Period is a report's range of whole days, From to To inclusive, in a time zone.
type Period struct {
	// From and To are midnight of the first and last day in Location.
	From, To time.Time
	Location *time.Location
	// Zone is the time zone's name as the page shows it ("UTC", "Europe/Berlin").
	Zone string
}

// Start is the first instant of the period.
func (p Period) Start() time.Time { return p.From }

// End is the first instant after the period (midnight after To).
func (p Period) End() time.Time { return midnight(p.To.AddDate(0, 0, 1), p.Location) }

// Days is the number of days in the period.
func (p Period) Days() int { return civilDays(p.From, p.To) + 1 }

// DayIndex is the position in the period of the day t falls on (t in the period's zone).
func (p Period) DayIndex(t time.Time) int { return civilDays(p.From, t) }

// civilDays counts calendar days from a's date to b's, each read in its own location, so a
// daylight saving change never makes a day 23 or 25 hours long.
func civilDays(a, b time.Time) int {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	da := time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)
	db := time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

func midnight(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// InputError names the field of a report request that is wrong and why.
type InputError struct {
	Field string
	Err   error
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %v", e.Field, e.Err) }

func (e *InputError) Unwrap() error { return e.Err }

// Location returns the time zone called name: UTC when name is empty.
func Location(name string) (*time.Location, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || name == "UTC" {
		return time.UTC, "UTC", nil
	}
	if len(name) > 64 || name == "Local" || strings.ContainsAny(name, " \\") || strings.Contains(name, "..") {
		return nil, "", ErrInvalidTimezone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, "", ErrInvalidTimezone
	}
	return loc, name, nil
}

// ParsePeriod reads a period from two YYYY-MM-DD dates in the time zone zone (UTC when empty):
// from must not be after to, and the period must not exceed MaxDays. An error is an
// *InputError naming from, to or tz.
func ParsePeriod(from, to, zone string) (Period, error) {
	loc, name, err := Location(zone)
	if err != nil {
		return Period{}, &InputError{Field: "tz", Err: err}
	}
	f, err := parseDate(from, loc)
	if err != nil {
		return Period{}, &InputError{Field: "from", Err: err}
	}
	t, err := parseDate(to, loc)
	if err != nil {
		return Period{}, &InputError{Field: "to", Err: err}
	}
	if t.Before(f) {
		return Period{}, &InputError{Field: "to", Err: ErrReversedRange}
	}
	p := Period{From: f, To: t, Location: loc, Zone: name}
	if p.Days() > MaxDays {
		return Period{}, &InputError{Field: "from", Err: ErrRangeTooLong}
	}
	return p, nil
}

func parseDate(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) != len(DateLayout) {
		return time.Time{}, ErrInvalidDate
	}
	d, err := time.ParseInLocation(DateLayout, s, loc)
	if err != nil || d.Year() < minYear || d.Year() > maxYear {
		return time.Time{}, ErrInvalidDate
	}
	return d, nil
}

// Preset is a named period ending today.
type Preset struct {
	Name string
	Days int
}

// Presets are the periods the page offers as links: today, the last 7 and the last 30 days.
var Presets = []Preset{{"Today", 1}, {"Last 7 days", 7}, {"Last 30 days", 30}}

// LastDays is the period of the last n days up to and including the day of now in loc.
func LastDays(now time.Time, loc *time.Location, zone string, n int) Period {
	today := midnight(now.In(loc), loc)
	return Period{From: midnight(today.AddDate(0, 0, 1-n), loc), To: today, Location: loc, Zone: zone}
}
