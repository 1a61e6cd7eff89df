package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
)

const userUsage = `usage:
  parley user create --tenant NAME --email E --role ROLE --password-stdin [--name NAME] [--must-change]
  parley user unlock --tenant NAME --email E --reason TEXT
  parley user reset-mfa --tenant NAME --email E --reason TEXT`

func runUser(ctx context.Context, e env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, userUsage)
		return exitUsage
	}
	switch args[0] {
	case "create":
		return runUserCreate(ctx, e, args)
	case "unlock", "reset-mfa":
		return runEmergency(ctx, e, "user "+args[0], args[1:])
	}
	fmt.Fprintln(e.stderr, userUsage)
	return exitUsage
}

func runUserCreate(ctx context.Context, e env, args []string) int {
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
	if usageProblems(e, "user create", problems) {
		return exitUsage
	}
	pw, err := readPassword(e.stdin)
	if err != nil {
		fmt.Fprintln(e.stderr, "parley: user create:", err)
		return exitUsage
	}
	a, closeApp, code := openApp(ctx, e, cfg)
	if a == nil {
		return code
	}
	defer closeApp()

	var (
		t       tenant.Tenant
		u       account.User
		created bool
	)
	err = migrations.Transaction(a.DB.Gorm.WithContext(ctx), func(tx *gorm.DB) error {
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
		if err != nil || !created {
			return err
		}
		return a.TenantCreated(ctx, tx, t, u)
	})
	if err == nil {
		_, err = a.Audit.Seal(ctx)
	}
	var rejected *account.PasswordRejected
	var card *account.CardNumberError
	switch {
	case errors.Is(err, tenant.ErrCardNumber):
		fmt.Fprintln(e.stderr, "parley: user create: --tenant: a card number is not allowed in the organisation name")
		return exitUsage
	case errors.As(err, &card):
		fmt.Fprintf(e.stderr, "parley: user create: --%s: a card number is not allowed in the %s\n", card.Field, card.Field)
		return exitUsage
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

const allowlistUsage = `usage:
  parley allowlist disable --tenant NAME --reason TEXT [--for DURATION]
  parley allowlist enable --tenant NAME --reason TEXT`

// runAllowlist is emergency access to a tenant's IP allowlists from the server's shell.
func runAllowlist(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || (args[0] != "disable" && args[0] != "enable") {
		fmt.Fprintln(e.stderr, allowlistUsage)
		return exitUsage
	}
	return runEmergency(ctx, e, "allowlist "+args[0], args[1:])
}

// emergencyRequest is one emergency command, parsed.
type emergencyRequest struct {
	command  string
	tenant   string
	email    string
	reason   string
	duration time.Duration
	operator string
}

// runEmergency parses and runs `user unlock`, `user reset-mfa`, `allowlist disable` and
// `allowlist enable`: break-glass actions from the server's shell (HIPAA 164.312(a)(2)(ii)),
// each recorded as emergency access with its reason before it is carried out.
func runEmergency(ctx context.Context, e env, command string, args []string) int {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	tenantName := fs.String("tenant", "", "organisation name or sign-in id")
	reason := fs.String("reason", "", "why emergency access is needed (recorded in the audit log)")
	var email *string
	var dur *time.Duration
	if strings.HasPrefix(command, "user ") {
		email = fs.String("email", "", "the user's e-mail address")
	}
	if command == "allowlist disable" {
		dur = fs.Duration("for", time.Hour, fmt.Sprintf("how long the allowlists stay lifted (at most %s)", account.MaxSuspension))
	}
	cfg, code := loadConfig(e, fs, args)
	if cfg == nil {
		return code
	}
	req := emergencyRequest{command: command, tenant: *tenantName, reason: strings.TrimSpace(*reason), operator: operator(e)}
	var problems []string
	if req.tenant == "" {
		problems = append(problems, "--tenant is required")
	}
	if req.reason == "" {
		problems = append(problems, "--reason is required: emergency access is audited with its reason")
	}
	if email != nil {
		if req.email = *email; req.email == "" {
			problems = append(problems, "--email is required")
		}
	}
	if dur != nil {
		if req.duration = *dur; req.duration <= 0 || req.duration > account.MaxSuspension {
			problems = append(problems, fmt.Sprintf("--for must be between 1s and %s", account.MaxSuspension))
		}
	}
	if usageProblems(e, command, problems) {
		return exitUsage
	}
	a, closeApp, code := openApp(ctx, e, cfg)
	if a == nil {
		return code
	}
	defer closeApp()
	msg, err := emergency(ctx, a, req)
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: %s: %v\n", command, emergencyError(err))
		return exitFailure
	}
	fmt.Fprintln(e.stdout, msg)
	return exitOK
}

// emergency carries out req on a and returns what to tell the operator.
func emergency(ctx context.Context, a *app.App, req emergencyRequest) (string, error) {
	t, err := a.Tenants.BySlug(ctx, tenant.Slug(req.tenant))
	if err != nil {
		return "", fmt.Errorf("organisation %q: %w", req.tenant, err)
	}
	by := account.Actor{TenantID: t.ID, UserID: req.operator, System: true, Origin: account.Origin{UserAgent: "parley " + req.command}}
	var u account.User
	if req.email != "" {
		if u, err = a.Users.ByEmail(ctx, t.ID, req.email); err != nil {
			return "", fmt.Errorf("user %q: %w", req.email, err)
		}
	}
	if err := a.Accounts.EmergencyAccess(ctx, by, req.command, u.ID, req.reason); err != nil {
		return "", err
	}
	switch req.command {
	case "user unlock":
		if err := a.Accounts.Unlock(ctx, by, u.ID); err != nil {
			return "", err
		}
		return fmt.Sprintf("unlocked %s (%s); the sign-in failure count is cleared", u.Email, t.Slug), nil
	case "user reset-mfa":
		if err := a.Accounts.ResetMFA(ctx, by, u.ID); err != nil {
			return "", err
		}
		return fmt.Sprintf("removed the second factor of %s (%s) and ended their sessions; they enrol again at their next sign-in", u.Email, t.Slug), nil
	case "allowlist disable":
		until := a.Now().Add(req.duration).UTC()
		if err := a.Accounts.SuspendAllowlists(ctx, by, t.ID, until); err != nil {
			return "", err
		}
		return fmt.Sprintf("the IP allowlists of %s are lifted until %s", t.Slug, until.Format(time.RFC3339)), nil
	case "allowlist enable":
		if err := a.Accounts.SuspendAllowlists(ctx, by, t.ID, time.Time{}); err != nil {
			return "", err
		}
		return fmt.Sprintf("the IP allowlists of %s are enforced again", t.Slug), nil
	}
	return "", fmt.Errorf("unknown command %q", req.command)
}

// emergencyError explains a failure to the operator without internals.
func emergencyError(err error) string {
	switch {
	case errors.Is(err, account.ErrNoAuditor):
		return "the audit log is not configured, so nothing was changed (emergency access is only possible with an audit trail)"
	case errors.Is(err, account.ErrAudit):
		return "the audit log could not record the action, so nothing was changed"
	case errors.Is(err, tenant.ErrNotFound), errors.Is(err, account.ErrNotFound):
		return err.Error()
	}
	return err.Error()
}

// operator names who ran the command, for the audit record.
func operator(e env) string {
	for _, k := range []string{"SUDO_USER", "USER", "LOGNAME"} {
		if v := strings.TrimSpace(e.getenv(k)); v != "" && len(v) <= 64 {
			return "cli:" + v
		}
	}
	return "cli"
}
