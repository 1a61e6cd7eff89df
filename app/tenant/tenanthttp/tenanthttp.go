// Package tenanthttp serves an organisation's tenancy over HTTP: its sites (websites that embed
// the widget) and departments, as the console's JSON API and as console pages (the site page
// also edits the site's widget settings through the chat service). The store and the checked,
// audited changes stay in package tenant, which knows nothing of HTTP.
package tenanthttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/compliance/mode"
	"github.com/parleyhq/parley/web"
)

// PermSites guards sites, their settings and departments, tenant-wide. The catalogue has no
// department.manage yet (it is planned), so departments are guarded by the closest catalogued
// administrative permission of the organisation, site.manage, as the sites' settings already
// name departments (a site's default department).
const PermSites = "site.manage"

// Sites is what the module reads of the tenant store.
type Sites interface {
	Sites(ctx context.Context, tenantID string) ([]tenant.Site, error)
	Site(ctx context.Context, tenantID, id string) (tenant.Site, error)
	Departments(ctx context.Context, tenantID string) ([]tenant.Department, error)
	Department(ctx context.Context, tenantID, id string) (tenant.Department, error)
}

var _ Sites = (*tenant.Store)(nil)

// Admin is the checked, audited changes to sites and departments.
type Admin interface {
	CreateSite(ctx context.Context, by tenant.Actor, tenantID string, in tenant.SiteInput) (tenant.Site, error)
	UpdateSite(ctx context.Context, by tenant.Actor, tenantID, siteID string, in tenant.SiteInput) (tenant.Site, error)
	SetSiteEnabled(ctx context.Context, by tenant.Actor, tenantID, siteID string, enabled bool) (tenant.Site, error)
	CreateDepartment(ctx context.Context, by tenant.Actor, tenantID string, in tenant.DepartmentInput) (tenant.Department, error)
	UpdateDepartment(ctx context.Context, by tenant.Actor, tenantID, id string, in tenant.DepartmentInput) (tenant.Department, error)
	DeleteDepartment(ctx context.Context, by tenant.Actor, tenantID, id string) (tenant.DepartmentUse, error)
}

var _ Admin = (*tenant.Admin)(nil)

// Settings reads and writes a site's widget and chat settings: the same calls the chat's
// settings API makes (*chat.Service), so a form and a PUT are checked and audited alike.
type Settings interface {
	SiteSettings(ctx context.Context, siteID string) (chat.Settings, error)
	SetSiteSettings(ctx context.Context, p *identity.Principal, site tenant.Site, in chat.Settings, o chat.Origin) error
	// InstallationRateLimits are the most a site's own rate limits may be.
	InstallationRateLimits() chat.RateLimits
}

var _ Settings = (*chat.Service)(nil)

// Assignments lists an organisation's role assignments (department membership is a role
// granted in the department; app/authz owns them).
type Assignments interface {
	TenantAssignments(ctx context.Context, tenantID string) ([]authz.Assignment, error)
}

// People names users by display name and e-mail.
type People interface {
	People(ctx context.Context, tenantID string, ids []string) (map[string]account.Person, error)
}

// Module serves the tenancy routes.
type Module struct {
	Tenants     Sites
	Admin       Admin
	Settings    Settings
	Assignments Assignments
	People      People
	Pages       *web.Pages
	// CSRF returns the request's CSRF token for the pages' forms.
	CSRF func(c echo.Context) string
	// CardRefused audits a card number a form refused (the pages re-render their form instead of
	// answering through the error renderer, which audits the API's refusals).
	CardRefused func(c echo.Context, e *api.Error)
	// PublicURL is Parley's own origin, for the embed snippet.
	PublicURL string
}

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	route := func(method, path, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: PermSites,
			Scope: server.ScopeTenant, API: strings.HasPrefix(path, "/api/"), Summary: summary, Handler: h}
	}
	return []server.Route{
		route(http.MethodGet, "/api/v1/sites", "The organisation's sites, sorted by name: id, name, public site key, allowed origins, enabled, created_at.", m.listSites),
		route(http.MethodPost, "/api/v1/sites", "Add a site (name, allowed origins); it gets a fresh public site key.", m.createSite),
		route(http.MethodGet, "/api/v1/sites/:site", "One site of the organisation.", m.getSite),
		route(http.MethodPut, "/api/v1/sites/:site", "Rename a site and replace its allowed origins.", m.updateSite),
		route(http.MethodPost, "/api/v1/sites/:site/disable", "Disable a site: its widget stops opening.", m.disableSite),
		route(http.MethodPost, "/api/v1/sites/:site/enable", "Enable a disabled site again.", m.enableSite),
		route(http.MethodGet, "/api/v1/departments", "The organisation's departments, sorted by name.", m.listDepartments),
		route(http.MethodPost, "/api/v1/departments", "Add a department (name, business hours, queue timeout).", m.createDepartment),
		route(http.MethodGet, "/api/v1/departments/:department", "One department of the organisation.", m.getDepartment),
		route(http.MethodPut, "/api/v1/departments/:department", "Rename a department and replace its business hours and queue timeout.", m.updateDepartment),
		route(http.MethodDelete, "/api/v1/departments/:department", "Delete a department no open chat and no role grant refers to.", m.deleteDepartment),
		route(http.MethodGet, "/api/v1/departments/:department/members", "The users holding a role in the department, by name and e-mail.", m.listMembers),

		route(http.MethodGet, "/sites", "Sites page: the organisation's sites and the form to add one.", m.sitesPage),
		route(http.MethodPost, "/sites", "Add a site (form).", m.createSiteForm),
		route(http.MethodGet, "/sites/:site", "Site page: name, origins, embed snippet, widget settings.", m.sitePage),
		route(http.MethodPost, "/sites/:site", "Rename a site and replace its origins (form).", m.updateSiteForm),
		route(http.MethodPost, "/sites/:site/disable", "Disable a site (form).", m.disableSiteForm),
		route(http.MethodPost, "/sites/:site/enable", "Enable a site (form).", m.enableSiteForm),
		route(http.MethodPost, "/sites/:site/settings", "Change a site's widget and chat settings (form).", m.settingsForm),
		route(http.MethodGet, "/departments", "Departments page: the organisation's departments and the form to add one.", m.departmentsPage),
		route(http.MethodPost, "/departments", "Add a department (form).", m.createDepartmentForm),
		route(http.MethodGet, "/departments/:department", "Department page: name, hours, queue timeout, members.", m.departmentPage),
		route(http.MethodPost, "/departments/:department", "Change a department (form).", m.updateDepartmentForm),
		route(http.MethodPost, "/departments/:department/delete", "Delete a department (form).", m.deleteDepartmentForm),
	}
}

