package tenant

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// ErrNoAuditor means Admin has no audit log: it changes nothing it cannot record.
var ErrNoAuditor = errors.New("tenant: no audit log configured")

// Auditor appends an event inside the transaction of the change it records; *auditlog.Log is one.
type Auditor interface {
	Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error
}

// Actor is who makes a change, and from where, for the audit record.
type Actor struct {
	UserID, IP, UserAgent, RequestID string
}

// SiteInput is a site as a person gives it: a name and the allowed origins.
type SiteInput struct {
	Name    string
	Origins []string
}

// DepartmentInput is a department as a person gives it.
type DepartmentInput struct {
	Name string
	DepartmentSettings
}

// Admin changes an organisation's sites and departments for the people who run it: each input
// checked (names, origins, hours; card numbers refused with the field named), each change
// audited (site.create, site.update, department.create, department.update, department.delete)
// in the change's own transaction.
type Admin struct {
	DB    *gorm.DB
	Store *Store
	Audit Auditor
	// Node names this node in audit records.
	Node string
}

// named attaches the field to a name error.
func named(err error) error {
	if errors.Is(err, ErrInvalidName) || errors.Is(err, ErrCardNumber) {
		return &FieldError{Field: "name", Index: -1, Err: err}
	}
	return err
}

// change runs fn in a transaction with the audit event it returns.
func (a *Admin) change(ctx context.Context, by Actor, tenantID string, fn func(st *Store, tx *gorm.DB) (audit.Event, error)) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	if a.Audit == nil {
		return ErrNoAuditor
	}
	return migrations.Transaction(a.DB.WithContext(ctx), func(tx *gorm.DB) error {
		tx = tx.WithContext(ctx)
		ev, err := fn(a.Store.WithTx(tx), tx)
		if err != nil {
			return err
		}
		ev.Tenant, ev.Outcome, ev.RequestID = tenantID, audit.Success, by.RequestID
		ev.Actor = audit.Actor{ID: by.UserID, Kind: audit.ActorUser}
		ev.Origin = audit.Origin{IP: by.IP, UserAgent: by.UserAgent, Node: a.Node}
		return a.Audit.Append(ctx, tx, ev)
	})
}

// checkSite cleans a site's name and origins.
func checkSite(in SiteInput) (string, []string, error) {
	name, err := CleanName(in.Name)
	if err != nil {
		return "", nil, named(err)
	}
	origins, err := CheckOrigins(in.Origins)
	if err != nil {
		return "", nil, err
	}
	return name, origins, nil
}

// CreateSite adds a website with a fresh site key (a name the organisation uses already is
// ErrNameTaken, so a repeated form creates nothing twice).
func (a *Admin) CreateSite(ctx context.Context, by Actor, tenantID string, in SiteInput) (Site, error) {
	name, origins, err := checkSite(in)
	if err != nil {
		return Site{}, err
	}
	var site Site
	err = a.change(ctx, by, tenantID, func(st *Store, _ *gorm.DB) (audit.Event, error) {
		var err error
		if site, err = st.CreateSite(ctx, tenantID, name, origins); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: audit.ActionSiteCreate, Target: audit.Target{Kind: "site", ID: site.ID},
			Details: map[string]string{"name": site.Name, "origins": site.AllowedOrigins}}, nil
	})
	return site, err
}

// UpdateSite renames a site and replaces its allowed origins; its key and state stay.
func (a *Admin) UpdateSite(ctx context.Context, by Actor, tenantID, siteID string, in SiteInput) (Site, error) {
	name, origins, err := checkSite(in)
	if err != nil {
		return Site{}, err
	}
	var site Site
	err = a.change(ctx, by, tenantID, func(st *Store, _ *gorm.DB) (audit.Event, error) {
		var err error
		if site, err = st.Site(ctx, tenantID, siteID); err != nil {
			return audit.Event{}, err
		}
		site.Name, site.AllowedOrigins = name, strings.Join(origins, " ")
		if err := st.updateSite(ctx, &site); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: audit.ActionSiteUpdate, Target: audit.Target{Kind: "site", ID: site.ID},
			Details: map[string]string{"change": "site", "name": site.Name, "origins": site.AllowedOrigins}}, nil
	})
	return site, err
}

