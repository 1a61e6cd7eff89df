// Package cannedhttp serves canned messages (package canned) over HTTP: the composer's search
// (GET /api/v1/canned), the JSON API to keep them, and the console page /canned.
package cannedhttp

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/canned"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/web"
)

// Departments finds and lists a tenant's departments; *tenant.Store satisfies it.
type Departments interface {
	Department(ctx context.Context, tenantID, id string) (tenant.Department, error)
	Departments(ctx context.Context, tenantID string) ([]tenant.Department, error)
}

// Module serves the canned messages API and console page.
type Module struct {
	Service     *canned.Service
	Departments Departments
	Pages       *web.Pages
	// CSRF returns the request's CSRF token for the page's forms.
	CSRF func(c echo.Context) string
	// CardRefused audits a card number refused in a form field (the API's refusals are audited by
	// the error renderer).
	CardRefused func(c echo.Context, e *api.Error)
}

var _ server.Module = (*Module)(nil)

// The module's API errors.
var (
	errExists  = api.New(http.StatusConflict, "shortcut_taken", "Another message of that list has this shortcut.").WithField("shortcut")
	errTooMany = api.New(http.StatusConflict, "too_many_canned_messages", "A list holds at most 500 canned messages.")
)

// Routes implements server.Module. Every route needs canned.use where the user holds it (or in
// the ?department= it names); the service then decides, text by text, what the user may read
// and write.
func (m *Module) Routes() []server.Route {
	route := func(method, path, summary string, isAPI bool, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: canned.PermUse,
			Scope: server.ScopeDepartment, Department: m.heldIn, API: isAPI, Summary: summary, Handler: h}
	}
	return []server.Route{
		route(http.MethodGet, "/api/v1/canned", "Canned messages for the composer: search by shortcut, title and body (q), placeholders filled in for ?conversation= (at most 20).", true, m.suggest),
		route(http.MethodPost, "/api/v1/canned", "Create a canned message: personal, a department's (canned.manage there) or shared (canned.manage tenant-wide).", true, m.create),
		route(http.MethodGet, "/api/v1/canned/:message", "One canned message the user may use.", true, m.get),
		route(http.MethodPut, "/api/v1/canned/:message", "Change a canned message's shortcut, title and body.", true, m.update),
		route(http.MethodDelete, "/api/v1/canned/:message", "Delete a canned message.", true, m.delete),
		route(http.MethodGet, "/canned", "Canned messages page: search, create, change and delete.", false, m.page),
		route(http.MethodPost, "/canned", "Create a canned message (form).", false, m.createForm),
		route(http.MethodGet, "/canned/:message", "Edit a canned message (page).", false, m.editPage),
		route(http.MethodPost, "/canned/:message", "Change a canned message (form).", false, m.updateForm),
		route(http.MethodPost, "/canned/:message/delete", "Delete a canned message (form).", false, m.deleteForm),
	}
}

// heldIn is the routes' department: the ?department= the request names (404 when it is not the
// tenant's), else where the user holds canned.use ("" when tenant-wide or nowhere).
func (m *Module) heldIn(c echo.Context, tenantID string) (string, error) {
	ctx := c.Request().Context()
	if id := c.QueryParam("department"); id != "" {
		if len(id) > 64 {
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
	a, err := m.Service.AccessOf(ctx, p)
	if err != nil || a.UseAll || len(a.UseIn) == 0 {
		return "", err
	}
	return a.UseIn[0], nil
}

// classify maps the service's errors to API errors.
func classify(err error) error {
	var fe *canned.FieldError
	var ce *canned.CardNumberError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return api.ErrCardNumber.WithField(ce.Field)
	case errors.As(err, &fe):
		return api.ErrInvalidRequest.WithField(fe.Field).WithMessage(fe.Message)
	case errors.Is(err, canned.ErrNotFound):
		return api.ErrNotFound
	case errors.Is(err, canned.ErrForbidden):
		return api.ErrForbidden
	case errors.Is(err, canned.ErrExists):
		return errExists
	case errors.Is(err, canned.ErrTooMany):
		return errTooMany
	}
	return err
}

func principal(c echo.Context) (*api.Principal, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return nil, api.ErrUnauthenticated
	}
	return p, nil
}

func origin(c echo.Context) canned.Origin {
	return canned.Origin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)}
}

// itemsBody is the answer of GET /api/v1/canned.
type itemsBody struct {
	Items []canned.Item `json:"items"`
}

func (m *Module) suggest(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	conv := c.QueryParam("conversation")
	if len(conv) > 64 {
		return api.ErrNotFound
	}
	items, err := m.Service.Suggest(c.Request().Context(), p, c.QueryParam("q"), conv)
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusOK, itemsBody{Items: items})
}

func (m *Module) get(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	msg, err := m.Service.Get(c.Request().Context(), p, c.Param("message"))
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusOK, msg)
}

func (m *Module) create(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var in canned.Input
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	msg, err := m.Service.Create(c.Request().Context(), p, in, origin(c))
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusCreated, msg)
}

// updateBody is the request of PUT /api/v1/canned/:message.
type updateBody struct {
	Shortcut string `json:"shortcut"`
	Title    string `json:"title"`
	Body     string `json:"body"`
}

func (m *Module) update(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var in updateBody
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	msg, err := m.Service.Update(c.Request().Context(), p, c.Param("message"),
		canned.Input{Shortcut: in.Shortcut, Title: in.Title, Body: in.Body}, origin(c))
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusOK, msg)
}

func (m *Module) delete(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	if err := m.Service.Delete(c.Request().Context(), p, c.Param("message"), origin(c)); err != nil {
		return classify(err)
	}
	return c.NoContent(http.StatusNoContent)
}
