package setup

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// The demo a newcomer chats in: a site on Parley's own origin, so the demo visitor page
// (/demo?site=KEY) can embed its widget, whose chats go to a department of its own.
const (
	DemoSiteName       = "Demo site"
	DemoDepartmentName = "Demo support"
)

// AuditAppender writes an audit event inside a transaction; *auditlog.Log satisfies it.
type AuditAppender interface {
	Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error
}

// DemoOrigin is where a demo request came from, for its audit records.
type DemoOrigin struct {
	IP, UserAgent, RequestID string
}

// Demo creates a tenant's demo site.
type Demo struct {
	DB      *gorm.DB
	Tenants *tenant.Store
	Audit   AuditAppender
	// Origin is Parley's own origin (the public URL): the demo site's only allowed origin.
	Origin string
	// Node names this node in audit records.
	Node string
	// DefaultDepartment makes deptID the department the site's chats go to (the chat's site
	// settings, audited there); nil leaves the site's chats without a department.
	DefaultDepartment func(ctx context.Context, p *identity.Principal, site tenant.Site, deptID string, o DemoOrigin) error
}

// DemoSite is a tenant's demo site and its department.
type DemoSite struct {
	Site       tenant.Site
	Department tenant.Department
}

// errDemoOrigin refuses a demo site whose name is taken by a site that does not allow Parley's
// own origin: its widget would not open on the demo page.
var errDemoOrigin = api.New(http.StatusConflict, "demo_site_origin", "A site named “"+DemoSiteName+"” exists but does not allow Parley's own origin, so its widget cannot open on the demo page.").WithField("site")

// Find returns the tenant's demo site; ok is false when there is none yet.
func (d *Demo) Find(ctx context.Context, tenantID string) (ds DemoSite, ok bool, err error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	sites, err := d.Tenants.Sites(ctx, tenantID)
	if err != nil {
		return DemoSite{}, false, err
	}
	i := slices.IndexFunc(sites, func(s tenant.Site) bool { return s.Name == DemoSiteName })
	if i < 0 {
		return DemoSite{}, false, nil
	}
	ds.Site = sites[i]
	depts, err := d.Tenants.Departments(ctx, tenantID)
	if err != nil {
		return DemoSite{}, false, err
	}
	if j := slices.IndexFunc(depts, func(t tenant.Department) bool { return t.Name == DemoDepartmentName }); j >= 0 {
		ds.Department = depts[j]
	}
	return ds, true, nil
}

// Ensure returns the tenant's demo site, creating it first when there is none: the site (its
// only allowed origin Parley's own) and its department, each audited (site.create,
// department.create) in the transaction that creates it. created is false when it existed, so a
// second click creates nothing.
func (d *Demo) Ensure(ctx context.Context, p *identity.Principal, o DemoOrigin) (ds DemoSite, created bool, err error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	ds, ok, err := d.Find(ctx, p.TenantID)
	if err != nil {
		return DemoSite{}, false, err
	}
	if !ok {
		err = migrations.Transaction(d.DB.WithContext(ctx), func(tx *gorm.DB) error {
			tx = tx.WithContext(ctx)
			tenants := d.Tenants.WithTx(tx)
			site, err := tenants.CreateSite(ctx, p.TenantID, DemoSiteName, []string{d.Origin})
			if err != nil {
				return err
			}
			if err := d.Audit.Append(ctx, tx, d.event(p, o, audit.ActionSiteCreate, "site", site.ID,
				map[string]string{"name": site.Name, "origins": site.AllowedOrigins, "purpose": "demo"})); err != nil {
				return err
			}
			ds = DemoSite{Site: site}
			depts, err := tenants.Departments(ctx, p.TenantID)
			if err != nil {
				return err
			}
			if j := slices.IndexFunc(depts, func(t tenant.Department) bool { return t.Name == DemoDepartmentName }); j >= 0 {
				ds.Department = depts[j]
				return nil
			}
			if ds.Department, err = tenants.CreateDepartment(ctx, p.TenantID, DemoDepartmentName); err != nil {
				return err
			}
			return d.Audit.Append(ctx, tx, d.event(p, o, audit.ActionDepartmentCreate, "department", ds.Department.ID,
				map[string]string{"name": ds.Department.Name, "purpose": "demo"}))
		})
		if errors.Is(err, tenant.ErrNameTaken) {
			// Another click created it meanwhile: show that one.
			ds, ok, err = d.Find(ctx, p.TenantID)
			if err == nil && !ok {
				err = errors.New("demo site: name taken but not found")
			}
		} else {
			created = err == nil
		}
		if err != nil {
			return DemoSite{}, false, err
		}
	}
	if !slices.Contains(ds.Site.Origins(), strings.ToLower(strings.TrimSuffix(d.Origin, "/"))) {
		return DemoSite{}, false, errDemoOrigin
	}
	if d.DefaultDepartment != nil && ds.Department.ID != "" {
		if err := d.DefaultDepartment(ctx, p, ds.Site, ds.Department.ID, o); err != nil {
			return DemoSite{}, false, err
		}
	}
	return ds, created, nil
}

func (d *Demo) event(p *identity.Principal, o DemoOrigin, action audit.Action, kind, id string, details map[string]string) audit.Event {
	return audit.Event{
		Tenant: p.TenantID, Actor: audit.Actor{ID: p.UserID, Kind: audit.ActorUser},
		Origin: audit.Origin{IP: o.IP, UserAgent: o.UserAgent, Node: d.Node},
		Action: action, Target: audit.Target{Kind: kind, ID: id}, Outcome: audit.Success,
		RequestID: o.RequestID, Details: details,
	}
}
