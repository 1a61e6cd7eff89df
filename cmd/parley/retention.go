package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/parleyhq/parley/app/retention"
	"github.com/parleyhq/parley/audit"
)

const retentionUsage = "usage: parley retention run [--tenant SLUG] [--dry-run]"

// runRetention implements `parley retention run`: the retention job once, for every organisation
// or one. With --dry-run it lists what would go (conversation and offline message ids, counts of
// the rest) and changes nothing; without, it runs under the job's lease (refused while another
// node runs it, exit 1), records each organisation's run and its retention.run audit event and
// prints what went.
func runRetention(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprintln(e.stderr, retentionUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("retention run", flag.ContinueOnError)
	tenantName := fs.String("tenant", "", "organisation sign-in id (default: every organisation)")
	dry := fs.Bool("dry-run", false, "list what would be removed, remove nothing")
	cfg, code := loadConfig(e, fs, args[1:])
	if cfg == nil {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(e.stderr, "parley: retention run: unexpected argument", fs.Arg(0))
		return exitUsage
	}
	a, closeApp, code := openApp(ctx, e, cfg)
	if a == nil {
		return code
	}
	defer closeApp()
	o := retention.RunOptions{DryRun: *dry, StartedBy: "cli"}
	if *tenantName != "" {
		id, err := tenantID(ctx, a, *tenantName)
		if err != nil || id == audit.SystemTenant {
			fmt.Fprintf(e.stderr, "parley: retention run: --tenant: no organisation %q\n", *tenantName)
			return exitUsage
		}
		o.TenantID = id
	}
	reps, err := a.Retention.RunLeased(ctx, o)
	if errors.Is(err, retention.ErrLeaseHeld) {
		fmt.Fprintln(e.stderr, "parley: retention run: another node is running the retention job; try again later")
		return exitFailure
	}
	printRetention(e.stdout, reps, *dry)
	if !*dry {
		_, _ = a.Audit.Seal(ctx) // chain the run records now; any node's sealer would later
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "parley: retention run:", err)
		return exitFailure
	}
	return exitOK
}

func printRetention(w io.Writer, reps []retention.Report, dry bool) {
	verb := "removed"
	if dry {
		verb = "would remove"
	}
	for _, r := range reps {
		if r.OrganisationHeld {
			fmt.Fprintf(w, "organisation %s: under legal hold, nothing removed\n", r.TenantID)
			continue
		}
		c := r.Counts
		fmt.Fprintf(w, "organisation %s: %s %d transcripts, %d files, %d offline messages, %d visitors, %d page views; %d expired transcripts kept by legal hold\n",
			r.TenantID, verb, c.Transcripts, c.Files, c.Offline, c.Visitors, c.PageViews, c.Held)
		if dry {
			for _, id := range r.Conversations {
				fmt.Fprintf(w, "  transcript %s\n", id)
			}
			for _, id := range r.OfflineMessages {
				fmt.Fprintf(w, "  offline message %s\n", id)
			}
		}
	}
}
