package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/config"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/auditlog"
	"github.com/parleyhq/parley/audit/forward"
	"github.com/parleyhq/parley/migrations"
)

// runAudit implements `parley audit verify`, `parley audit export`, `parley audit archive` and
// `parley audit forget-destination`.
func runAudit(ctx context.Context, e env, args []string) int {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "verify":
		return auditVerify(ctx, e, args[1:])
	case "export":
		return auditExport(ctx, e, args[1:])
	case "archive":
		return auditArchive(ctx, e, args[1:])
	case "forget-destination":
		return auditForgetDestination(ctx, e, args[1:])
	}
	fmt.Fprintln(e.stderr, "usage: parley audit verify [--tenant T] [--from-seq N] [--bundle FILE [--trusted-key PEM]]")
	fmt.Fprintln(e.stderr, "       parley audit export --tenant T [--from TIME] [--to TIME] --out FILE")
	fmt.Fprintln(e.stderr, "       parley audit archive --tenant T --before TIME --out FILE")
	fmt.Fprintln(e.stderr, "       parley audit forget-destination --destination NAME --reason TEXT")
	return exitUsage
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
	fs, b := bundleFlags("audit export")
	from := fs.String("from", "", "first event time (RFC 3339 or YYYY-MM-DD), default: the start")
	to := fs.String("to", "", "end of the range, exclusive (RFC 3339 or YYYY-MM-DD), default: now")
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
	a, id, closeApp, code := b.open(ctx, e, cfg, problems)
	if a == nil {
		return code
	}
	defer closeApp()
	if _, err := a.Audit.Seal(ctx); err != nil {
		fmt.Fprintf(e.stderr, "parley: audit export: %v\n", err)
		return exitFailure
	}
	f, code := b.create(e)
	if f == nil {
		return code
	}
	info, err := a.Audit.Export(ctx, f, id, fromT, toT)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(*b.out)
		fmt.Fprintf(e.stderr, "parley: audit export: %v\n", err)
		return exitFailure
	}
	details := map[string]string{"events": fmt.Sprint(info.Events), "sha256": info.SHA256,
		"first_seq": fmt.Sprint(info.FirstSeq), "last_seq": fmt.Sprint(info.LastSeq)}
	if err := recordCLI(ctx, e, a, id, audit.ActionAuditExport, audit.Success, "", details); err != nil {
		_ = os.Remove(*b.out)
		fmt.Fprintf(e.stderr, "parley: audit export: recording the export failed, bundle removed: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "wrote %s: %d events (seq %d–%d), %d checkpoints, sha256 %s\n",
		*b.out, info.Events, info.FirstSeq, info.LastSeq, info.Checkpoints, info.SHA256)
	return exitOK
}

