package integrity

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/web"
)

// PermVerify guards every route of the module: verifying the chain and reading its checkpoints
// and forwarding state.
const PermVerify = "audit.verify"

// Module serves the Integrity page and its API.
type Module struct {
	Service *Service
	Pages   *web.Pages
	CSRF    func(c echo.Context) string
	// Drift fills the page's "drift" block (controls failing while a compliance mode is on);
	// nil leaves it empty. Its value is the page's .Drift.
	Drift func(ctx context.Context, tenantID string) (any, error)
}

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	r := func(method, path, summary string, isAPI bool, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: PermVerify, Scope: server.ScopeTenant,
			API: isAPI, Summary: summary, Handler: h}
	}
	return []server.Route{
		r(http.MethodGet, "/integrity", "Integrity page: verify the audit chain now with progress, the signed checkpoints, the forwarding status.", false, m.page),
		r(http.MethodPost, "/integrity/verify", "Start verifying the organisation's audit chain in the background (form; joins a running verification).", false, m.verifyForm),
		r(http.MethodPost, "/api/v1/audit/verifications", "Start verifying the organisation's audit chain in the background; answers 202 with the job (a running one is joined).", true, m.startAPI),
		r(http.MethodGet, "/api/v1/audit/verifications/latest", "The organisation's latest audit chain verification, with its progress and result.", true, m.latestAPI),
		r(http.MethodGet, "/api/v1/audit/verifications/:job", "One audit chain verification: events checked of the total, status, result and first broken link.", true, m.jobAPI),
		r(http.MethodGet, "/api/v1/audit/checkpoints", "The organisation's latest signed audit checkpoints with their key, key version and signature status.", true, m.checkpointsAPI),
		r(http.MethodGet, "/api/v1/audit/forwarding", "Audit forwarding: each destination's state, last success and lag for the organisation.", true, m.forwardingAPI),
	}
}

var errNoJob = api.New(http.StatusNotFound, "not_found", "No such verification.")

func principal(c echo.Context) (*api.Principal, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return nil, api.ErrUnauthenticated
	}
	return p, nil
}

func (m *Module) start(c echo.Context) (Job, error) {
	p, err := principal(c)
	if err != nil {
		return Job{}, err
	}
	j, err := m.Service.Start(c.Request().Context(), Requester{TenantID: p.TenantID, UserID: p.UserID, IP: c.RealIP(),
		UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)})
	if err != nil {
		return Job{}, api.ErrUnavailable.Wrap(err)
	}
	return j, nil
}

func (m *Module) startAPI(c echo.Context) error {
	j, err := m.start(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/audit/verifications/"+j.ID)
	return c.JSON(http.StatusAccepted, j)
}

func (m *Module) verifyForm(c echo.Context) error {
	j, err := m.start(c)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/integrity?job="+j.ID)
}

func validID(id string) bool { return len(id) == 32 && strings.Trim(id, "0123456789abcdef") == "" }

func (m *Module) jobAPI(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	id := c.Param("job")
	if !validID(id) {
		return errNoJob
	}
	j, err := m.Service.Job(migrations.WithTenant(c.Request().Context(), p.TenantID), p.TenantID, id)
	if errors.Is(err, ErrNotFound) {
		return errNoJob
	}
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	return c.JSON(http.StatusOK, j)
}

func (m *Module) latestAPI(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	j, err := m.Service.Latest(migrations.WithTenant(c.Request().Context(), p.TenantID), p.TenantID)
	if errors.Is(err, ErrNotFound) {
		return errNoJob.WithMessage("The audit chain has not been verified from the console yet.")
	}
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	return c.JSON(http.StatusOK, j)
}

// CheckpointsBody is the answer of GET /api/v1/audit/checkpoints.
type CheckpointsBody struct {
	Checkpoints []Checkpoint `json:"checkpoints"`
}

func (m *Module) checkpointsAPI(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	cps, err := m.Service.Checkpoints(c.Request().Context(), p.TenantID)
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	return c.JSON(http.StatusOK, CheckpointsBody{Checkpoints: cps})
}

func (m *Module) forwardingAPI(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	f, err := m.Service.Forwarding(c.Request().Context(), p.TenantID)
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	return c.JSON(http.StatusOK, f)
}

// pageData is what integrity.html renders.
type pageData struct {
	CSRF string
	// Job is the verification the page follows (?job=, else the latest); nil when none.
	Job         *Job
	Checkpoints []Checkpoint
	Forwarding  Forwarding
	// Drift is the compliance-mode drift panel's data (the "drift" block).
	Drift any
}

func (m *Module) page(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := migrations.WithTenant(c.Request().Context(), p.TenantID)
	var d pageData
	if m.CSRF != nil {
		d.CSRF = m.CSRF(c)
	}
	var j Job
	if id := c.QueryParam("job"); validID(id) {
		j, err = m.Service.Job(ctx, p.TenantID, id)
	} else {
		j, err = m.Service.Latest(ctx, p.TenantID)
	}
	switch {
	case err == nil:
		d.Job = &j
	case !errors.Is(err, ErrNotFound):
		return api.ErrUnavailable.Wrap(err)
	}
	if d.Checkpoints, err = m.Service.Checkpoints(ctx, p.TenantID); err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	if d.Forwarding, err = m.Service.Forwarding(ctx, p.TenantID); err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	if m.Drift != nil {
		if d.Drift, err = m.Drift(ctx, p.TenantID); err != nil {
			return api.ErrUnavailable.Wrap(err)
		}
	}
	return m.Pages.Render(c, http.StatusOK, "integrity.html", d)
}
