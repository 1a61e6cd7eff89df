package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/compliance/scan"
)

// exitFound is `parley scan`'s exit code when a card number was found.
const exitFound = 3

// pathList is a repeatable path flag.
type pathList []string

func (p *pathList) String() string     { return strings.Join(*p, ",") }
func (p *pathList) Set(v string) error { *p = append(*p, v); return nil }

// runScan implements `parley scan`: PAN discovery across the database (sealed transcript fields
// decrypted through the key provider), log files and export folders. It prints counts per
// location with masked samples, stores the result as evidence (PCI DSS 3.5.1) and records it in
// the installation's audit chain (compliance.pan_scan.run). Exit codes: 0 nothing found,
// 3 card numbers found, 1 the scan could not read everything (or failed), 2 usage.
func runScan(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	var logs, exports pathList
	fs.Var(&logs, "log", "a log file or folder to scan (repeatable)")
	fs.Var(&exports, "export", "an export file or folder to scan (repeatable)")
	noDB := fs.Bool("no-db", false, "do not scan the database")
	samples := fs.Int("samples", scan.DefaultMaxSamples, "masked samples shown and kept per location (0 for none)")
	progress := fs.String("progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	cfg, code := loadConfig(e, fs, args)
	if cfg == nil {
		return code
	}
	if fs.NArg() > 0 || *samples < 0 || (*progress != "auto" && *progress != "always" && *progress != "never") || (*noDB && len(logs)+len(exports) == 0) {
		fmt.Fprintln(e.stderr, "usage: parley scan [--no-db] [--log PATH]... [--export PATH]... [--samples N] [--progress auto|always|never] [--json]")
		return exitUsage
	}
	a, closeApp, code := openApp(ctx, e, cfg)
	if a == nil {
		return code
	}
	defer closeApp()

	masker, err := pan.NewMasker(pan.Options{Mode: pan.ModeLast4, ContextRunes: -1})
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: scan: %v\n", err)
		return exitFailure
	}
	s := &scan.Scanner{Masker: masker, MaxSamples: *samples}
	if *samples == 0 {
		s.MaxSamples = -1
	}
	if *progress == "always" || (*progress == "auto" && isTerminal(e.stderr)) {
		s.Progress = &scan.Bar{W: e.stderr}
	}
	rep := scan.Report{ID: uuid.Must(uuid.NewV7()).String(), StartedAt: time.Now().UTC(), Node: cfg.NodeID, Actor: cliActor(e)}
	if !*noDB {
		locs, err := s.ScanDatabase(ctx, a.DB, scan.ParleySealed(), a.Envelope)
		rep.Locations = append(rep.Locations, locs...)
		if err != nil {
			fmt.Fprintf(e.stderr, "parley: scan: database: %v\n", err)
			return exitFailure
		}
	}
	if paths := append(append([]string{}, logs...), exports...); len(paths) > 0 {
		locs, err := s.ScanFiles(ctx, paths)
		rep.Locations = append(rep.Locations, locs...)
		if err != nil {
			fmt.Fprintf(e.stderr, "parley: scan: files: %v\n", err)
			return exitFailure
		}
	}
	rep.FinishedAt = time.Now().UTC()
	// What is printed, audited and stored has card-number-like text in paths and errors masked.
	rep = rep.Masked()

	// The result is evidence: recorded in the audit chain (fail closed) and stored.
	ev := audit.Event{
		Tenant: audit.SystemTenant, Actor: audit.Actor{ID: rep.Actor, Kind: audit.ActorSystem}, Origin: audit.Origin{Node: cfg.NodeID},
		Action: audit.ActionPANScanRun, Target: audit.Target{Kind: "pan_scan", ID: rep.ID}, Outcome: audit.Success,
		Details: map[string]string{"outcome": rep.Outcome(), "matches": fmt.Sprint(rep.Matches()), "locations": fmt.Sprint(len(rep.Locations)),
			"unread_locations": fmt.Sprint(rep.Errors()), "database": fmt.Sprint(!*noDB), "paths": fmt.Sprint(len(logs) + len(exports))},
	}
	if err := a.Audit.Record(ctx, ev); err != nil {
		fmt.Fprintf(e.stderr, "parley: scan: audit log: %v\n", err)
		return exitFailure
	}
	if _, err := a.Audit.Seal(ctx); err != nil {
		fmt.Fprintf(e.stderr, "parley: scan: audit log: %v\n", err)
		return exitFailure
	}
	if err := (&scan.Store{DB: a.DB.Gorm}).Save(ctx, rep); err != nil {
		fmt.Fprintf(e.stderr, "parley: scan: store the result: %v\n", err)
		return exitFailure
	}

	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return exitFailure
		}
	} else {
		printReport(e.stdout, rep)
	}
	switch rep.Outcome() {
	case scan.OutcomeFound:
		return exitFound
	case scan.OutcomeIncomplete:
		return exitFailure
	}
	return exitOK
}

// printReport writes the locations with findings, unreadable values or errors, and a summary.
func printReport(w io.Writer, rep scan.Report) {
	hits := 0
	for _, l := range rep.Locations {
		if l.Matches > 0 {
			hits++
		}
	}
	fmt.Fprintf(w, "PAN discovery scan %s: %s — %d card numbers in %d of %d locations", rep.ID, rep.Outcome(), rep.Matches(), hits, len(rep.Locations))
	if n := rep.Errors(); n > 0 {
		fmt.Fprintf(w, "; %d locations could not be read", n)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	printed := false
	for _, l := range rep.Locations {
		if l.Matches == 0 && l.Error == "" && l.Unreadable == 0 {
			continue
		}
		if !printed {
			fmt.Fprintln(tw, "KIND\tLOCATION\tSCANNED\tFOUND\tIN\tSAMPLES")
			printed = true
		}
		var samples []string
		for _, s := range l.Samples {
			samples = append(samples, s.Masked+" ("+s.Brand+", "+s.Ref+")")
		}
		note := strings.Join(samples, "; ")
		if l.Unreadable > 0 {
			note = strings.TrimPrefix(note+fmt.Sprintf("; %d unreadable (crypto-shredded)", l.Unreadable), "; ")
		}
		if l.Error != "" {
			note = strings.TrimPrefix(note+"; not read: "+l.Error, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", l.Kind, l.Name, l.Items, l.Matches, l.Hits, note)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "The result is stored as evidence (PCI DSS 3.5.1) and recorded in the audit log.")
}

// cliActor names the operator running a command.
func cliActor(e env) string {
	user := e.getenv("SUDO_USER")
	if user == "" {
		user = e.getenv("USER")
	}
	return "cli:" + strings.TrimSpace(user)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