// auditArchive implements `parley audit archive`: a tenant's events older than --before (and
// outside the retention period) move to a signed bundle, and the chain that stays online is
// anchored by a signed checkpoint at the last archived event, so it still verifies.
func auditArchive(ctx context.Context, e env, args []string) int {
	fs, b := bundleFlags("audit archive")
	before := fs.String("before", "", "archive the events older than this (RFC 3339 or YYYY-MM-DD, UTC); outside the retention period")
	cfg, code := loadConfig(e, fs, args)
	if cfg == nil {
		return code
	}
	var problems []string
	beforeT, err := parseTime(*before)
	switch {
	case err != nil:
		problems = append(problems, "--before: "+err.Error())
	case beforeT.IsZero():
		problems = append(problems, "--before is required")
	}
	a, id, closeApp, code := b.open(ctx, e, cfg, problems)
	if a == nil {
		return code
	}
	defer closeApp()
	if cutoff := a.Audit.ArchiveCutoff(); beforeT.After(cutoff) {
		fmt.Fprintf(e.stderr, "parley: audit archive: events stay online for %d days (PARLEY_AUDIT_RETENTION_DAYS): --before must be %s or earlier\n",
			int64(a.Audit.Retention()/(24*time.Hour)), cutoff.Format(time.RFC3339))
		if err := recordCLI(ctx, e, a, id, audit.ActionAuditArchive, audit.Failure, "inside the retention period", nil); err != nil {
			fmt.Fprintf(e.stderr, "parley: audit archive: recording the refusal failed: %v\n", err)
		}
		return exitUsage
	}
	if _, err := a.Audit.Seal(ctx); err != nil {
		fmt.Fprintf(e.stderr, "parley: audit archive: chain pending events: %v\n", err)
		return exitFailure
	}
	f, code := b.create(e)
	if f == nil {
		return code
	}
	info, err := a.Audit.ArchiveBy(ctx, audit.Actor{ID: cliActor(e), Kind: audit.ActorSystem}, id, beforeT, bundleFile{f},
		auditlog.ArchiveOptions{Destinations: app.AuditForwardDestinations(cfg)})
	if cerr := f.Close(); err == nil && cerr != nil && info.SHA256 == "" {
		err = cerr
	}
	if err != nil {
		return archiveFailed(ctx, e, a, id, *b.out, info, err)
	}
	if info.Events == 0 {
		_ = os.Remove(*b.out)
		if err := recordCLI(ctx, e, a, id, audit.ActionAuditArchive, audit.Success, "nothing to archive", map[string]string{"events": "0"}); err != nil {
			fmt.Fprintf(e.stderr, "parley: audit archive: recording the attempt failed: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(e.stdout, "%s: nothing to archive — no events before %s\n", *b.tenant, beforeT.Format(time.RFC3339))
		return exitOK
	}
	// Chain the archive event, written with the deletion, at once.
	if _, err := a.Audit.Seal(ctx); err != nil {
		fmt.Fprintf(e.stderr, "parley: audit archive: events archived, but chaining the archive event failed (the sealer retries): %v\n", err)
	}
	fmt.Fprintf(e.stdout, "archived %s: %d events (seq %d–%d) to %s, sha256 %s\n", *b.tenant, info.Events, info.FirstSeq, info.LastSeq, *b.out, info.SHA256)
	fmt.Fprintf(e.stdout, "the online chain now starts at seq %d, anchored by the signed checkpoint at %d (head %s)\n", info.LastSeq+1, info.Anchor.Seq, info.Anchor.Head)
	fmt.Fprintf(e.stdout, "keep the bundle; check it with `parley audit verify --bundle %s`\n", *b.out)
	return exitOK
}

// bundleArgs are the flags `audit export` and `audit archive` share: the organisation whose
// chain is written and the bundle file.
type bundleArgs struct {
	command     string
	tenant, out *string
}

// bundleFlags returns the flag set of command with --tenant and --out defined; the command adds
// its own flags.
func bundleFlags(command string) (*flag.FlagSet, bundleArgs) {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	return fs, bundleArgs{
		command: command,
		tenant:  fs.String("tenant", "", "organisation sign-in id, or _system"),
		out:     fs.String("out", "", "bundle file to write (created 0600, must not exist)"),
	}
}

// open reports the command's own problems and those of --tenant and --out, then opens the
// application and resolves the tenant. On failure the application is nil and code is the exit
// code; otherwise done closes the application.
func (b bundleArgs) open(ctx context.Context, e env, cfg *config.Config, problems []string) (a *app.App, id string, done func(), code int) {
	if *b.tenant == "" {
		problems = append(problems, "--tenant is required")
	}
	if *b.out == "" {
		problems = append(problems, "--out is required")
	}
	if usageProblems(e, b.command, problems) {
		return nil, "", nil, exitUsage
	}
	a, done, code = openApp(ctx, e, cfg)
	if a == nil {
		return nil, "", nil, code
	}
	id, err := tenantID(ctx, a, *b.tenant)
	if err != nil {
		done()
		fmt.Fprintf(e.stderr, "parley: %s: %v\n", b.command, err)
		return nil, "", nil, exitUsage
	}
	return a, id, done, exitOK
}

// create creates the bundle file, readable by its owner only and never over an existing file;
// on failure the file is nil and code is the exit code.
func (b bundleArgs) create(e env) (f *os.File, code int) {
	f, err := os.OpenFile(*b.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the operator names the output file.
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: %s: %v\n", b.command, err)
		return nil, exitUsage
	}
	return f, exitOK
}

// errNoCursors means the destination to forget has no forwarding cursors.
var errNoCursors = errors.New("no forwarding cursors")

// auditForgetDestination implements `parley audit forget-destination`: the forwarding cursors
// (every tenant) and the lease of a destination that is no longer configured are deleted, so
// they stop holding back `parley audit archive`. The deletion and its audit event commit
// together or not at all.
func auditForgetDestination(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("audit forget-destination", flag.ContinueOnError)
	dest := fs.String("destination", "", "destination as named by `parley audit archive` (syslog:HOST:PORT or file:PATH)")
	reason := fs.String("reason", "", "why the destination is forgotten (recorded in the audit log)")
	cfg, code := loadConfig(e, fs, args)
	if cfg == nil {
		return code
	}
	var problems []string
	if *dest == "" {
		problems = append(problems, "--destination is required")
	}
	if strings.TrimSpace(*reason) == "" {
		problems = append(problems, "--reason is required")
	}
	if *dest != "" && slices.Contains(app.AuditForwardDestinations(cfg), *dest) {
		problems = append(problems, fmt.Sprintf("%s is a configured forwarding destination (PARLEY_AUDIT_FORWARD_*); remove it from the configuration first", *dest))
	}
	if usageProblems(e, "audit forget-destination", problems) {
		return exitUsage
	}
	a, closeApp, code := openApp(ctx, e, cfg)
	if a == nil {
		return code
	}
	defer closeApp()
	var tenants int64
	err := migrations.Transaction(a.DB.Gorm.WithContext(ctx), func(tx *gorm.DB) error {
		n, err := forward.ForgetDestination(ctx, tx, *dest)
		if err != nil {
			return err
		}
		if n == 0 {
			return errNoCursors
		}
		tenants = n
		return a.Audit.Append(ctx, tx, audit.Event{
			Tenant: audit.SystemTenant, Actor: audit.Actor{ID: cliActor(e), Kind: audit.ActorSystem},
			Action: audit.ActionAuditConfig, Target: audit.Target{Kind: "forward_destination", ID: *dest}, Outcome: audit.Success,
			Details: map[string]string{"destination": *dest, "reason": *reason, "tenants": strconv.FormatInt(n, 10)},
		})
	})
	switch {
	case errors.Is(err, errNoCursors):
		fmt.Fprintf(e.stderr, "parley: audit forget-destination: %s has no forwarding cursors; nothing to forget\n", *dest)
		return exitUsage
	case err != nil:
		fmt.Fprintf(e.stderr, "parley: audit forget-destination: nothing was deleted: %v\n", err)
		return exitFailure
	}
	if _, err := a.Audit.Seal(ctx); err != nil {
		fmt.Fprintf(e.stderr, "parley: audit forget-destination: cursors deleted, but chaining the event failed (the sealer retries): %v\n", err)
	}
	fmt.Fprintf(e.stdout, "forgot %s: deleted its forwarding cursors for %d tenants\n", *dest, tenants)
	return exitOK
}

// bundleFile is the archive bundle being written. Archive calls Sync before it deletes the
// events; Sync makes the file's data durable and then its directory, so that after a crash the
// bundle is still found under its name.
type bundleFile struct{ *os.File }

func (b bundleFile) Sync() error {
	if err := b.File.Sync(); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(b.Name())) // #nosec G304 -- the folder of the file the operator named.
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// archiveFailed reports a refused or failed archive, records it, and removes the bundle unless
// the events may already be gone.
func archiveFailed(ctx context.Context, e env, a *app.App, id, out string, info auditlog.ArchiveInfo, err error) int {
	code := exitFailure
	reason := "archive failed"
	switch {
	case errors.Is(err, auditlog.ErrRetention):
		code, reason = exitUsage, "inside the retention period"
	case errors.Is(err, auditlog.ErrChainDamaged):
		reason = "chain damaged"
		err = fmt.Errorf("%w; run `parley audit verify` for the first bad sequence number", err)
	case errors.Is(err, auditlog.ErrNotForwarded):
		reason = "events not yet forwarded"
		err = fmt.Errorf("%w; wait for forwarding to catch up (PARLEY_AUDIT_FORWARD_*) and retry", err)
	}
	if info.SHA256 != "" {
		// The bundle is complete; if only the commit failed, the events may be gone with it.
		fmt.Fprintf(e.stderr, "parley: audit archive: %v\nparley: audit archive: the bundle %s was kept; run `parley audit verify` to see whether the events were removed\n", err, out)
	} else {
		_ = os.Remove(out)
		fmt.Fprintf(e.stderr, "parley: audit archive: %v\n", err)
	}
	if rerr := recordCLI(ctx, e, a, id, audit.ActionAuditArchive, audit.Failure, reason, nil); rerr != nil {
		fmt.Fprintf(e.stderr, "parley: audit archive: recording the failure failed: %v\n", rerr)
	}
	return code
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
	ctx = migrations.WithTenant(ctx, tenantID)
	ev := audit.Event{
		Tenant: tenantID, Actor: audit.Actor{ID: cliActor(e), Kind: audit.ActorSystem},
		Action: action, Target: audit.Target{Kind: "tenant", ID: tenantID}, Outcome: outcome, Reason: reason, Details: details,
	}
	if err := a.Audit.Record(ctx, ev); err != nil {
		return err
	}
	_, err := a.Audit.Seal(ctx)
	return err
}
