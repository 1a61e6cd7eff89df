package report_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/report"
	"github.com/parleyhq/parley/app/report/reporttest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

const testPassword = "Tr1cky-Lantern-Harbour"

// world is a tenant with two sites, three departments, five agents and a generated data set of
// 10,000 conversations over 30 days, beside another tenant with conversations of its own.
type world struct {
	a       *accounttest.App
	tenant  string
	depts   []string
	names   report.Names
	convs   []reporttest.Conversation
	service *report.Service
}

func newWorld(t testing.TB, db *migrations.DB, n int) *world {
	t.Helper()
	a := accounttest.New(t, db, nil)
	ctx := context.Background()
	ten, _ := a.CreateUser("Acme Bank", "owner@acme.test", testPassword, "owner", false)
	other, _ := a.CreateUser("Other Bank", "owner@other.test", testPassword, "owner", false)
	w := &world{a: a, tenant: ten.ID, names: report.Names{Agents: map[string]string{}, Departments: map[string]string{}, Sites: map[string]string{}}}
	var sites, agents []string
	for _, name := range []string{"Main site", "=HYPERLINK(\"x\")"} {
		s, err := a.Tenants.CreateSite(ctx, ten.ID, name, []string{"https://www.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		sites = append(sites, s.ID)
		w.names.Sites[s.ID] = name
	}
	for _, name := range []string{"Cards", "Loans", "Savings"} {
		d, err := a.Tenants.CreateDepartment(ctx, ten.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		w.depts = append(w.depts, d.ID)
		w.names.Departments[d.ID] = name
	}
	for i := range 5 {
		_, u := a.CreateUser("Acme Bank", fmt.Sprintf("agent%d@acme.test", i), testPassword, "agent", false)
		agents = append(agents, u.ID)
		w.names.Agents[u.ID] = u.DisplayName
		if u.DisplayName == "" {
			w.names.Agents[u.ID] = u.Email
		}
	}
	w.convs = reporttest.Generate(reporttest.Params{Seed: 15, N: n, Start: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), Days: 30,
		Sites: sites, Departments: append(slices.Clone(w.depts), ""), Agents: agents})
	if err := reporttest.Insert(ctx, db.Gorm, ten.ID, w.convs); err != nil {
		t.Fatal(err)
	}
	// Another tenant's chats in the same days must never count.
	os, err := a.Tenants.CreateSite(ctx, other.ID, "Other site", []string{"https://other.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := reporttest.Insert(ctx, db.Gorm, other.ID, reporttest.Generate(reporttest.Params{Seed: 99, N: 300,
		Start: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), Days: 30, Sites: []string{os.ID}, Departments: []string{""}, Agents: []string{"x"}})); err != nil {
		t.Fatal(err)
	}
	w.service = &report.Service{Store: &report.Store{DB: db.Gorm}, Directory: a.Tenants, People: a.Users}
	return w
}

