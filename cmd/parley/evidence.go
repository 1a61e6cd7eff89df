package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/evidence"
	"github.com/parleyhq/parley/migrations"
)

// runEvidence implements `parley evidence export` and `parley evidence verify`.
func runEvidence(ctx context.Context, e env, args []string) int {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "export":
		return evidenceExport(ctx, e, args[1:])
	case "verify":
		return evidenceVerify(e, args[1:])
	}
	fmt.Fprintln(e.stderr, "usage: parley evidence export --tenant T --framework pci|hipaa [--from TIME] [--to TIME] --out FILE")
	fmt.Fprintln(e.stderr, "       parley evidence verify [--trusted-key PEM] FILE")
	return exitUsage
}

// evidenceExport writes an organisation's signed evidence bundle for a framework and period.
func evidenceExport(ctx context.Context, e env, args []string) int {
	fs, b := bundleFlags("evidence export")
	framework := fs.String("framework", "", "pci (PCI DSS v4.0.1) or hipaa (HIPAA Security Rule)")
	from := fs.String("from", "", "start of the period (RFC 3339 or YYYY-MM-DD, UTC); default: 12 months before --to")
	to := fs.String("to", "", "end of the period, exclusive (RFC 3339 or YYYY-MM-DD, UTC); default: now")
	cfg, code := loadConfig(e, fs, args)
	if cfg == nil {
		return code
	}
	var problems []string
	fw, err := evidence.ParseFramework(*framework)
	if err != nil {
		problems = append(problems, "--framework: "+err.Error())
	}
	fromT, err := parseTime(*from)
	if err != nil {
		problems = append(problems, "--from: "+err.Error())
	}
	toT, err := parseTime(*to)
	if err != nil {
		problems = append(problems, "--to: "+err.Error())
	}
	if *b.tenant == audit.SystemTenant {
		problems = append(problems, "--tenant: evidence reports are made for an organisation")
	}
	a, id, closeApp, code := b.open(ctx, e, cfg, problems)
	if a == nil {
		return code
	}
	defer closeApp()
	if toT.IsZero() {
		toT = a.Now().UTC()
	}
	if fromT.IsZero() {
		fromT = toT.AddDate(-1, 0, 0)
	}
	if !fromT.Before(toT) {
		fmt.Fprintln(e.stderr, "parley: evidence export: --from must be before --to")
		return exitUsage
	}
	org, err := a.Tenants.BySlug(ctx, *b.tenant)
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: evidence export: %v\n", err)
		return exitFailure
	}
	ctx = migrations.WithTenant(ctx, id)
	f, code := b.create(e)
	if f == nil {
		return code
	}
	info, err := a.Evidence().Write(ctx, f, evidence.Period{Tenant: id, Organisation: org.Name, Framework: fw, From: fromT, To: toT, By: cliActor(e)})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(*b.out)
		fmt.Fprintf(e.stderr, "parley: evidence export: %v\n", err)
		if rerr := recordCLI(ctx, e, a, id, audit.ActionEvidenceGenerate, audit.Failure, "evidence export failed", map[string]string{"framework": string(fw)}); rerr != nil {
			fmt.Fprintf(e.stderr, "parley: evidence export: recording the failure failed: %v\n", rerr)
		}
		return exitFailure
	}
	s := info.Report.Summary
	// The report joins the organisation's history (the console's Evidence page), kept six years.
	bundle, err := os.ReadFile(*b.out) // #nosec G304 -- the file this command just wrote.
	if err == nil {
		err = (&evidence.Store{DB: a.DB.Gorm}).Save(ctx, evidence.Stored{ID: info.SHA256[:32], TenantID: id, Framework: fw,
			PeriodFrom: fromT, PeriodTo: toT, CreatedAt: info.Report.GeneratedAt, CreatedBy: cliActor(e), Events: info.Report.Events,
			Pass: s.Pass, Fail: s.Fail, Manual: s.Manual, SHA256: info.SHA256, Size: info.Bytes, Bundle: bundle})
	}
	if err != nil {
		_ = os.Remove(*b.out)
		fmt.Fprintf(e.stderr, "parley: evidence export: keeping the report failed, bundle removed: %v\n", err)
		return exitFailure
	}
	details := map[string]string{"framework": string(fw), "from": fromT.Format(time.RFC3339), "to": toT.Format(time.RFC3339),
		"sha256": info.SHA256, "pass": fmt.Sprint(s.Pass), "fail": fmt.Sprint(s.Fail), "manual": fmt.Sprint(s.Manual)}
	if err := recordCLI(ctx, e, a, id, audit.ActionEvidenceGenerate, audit.Success, "", details); err != nil {
		_ = os.Remove(*b.out)
		fmt.Fprintf(e.stderr, "parley: evidence export: recording the report failed, bundle removed: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "wrote %s: %s evidence for %s, %s to %s — controls %d pass, %d fail, %d manual; %d audit events; sha256 %s\n",
		*b.out, fw.Name(), org.Name, fromT.Format(time.DateOnly), toT.Format(time.DateOnly), s.Pass, s.Fail, s.Manual, info.Report.Events, info.SHA256)
	if info.Report.Events == 0 {
		fmt.Fprintln(e.stdout, "no audit events were recorded in this period; the report says so")
	}
	fmt.Fprintf(e.stdout, "check it offline with `parley evidence verify --trusted-key KEY.pem %s`\n", *b.out)
	return exitOK
}

// evidenceVerify checks a bundle offline: signature and hashes; a bad file is named.
func evidenceVerify(e env, args []string) int {
	fs := flag.NewFlagSet("evidence verify", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	trustedKey := fs.String("trusted-key", "", "PEM public key the bundle must be signed with (the published audit signing key)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "usage: parley evidence verify [--trusted-key PEM] FILE")
		return exitUsage
	}
	path := fs.Arg(0)
	var trusted []audit.PublicKey
	if *trustedKey != "" {
		pemBytes, err := os.ReadFile(*trustedKey) // #nosec G304 -- the operator names the key file.
		if err != nil {
			fmt.Fprintf(e.stderr, "parley: evidence verify: %v\n", err)
			return exitUsage
		}
		k, err := audit.ParsePublicKeyPEM(pemBytes)
		if err != nil {
			fmt.Fprintf(e.stderr, "parley: evidence verify: --trusted-key: %v\n", err)
			return exitUsage
		}
		trusted = append(trusted, k)
	}
	f, err := os.Open(path) // #nosec G304 -- the operator names the bundle to verify.
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: evidence verify: %v\n", err)
		return exitUsage
	}
	defer func() { _ = f.Close() }()
	rep, err := evidence.Verify(f, trusted...)
	if err != nil {
		var fe *evidence.FileError
		if errors.As(err, &fe) {
			fmt.Fprintf(e.stdout, "bundle %s: DAMAGED — file %s: %s\n", path, fe.File, fe.Reason)
		} else {
			fmt.Fprintf(e.stdout, "bundle %s: DAMAGED — %v\n", path, err)
		}
		return exitFailure
	}
	m := rep.Manifest
	trust := "signing key NOT compared with a published key (use --trusted-key)"
	if rep.KeysTrusted {
		trust = "signed with the trusted key"
	}
	fmt.Fprintf(e.stdout, "bundle %s: intact — %s evidence for %s (%s), %s to %s, %d files, %d audit events verified, %s\n",
		path, m.Framework.Name(), m.Organisation, m.Tenant, m.From, m.To, len(m.Files), rep.Audit.Events, trust)
	return exitOK
}
