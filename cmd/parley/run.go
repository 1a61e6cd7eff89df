package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/parleyhq/parley/app/config"
	"github.com/parleyhq/parley/compliance/pan"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// env bundles what a subcommand receives from the process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, e env, args []string) int
}

func commands() map[string]command {
	return map[string]command{
		"serve":           {"run the HTTP server", runServe},
		"migrate":         {"apply (up) or list (status) database migrations", runMigrate},
		"user":            {"manage users from the server's shell (create, unlock, reset-mfa)", runUser},
		"allowlist":       {"lift or restore a tenant's IP allowlists in an emergency", runAllowlist},
		"audit":           {"verify the audit log's hash chains and signatures, export a signed bundle, or archive old events", runAudit},
		"evidence":        {"export a signed PCI DSS or HIPAA evidence report bundle, or verify one offline", runEvidence},
		"compliance-mode": {"show or set an organisation's compliance mode (none, pci, hipaa, pci,hipaa) and its drift", runComplianceMode},
		"keys":            {"status, rotate, rewrap or set-min-version of a tenant's encryption key", runKeys},
		"site":            {"create a website that embeds the widget (prints its id and public key)", runSite},
		"department":      {"create a department of an organisation (prints its id)", runDepartment},
		"retention":       {"run the retention job once (--dry-run lists what would be removed)", runRetention},
		"redact":          {"mask card numbers from stdin to stdout, line by line", runRedact},
		"scan":            {"PAN discovery in the database, logs and exports; exits 3 when card numbers are found", runScan},
		"version": {"print the version", func(_ context.Context, e env, _ []string) int {
			fmt.Fprintln(e.stdout, "parley", version)
			return exitOK
		}},
	}
}

// run dispatches a command line and returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "parley: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return exitUsage
	}
	return c.run(ctx, e, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: parley <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun `parley serve --help` for the configuration settings every command reads.")
}

// loadConfig parses a subcommand's flags plus the shared settings. It prints problems one per line
// and returns the exit code to use when cfg is nil.
func loadConfig(e env, fs *flag.FlagSet, args []string) (*config.Config, int) {
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: parley %s [flags]\n\nflags (each also read from the environment variable shown):\n", fs.Name())
		fs.PrintDefaults()
	}
	cfg, err := config.Load(fs, args, e.getenv)
	if errors.Is(err, flag.ErrHelp) {
		return nil, exitOK
	}
	if err != nil {
		var p config.Problems
		if errors.As(err, &p) {
			for _, line := range p {
				fmt.Fprintln(e.stderr, "parley: configuration:", line)
			}
		}
		return nil, exitUsage
	}
	return cfg, exitOK
}

// newLogger returns the JSON logger every subcommand uses.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	json := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})
	// Every log line passes the PAN masker (last four digits only): a card number that reaches a
	// message, an attribute or an error's text is unreadable in the log (PCI DSS 3.4.1, 3.5.1).
	m, err := pan.NewMasker(pan.Options{Mode: pan.ModeLast4})
	if err != nil {
		panic(err) // constant options; cannot fail
	}
	return slog.New(pan.NewHandler(json, m))
}

// usageProblems prints each problem with the command's flags on its own line, as every command
// does, and reports whether there were any (the caller then exits with exitUsage).
func usageProblems(e env, command string, problems []string) bool {
	for _, p := range problems {
		fmt.Fprintf(e.stderr, "parley: %s: %s\n", command, p)
	}
	return len(problems) > 0
}
