package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/config"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
)

// runAudit implements `parley audit verify` and `parley audit export`.
func runAudit(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "export") {
		fmt.Fprintln(e.stderr, "usage: parley audit verify [--tenant T] [--from-seq N] [--bundle FILE [--trusted-key PEM]]")
		fmt.Fprintln(e.stderr, "       parley audit export --tenant T [--from TIME] [--to TIME] --out FILE")
		return exitUsage
	}
	if args[0] == "verify" {
		return auditVerify(ctx, e, args[1:])
	}
	return auditExport(ctx, e, args[1:])
}

func auditVerify(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	tenantName := fs.String("tenant", "", "organisation sign-in id, or _system; default: every chain")
	fromSeq := fs.Int64("from-seq", 0, "start at the signed checkpoint before this sequence number")
	bundle := fs.String("bundle", "", "verify an export bundle offline, without the database")
	trustedKey := fs.String("trusted-key", "", "PEM public key the bundle's checkpoints must be signed with (the published key)")
	cfg, code := loadConfig(e, fs, args)
	if cfg == nil {
		return code
	}
	if *bundle != "" {
		return verifyBundle(e, *bundle, *trustedKey)
	}
	a, closeApp, code := openApp(ctx, e, cfg)
	if a == nil {
		return code
	}
	defer closeApp()
	var tenants []string
	if *tenantName != "" {
		id, err := tenantID(ctx, a, *tenantName)
		if err != nil {
			fmt.Fprintf(e.stderr, "parley: audit verify: %v\n", err)
			return exitUsage
		}
		tenants = []string{id}
	} else {
		var err error
		if tenants, err = a.Audit.Tenants(ctx); err != nil {
			fmt.Fprintf(e.stderr, "parley: audit verify: %v\n", err)
			return exitFailure
		}
	}
	if _, err := a.Audit.Seal(ctx); err != nil {
		fmt.Fprintf(e.stderr, "parley: audit verify: chain pending events: %v\n", err)
		return exitFailure
	}
	damaged := false
	for _, t := range tenants {
		rep, err := a.Audit.Verify(ctx, t, *fromSeq)
		if err != nil {
			fmt.Fprintf(e.stderr, "parley: audit verify %s: %v\n", t, err)
			return exitFailure
		}
		outcome, reason := audit.Success, ""
		if rep.OK() {
			fmt.Fprintf(e.stdout, "%s: intact — %d events (seq %d–%d), %d checkpoint signatures verified\n",
				t, rep.Events, rep.FromSeq, rep.ToSeq, rep.Checkpoints)
		} else {
			damaged, outcome, reason = true, audit.Failure, string(rep.Damage.Kind)
			fmt.Fprintf(e.stdout, "%s: DAMAGED — first bad sequence number %d (%s)\n", t, rep.Damage.Seq, rep.Damage)
		}
		if err := recordCLI(ctx, e, a, t, audit.ActionAuditVerify, outcome, reason, nil); err != nil {
			fmt.Fprintf(e.stderr, "parley: audit verify: recording the verification failed: %v\n", err)
			return exitFailure
		}
	}
	if damaged {
		return exitFailure
	}
	return exitOK
}

func verifyBundle(e env, path, trustedKey string) int {
	f, err := os.Open(path) // #nosec G304 -- the operator names the bundle to verify.
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: audit verify: %v\n", err)
		return exitUsage
	}
	defer func() { _ = f.Close() }()
	var trusted []audit.PublicKey
	if trustedKey != "" {
		pemBytes, err := os.ReadFile(trustedKey) // #nosec G304 -- the operator names the key file.
		if err != nil {
			fmt.Fprintf(e.stderr, "parley: audit verify: %v\n", err)
			return exitUsage
		}
		k, err := audit.ParsePublicKeyPEM(pemBytes)
		if err != nil {
			fmt.Fprintf(e.stderr, "parley: audit verify: --trusted-key: %v\n", err)
			return exitUsage
		}
		trusted = append(trusted, k)
	}
	rep, err := audit.VerifyBundle(f, trusted...)
	if err != nil || rep.Damage != nil {
		seq := int64(0)
		what := "unreadable bundle"
		if rep.Damage != nil {
			seq, what = rep.Damage.Seq, rep.Damage.String()
		} else if err != nil {
			what = err.Error()
		}
		fmt.Fprintf(e.stdout, "bundle %s: DAMAGED — first bad sequence number %d (%s)\n", path, seq, what)
		return exitFailure
	}
	trust := "signing keys NOT compared with a published key (use --trusted-key)"
	if rep.KeysTrusted {
		trust = "signed with the trusted key"
	}
	fmt.Fprintf(e.stdout, "bundle %s: intact — tenant %s, %d events (seq %d–%d), %d checkpoints, %s\n",
		path, rep.Tenant, rep.Events, rep.FirstSeq, rep.LastSeq, rep.Checkpoints, trust)
	return exitOK
}

