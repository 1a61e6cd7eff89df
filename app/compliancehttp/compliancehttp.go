// Package compliancehttp serves the compliance mode (Administration → Compliance mode): the
// organisation's mode — none, PCI DSS, HIPAA or both — with its drift, the form and the JSON API
// that set it (security.manage; turning a framework off needs a reason), both audited as
// compliance.mode.change. The drift panel it renders is shared with the overview and the audit
// log's integrity section (web/templates/partials/drift.html).
package compliancehttp

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/mode"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/web"
)

// Permissions of the routes: the mode is a security setting.
const (
	PermView   = "security.view"
	PermManage = "security.manage"
)

// People names a tenant's users (account.Store).
type People interface {
	People(ctx context.Context, tenantID string, ids []string) (map[string]account.Person, error)
}

// Module serves the compliance mode page and API.
type Module struct {
	Modes *mode.Store
	// Drift returns the organisation's drift as last computed (mode.Monitor.For).
	Drift   func(ctx context.Context, tenantID string) (mode.Drift, error)
	People  People
	Pages   *web.Pages
	CSRF    func(c echo.Context) string
	Allowed func(c echo.Context, permission, departmentID string) bool
	// Reaches reports whether the user may open a console page (console.Shell.Reaches): the
	// drift's fix links show only when they lead somewhere.
	Reaches func(c echo.Context, path string) bool
	// DevKeys warns, on the page, that the installation runs the development key provider:
	// drift at once, and `parley serve` refuses to start while an organisation is in a mode.
	DevKeys bool
	Node    string
}

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	r := func(method, path, perm, summary string, isAPI bool, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: perm, Scope: server.ScopeTenant,
			API: isAPI, Summary: summary, Handler: h}
	}
	return []server.Route{
		r(http.MethodGet, "/api/v1/compliance-mode", PermView, "The organisation's compliance mode (PCI DSS, HIPAA) and its drift: the checks failing under it.", true, m.get),
		r(http.MethodPut, "/api/v1/compliance-mode", PermManage, "Set the organisation's compliance mode; turning a framework off needs a reason (audited).", true, m.put),
		r(http.MethodGet, "/compliance-mode", PermView, "Compliance mode page: the mode, its drift, and the form to change it.", false, m.page),
		r(http.MethodPost, "/compliance-mode", PermManage, "Set the organisation's compliance mode (form; audited).", false, m.form),
	}
}

// The module's errors.
var (
	errReasonRequired = api.New(http.StatusUnprocessableEntity, "reason_required",
		"Give a reason to turn a framework off; it is kept in the audit log.").WithField("reason")
	errInvalidReason = api.New(http.StatusBadRequest, "invalid_request", "The reason is at most 500 characters, without control characters.").WithField("reason")
)

// Body is the compliance mode as the API shows it.
type Body struct {
	Mode      string      `json:"mode"`
	PCI       bool        `json:"pci"`
	HIPAA     bool        `json:"hipaa"`
	UpdatedAt *time.Time  `json:"updated_at"`
	UpdatedBy string      `json:"updated_by"`
	Reason    string      `json:"reason"`
	Drift     []mode.Item `json:"drift"`
	Computed  *time.Time  `json:"drift_computed_at"`
	Pending   bool        `json:"drift_pending"`
}

func principal(c echo.Context) (*api.Principal, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return nil, api.ErrUnauthenticated
	}
	return p, nil
}

func (m *Module) body(ctx context.Context, tenantID string) (Body, mode.Drift, error) {
	st, err := m.Modes.Get(ctx, tenantID)
	if err != nil {
		return Body{}, mode.Drift{}, api.ErrUnavailable.Wrap(err)
	}
	d, err := m.Drift(ctx, tenantID)
	if err != nil {
		return Body{}, mode.Drift{}, api.ErrUnavailable.Wrap(err)
	}
	b := Body{Mode: st.Mode.String(), PCI: st.Mode.PCI, HIPAA: st.Mode.HIPAA, UpdatedBy: st.UpdatedBy, Reason: st.Reason,
		Drift: d.Items, Pending: d.Pending()}
	if b.Drift == nil {
		b.Drift = []mode.Item{}
	}
	if !st.UpdatedAt.IsZero() {
		t := st.UpdatedAt
		b.UpdatedAt = &t
	}
	if !d.ComputedAt.IsZero() {
		t := d.ComputedAt
		b.Computed = &t
	}
	return b, d, nil
}

