// Package retentionhttp serves retention over HTTP: the console's /retention page (periods per
// kind, per-site periods, the organisation's floors, legal holds and the job's last run), the
// transcript page's delete and hold buttons, and the JSON API under /api/v1/retention,
// /api/v1/visitor-retention and DELETE /api/v1/transcripts/:conversation.
package retentionhttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/retention"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/web"
)

// Permissions the routes and handlers use.
const (
	PermManage = "retention.manage"
	PermDelete = "transcript.delete"
	// The transcript scopes decide which conversations a user may delete: the ones they may see.
	permViewAll  = "transcript.view.all"
	permViewDept = "transcript.view.department"
	permViewOwn  = "transcript.view.own"
)

// Checks returns the catalogued permissions the handlers check beside their routes' (the
// catalogue test in package app reads it). visible also asks transcript.view.department and
// transcript.view.own, which grant nothing until the transcript module catalogues them; they
// join this list then.
func Checks() []string { return []string{permViewAll} }

// Sites lists the organisation's websites (tenant.Store).
type Sites interface {
	Sites(ctx context.Context, tenantID string) ([]tenant.Site, error)
}

// People names users by id (account.Store).
type People interface {
	People(ctx context.Context, tenantID string, ids []string) (map[string]account.Person, error)
}

// Module serves retention.
type Module struct {
	Service *retention.Service
	Sites   Sites
	People  People
	Pages   *web.Pages
	CSRF    func(c echo.Context) string
	// Allowed reports whether the request's user holds a permission, tenant-wide
	// (departmentID "") or in a department; the guard's decision.
	Allowed func(c echo.Context, permission, departmentID string) bool
	// CardRefused audits a card number a page form refused (the page re-renders its form instead
	// of handing the error to the renderer, which audits the API's refusals).
	CardRefused func(c echo.Context, e *api.Error)
}

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	r := func(method, path, perm, summary string, api bool, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: perm, Scope: server.ScopeTenant,
			API: api, Summary: summary, Handler: h}
	}
	return []server.Route{
		r(http.MethodGet, "/retention", PermManage, "Retention page: periods per kind and site, minimums, legal holds and the job's last run.", false, m.page),
		r(http.MethodPost, "/retention", PermManage, "Set a kind's retention period (form; visitor data when no kind is given).", false, m.periodForm),
		r(http.MethodPost, "/retention/minimums", PermDelete, "Set the organisation's minimum period of a kind (form).", false, m.minimumForm),
		r(http.MethodPost, "/retention/sites", PermManage, "Give a site its own period of a kind, or remove it (form).", false, m.siteForm),
		r(http.MethodPost, "/retention/holds", PermManage, "Place a legal hold on a visitor, a conversation or the organisation (form).", false, m.holdForm),
		r(http.MethodPost, "/retention/holds/:hold/release", PermManage, "Lift a legal hold (form).", false, m.releaseForm),
		r(http.MethodPost, "/transcripts/:conversation/delete", PermDelete, "Delete a transcript by crypto-shredding (form).", false, m.deleteTranscriptForm),
		r(http.MethodPost, "/transcripts/:conversation/hold", PermManage, "Place a legal hold on a conversation (form).", false, m.holdTranscriptForm),
		r(http.MethodPost, "/transcripts/:conversation/hold/release", PermManage, "Lift a conversation's legal hold (form).", false, m.releaseTranscriptForm),

		r(http.MethodGet, "/api/v1/retention", PermManage, "The organisation's retention periods, legal holds and the job's last run.", true, m.getRetention),
		r(http.MethodPut, "/api/v1/retention/periods/:kind", PermManage, "Set a kind's retention period (days).", true, m.putPeriod),
		r(http.MethodPost, "/api/v1/retention/holds", PermManage, "Place a legal hold.", true, m.postHold),
		r(http.MethodPost, "/api/v1/retention/holds/:hold/release", PermManage, "Lift a legal hold.", true, m.postRelease),
		r(http.MethodDelete, "/api/v1/transcripts/:conversation", PermDelete, "Delete a transcript by crypto-shredding.", true, m.deleteTranscript),
		r(http.MethodGet, "/api/v1/visitor-retention", PermManage, "The tenant's visitor data retention.", true, m.getVisitorRetention),
		r(http.MethodPut, "/api/v1/visitor-retention", PermManage, "Set the tenant's visitor data retention (days).", true, m.putVisitorRetention),
	}
}

