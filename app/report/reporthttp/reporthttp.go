// Package reporthttp serves the console's chat reports: the /reports page with its SVG charts
// and their tables, the CSV export and the JSON API, each within the departments the user may
// see: report.view.department where it is granted (tenant-wide: the whole organisation), and
// report.view.all for the whole organisation wherever report.view.department opens the page.
package reporthttp

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/report"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/web"
)

// The permissions of reports. The routes check permDepartment where the request's department is
// (or where the user holds it); the handlers widen the scope to the organisation with permAll.
const (
	permDepartment = "report.view.department"
	permAll        = "report.view.all"
)

// Checks returns the permissions the report handlers check beside their routes' (the catalogue
// test in package app reads it).
func Checks() []string { return []string{permAll} }

// Authorizer answers whether a console user holds a permission, tenant-wide (departmentID "") or
// in a department. An error means deny.
type Authorizer interface {
	Allowed(ctx context.Context, p *api.Principal, permission, departmentID string) (bool, error)
}

// Departments finds a tenant's departments; *tenant.Store implements it.
type Departments interface {
	Department(ctx context.Context, tenantID, id string) (tenant.Department, error)
	Departments(ctx context.Context, tenantID string) ([]tenant.Department, error)
}

// Recorder writes an audit event in a transaction of its own; *auditlog.Log implements it. An
// error fails the audited action.
type Recorder interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Module serves the reports.
type Module struct {
	Reports     *report.Service
	Departments Departments
	Authz       Authorizer
	Audit       Recorder
	Pages       *web.Pages
	Now         func() time.Time
	Node        string
}

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	route := func(path, summary string, api bool, h echo.HandlerFunc) server.Route {
		return server.Route{Method: http.MethodGet, Path: path, Access: server.Authenticated, Permission: permDepartment,
			Scope: server.ScopeDepartment, Department: m.department, API: api, Summary: summary, Handler: h}
	}
	return []server.Route{
		route("/reports", "Chat reports of the user's departments (or ?department=): volumes, times, heatmap, satisfaction.", false, m.page),
		route("/reports/export.csv", "The chat report as CSV (audited).", false, m.exportCSV),
		route("/api/v1/reports", "The chat report of the user's departments (or ?department=) as JSON.", true, m.getJSON),
	}
}

// maxIDLength bounds ids read from the query string.
const maxIDLength = 64

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// department is the routes' department resolver: the ?department= the request names (404 unless
// it is one of the tenant's), else "" (tenant-wide) when the user holds report.view.department
// there, else the first department where they hold it (or "", refused by the guard, when none).
func (m *Module) department(c echo.Context, tenantID string) (string, error) {
	ctx := migrations.WithTenant(c.Request().Context(), tenantID)
	if id := c.QueryParam("department"); id != "" {
		if len(id) > maxIDLength || !idPattern.MatchString(id) {
			return "", api.ErrNotFound
		}
		_, err := m.Departments.Department(ctx, tenantID, id)
		if errors.Is(err, tenant.ErrNotFound) {
			return "", api.ErrNotFound
		}
		return id, err
	}
	p := api.PrincipalOf(c)
	if p == nil {
		return "", api.ErrUnauthenticated
	}
	if m.allowed(ctx, p, permDepartment, "") {
		return "", nil
	}
	depts, err := m.heldIn(ctx, p)
	if err != nil || len(depts) == 0 {
		return "", err
	}
	return depts[0], nil
}

// heldIn returns the departments where p holds report.view.department.
func (m *Module) heldIn(ctx context.Context, p *api.Principal) ([]string, error) {
	ds, err := m.Departments.Departments(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range ds {
		if m.allowed(ctx, p, permDepartment, d.ID) {
			out = append(out, d.ID)
		}
	}
	return out, nil
}

// scopeOf returns where p sees reports: the whole organisation (every department and the chats
// in none) with report.view.department tenant-wide, as for every department-scoped permission, or
// with report.view.all; else the departments where p holds report.view.department.
func (m *Module) scopeOf(ctx context.Context, p *api.Principal) (all bool, depts []string, err error) {
	if m.allowed(ctx, p, permDepartment, "") || m.allowed(ctx, p, permAll, "") {
		return true, nil, nil
	}
	depts, err = m.heldIn(ctx, p)
	return false, depts, err
}

func (m *Module) allowed(ctx context.Context, p *api.Principal, perm, dept string) bool {
	ok, err := m.Authz.Allowed(ctx, p, perm, dept)
	return err == nil && ok
}

// request is a report request read from the query string.
type request struct {
	Period report.Period
	// Department narrows the report to one department ("" for the whole scope).
	Department string
	Scope      report.Scope
	// InScope are the departments the user may pick, with their names.
	InScope []tenant.Department
	// All is whether the user sees the whole organisation.
	All bool
}

// Messages of the input errors, by sentinel.
var inputMessages = []struct {
	err error
	msg string
}{
	{report.ErrInvalidDate, "Enter a date as YYYY-MM-DD."},
	{report.ErrReversedRange, "The end date must not be before the start date."},
	{report.ErrRangeTooLong, "Choose a range of at most 366 days."},
	{report.ErrInvalidTimezone, "Name a time zone such as Europe/Berlin, or leave it empty for UTC."},
}

// inputError turns a report input error into the API error the renderer shows.
func inputError(err error) error {
	var ie *report.InputError
	if !errors.As(err, &ie) {
		return err
	}
	for _, m := range inputMessages {
		if errors.Is(ie.Err, m.err) {
			return api.ErrInvalidRequest.WithField(ie.Field).WithMessage(m.msg)
		}
	}
	return api.ErrInvalidRequest.WithField(ie.Field)
}

// read reads and checks the request: the period (default: the last 7 days in the zone) and the
// department, which must be within the user's scope.
func (m *Module) read(c echo.Context) (request, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return request{}, api.ErrUnauthenticated
	}
	ctx := migrations.WithTenant(c.Request().Context(), p.TenantID)
	var r request
	from, to, zone := c.QueryParam("from"), c.QueryParam("to"), c.QueryParam("tz")
	if pan.Contains(from) || pan.Contains(to) || pan.Contains(zone) {
		return r, api.ErrCardNumber
	}
	all, depts, err := m.scopeOf(ctx, p)
	if err != nil {
		return r, err
	}
	r.All = all
	list, err := m.Departments.Departments(ctx, p.TenantID)
	if err != nil {
		return r, err
	}
	for _, d := range list {
		if all || contains(depts, d.ID) {
			r.InScope = append(r.InScope, d)
		}
	}
	r.Department = c.QueryParam("department")
	switch {
	case r.Department != "":
		// The guard has checked report.view.department in it; a department the user holds it in
		// only tenant-wide is in depts too.
		if !all && !contains(depts, r.Department) {
			return r, api.ErrNotFound
		}
		r.Scope = report.Scope{Departments: []string{r.Department}}
	case all:
		r.Scope = report.Scope{All: true}
	default:
		r.Scope = report.Scope{Departments: depts}
	}
	if from == "" && to == "" {
		loc, name, lerr := report.Location(zone)
		if lerr != nil {
			return r, inputError(&report.InputError{Field: "tz", Err: lerr})
		}
		r.Period = report.LastDays(m.now(), loc, name, 7)
	} else if r.Period, err = report.ParsePeriod(from, to, zone); err != nil {
		return r, inputError(err)
	}
	if !r.Scope.All && len(r.Scope.Departments) == 0 {
		return r, api.ErrForbidden
	}
	return r, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// now reads the injected clock (app.New always wires it).
func (m *Module) now() time.Time { return m.Now() }
