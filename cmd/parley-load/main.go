// Command parley-load measures Parley end to end under load and checks its delivery contract
// while it does: N visitors and M agents over real WebSockets, messages at a set rate and size
// with K in flight, card numbers that must arrive masked. It starts the server itself from
// bin/parley — one node on SQLite or PostgreSQL, or several behind nginx — with a fresh data
// directory and database, or drives a running one (-url). With -baseline it drives, in the same
// invocation, a bare WebSocket fan-out server with no persistence under the same load, and
// reports the ratio. It prints the figures, and writes them as JSON with a latency-over-time
// chart (SVG). The core is package app/loadtest; `parley-load -help` lists the flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