func auditExport(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	tenantName := fs.String("tenant", "", "organisation sign-in id, or _system")
	from := fs.String("from", "", "first event time (RFC 3339 or YYYY-MM-DD), default: the start")
	to := fs.String("to", "", "end of the range, exclusive (RFC 3339 or YYYY-MM-DD), default: now")
	out := fs.String("out", "", "bundle file to write (created 0600, must not exist)")
	cfg, code := loadConfig(e, fs, args)
	if cfg == nil {
		return code
	}
	var problems []string
	fromT, err := parseTime(*from)
	if err != nil {
		problems = append(problems, "--from: "+err.Error())
	}
	toT, err := parseTime(*to)
	if err != nil {
		problems = append(problems, "--to: "+err.Error())
	}
	if *tenantName == "" {
		problems = append(problems, "--tenant is required")
	}
	if *out == "" {
		problems = append(problems, "--out is required")
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(e.stderr, "parley: audit export:", p)
		}
		return exitUsage
	}
	a, closeApp, code := openApp(ctx, e, cfg)
	if a == nil {
		return code
	}
	defer closeApp()
	id, err := tenantID(ctx, a, *tenantName)
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: audit export: %v\n", err)
		return exitUsage
	}
	if _, err := a.Audit.Seal(ctx); err != nil {
		fmt.Fprintf(e.stderr, "parley: audit export: %v\n", err)
		return exitFailure
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the operator names the output file.
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: audit export: %v\n", err)
		return exitUsage
	}
	info, err := a.Audit.Export(ctx, f, id, fromT, toT)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(*out)
		fmt.Fprintf(e.stderr, "parley: audit export: %v\n", err)
		return exitFailure
	}
	details := map[string]string{"events": fmt.Sprint(info.Events), "sha256": info.SHA256,
		"first_seq": fmt.Sprint(info.FirstSeq), "last_seq": fmt.Sprint(info.LastSeq)}
	if err := recordCLI(ctx, e, a, id, audit.ActionAuditExport, audit.Success, "", details); err != nil {
		_ = os.Remove(*out)
		fmt.Fprintf(e.stderr, "parley: audit export: recording the export failed, bundle removed: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "wrote %s: %d events (seq %d–%d), %d checkpoints, sha256 %s\n",
		*out, info.Events, info.FirstSeq, info.LastSeq, info.Checkpoints, info.SHA256)
	return exitOK
}

// parseTime reads an RFC 3339 time or a UTC date; empty is the zero time (unbounded).
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not RFC 3339 (2026-01-31T12:00:00Z) or a date (2026-01-31)", s)
}

// openApp opens the database (schema must be current) and assembles the application for a
// command-line tool. The returned function closes it.
func openApp(ctx context.Context, e env, cfg *config.Config) (*app.App, func(), int) {
	log := newLogger(e.stderr, cfg.LogLevel)
	db, err := app.OpenDatabase(ctx, cfg, log, false)
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: database: %v\n", err)
		return nil, nil, exitFailure
	}
	a, err := app.New(ctx, cfg, db, app.Options{Log: log})
	if err != nil {
		_ = db.Close()
		fmt.Fprintf(e.stderr, "parley: %v\n", err)
		return nil, nil, exitFailure
	}
	return a, func() { _ = a.Close() }, exitOK
}

// tenantID resolves an organisation's sign-in id (or _system) to its tenant id.
func tenantID(ctx context.Context, a *app.App, name string) (string, error) {
	if name == audit.SystemTenant {
		return name, nil
	}
	t, err := a.Tenants.BySlug(ctx, name)
	if errors.Is(err, tenant.ErrNotFound) {
		return "", fmt.Errorf("no organisation %q", name)
	}
	return t.ID, err
}

// recordCLI records an operator's command in the tenant's audit chain and chains it at once.
func recordCLI(ctx context.Context, e env, a *app.App, tenantID string, action audit.Action, outcome audit.Outcome, reason string, details map[string]string) error {
	user := e.getenv("SUDO_USER")
	if user == "" {
		user = e.getenv("USER")
	}
	ev := audit.Event{
		Tenant: tenantID, Actor: audit.Actor{ID: "cli:" + strings.TrimSpace(user), Kind: audit.ActorSystem},
		Action: action, Target: audit.Target{Kind: "tenant", ID: tenantID}, Outcome: outcome, Reason: reason, Details: details,
	}
	if err := a.Audit.Record(ctx, ev); err != nil {
		return err
	}
	_, err := a.Audit.Seal(ctx)
	return err
}
