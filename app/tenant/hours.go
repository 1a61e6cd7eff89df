package tenant

import (
	"encoding/json"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/compliance/pan"
)

// Weekdays are the keys of Hours.Days, Monday first (the order the console shows).
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

var weekday = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

var clockTime = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$`)

// Hours is a weekly schedule: per weekday an opening and a closing time, in a time zone. A day
// that is not listed is closed.
type Hours struct {
	// Timezone is an IANA time zone name such as Europe/Berlin.
	Timezone string `json:"timezone"`
	// Days maps "mon".."sun" to the day's opening hours.
	Days map[string]Span `json:"days"`
}

// Span is a day's opening hours: HH:MM to HH:MM (24:00 for midnight at the end of the day), the
// opening before the closing.
type Span struct {
	Open  string `json:"open"`
	Close string `json:"close"`
}

// Check validates the schedule: a known time zone, known weekdays, at least one open day, each
// with an opening time before its closing time. An error is a *FieldError on
// business_hours.timezone or business_hours.days.
func (h *Hours) Check() error {
	if h == nil {
		return nil
	}
	tz := &FieldError{Field: "business_hours.timezone", Index: -1, Err: ErrInvalidTimezone}
	if pan.Contains(h.Timezone) {
		tz.Err = ErrCardNumber
		return tz
	}
	if h.Timezone == "" || utf8.RuneCountInString(h.Timezone) > 64 || h.Timezone == "Local" {
		return tz
	}
	if _, err := time.LoadLocation(h.Timezone); err != nil {
		return tz
	}
	days := &FieldError{Field: "business_hours.days", Index: -1, Err: ErrInvalidHours}
	if len(h.Days) == 0 {
		return days
	}
	for day, sp := range h.Days {
		if _, ok := weekday[day]; !ok || !clockTime.MatchString(sp.Open) || !clockTime.MatchString(sp.Close) || sp.Open >= sp.Close {
			return days
		}
	}
	return nil
}

// OpenAt reports whether the schedule includes t; nil hours are always open.
func (h *Hours) OpenAt(t time.Time) bool {
	if h == nil {
		return true
	}
	loc, err := time.LoadLocation(h.Timezone)
	if err != nil {
		return false
	}
	lt := t.In(loc)
	hm := lt.Format("15:04")
	for day, sp := range h.Days {
		if weekday[day] == lt.Weekday() && hm >= sp.Open && hm < sp.Close {
			return true
		}
	}
	return false
}

// encodeHours is the column form of a schedule: "" for none.
func encodeHours(h *Hours) string {
	if h == nil {
		return ""
	}
	b, _ := json.Marshal(h) // a struct of strings always encodes
	return string(b)
}

// decodeHours reads the column form of a schedule; an unreadable value reads as none.
func decodeHours(s string) *Hours {
	if s == "" {
		return nil
	}
	var h Hours
	if json.Unmarshal([]byte(s), &h) != nil {
		return nil
	}
	return &h
}
