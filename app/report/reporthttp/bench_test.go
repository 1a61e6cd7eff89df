package reporthttp_test

import (
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/migrations/migratetest"
)

// cpuTime is the CPU time the process has used (user and system), which a busy machine does not
// inflate the way it inflates wall-clock time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReportPage renders the whole /reports page (query, aggregation, names, SVG charts,
// tables, console shell) over a data set of 10,000 conversations, on each database configured;
// the target is under a second per page. Besides ns/op it reports cpu-ms/op, the CPU time the
// process spent per page (on PostgreSQL the database server's own time is not included).
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
			start := cpuTime(b)
			for b.Loop() {
				if rec := c.Do(http.MethodGet, "/reports"+whole, ""); rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		})
	}
}
