// Command parley is Parley's single binary: the server and the operator's tools.
//
//	parley serve [--migrate]      run the HTTP server
//	parley migrate up|status      apply or list database migrations
//	parley user create …          create a tenant (if new) and a user without the web setup flow
//	parley site create …          create a website that embeds the widget (prints its id and key)
//	parley department create …    create a department of an organisation (prints its id)
//	parley audit verify|export    check the audit log's chains, export signed bundles
//	parley keys …                 a tenant's key: status, rotate, rewrap, set-min-version
//	parley compliance-mode …      show or set an organisation's compliance mode and its drift
//	parley retention run          the retention job once; --dry-run lists what would go
//	parley redact                 mask card numbers from stdin to stdout
//	parley version                print the version
//
// Every subcommand reads the same configuration from the environment (flags override); run
// `parley serve --help` for the list.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