// The module's errors.
var (
	errSiteNameTaken = api.New(http.StatusConflict, "name_taken", "Another site of the organisation has that name.").WithField("name")
	errDeptNameTaken = api.New(http.StatusConflict, "name_taken", "Another department of the organisation has that name.").WithField("name")
	errInUse         = api.New(http.StatusConflict, "department_in_use", "The department still has open chats or role grants: end or transfer its chats and remove the roles granted in it first.")
	errConfirm       = api.New(http.StatusBadRequest, "confirmation_required", "Tick the box to confirm.").WithField("confirm")
)

// fieldMessages are the safe messages of the tenant package's input errors.
var fieldMessages = []struct {
	err error
	msg string
}{
	{tenant.ErrInvalidName, "A name is 2 to 100 printable characters."},
	{tenant.ErrNoOrigins, "Give at least one origin allowed to embed the widget."},
	{tenant.ErrTooManyOrigins, fmt.Sprintf("A site allows at most %d origins.", tenant.MaxOrigins)},
	{tenant.ErrDuplicateOrigin, "This origin is given twice."},
	{tenant.ErrInvalidOrigin, fmt.Sprintf("An origin is scheme://host[:port] with no path, at most %d characters: https, or http only for localhost and 127.0.0.1.", tenant.MaxOriginLength)},
	{tenant.ErrInvalidTimezone, "Name a time zone such as Europe/Berlin."},
	{tenant.ErrInvalidHours, "Open at least one day; each open day needs an opening time before its closing time (HH:MM, 24:00 for midnight)."},
	{tenant.ErrInvalidQueueTimeout, fmt.Sprintf("The queue timeout is 0 (the site's) or %d to %d seconds.", tenant.MinQueueTimeout, tenant.MaxQueueTimeout)},
}

// classify maps the tenant package's errors to API errors; noun is "site" or "department".
func classify(err error, noun string) error {
	var fe *tenant.FieldError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tenant.ErrNotFound):
		return api.ErrNotFound
	case errors.Is(err, tenant.ErrNameTaken) && noun == "site":
		return errSiteNameTaken
	case errors.Is(err, tenant.ErrNameTaken):
		return errDeptNameTaken
	case errors.Is(err, tenant.ErrInUse):
		return errInUse.Wrap(err)
	case errors.As(err, &fe) && errors.Is(err, tenant.ErrCardNumber):
		return api.ErrCardNumber.WithField(fe.Field)
	case errors.Is(err, tenant.ErrCardNumber):
		return api.ErrCardNumber.WithField("name")
	case errors.As(err, &fe):
		for _, m := range fieldMessages {
			if errors.Is(err, m.err) {
				e := api.ErrInvalidRequest.WithField(fe.Field).WithMessage(m.msg).Wrap(err)
				if fe.Index >= 0 {
					e = e.WithMessage(fmt.Sprintf("Origin %d: %s", fe.Index+1, m.msg)).WithDetails(map[string]int{"index": fe.Index})
				}
				return e
			}
		}
	}
	return err
}

// classifySettings maps the chat settings' errors to API errors.
func classifySettings(err error) error {
	var card *chat.CardNumberError
	var inv *chat.InvalidError
	switch {
	case errors.Is(err, mode.ErrRefused):
		return api.Classify(err)
	case errors.As(err, &card):
		return api.ErrCardNumber.WithField(card.Field)
	case errors.As(err, &inv):
		return api.ErrInvalidRequest.WithField(inv.Field).WithMessage(inv.Message)
	case errors.Is(err, chat.ErrNotFound):
		return api.ErrNotFound
	}
	return err
}

// actor returns who makes a change and the tenant they make it in.
func actor(c echo.Context) (tenant.Actor, string, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return tenant.Actor{}, "", api.ErrUnauthenticated
	}
	return tenant.Actor{UserID: p.UserID, IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)}, p.TenantID, nil
}

func tenantOf(c echo.Context) (string, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return "", api.ErrUnauthenticated
	}
	return p.TenantID, nil
}