func (m *Module) get(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	b, _, err := m.body(migrations.WithTenant(c.Request().Context(), p.TenantID), p.TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}

type setRequest struct {
	PCI    *bool  `json:"pci"`
	HIPAA  *bool  `json:"hipaa"`
	Reason string `json:"reason"`
}

func (m *Module) put(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var req setRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	if req.PCI == nil || req.HIPAA == nil {
		return api.ErrInvalidRequest.WithMessage("Send both pci and hipaa (true or false).")
	}
	ctx := migrations.WithTenant(c.Request().Context(), p.TenantID)
	if err := m.set(c, p, mode.Mode{PCI: *req.PCI, HIPAA: *req.HIPAA}, req.Reason); err != nil {
		return err
	}
	b, _, err := m.body(ctx, p.TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}

// set changes the mode for the API and the form alike.
func (m *Module) set(c echo.Context, p *api.Principal, md mode.Mode, reason string) error {
	ctx := migrations.WithTenant(c.Request().Context(), p.TenantID)
	_, _, err := m.Modes.Set(ctx, mode.Change{TenantID: p.TenantID, Mode: md, Reason: reason,
		Actor:     audit.Actor{ID: p.UserID, Kind: audit.ActorUser},
		Origin:    audit.Origin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), Node: m.Node},
		RequestID: api.RequestID(c)})
	switch {
	case errors.Is(err, mode.ErrReasonRequired):
		return errReasonRequired
	case errors.Is(err, mode.ErrInvalidReason):
		return errInvalidReason
	case err != nil:
		return api.ErrUnavailable.Wrap(err)
	}
	return nil
}

// page is what compliance_mode.html renders.
type page struct {
	CSRF      string
	Notice    string
	Error     string
	CanManage bool
	DevKeys   bool
	Body      Body
	Drift     mode.Drift
	UpdatedBy string
	// Form is what a refused form sent.
	Form struct {
		PCI, HIPAA bool
		Reason     string
	}
}

var notices = map[string]string{
	"saved": "The compliance mode was saved. Its drift is being computed; this page shows it within a minute.",
}

func (m *Module) render(c echo.Context, status int, d page, typed bool) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := migrations.WithTenant(c.Request().Context(), p.TenantID)
	if d.Body, d.Drift, err = m.body(ctx, p.TenantID); err != nil {
		return err
	}
	d.Drift = d.Drift.WithLinks(func(path string) bool { return m.Reaches != nil && m.Reaches(c, path) })
	if !typed {
		d.Form.PCI, d.Form.HIPAA = d.Body.PCI, d.Body.HIPAA
	}
	if id := d.Body.UpdatedBy; id != "" && m.People != nil {
		if people, err := m.People.People(ctx, p.TenantID, []string{id}); err == nil {
			if u, ok := people[id]; ok {
				d.UpdatedBy = u.DisplayName
				if d.UpdatedBy == "" {
					d.UpdatedBy = u.Email
				}
			}
		}
	}
	d.CanManage = m.Allowed != nil && m.Allowed(c, PermManage, "")
	d.DevKeys = m.DevKeys
	if m.CSRF != nil {
		d.CSRF = m.CSRF(c)
	}
	return m.Pages.Render(c, status, "compliance_mode.html", d)
}

func (m *Module) page(c echo.Context) error {
	return m.render(c, http.StatusOK, page{Notice: notices[c.QueryParam("notice")]}, false)
}

func (m *Module) form(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	if _, err := c.FormParams(); err != nil {
		return api.ErrInvalidRequest
	}
	md := mode.Mode{PCI: c.FormValue("pci") != "", HIPAA: c.FormValue("hipaa") != ""}
	reason := c.FormValue("reason")
	if err := m.set(c, p, md, reason); err != nil {
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Status >= 500 {
			return err
		}
		d := page{Error: ae.Message}
		d.Form.PCI, d.Form.HIPAA, d.Form.Reason = md.PCI, md.HIPAA, reason
		return m.render(c, http.StatusUnprocessableEntity, d, true)
	}
	return c.Redirect(http.StatusSeeOther, "/compliance-mode?notice=saved")
}
