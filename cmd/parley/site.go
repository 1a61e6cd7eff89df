package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/web"
)

// stringList collects a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// runSite implements `parley site create`: a website that embeds the widget, with the origins
// allowed to frame it and talk to it. It prints the site's id (what the console and the API name
// it by) and its public key for the embed snippet.
func runSite(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(e.stderr, "usage: parley site create --tenant T --name NAME --origin https://www.example.com [--origin …]")
		return exitUsage
	}
	fs := flag.NewFlagSet("site create", flag.ContinueOnError)
	tenantName := fs.String("tenant", "", "organisation sign-in id")
	name := fs.String("name", "", "the site's name")
	var origins stringList
	fs.Var(&origins, "origin", "an origin allowed to embed the widget (repeatable), e.g. https://www.example.com")
	cfg, code := loadConfig(e, fs, args[1:])
	if cfg == nil {
		return code
	}
	if *tenantName == "" || *name == "" || len(origins) == 0 {
		fmt.Fprintln(e.stderr, "parley: site create: --tenant, --name and at least one --origin are required")
		return exitUsage
	}
	a, closeApp, code := openApp(ctx, e, cfg)
	if a == nil {
		return code
	}
	defer closeApp()
	clean, err := tenant.CheckOrigins(origins)
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: site create: --origin: %v (scheme://host[:port]: https, or http only for localhost and 127.0.0.1; at most %d)\n", errors.Unwrap(err), tenant.MaxOrigins)
		return exitFailure
	}
	sri, err := web.WidgetIntegrity("widget.js")
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: site create: %v\n", err)
		return exitFailure
	}
	var site tenant.Site
	err = createInTenant(ctx, e, a, "site create", *tenantName, func(tx *gorm.DB, id string) (audit.Event, error) {
		var err error
		if site, err = a.Tenants.WithTx(tx).CreateSite(ctx, id, *name, clean); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: audit.ActionSiteCreate, Target: audit.Target{Kind: "site", ID: site.ID},
			Details: map[string]string{"name": site.Name, "origins": site.AllowedOrigins}}, nil
	})
	if errors.Is(err, errNoTenant) {
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: site create: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "created site %q, key %s\n", site.Name, site.SiteKey)
	fmt.Fprintf(e.stdout, "site id: %s\n", site.ID)
	fmt.Fprintf(e.stdout, "embed: <script src=\"%s/widget/v1/widget.js\" data-site=\"%s\" integrity=\"%s\" crossorigin=\"anonymous\" async></script>\n",
		strings.TrimRight(cfg.PublicURL, "/"), site.SiteKey, sri)
	return exitOK
}

// errNoTenant means createInTenant found no organisation by that sign-in id; it has said so.
var errNoTenant = errors.New("no such organisation")

// createInTenant creates something in the organisation tenantSlug names, from the command line:
// insert runs in a transaction with the audit event it returns (the tenant, the operator as
// actor and the outcome filled in), then the audit log is sealed when it can be. An unknown organisation is
// reported on stderr and answered with errNoTenant.
func createInTenant(ctx context.Context, e env, a *app.App, command, tenantSlug string, insert func(tx *gorm.DB, tenantID string) (audit.Event, error)) error {
	id, err := tenantID(ctx, a, tenantSlug)
	if err != nil || id == audit.SystemTenant {
		fmt.Fprintf(e.stderr, "parley: %s: --tenant: no organisation %q\n", command, tenantSlug)
		return errNoTenant
	}
	err = migrations.Transaction(a.DB.Gorm.WithContext(ctx), func(tx *gorm.DB) error {
		ev, err := insert(tx, id)
		if err != nil {
			return err
		}
		ev.Tenant, ev.Actor, ev.Outcome = id, audit.Actor{ID: cliActor(e), Kind: audit.ActorSystem}, audit.Success
		return a.Audit.Append(ctx, tx, ev)
	})
	if err != nil {
		return err
	}
	// The event is committed; chaining it now is a courtesy (any node's sealer chains it later).
	_, _ = a.Audit.Seal(ctx)
	return nil
}
