package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleyhq/parley/app/loadtest"
)

// Exit codes: the contract held; it broke; the run could not take place.
const (
	exitOK       = 0
	exitContract = 1
	exitUsage    = 2
	exitFailure  = 3
)

// options are the command line.
type options struct {
	url, bin, db, pgAdmin, nginx, name, out, accounts, metricsToken, serveBaseline, progress string
	nodes                                                                                    int
	baseline, audit, keep, vault                                                             bool
	load                                                                                     loadtest.Config
	agents, stormAccounts                                                                    int
	// visitorPerMinute and visitorBurst raise the started servers' visitor throttles (0: theirs).
	visitorPerMinute, visitorBurst int
}

func parse(args []string, getenv func(string) string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("parley-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: parley-load [flags]

Drives Parley with visitors and agents over real WebSockets and checks the delivery contract
(every acked message delivered to its agent exactly once, in order, card numbers masked) while it
measures throughput, ack and delivery latency (p50/p95/p99/max), errors by code, and the server's
memory and CPU. Without -url it starts the server from -bin with a fresh data directory (and a
fresh PostgreSQL database with -db postgres), sets PARLEY_TRUSTED_PROXIES=127.0.0.1/32 so the
clients' X-Forwarded-For addresses count, and stops everything at the end. Writes OUT/NAME.json
and OUT/NAME.svg. Exit status: 0 contract held, 1 contract broken, 2 usage, 3 the run failed.

`)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.url, "url", "", "drive a running server or load balancer at this URL instead of starting one (needs -accounts; it must trust this client's X-Forwarded-For: PARLEY_TRUSTED_PROXIES)")
	fs.StringVar(&o.accounts, "accounts", "", "with -url: a JSON file {\"agents\":[{\"tenant\",\"email\",\"password\"}],\"site_key\",\"site_origin\"}")
	fs.StringVar(&o.metricsToken, "metrics-token", getenv("PARLEY_METRICS_TOKEN"), "with -url: the server's PARLEY_METRICS_TOKEN, to read its memory and CPU from GET /metrics")
	fs.StringVar(&o.bin, "bin", "bin/parley", "the parley binary to start")
	fs.StringVar(&o.db, "db", "sqlite", "database of the started server: sqlite or postgres")
	fs.StringVar(&o.pgAdmin, "pg-admin", firstOf(getenv("LOAD_PG"), "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"PostgreSQL superuser URL: a fresh database parley_load_… is made and dropped (env LOAD_PG)")
	fs.IntVar(&o.nodes, "nodes", 1, "nodes to start (more than 1: PostgreSQL, behind nginx)")
	fs.StringVar(&o.nginx, "nginx", "nginx", "the nginx binary (with -nodes > 1)")
	fs.BoolVar(&o.vault, "vault", getenv("VAULT_ADDR") != "" && getenv("VAULT_TOKEN") != "", "give the started nodes VAULT_ADDR and VAULT_TOKEN of this environment (default: when both are set); otherwise the local dev key provider")
	fs.IntVar(&o.load.Visitors, "visitors", 50, "visitors, each in a conversation of their own")
	fs.IntVar(&o.agents, "agents", 4, "agents who accept the chats (round-robin)")
	fs.IntVar(&o.load.Messages, "messages", 10, "messages per visitor")
	fs.IntVar(&o.load.Size, "size", 120, "message size in bytes (64–4000)")
	fs.Float64Var(&o.load.Rate, "rate", 0, "messages per second per visitor (0: as fast as -in-flight allows)")
	fs.IntVar(&o.load.InFlight, "in-flight", 4, "unacked messages per visitor")
	fs.IntVar(&o.load.CardEvery, "card-every", 10, "every N-th message carries 4111 1111 1111 1111, which the agent must see masked (0: none)")
	fs.IntVar(&o.load.SignIns, "sign-ins", 0, "sign-ins (and sign-outs) to run while the messages flow: a sign-in storm")
	fs.IntVar(&o.load.SignInConcurrency, "sign-in-concurrency", 8, "sign-ins at once during the storm")
	fs.IntVar(&o.stormAccounts, "storm-accounts", 0, "users the started server gets for the sign-in storm (default: -sign-in-concurrency, one per worker; 0 without -sign-ins)")
	fs.DurationVar(&o.load.Hold, "hold", 0, "keep every socket open and idle this long after setup before the messages (idle density: RSS per socket)")
	fs.IntVar(&o.load.SetupConcurrency, "setup-concurrency", 16, "visitors setting up at once")
	fs.DurationVar(&o.load.DrainTimeout, "drain-timeout", 30*time.Second, "how long to wait after the last ack for every acked message to reach its agent")
	fs.BoolVar(&o.baseline, "baseline", false, "also drive the bare WebSocket fan-out baseline (no persistence) with the same load in this invocation, and report Parley ÷ baseline")
	fs.BoolVar(&o.audit, "audit", false, "count the audit events the run appended (parley audit verify before and after; started server only): the audit append rate")
	fs.StringVar(&o.name, "name", "load", "scenario name: the files are OUT/NAME.json and OUT/NAME.svg")
	fs.StringVar(&o.out, "out", "data/load", "directory for the JSON, the SVG, the servers' data and logs")
	fs.BoolVar(&o.keep, "keep", false, "keep the started servers' data directory and database")
	fs.StringVar(&o.progress, "progress", "auto", "progress: auto (a bar on a terminal), on (lines), off")
	fs.IntVar(&o.visitorPerMinute, "visitor-messages-per-minute", 0, "started servers: PARLEY_VISITOR_MESSAGES_PER_MINUTE (and the per-address limit to match), so a visitor may send faster than a person types (0: the installation default, 60)")
	fs.IntVar(&o.visitorBurst, "visitor-message-burst", 0, "started servers: PARLEY_VISITOR_MESSAGE_BURST (0: the installation default, 10)")
	fs.StringVar(&o.serveBaseline, "serve-baseline", "", "only serve the baseline at this address until stopped (what -baseline starts)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.stormAccounts == 0 && o.load.SignIns > 0 {
		o.stormAccounts = o.load.SignInConcurrency
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case o.serveBaseline != "":
		return o, nil
	case o.db != "sqlite" && o.db != "postgres":
		return nil, errors.New("-db is sqlite or postgres")
	case o.nodes < 1 || o.nodes > 8:
		return nil, errors.New("-nodes is 1 to 8")
	case o.nodes > 1 && o.db != "postgres":
		return nil, errors.New("-nodes > 1 needs -db postgres")
	case o.url != "" && o.accounts == "":
		return nil, errors.New("-url needs -accounts")
	case o.visitorPerMinute < 0 || o.visitorPerMinute > 60000 || o.visitorBurst < 0 || o.visitorBurst > 1000:
		return nil, errors.New("-visitor-messages-per-minute is 0 to 60000, -visitor-message-burst 0 to 1000")
	case o.agents < 1:
		return nil, errors.New("-agents is at least 1")
	case o.load.Visitors < 1 || o.load.Messages < 0 || o.load.Size > 4000 || o.load.InFlight < 1:
		return nil, errors.New("-visitors ≥ 1, -messages ≥ 0, -size ≤ 4000, -in-flight ≥ 1")
	case strings.ContainsAny(o.name, `/\`) || o.name == "" || o.name[0] == '.':
		return nil, errors.New("-name is a plain file name")
	}
	return o, nil
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parse(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "parley-load:", err)
		return exitUsage
	}
	if o.serveBaseline != "" {
		return serveBaseline(ctx, o.serveBaseline, stderr)
	}
	switch o.progress {
	case "on":
		o.load.Progress = stderr
	case "auto":
		o.load.Progress = stderr
		if f, ok := stderr.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				o.load.TTY = true
			}
		}
	}
	rep, err := scenario(ctx, o, args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "parley-load:", err)
		return exitFailure
	}
	if err := rep.write(o.out, o.name); err != nil {
		fmt.Fprintln(stderr, "parley-load:", err)
		return exitFailure
	}
	rep.print(stdout)
	fmt.Fprintf(stdout, "wrote %s and %s\n", filepath.Join(o.out, o.name+".json"), filepath.Join(o.out, o.name+".svg"))
	if !rep.contractOK() {
		return exitContract
	}
	return exitOK
}

// scenario starts what the run needs, runs it (and the baseline), and stops everything.
func scenario(ctx context.Context, o *options, args []string, stderr io.Writer) (*report, error) {
	rep := newReport(o, args)
	cfg := o.load
	var cleanup []func()
	defer func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}()
	var inst *installation
	if o.url != "" {
		acc, err := readAccounts(o.accounts)
		if err != nil {
			return nil, err
		}
		cfg.BaseURL, cfg.Agents, cfg.SiteKey, cfg.SiteOrigin = o.url, acc.Agents, acc.SiteKey, acc.SiteOrigin
		if o.metricsToken != "" {
			cfg.MetricsToken = o.metricsToken
			cfg.Server = loadtest.Scrape{URLs: []string{o.url}, Token: o.metricsToken}
		}
		rep.Setup.Nodes = 0
	} else {
		var err error
		inst, err = startInstallation(ctx, o, stderr)
		if inst != nil {
			cleanup = append(cleanup, inst.stop)
		}
		if err != nil {
			return nil, err
		}
		cfg.BaseURL, cfg.Agents, cfg.StormAccounts, cfg.SiteKey, cfg.SiteOrigin = inst.url, inst.Agents, inst.Storm, inst.SiteKey, inst.SiteOrigin
		cfg.MetricsToken, cfg.Server = inst.token, loadtest.Process{PIDs: inst.pids()}
		rep.Setup.KeyProvider, rep.Setup.Nodes = inst.keyProvider, len(inst.nodes)
	}
	var before int64
	if o.audit && inst != nil {
		var err error
		if before, err = inst.auditEvents(ctx); err != nil {
			return nil, err
		}
	}
	auditStart := time.Now()
	res, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	rep.Parley = res
	if o.audit && inst != nil {
		took := time.Since(auditStart)
		after, err := inst.auditEvents(ctx)
		if err != nil {
			return nil, err
		}
		rep.Audit = &auditRate{Before: before, After: after, Appended: after - before, Seconds: took.Seconds(),
			PerSecond: float64(after-before) / took.Seconds(), ChainIntact: true}
	}
	if inst != nil {
		inst.stop()
	}
	if o.baseline {
		b, err := runBaseline(ctx, o, cfg, stderr)
		if err != nil {
			return nil, err
		}
		rep.Baseline = b
		if b.Throughput > 0 {
			rep.Ratio = res.Throughput / b.Throughput
		}
	}
	return rep, nil
}

// accountsFile is -accounts.
type accountsFile struct {
	Agents []struct {
		Tenant   string `json:"tenant"`
		Email    string `json:"email"`
		Password string `json:"password"`
	} `json:"agents"`
	SiteKey    string `json:"site_key"`
	SiteOrigin string `json:"site_origin"`
}

type accounts struct {
	Agents              []loadtest.Account
	SiteKey, SiteOrigin string
}

func readAccounts(path string) (*accounts, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- the operator's own file
	if err != nil {
		return nil, err
	}
	var f accountsFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("-accounts: %w", err)
	}
	out := &accounts{SiteKey: f.SiteKey, SiteOrigin: f.SiteOrigin}
	for _, a := range f.Agents {
		out.Agents = append(out.Agents, loadtest.Account{Tenant: a.Tenant, Email: a.Email, Password: a.Password})
	}
	if len(out.Agents) == 0 || out.SiteKey == "" || out.SiteOrigin == "" {
		return nil, errors.New("-accounts: agents, site_key and site_origin are required")
	}
	return out, nil
}

// runBaseline starts the baseline as a process of its own (this binary, -serve-baseline), so its
// memory and CPU are measured as the server's are, and drives it with the same load.
func runBaseline(ctx context.Context, o *options, cfg loadtest.Config, stderr io.Writer) (*loadtest.Result, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := loadtest.FreeAddr()
	if err != nil {
		return nil, err
	}
	proc, err := startProcess(self, []string{"-serve-baseline", addr}, nil, stderr)
	if err != nil {
		return nil, err
	}
	defer proc.stop()
	if err := waitTCP(ctx, addr, 30*time.Second); err != nil {
		return nil, err
	}
	b := cfg
	b.Baseline, b.BaseURL, b.MetricsToken, b.SignIns = true, "http://"+addr, "", 0
	b.Agents = make([]loadtest.Account, len(cfg.Agents))
	b.Server = loadtest.Process{PIDs: []int{proc.pid()}}
	if b.Progress != nil {
		fmt.Fprintln(b.Progress, "baseline: the same load against the bare fan-out server")
	}
	return loadtest.Run(ctx, b)
}

func serveBaseline(ctx context.Context, addr string, stderr io.Writer) int {
	srv := &http.Server{Addr: addr, Handler: loadtest.NewBaseline(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "parley-load: baseline:", err)
		return exitFailure
	}
	return exitOK
}

func waitTCP(ctx context.Context, addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not accept connections within %s", addr, within)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
