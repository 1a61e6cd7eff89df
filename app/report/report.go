// Package report computes the console's chat reports: chats and missed chats, wait, first
// response and handle times (mean, median, 90th percentile) per agent, department and site, a
// weekday × hour heatmap and the post-chat satisfaction (CSAT) distribution, over a date range
// and within the departments a user may see. It reads clear columns only (status, timestamps,
// agent, department, site, rating): no figure ever needs a message or a name a visitor typed,
// so nothing is decrypted.
package report

import (
	"errors"
	"slices"
	"sort"
	"time"
)

// Sentinel errors of the package.
var (
	// ErrInvalidDate is a from or to that is not a YYYY-MM-DD date in the years Parley reports on.
	ErrInvalidDate = errors.New("report: not a date")
	// ErrReversedRange is a from after the to.
	ErrReversedRange = errors.New("report: from is after to")
	// ErrRangeTooLong is a range of more than MaxDays days.
	ErrRangeTooLong = errors.New("report: range too long")
	// ErrInvalidTimezone is a time zone name the server does not know.
	ErrInvalidTimezone = errors.New("report: unknown time zone")
	// ErrNoScope is a request from a user who may see no department's reports.
	ErrNoScope = errors.New("report: no department in scope")
)

// Status values of a conversation the report distinguishes.
const (
	statusMissed = "missed"
)

// Conversation is one conversation as the report reads it: clear columns only.
type Conversation struct {
	ID           string
	Status       string
	AgentID      string
	DepartmentID string
	SiteID       string
	// Rating is the post-chat survey's 1..5, 0 when the visitor gave none.
	Rating     int
	QueuedAt   time.Time
	AcceptedAt time.Time
	EndedAt    time.Time
	// FirstReplyAt is the agent's first message at or after the accept (zero when none).
	FirstReplyAt time.Time
}

// Stats summarises durations: how many there are, their mean, median and 90th percentile
// (nearest rank: the value at rank ⌈p·n⌉ of the sorted durations).
type Stats struct {
	N      int
	Mean   time.Duration
	Median time.Duration
	P90    time.Duration
}

// Summarise computes Stats over ds, which it sorts in place.
func Summarise(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Stats{N: len(ds), Mean: sum / time.Duration(len(ds)), Median: NearestRank(ds, 50), P90: NearestRank(ds, 90)}
}

