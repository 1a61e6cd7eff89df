package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/mode"
	"github.com/parleyhq/parley/migrations"
)

const complianceUsage = "usage: parley compliance-mode show --tenant SLUG\n       parley compliance-mode set --tenant SLUG --mode none|pci|hipaa|pci,hipaa [--reason TEXT]"

// runComplianceMode implements `parley compliance-mode show|set`: an organisation's compliance
// mode from the server's shell, for operators (the console's Compliance mode page does the same).
// Turning a framework off needs --reason; every change is audited as compliance.mode.change.
func runComplianceMode(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || (args[0] != "show" && args[0] != "set") {
		fmt.Fprintln(e.stderr, complianceUsage)
		return exitUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("compliance-mode "+sub, flag.ContinueOnError)
	tenantName := fs.String("tenant", "", "organisation sign-in id")
	modeText := fs.String("mode", "", "none, pci, hipaa or pci,hipaa (set)")
	reason := fs.String("reason", "", "why a framework is turned off (set; required to turn one off)")
	cfg, code := loadConfig(e, fs, args[1:])
	if cfg == nil {
		return code
	}
	var problems []string
	if *tenantName == "" {
		problems = append(problems, "--tenant is required")
	}
	md, err := mode.Parse(*modeText)
	if sub == "set" && (*modeText == "" || err != nil) {
		problems = append(problems, "--mode must be none, pci, hipaa or pci,hipaa")
	}
	if usageProblems(e, "compliance-mode "+sub, problems) {
		return exitUsage
	}
	a, closeApp, code := openApp(ctx, e, cfg)
	if a == nil {
		return code
	}
	defer closeApp()
	id, err := tenantID(ctx, a, *tenantName)
	if err != nil || id == audit.SystemTenant {
		fmt.Fprintf(e.stderr, "parley: compliance-mode %s: --tenant: no organisation %q\n", sub, *tenantName)
		return exitUsage
	}
	ctx = migrations.WithTenant(ctx, id)
	if sub == "set" {
		_, changed, err := a.ComplianceModes.Set(ctx, mode.Change{TenantID: id, Mode: md, Reason: *reason,
			Actor: audit.Actor{ID: cliActor(e), Kind: audit.ActorSystem}, Origin: audit.Origin{Node: cfg.NodeID}})
		switch {
		case errors.Is(err, mode.ErrReasonRequired), errors.Is(err, mode.ErrInvalidReason):
			fmt.Fprintf(e.stderr, "parley: compliance-mode set: --reason: %v\n", err)
			return exitUsage
		case err != nil:
			fmt.Fprintln(e.stderr, "parley: compliance-mode set:", err)
			return exitFailure
		}
		_, _ = a.Audit.Seal(ctx)
		if !changed {
			fmt.Fprintf(e.stdout, "compliance mode of %s is already %s\n", *tenantName, md)
			return exitOK
		}
		fmt.Fprintf(e.stdout, "compliance mode of %s set to %s\n", *tenantName, md)
	}
	st, err := a.ComplianceModes.Get(ctx, id)
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: compliance-mode %s: %v\n", sub, err)
		return exitFailure
	}
	if sub == "show" {
		fmt.Fprintf(e.stdout, "mode: %s\n", st.Mode)
	}
	if !st.Mode.On() {
		return exitOK
	}
	// The drift now, computed for this organisation only.
	if err := a.ComplianceDrift.RefreshTenant(ctx, id); err != nil {
		fmt.Fprintf(e.stderr, "parley: compliance-mode %s: drift: %v\n", sub, err)
		return exitFailure
	}
	d, err := a.ComplianceDrift.For(ctx, id)
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: compliance-mode %s: drift: %v\n", sub, err)
		return exitFailure
	}
	if len(d.Items) == 0 {
		fmt.Fprintln(e.stdout, "drift: none")
		return exitOK
	}
	fmt.Fprintf(e.stdout, "drift: %d checks fail under the mode\n", len(d.Items))
	for _, it := range d.Items {
		fmt.Fprintf(e.stdout, "  %s (%s): %s\n    fix: %s\n", it.Check, strings.Join(it.Controls, ", "), it.Evidence, it.Fix)
	}
	return exitOK
}
