package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/parleyhq/parley/app/loadtest"
)

// report is a run's JSON file.
type report struct {
	Scenario string    `json:"scenario"`
	Command  string    `json:"command"`
	Started  time.Time `json:"started"`
	Machine  machine   `json:"machine"`
	Setup    struct {
		Database    string `json:"database"`
		Nodes       int    `json:"nodes"`
		KeyProvider string `json:"key_provider,omitempty"`
	} `json:"setup"`
	Parley   *loadtest.Result `json:"parley"`
	Baseline *loadtest.Result `json:"baseline,omitempty"`
	// Ratio is Parley's throughput over the baseline's, both measured in this run.
	Ratio float64    `json:"ratio_to_baseline,omitempty"`
	Audit *auditRate `json:"audit,omitempty"`
}

type machine struct {
	CPUs      int    `json:"cpus"`
	LoadAvg   string `json:"loadavg_at_start"`
	GoVersion string `json:"go"`
}

// auditRate is what the run appended to the audit log, counted by `parley audit verify` (which
// checked every chain) before and after.
type auditRate struct {
	Before      int64   `json:"events_before"`
	After       int64   `json:"events_after"`
	Appended    int64   `json:"appended"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"per_second"`
	ChainIntact bool    `json:"chains_intact"`
}

func newReport(o *options, args []string) *report {
	r := &report{Scenario: o.name, Command: "parley-load " + strings.Join(args, " "), Started: time.Now().UTC()}
	r.Machine = machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		r.Machine.LoadAvg = strings.TrimSpace(string(b))
	}
	r.Setup.Database = o.db
	return r
}

func (r *report) contractOK() bool {
	return r.Parley != nil && r.Parley.ContractOK && (r.Baseline == nil || r.Baseline.ContractOK)
}

func (r *report) write(dir, name string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(b, '\n'), 0o600); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, name+".svg")) // #nosec G304 -- the tool's own output directory
	if err != nil {
		return err
	}
	title := fmt.Sprintf("%s: %d visitors × %d messages, %d in flight — %.0f msg/s, ack p99 %.1f ms",
		r.Scenario, r.Parley.Visitors, r.Parley.Messages, r.Parley.InFlight, r.Parley.Throughput, r.Parley.Ack.P99)
	if err := loadtest.WriteSVG(f, title, r.Parley.Timeline, r.Parley.TimelineStep); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "scenario %s — %s, %d node(s), key provider %s; machine: %d CPUs, load %s\n", r.Scenario, r.Setup.Database,
		r.Setup.Nodes, firstOf(r.Setup.KeyProvider, "?"), r.Machine.CPUs, r.Machine.LoadAvg)
	printResult(w, r.Parley)
	if r.Baseline != nil {
		printResult(w, r.Baseline)
		fmt.Fprintf(w, "ratio parley ÷ baseline (throughput, same run): %.3f\n", r.Ratio)
	}
	if a := r.Audit; a != nil {
		fmt.Fprintf(w, "audit: %d events appended in %.1f s = %.0f events/s; every chain intact\n", a.Appended, a.Seconds, a.PerSecond)
	}
}

func printResult(w io.Writer, res *loadtest.Result) {
	fmt.Fprintf(w, "[%s] %d visitors, %d agents, %d messages each of %d bytes, %d in flight, rate %g/s per visitor\n",
		res.Target, res.Visitors, res.Agents, res.Messages, res.Size, res.InFlight, res.Rate)
	fmt.Fprintf(w, "  setup %.1f s; messages: %d sent, %d acked (%d duplicates), %d delivered, %d failed in %.2f s\n",
		res.SetupSeconds, res.Sent, res.Acked, res.Duplicates, res.Delivered, res.Failed, res.ElapsedSeconds)
	fmt.Fprintf(w, "  throughput %.0f acked msg/s\n", res.Throughput)
	pr := func(name string, p loadtest.Percentiles) {
		if p.Count > 0 {
			fmt.Fprintf(w, "  %-9s p50 %8.2f  p95 %8.2f  p99 %8.2f  max %8.2f ms  (%d)\n", name, p.P50, p.P95, p.P99, p.Max, p.Count)
		}
	}
	pr("ack", res.Ack)
	pr("delivery", res.Delivery)
	pr("sign-in", res.SignIn)
	if s := res.Server; s != nil {
		fmt.Fprintf(w, "  server RSS %.1f MB before, %.1f MB idle with every socket open (%.1f KB per visitor), %.1f MB after; CPU %.1f s = %.0f%% of one core\n",
			s.RSSBeforeMB, s.RSSIdleMB, s.RSSPerVisitorKB, s.RSSAfterMB, s.CPUSeconds, s.CPUPercent)
	}
	if len(res.Errors) > 0 {
		codes := make([]string, 0, len(res.Errors))
		for c := range res.Errors {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		var parts []string
		for _, c := range codes {
			parts = append(parts, fmt.Sprintf("%s %d", c, res.Errors[c]))
		}
		fmt.Fprintf(w, "  errors: %s\n", strings.Join(parts, ", "))
	}
	verdict := "held"
	if !res.ContractOK {
		verdict = "BROKEN"
	}
	fmt.Fprintf(w, "  contract %s: lost %d, duplicated %d, out of order %d; cards %d, masked %d, in clear %d\n",
		verdict, res.Lost, res.Duplicated, res.OutOfOrder, res.CardMessages, res.CardsMasked, res.CardsInClear)
	for _, v := range res.Violations {
		fmt.Fprintf(w, "    %s\n", v)
	}
}
