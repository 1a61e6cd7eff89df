package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"

	"github.com/parleyhq/parley/app"
)

func runServe(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg, code := loadConfig(e, fs, args)
	if cfg == nil {
		return code
	}
	log := newLogger(e.stderr, cfg.LogLevel).With("node", cfg.NodeID)
	db, err := app.OpenDatabase(ctx, cfg, log, cfg.Migrate)
	if errors.Is(err, app.ErrSchema) {
		fmt.Fprintf(e.stderr, "parley: %v\nparley: run `parley migrate up` first, or start with `parley serve --migrate`\n", err)
		return exitFailure
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: database: %v\n", err)
		return exitFailure
	}
	a, err := app.New(ctx, cfg, db, app.Options{Log: log, Version: version})
	if err != nil {
		_ = db.Close()
		fmt.Fprintf(e.stderr, "parley: %v\n", err)
		return exitFailure
	}
	defer func() { _ = a.Close() }()
	// An organisation in a compliance mode is never served with a configuration that breaks its
	// controls (the development key provider, audit retention under 12 months): fail closed.
	if err := a.CheckCompliance(ctx); err != nil {
		fmt.Fprintf(e.stderr, "parley: %v\n", err)
		return exitFailure
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: listen on %s: %v\n", cfg.Addr, err)
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "Parley is listening on %s\n", cfg.PublicURL)
	fmt.Fprintf(e.stdout, "  console:  %s/\n", cfg.PublicURL)
	token, expires, ok, err := a.Setup.Issue(ctx)
	if err != nil {
		_ = ln.Close()
		fmt.Fprintf(e.stderr, "parley: setup link: %v\n", err)
		return exitFailure
	}
	if ok {
		fmt.Fprintf(e.stdout, "  setup:    %s/setup?token=%s\n", cfg.PublicURL, token)
		fmt.Fprintf(e.stdout, "            one-time link for the first organisation and owner; expires %s\n", expires.Format("2006-01-02 15:04 MST"))
	}
	printDemo(ctx, e, a, cfg.PublicURL, ok)
	log.Info("serving", "addr", cfg.Addr, "tls", cfg.TLS(), "database", string(db.Dialect),
		"key_provider", a.Keys.Kind(), "key_provider_production", a.Keys.Production())
	// The background work (audit sealing and checkpoints, audit verification, policy reload)
	// runs for as long as the server; if it fails, the server stops rather than serve without
	// its audit controls.
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	bgErr := make(chan error, 1)
	go func() {
		err := a.Background(sctx)
		if err != nil {
			log.Error("background work failed; stopping", "cause", err.Error())
		}
		stop()
		bgErr <- err
	}()
	serveErr := a.Server.Serve(sctx, ln)
	stop()
	if err := <-bgErr; err != nil {
		fmt.Fprintf(e.stderr, "parley: %v\n", err)
		return exitFailure
	}
	if serveErr != nil {
		fmt.Fprintf(e.stderr, "parley: %v\n", serveErr)
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
}

// printDemo prints the path to a first chat: before setup, open the setup link, sign in, click
// "Create a demo site", then open the visitor page and the workspace side by side; once a site
// allows Parley's own origin, its visitor page and the workspace.
func printDemo(ctx context.Context, e env, a *app.App, publicURL string, needsSetup bool) {
	if needsSetup {
		fmt.Fprintf(e.stdout, "  demo:     1. open the setup link above  2. sign in at %s/login\n", publicURL)
		fmt.Fprintf(e.stdout, "            3. click \"Create a demo site\" (%s/setup/demo-site)\n", publicURL)
		fmt.Fprintf(e.stdout, "            4. open the visitor page and the workspace side by side, and chat\n")
		return
	}
	if key := demoSiteKey(ctx, a, publicURL); key != "" {
		fmt.Fprintf(e.stdout, "  demo:     open the visitor page %s/demo?site=%s\n", publicURL, key)
		fmt.Fprintf(e.stdout, "            and the workspace %s/workspace side by side, and chat\n", publicURL)
		return
	}
	fmt.Fprintf(e.stdout, "  demo:     1. sign in at %s/login  2. click \"Create a demo site\" (%s/setup/demo-site)\n", publicURL, publicURL)
	fmt.Fprintf(e.stdout, "            3. open the visitor page and the workspace side by side, and chat\n")
}

// demoSiteKey returns the key of the first enabled site that allows Parley's own origin, or "".
func demoSiteKey(ctx context.Context, a *app.App, publicURL string) string {
	tenants, err := a.Tenants.List(ctx)
	if err != nil {
		return ""
	}
	for _, t := range tenants {
		sites, err := a.Tenants.Sites(ctx, t.ID)
		if err != nil {
			return ""
		}
		for _, s := range sites {
			for _, o := range s.Origins() {
				if s.Enabled && strings.EqualFold(o, publicURL) {
					return s.SiteKey
				}
			}
		}
	}
	return ""
}