// expectedStats summarises durations independently of the package: mean by integer division,
// percentiles by nearest rank (⌈p·n⌉).
func expectedStats(ds []time.Duration) report.Stats {
	if len(ds) == 0 {
		return report.Stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum int64
	for _, d := range s {
		sum += int64(d)
	}
	rank := func(p float64) time.Duration { return s[int(math.Ceil(p*float64(len(s))))-1] }
	return report.Stats{N: len(s), Mean: time.Duration(sum / int64(len(s))), Median: rank(0.5), P90: rank(0.9)}
}

// expected computes the figures of convs from their true durations.
func expected(convs []reporttest.Conversation) report.Figures {
	var f report.Figures
	var wait, first, handle []time.Duration
	for _, c := range convs {
		f.Chats++
		if c.Status == "missed" {
			f.Missed++
		}
		if c.Accepted {
			wait = append(wait, c.Wait)
		}
		if c.Replied {
			first = append(first, c.FirstResponse)
		}
		if c.Ended {
			handle = append(handle, c.Handle)
		}
		if c.Rating > 0 {
			f.Rated++
			f.RatingSum += c.Rating
		}
	}
	f.Wait, f.FirstResponse, f.Handle = expectedStats(wait), expectedStats(first), expectedStats(handle)
	return f
}

func filter(convs []reporttest.Conversation, keep func(reporttest.Conversation) bool) []reporttest.Conversation {
	var out []reporttest.Conversation
	for _, c := range convs {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

func checkFigures(t *testing.T, what string, got, want report.Figures) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func groupsByID(gs []report.Group) map[string]report.Group {
	m := map[string]report.Group{}
	for _, g := range gs {
		m[g.ID] = g
	}
	return m
}

// TestReportFigures checks every figure of the report against a generated data set of 10,000
// conversations whose true values the test knows, on SQLite and PostgreSQL.
func TestReportFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 10,000 conversations")
	}
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db, 10000)
		ctx := context.Background()
		berlin, zone, err := report.Location("Europe/Berlin")
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name     string
			from, to string
			zone     string
			scope    func(w *world) report.Scope
			keep     func(w *world, c reporttest.Conversation) bool
		}{
			{name: "whole organisation, whole month, UTC", from: "2025-12-01", to: "2025-12-30", zone: "",
				scope: func(*world) report.Scope { return report.Scope{All: true} },
				keep:  func(*world, reporttest.Conversation) bool { return true }},
			{name: "two departments, one week, Berlin", from: "2025-12-08", to: "2025-12-14", zone: zone,
				scope: func(w *world) report.Scope { return report.Scope{Departments: w.depts[:2]} },
				keep: func(w *world, c reporttest.Conversation) bool {
					d := c.QueuedAt.In(berlin).Format(report.DateLayout)
					return d >= "2025-12-08" && d <= "2025-12-14" && slices.Contains(w.depts[:2], c.DepartmentID)
				}},
			{name: "one day", from: "2025-12-24", to: "2025-12-24", zone: "",
				scope: func(w *world) report.Scope { return report.Scope{Departments: w.depts[2:]} },
				keep: func(w *world, c reporttest.Conversation) bool {
					return c.QueuedAt.Format(report.DateLayout) == "2025-12-24" && c.DepartmentID == w.depts[2]
				}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p, err := report.ParsePeriod(tc.from, tc.to, tc.zone)
				if err != nil {
					t.Fatal(err)
				}
				r, err := w.service.Report(ctx, w.tenant, tc.scope(w), p)
				if err != nil {
					t.Fatal(err)
				}
				in := filter(w.convs, func(c reporttest.Conversation) bool { return tc.keep(w, c) })
				if len(in) == 0 {
					t.Fatal("the case selects no conversations")
				}
				checkFigures(t, "total", r.Total, expected(in))
				byDept, bySite, byAgent := groupsByID(r.ByDepartment), groupsByID(r.BySite), groupsByID(r.ByAgent)
				for _, key := range []struct {
					what   string
					groups map[string]report.Group
					names  map[string]string
					of     func(reporttest.Conversation) string
				}{
					{"department", byDept, w.names.Departments, func(c reporttest.Conversation) string { return c.DepartmentID }},
					{"site", bySite, w.names.Sites, func(c reporttest.Conversation) string { return c.SiteID }},
					{"agent", byAgent, w.names.Agents, func(c reporttest.Conversation) string { return c.AgentID }},
				} {
					want := map[string][]reporttest.Conversation{}
					for _, c := range in {
						if id := key.of(c); id != "" || key.what == "department" {
							want[id] = append(want[id], c)
						}
					}
					if len(key.groups) != len(want) {
						t.Errorf("%d %s groups, want %d", len(key.groups), key.what, len(want))
					}
					for id, cs := range want {
						g := key.groups[id]
						checkFigures(t, key.what+" "+id, g.Figures, expected(cs))
						name := key.names[id]
						if id == "" {
							name = report.NoDepartment
						}
						if g.Name != name {
							t.Errorf("%s %s named %q, want %q", key.what, id, g.Name, name)
						}
					}
				}
				var heat [7][24]int
				var csat [5]int
				days := make([]int, p.Days())
				for _, c := range in {
					local := c.QueuedAt.In(p.Location)
					heat[(int(local.Weekday())+6)%7][local.Hour()]++
					if c.Rating > 0 {
						csat[c.Rating-1]++
					}
					d, _ := time.ParseInLocation(report.DateLayout, local.Format(report.DateLayout), p.Location)
					days[int(math.Round(d.Sub(p.From).Hours()/24))]++
				}
				if r.Heatmap != heat {
					t.Errorf("heatmap = %v, want %v", r.Heatmap, heat)
				}
				if r.CSAT != csat {
					t.Errorf("CSAT = %v, want %v", r.CSAT, csat)
				}
				if len(r.Days) != len(days) {
					t.Fatalf("%d days, want %d", len(r.Days), len(days))
				}
				for i, d := range r.Days {
					if d.Chats != days[i] {
						t.Errorf("day %s: %d chats, want %d", d.Date.Format(report.DateLayout), d.Chats, days[i])
					}
				}
			})
		}
	})
}
