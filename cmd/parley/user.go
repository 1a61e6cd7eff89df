package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/tenant"
)

func runUser(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(e.stderr, "usage: parley user create --tenant NAME --email E --role ROLE --password-stdin [--name NAME]")
		return exitUsage
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	tenantName := fs.String("tenant", "", "organisation name (created if new)")
	email := fs.String("email", "", "the user's e-mail address")
	role := fs.String("role", "", "role: "+strings.Join(account.DefaultRoles, ", "))
	name := fs.String("name", "", "display name")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	mustChange := fs.Bool("must-change", false, "require a password change at first sign-in")
	cfg, code := loadConfig(e, fs, args[1:])
	if cfg == nil {
		return code
	}
	var problems []string
	if *tenantName == "" {
		problems = append(problems, "--tenant is required")
	}
	if *email == "" {
		problems = append(problems, "--email is required")
	}
	if *role == "" {
		problems = append(problems, "--role is required")
	}
	if !*pwStdin {
		problems = append(problems, "--password-stdin is required (passwords are never taken as arguments)")
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(e.stderr, "parley: user create:", p)
		}
		return exitUsage
	}
	pw, err := readPassword(e.stdin)
	if err != nil {
		fmt.Fprintln(e.stderr, "parley: user create:", err)
		return exitUsage
	}
	log := newLogger(e.stderr, cfg.LogLevel)
	db, err := app.OpenDatabase(ctx, cfg, log, false)
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: database: %v\n", err)
		return exitFailure
	}
	a, err := app.New(ctx, cfg, db, app.Options{Log: log})
	if err != nil {
		_ = db.Close()
		fmt.Fprintf(e.stderr, "parley: %v\n", err)
		return exitFailure
	}
	defer func() { _ = a.Close() }()

	var (
		t       tenant.Tenant
		u       account.User
		created bool
	)
	err = db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		ts := a.Tenants.WithTx(tx)
		var err error
		t, err = ts.BySlug(ctx, tenant.Slug(*tenantName))
		if errors.Is(err, tenant.ErrNotFound) {
			if t, err = ts.CreateTenant(ctx, *tenantName); err != nil {
				return err
			}
			created = true
		}
		if err != nil {
			return err
		}
		u, err = a.Accounts.CreateUser(ctx, tx, account.NewUser{
			TenantID: t.ID, TenantName: t.Name, Email: *email, Name: *name, Password: pw, Role: *role, MustChange: *mustChange,
		})
		return err
	})
	var rejected *account.PasswordRejected
	switch {
	case errors.As(err, &rejected):
		fmt.Fprintln(e.stderr, "parley: user create: the password was rejected:")
		for _, v := range rejected.Violations {
			fmt.Fprintln(e.stderr, "  -", v.Message)
		}
		return exitFailure
	case err != nil:
		fmt.Fprintln(e.stderr, "parley: user create:", err)
		return exitFailure
	}
	if created {
		fmt.Fprintf(e.stdout, "created organisation %q (sign-in id %s)\n", t.Name, t.Slug)
	}
	fmt.Fprintf(e.stdout, "created user %s (%s) with role %s, id %s\n", u.Email, t.Slug, *role, u.ID)
	return exitOK
}

// readPassword reads one line (at most 1,024 bytes plus a line ending) from r.
func readPassword(r io.Reader) (string, error) {
	br := bufio.NewReaderSize(r, 2048)
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", errors.New("cannot read the password from standard input")
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("standard input held no password")
	}
	if len(line) > 1024 {
		return "", errors.New("the password is longer than 1,024 bytes")
	}
	return line, nil
}
