package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
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
	id, err := tenantID(ctx, a, *tenantName)
	if err != nil || id == audit.SystemTenant {
		fmt.Fprintf(e.stderr, "parley: site create: no organisation %q\n", *tenantName)
		return exitUsage
	}
	var site tenant.Site
	err = migrations.Transaction(a.DB.Gorm.WithContext(ctx), func(tx *gorm.DB) error {
		var err error
		if site, err = a.Tenants.WithTx(tx).CreateSite(ctx, id, *name, origins); err != nil {
			return err
		}
		return a.Audit.Append(ctx, tx, audit.Event{
			Tenant: id, Actor: audit.Actor{ID: "cli:" + e.getenv("USER"), Kind: audit.ActorSystem},
			Action: audit.ActionSiteCreate, Target: audit.Target{Kind: "site", ID: site.ID}, Outcome: audit.Success,
			Details: map[string]string{"name": site.Name, "origins": site.AllowedOrigins},
		})
	})
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: site create: %v\n", err)
		return exitFailure
	}
	_, _ = a.Audit.Seal(ctx)
	fmt.Fprintf(e.stdout, "created site %q, key %s\n", site.Name, site.SiteKey)
	fmt.Fprintf(e.stdout, "site id: %s\n", site.ID)
	fmt.Fprintf(e.stdout, "embed: <script src=\"%s/widget.js\" data-site=\"%s\" async></script>\n", cfg.PublicURL, site.SiteKey)
	return exitOK
}
