package reporthttp_test

import (
	"net/http"
	"testing"

	"github.com/parleyhq/parley/migrations/migratetest"
)

// BenchmarkReportPage renders the whole /reports page (query, aggregation, names, SVG charts,
// tables, console shell) over a data set of 10,000 conversations, on each database configured.
// The target is under a second per page.
func BenchmarkReportPage(b *testing.B) {
	for _, d := range migratetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			h := newHarness(b, migratetest.Open(b, d), 10000)
			c := h.clients[owner]
			if rec := c.Do(http.MethodGet, "/reports"+whole, ""); rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if rec := c.Do(http.MethodGet, "/reports"+whole, ""); rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