// NearestRank returns the pct-th percentile of sorted ds by the nearest-rank method.
func NearestRank(sorted []time.Duration, pct int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (pct*len(sorted) + 99) / 100 // ⌈pct·n/100⌉
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// Figures are the report's measures over a set of conversations.
type Figures struct {
	Chats  int
	Missed int
	// Wait is accepted_at − queued_at of accepted chats; FirstResponse the agent's first message
	// − accepted_at; Handle ended_at − accepted_at of accepted chats that ended.
	Wait          Stats
	FirstResponse Stats
	Handle        Stats
	// Rated is how many chats have a satisfaction rating, RatingSum their sum.
	Rated     int
	RatingSum int
}

// MeanRating is the mean satisfaction rating (0 when nobody rated).
func (f Figures) MeanRating() float64 {
	if f.Rated == 0 {
		return 0
	}
	return float64(f.RatingSum) / float64(f.Rated)
}

// MissedPercent is the share of missed chats, in percent (0 without chats).
func (f Figures) MissedPercent() float64 {
	if f.Chats == 0 {
		return 0
	}
	return 100 * float64(f.Missed) / float64(f.Chats)
}

// Group is one row of a breakdown: an agent, a department or a site with its figures.
type Group struct {
	ID   string
	Name string
	Figures
}

// Day is one day of the range and its chats.
type Day struct {
	Date   time.Time
	Chats  int
	Missed int
}

// Report is the whole report of a period within a scope.
type Report struct {
	Period Period
	Total  Figures
	// ByAgent, ByDepartment and BySite are sorted by chats, most first, then by name.
	ByAgent      []Group
	ByDepartment []Group
	BySite       []Group
	Days         []Day
	// Heatmap counts chats by weekday (Monday first) and hour of the day, in the period's time zone.
	Heatmap [7][24]int
	// CSAT counts the ratings 1..5 (index 0 is rating 1).
	CSAT [5]int
}

// Names resolves the names of agents, departments and sites for the breakdowns.
type Names struct {
	Agents      map[string]string
	Departments map[string]string
	Sites       map[string]string
}

// Labels of groups without an object.
const (
	NoDepartment = "No department"
	UnknownName  = "(deleted)"
)

// accumulator gathers one group's durations before they are summarised.
type accumulator struct {
	f                   Figures
	wait, first, handle []time.Duration
}

func (a *accumulator) add(c Conversation) {
	a.f.Chats++
	if c.Status == statusMissed {
		a.f.Missed++
	}
	if !c.AcceptedAt.IsZero() {
		if d := c.AcceptedAt.Sub(c.QueuedAt); d >= 0 {
			a.wait = append(a.wait, d)
		}
		if !c.FirstReplyAt.IsZero() {
			if d := c.FirstReplyAt.Sub(c.AcceptedAt); d >= 0 {
				a.first = append(a.first, d)
			}
		}
		if !c.EndedAt.IsZero() {
			if d := c.EndedAt.Sub(c.AcceptedAt); d >= 0 {
				a.handle = append(a.handle, d)
			}
		}
	}
	if c.Rating >= 1 && c.Rating <= 5 {
		a.f.Rated++
		a.f.RatingSum += c.Rating
	}
}

func (a *accumulator) figures() Figures {
	f := a.f
	f.Wait, f.FirstResponse, f.Handle = Summarise(a.wait), Summarise(a.first), Summarise(a.handle)
	return f
}

// Build computes the report of conversations (all queued within p) with names for the
// breakdowns.
func Build(p Period, convs []Conversation, names Names) Report {
	r := Report{Period: p}
	var total accumulator
	agents, depts, sites := map[string]*accumulator{}, map[string]*accumulator{}, map[string]*accumulator{}
	get := func(m map[string]*accumulator, k string) *accumulator {
		a := m[k]
		if a == nil {
			a = &accumulator{}
			m[k] = a
		}
		return a
	}
	days := p.Days()
	r.Days = make([]Day, days)
	for i := range r.Days {
		r.Days[i].Date = p.From.AddDate(0, 0, i)
	}
	for _, c := range convs {
		total.add(c)
		if c.AgentID != "" {
			get(agents, c.AgentID).add(c)
		}
		get(depts, c.DepartmentID).add(c)
		get(sites, c.SiteID).add(c)
		local := c.QueuedAt.In(p.Location)
		r.Heatmap[(int(local.Weekday())+6)%7][local.Hour()]++
		if i := p.DayIndex(local); i >= 0 && i < days {
			r.Days[i].Chats++
			if c.Status == statusMissed {
				r.Days[i].Missed++
			}
		}
		if c.Rating >= 1 && c.Rating <= 5 {
			r.CSAT[c.Rating-1]++
		}
	}
	r.Total = total.figures()
	r.ByAgent = groups(agents, names.Agents, "")
	r.ByDepartment = groups(depts, names.Departments, NoDepartment)
	r.BySite = groups(sites, names.Sites, "")
	return r
}

func groups(m map[string]*accumulator, names map[string]string, none string) []Group {
	out := make([]Group, 0, len(m))
	for id, a := range m {
		name, ok := names[id]
		switch {
		case id == "" && none != "":
			name = none
		case !ok || name == "":
			name = UnknownName
		}
		out = append(out, Group{ID: id, Name: name, Figures: a.figures()})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Chats != out[j].Chats {
			return out[i].Chats > out[j].Chats
		}
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out
}