// Errors the handlers answer with (stable codes, safe messages).
var (
	errHeld        = api.New(http.StatusConflict, "legal_hold", "This conversation is under legal hold: it cannot be deleted until the hold is lifted.")
	errLive        = api.New(http.StatusConflict, "conversation_active", "This conversation has not ended yet: end it before deleting it.")
	errDays        = api.ErrInvalidRequest.WithField("days").WithMessage("Retention must be 1 to 3650 days.")
	errNotNumber   = api.ErrInvalidRequest.WithField("days").WithMessage("Enter a whole number of days.")
	errKind        = api.ErrInvalidRequest.WithField("kind").WithMessage("Choose transcripts, files, offline messages or visitor data.")
	errHoldKind    = api.ErrInvalidRequest.WithField("kind").WithMessage("Choose a visitor, a conversation or the whole organisation.")
	errReason      = api.ErrInvalidRequest.WithField("reason").WithMessage(fmt.Sprintf("Give a reason of 1 to %d characters.", retention.MaxReason))
	errHoldExists  = api.New(http.StatusConflict, "hold_exists", "That is already under legal hold.").WithField("target_id")
	errNoTarget    = api.New(http.StatusNotFound, "not_found", "No conversation or visitor of your organisation has that id.").WithField("target_id")
	errNoSite      = api.New(http.StatusNotFound, "not_found", "Choose one of your organisation's sites.").WithField("site_id")
	errLeaseHeld   = api.New(http.StatusConflict, "retention_running", "The retention job is running on another node; try again shortly.")
	errFloorAbove  = api.New(http.StatusConflict, "minimum_above_period", "A period in force is shorter than that minimum: lengthen it first.").WithField("days")
	errCardInField = api.ErrCardNumber.WithField("reason")
)

// apiError maps the retention service's errors to the API's.
func apiError(err error) error {
	var fe *retention.FloorError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		label := string(fe.Kind)
		if i, ok := retention.Info(fe.Kind); ok {
			label = i.Label
		}
		return api.New(http.StatusBadRequest, "below_minimum",
			fmt.Sprintf("%s must be kept at least %d days: that is your organisation's minimum.", label, fe.Min)).WithField("days")
	case errors.Is(err, retention.ErrDays):
		return errDays
	case errors.Is(err, retention.ErrKind):
		return errKind
	case errors.Is(err, retention.ErrHoldKind):
		return errHoldKind
	case errors.Is(err, retention.ErrReason):
		return errReason
	case errors.Is(err, retention.ErrCardNumber):
		return errCardInField
	case errors.Is(err, retention.ErrHoldExists):
		return errHoldExists
	case errors.Is(err, retention.ErrHeld):
		return errHeld
	case errors.Is(err, retention.ErrLive):
		return errLive
	case errors.Is(err, retention.ErrFloorAbove):
		return errFloorAbove
	case errors.Is(err, retention.ErrLeaseHeld):
		return errLeaseHeld
	case errors.Is(err, retention.ErrNotFound):
		return api.ErrNotFound
	}
	return api.ErrUnavailable.Wrap(err)
}

func actor(c echo.Context, p *api.Principal) retention.Actor {
	return retention.Actor{TenantID: p.TenantID, UserID: p.UserID, IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)}
}

func principal(c echo.Context) (*api.Principal, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return nil, api.ErrUnauthenticated
	}
	return p, nil
}

func (m *Module) allowed(c echo.Context, perm, dept string) bool {
	return m.Allowed != nil && m.Allowed(c, perm, dept)
}

// visible loads a conversation the user may see — the transcript scopes: every conversation
// with transcript.view.all, a department's with transcript.view.department there, one's own
// with transcript.view.own — and answers 404 for any other, as for one that does not exist.
func (m *Module) visible(c echo.Context, p *api.Principal, id string) (retention.Conversation, error) {
	ctx := c.Request().Context()
	conv, err := m.Service.Conversation(ctx, p.TenantID, id)
	if err != nil {
		return conv, apiError(err)
	}
	switch {
	case m.allowed(c, permViewAll, ""):
		return conv, nil
	case conv.DepartmentID != "" && m.allowed(c, permViewDept, conv.DepartmentID):
		return conv, nil
	case m.allowed(c, permViewOwn, ""):
		if conv.AgentID == p.UserID {
			return conv, nil
		}
		if ok, err := m.Service.Participated(ctx, p.TenantID, id, p.UserID); err != nil {
			return conv, api.ErrUnavailable.Wrap(err)
		} else if ok {
			return conv, nil
		}
	}
	return conv, api.ErrNotFound
}

var errNotHeld = api.New(http.StatusConflict, "not_held", "This conversation has no legal hold of its own to lift (a visitor or organisation hold is lifted on the retention page).")