// SetSiteEnabled turns a site off or on. A disabled site's key resolves to nothing (SiteByKey),
// so its widget stops opening; its settings and history stay.
func (a *Admin) SetSiteEnabled(ctx context.Context, by Actor, tenantID, siteID string, enabled bool) (Site, error) {
	var site Site
	err := a.change(ctx, by, tenantID, func(st *Store, _ *gorm.DB) (audit.Event, error) {
		var err error
		if site, err = st.Site(ctx, tenantID, siteID); err != nil {
			return audit.Event{}, err
		}
		site.Enabled = enabled
		if err := st.updateSite(ctx, &site); err != nil {
			return audit.Event{}, err
		}
		change := "disable"
		if enabled {
			change = "enable"
		}
		return audit.Event{Action: audit.ActionSiteUpdate, Target: audit.Target{Kind: "site", ID: site.ID},
			Details: map[string]string{"change": change, "name": site.Name}}, nil
	})
	return site, err
}

// checkDepartment cleans a department's name and checks its settings.
func checkDepartment(in DepartmentInput) (string, error) {
	name, err := CleanName(in.Name)
	if err != nil {
		return "", named(err)
	}
	return name, in.DepartmentSettings.Check()
}

func departmentDetails(d Department) map[string]string {
	hours := "site"
	if h := d.Hours(); h != nil {
		hours = h.Timezone
	}
	return map[string]string{"name": d.Name, "business_hours": hours, "queue_timeout_seconds": strconv.Itoa(d.QueueTimeoutSeconds)}
}

// CreateDepartment adds a department (a name the organisation uses already is ErrNameTaken).
func (a *Admin) CreateDepartment(ctx context.Context, by Actor, tenantID string, in DepartmentInput) (Department, error) {
	name, err := checkDepartment(in)
	if err != nil {
		return Department{}, err
	}
	var d Department
	err = a.change(ctx, by, tenantID, func(st *Store, _ *gorm.DB) (audit.Event, error) {
		var err error
		if d, err = st.createDepartment(ctx, tenantID, name, in.DepartmentSettings); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: audit.ActionDepartmentCreate, Target: audit.Target{Kind: "department", ID: d.ID},
			Details: departmentDetails(d)}, nil
	})
	return d, err
}

// UpdateDepartment renames a department and replaces its hours and queue timeout.
func (a *Admin) UpdateDepartment(ctx context.Context, by Actor, tenantID, id string, in DepartmentInput) (Department, error) {
	name, err := checkDepartment(in)
	if err != nil {
		return Department{}, err
	}
	var d Department
	err = a.change(ctx, by, tenantID, func(st *Store, _ *gorm.DB) (audit.Event, error) {
		var err error
		if d, err = st.Department(ctx, tenantID, id); err != nil {
			return audit.Event{}, err
		}
		d.Name, d.BusinessHours, d.QueueTimeoutSeconds = name, encodeHours(in.Hours), in.QueueTimeoutSeconds
		if err := st.updateDepartment(ctx, &d); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: audit.ActionDepartmentUpdate, Target: audit.Target{Kind: "department", ID: d.ID},
			Details: departmentDetails(d)}, nil
	})
	return d, err
}

// DeleteDepartment removes a department nothing refers to any more. While chats are open in it
// or roles are granted in it, it is refused with ErrInUse and the DepartmentUse says what to
// finish or unassign first: deleting would silently drop those grants and reroute those chats.
func (a *Admin) DeleteDepartment(ctx context.Context, by Actor, tenantID, id string) (DepartmentUse, error) {
	var use DepartmentUse
	err := a.change(ctx, by, tenantID, func(st *Store, tx *gorm.DB) (audit.Event, error) {
		d, err := st.Department(ctx, tenantID, id)
		if err != nil {
			return audit.Event{}, err
		}
		if use, err = departmentUse(ctx, tx, tenantID, id); err != nil {
			return audit.Event{}, err
		}
		if use.InUse() {
			return audit.Event{}, ErrInUse
		}
		if err := deleteDepartment(ctx, tx, tenantID, id); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: audit.ActionDepartmentDelete, Target: audit.Target{Kind: "department", ID: d.ID},
			Details: map[string]string{"name": d.Name}}, nil
	})
	return use, err
}
