package report_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/app/report"
	"github.com/parleyhq/parley/app/report/reporttest"
)

// BenchmarkBuild aggregates 10,000 conversations read from the database into the report (the
// figures, percentiles, breakdowns, days and heatmap), without the query.
func BenchmarkBuild(b *testing.B) {
	start := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	gen := reporttest.Generate(reporttest.Params{Seed: 1, N: 10000, Start: start, Days: 30,
		Sites: []string{"s1", "s2"}, Departments: []string{"d1", "d2", ""}, Agents: []string{"a1", "a2", "a3", "a4", "a5"}})
	convs := make([]report.Conversation, len(gen))
	for i, c := range gen {
		convs[i] = report.Conversation{ID: c.ID, Status: c.Status, AgentID: c.AgentID, DepartmentID: c.DepartmentID, SiteID: c.SiteID,
			Rating: c.Rating, QueuedAt: c.QueuedAt}
		if c.Accepted {
			convs[i].AcceptedAt = c.QueuedAt.Add(c.Wait)
		}
	}
	p, err := report.ParsePeriod("2025-12-01", "2025-12-30", "Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		report.Build(p, convs, report.Names{})
	}
}
