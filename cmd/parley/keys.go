package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/parleyhq/parley/audit"
)

// runKeys implements `parley keys status|rotate|rewrap|set-min-version --tenant T`: the transit
// key lifecycle of one tenant. Every change is recorded in the tenant's audit chain.
func runKeys(ctx context.Context, e env, args []string) int {
	usage := func() int {
		fmt.Fprintln(e.stderr, "usage: parley keys status|rotate|rewrap --tenant T")
		fmt.Fprintln(e.stderr, "       parley keys set-min-version --tenant T --version N [--force]")
		return exitUsage
	}
	if len(args) == 0 {
		return usage()
	}
	action := args[0]
	switch action {
	case "status", "rotate", "rewrap", "set-min-version":
	default:
		return usage()
	}
	fs := flag.NewFlagSet("keys "+action, flag.ContinueOnError)
	tenantName := fs.String("tenant", "", "organisation sign-in id")
	version := fs.Int("version", 0, "with set-min-version: the oldest key version that may still decrypt")
	force := fs.Bool("force", false, "with set-min-version: raise it even though data keys below it remain (they become unreadable)")
	cfg, code := loadConfig(e, fs, args[1:])
	if cfg == nil {
		return code
	}
	if *tenantName == "" || (action == "set-min-version" && *version < 1) {
		return usage()
	}
	a, closeApp, code := openApp(ctx, e, cfg)
	if a == nil {
		return code
	}
	defer closeApp()
	id, err := tenantID(ctx, a, *tenantName)
	if err != nil || id == audit.SystemTenant {
		fmt.Fprintf(e.stderr, "parley: keys: no organisation %q\n", *tenantName)
		return exitUsage
	}
	var (
		auditAction audit.Action
		details     = map[string]string{}
		opErr       error
	)
	switch action {
	case "status":
		rep, err := a.KeyTools.Status(ctx, id)
		if err != nil {
			fmt.Fprintf(e.stderr, "parley: keys status: %v\n", err)
			return exitFailure
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return exitFailure
		}
		return exitOK
	case "rotate":
		auditAction = audit.ActionKeyRotate
		st, err := a.KeyTools.Rotate(ctx, id)
		opErr = err
		if err == nil {
			details["latest_version"] = fmt.Sprint(st.LatestVersion)
			fmt.Fprintf(e.stdout, "rotated: new data keys are wrapped with version %d; run `parley keys rewrap` to move existing ones\n", st.LatestVersion)
		}
	case "rewrap":
		auditAction = audit.ActionKeyRewrap
		sum, err := a.KeyTools.Rewrap(ctx, id, e.stderr)
		opErr = err
		details["target_version"] = fmt.Sprint(sum.TargetVersion)
		details["rewrapped"] = fmt.Sprint(sum.Rewrapped)
		details["failed"] = fmt.Sprint(sum.Failed)
		if err == nil {
			fmt.Fprintf(e.stdout, "rewrapped %d of %d data keys to version %d (%d skipped)\n", sum.Rewrapped, sum.Pending, sum.TargetVersion, sum.Skipped)
		}
	case "set-min-version":
		auditAction = audit.ActionKeyMinVersion
		details["min_decryption_version"] = fmt.Sprint(*version)
		details["forced"] = fmt.Sprint(*force)
		opErr = a.KeyTools.SetMinDecryptionVersion(ctx, id, *version, *force)
		if opErr == nil {
			fmt.Fprintf(e.stdout, "minimum decryption version is now %d\n", *version)
		}
	}
	outcome, reason := audit.Success, ""
	if opErr != nil {
		outcome, reason = audit.Failure, "error"
	}
	if err := recordCLI(ctx, e, a, id, auditAction, outcome, reason, details); err != nil {
		fmt.Fprintf(e.stderr, "parley: keys %s: recording in the audit log failed: %v\n", action, err)
		return exitFailure
	}
	if opErr != nil {
		fmt.Fprintf(e.stderr, "parley: keys %s: %v\n", action, opErr)
		return exitFailure
	}
	return exitOK
}
