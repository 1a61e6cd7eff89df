package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/parleyhq/parley/migrations"
)

func runMigrate(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfg, code := loadConfig(e, fs, args)
	if cfg == nil {
		return code
	}
	rest := fs.Args()
	if len(rest) != 1 || (rest[0] != "up" && rest[0] != "status") {
		fmt.Fprintln(e.stderr, "usage: parley migrate [flags] up|status")
		return exitUsage
	}
	db, err := migrations.Open(ctx, cfg.DatabaseURL, migrations.Options{})
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: database: %v\n", err)
		return exitFailure
	}
	defer func() { _ = db.Close() }()
	m, err := migrations.NewMigrator(db)
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: %v\n", err)
		return exitFailure
	}
	switch rest[0] {
	case "up":
		applied, err := m.Up(ctx)
		for _, a := range applied {
			fmt.Fprintf(e.stdout, "applied %05d %s\n", a.Version, a.Name)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "parley: %v\n", err)
			return exitFailure
		}
		cur, _, _ := m.Versions(ctx)
		fmt.Fprintf(e.stdout, "%s schema at version %d\n", db.Dialect, cur)
	case "status":
		st, err := m.Status(ctx)
		if err != nil {
			fmt.Fprintf(e.stderr, "parley: %v\n", err)
			return exitFailure
		}
		for _, s := range st {
			state := "pending"
			if s.Applied {
				state = "applied"
			}
			fmt.Fprintf(e.stdout, "%05d  %-8s %s\n", s.Version, state, s.Name)
		}
		if err := m.Check(ctx); err != nil {
			fmt.Fprintf(e.stdout, "%v\n", err)
			return exitFailure
		}
		fmt.Fprintln(e.stdout, "schema is current")
	}
	return exitOK
}
