package auditlog

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// The benchmarks run on machines shared with other work, where wall-clock throughput says more
// about the neighbours than about the code. cpuMeter also measures the CPU time the benchmark
// process and its PostgreSQL backends spend, so the figures include cost per event.

const benchApp = "parley_audit_bench"

// openBench opens a migrated database whose PostgreSQL connections carry benchApp as their
// application name, so their backends can be found.
func openBench(b *testing.B, d migrations.Dialect) *migrations.DB {
	u := migratetest.URL(b, d)
	if d == migrations.Postgres {
		pu, err := url.Parse(u)
		if err != nil {
			b.Fatal(err)
		}
		q := pu.Query()
		q.Set("application_name", benchApp)
		pu.RawQuery = q.Encode()
		u = pu.String()
	}
	db, err := migrations.Open(context.Background(), u, migrations.Options{MaxOpenConns: 10})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	m, err := migrations.NewMigrator(db)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		b.Fatal(err)
	}
	return db
}

type cpuMeter struct {
	db      *migrations.DB
	process time.Duration
	backend map[int]time.Duration
}

func startCPU(db *migrations.DB) *cpuMeter {
	return &cpuMeter{db: db, process: processCPU(), backend: backendCPU(db)}
}

// report adds cpu-µs/event metrics: this process, PostgreSQL backends, and both.
func (m *cpuMeter) report(b *testing.B, events int) {
	if runtime.GOOS != "linux" || events == 0 {
		return
	}
	proc := processCPU() - m.process
	var pg time.Duration
	for pid, t := range backendCPU(m.db) {
		pg += t - m.backend[pid]
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(events) }
	b.ReportMetric(per(proc), "go-cpu-µs/event")
	if m.db.Dialect == migrations.Postgres {
		b.ReportMetric(per(pg), "pg-cpu-µs/event")
	}
	b.ReportMetric(per(proc+pg), "cpu-µs/event")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendCPU returns the CPU time of this benchmark's PostgreSQL backends, by pid.
func backendCPU(db *migrations.DB) map[int]time.Duration {
	out := map[int]time.Duration{}
	if db.Dialect != migrations.Postgres || runtime.GOOS != "linux" {
		return out
	}
	var pids []int
	if err := db.Gorm.Raw("SELECT pid FROM pg_stat_activity WHERE application_name = ?", benchApp).Scan(&pids).Error; err != nil {
		return out
	}
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // PostgreSQL runs elsewhere
		}
		s := string(raw)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(fields[11], 10, 64)
		st, _ := strconv.ParseInt(fields[12], 10, 64)
		out[pid] = time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
	}
	return out
}
