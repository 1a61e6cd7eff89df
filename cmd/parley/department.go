package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
)

const departmentUsage = "usage: parley department create --tenant SLUG --name NAME"

// runDepartment implements `parley department create`: a department of an organisation, audited
// as department.create in the same transaction as the insert. It prints the department's id.
func runDepartment(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(e.stderr, departmentUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("department create", flag.ContinueOnError)
	tenantName := fs.String("tenant", "", "organisation sign-in id")
	name := fs.String("name", "", "the department's name")
	cfg, code := loadConfig(e, fs, args[1:])
	if cfg == nil {
		return code
	}
	var problems []string
	if *tenantName == "" {
		problems = append(problems, "--tenant is required")
	}
	if *name == "" {
		problems = append(problems, "--name is required")
	}
	if usageProblems(e, "department create", problems) {
		return exitUsage
	}
	a, closeApp, code := openApp(ctx, e, cfg)
	if a == nil {
		return code
	}
	defer closeApp()
	var d tenant.Department
	err := createInTenant(ctx, e, a, "department create", *tenantName, func(tx *gorm.DB, id string) (audit.Event, error) {
		var err error
		if d, err = a.Tenants.WithTx(tx).CreateDepartment(ctx, id, *name); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: audit.ActionDepartmentCreate, Target: audit.Target{Kind: "department", ID: d.ID},
			Details: map[string]string{"name": d.Name}}, nil
	})
	switch {
	case errors.Is(err, errNoTenant):
		return exitUsage
	case errors.Is(err, tenant.ErrCardNumber):
		fmt.Fprintln(e.stderr, "parley: department create: --name: a card number is not allowed in the department name")
		return exitUsage
	case errors.Is(err, tenant.ErrInvalidName):
		fmt.Fprintf(e.stderr, "parley: department create: --name: %v\n", tenant.ErrInvalidName)
		return exitUsage
	case errors.Is(err, tenant.ErrNameTaken):
		fmt.Fprintf(e.stderr, "parley: department create: --name: the organisation already has a department %q\n", strings.TrimSpace(*name))
		return exitFailure
	case err != nil:
		fmt.Fprintln(e.stderr, "parley: department create:", err)
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "created department %q, id %s\n", d.Name, d.ID)
	return exitOK
}
