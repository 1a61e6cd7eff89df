// Package visitorhttp serves the console's visitor tracking API over HTTP: the live visitors of
// the tenant's sites and one visitor with the pages they visited (IP addresses only with
// visitor.view_pii, audited). Visitor data retention is app/retention's.
package visitorhttp

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// Authorizer answers whether a console user holds a permission, tenant-wide (departmentID "") or
// in a department. The app wires the RBAC policy; an error means deny.
type Authorizer interface {
	Allowed(ctx context.Context, p *api.Principal, permission, departmentID string) (bool, error)
}

// Auditor appends audit events inside the caller's transaction (the audit log satisfies it); an
// error fails the action.
type Auditor interface {
	Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error
}

// Module serves the console's visitor tracking API.
type Module struct {
	Store *visitor.Store
	DB    *gorm.DB
	Authz Authorizer
	Audit Auditor
	Node  string
}

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	return []server.Route{
		{Method: http.MethodGet, Path: "/api/v1/visitors", Access: server.Authenticated, Permission: "visitor.view",
			Scope: server.ScopeTenant, API: true, Summary: "Live visitors of the tenant's sites (IP only with visitor.view_pii).", Handler: m.live},
		{Method: http.MethodGet, Path: "/api/v1/visitors/:visitor", Access: server.Authenticated, Permission: "visitor.view",
			Scope: server.ScopeTenant, API: true, Summary: "One visitor with the pages they visited.", Handler: m.detail},
	}
}

// LiveVisitor is a visitor as the console API shows it.
type LiveVisitor struct {
	ID               string    `json:"id"`
	SiteID           string    `json:"site_id"`
	CurrentURL       string    `json:"current_url"`
	CurrentTitle     string    `json:"current_title"`
	Referrer         string    `json:"referrer"`
	VisitPages       int       `json:"visit_pages"`
	Visits           int       `json:"visits"`
	Returning        bool      `json:"returning"`
	TimeOnSiteSecond int64     `json:"time_on_site_seconds"`
	FirstSeenAt      time.Time `json:"first_seen_at"`
	LastSeenAt       time.Time `json:"last_seen_at"`
	Browser          string    `json:"browser"`
	OS               string    `json:"os"`
	Device           string    `json:"device"`
	Language         string    `json:"language"`
	CookieMode       string    `json:"cookie_mode"`
	IP               string    `json:"ip,omitempty"`
}

// Page is a page view as the API shows it.
type Page struct {
	URL      string    `json:"url"`
	Title    string    `json:"title"`
	ViewedAt time.Time `json:"viewed_at"`
}

func present(v visitor.Visitor, pii bool) LiveVisitor {
	out := LiveVisitor{
		ID: v.ID, SiteID: v.SiteID, CurrentURL: v.CurrentURL, CurrentTitle: v.CurrentTitle, Referrer: v.Referrer,
		VisitPages: v.VisitPages, Visits: v.Visits, Returning: v.IsReturning, TimeOnSiteSecond: int64(v.TimeOnSite().Seconds()),
		FirstSeenAt: v.FirstSeenAt, LastSeenAt: v.LastSeenAt, Browser: v.Browser, OS: v.OS, Device: v.Device,
		Language: v.Language, CookieMode: v.CookieMode,
	}
	if pii {
		out.IP = v.IP
	}
	return out
}

// permViewPII unmasks visitors' personal data; the handlers check it themselves, beside the
// routes' visitor.view.
const permViewPII = "visitor.view_pii"

// Checks returns the permissions the visitor handlers check beside their routes' (the catalogue
// test in package app reads it).
func Checks() []string { return []string{permViewPII} }

// pii reports whether the caller may see IP addresses; seeing them is audited (fail closed).
func (m *Module) pii(c echo.Context, p *api.Principal, target string) (bool, error) {
	if m.Authz == nil {
		return false, nil
	}
	ok, err := m.Authz.Allowed(c.Request().Context(), p, permViewPII, "")
	if err != nil || !ok {
		return false, nil
	}
	ev := audit.Event{
		Tenant: p.TenantID, Actor: audit.Actor{ID: p.UserID, Kind: audit.ActorUser},
		Origin: audit.Origin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), Node: m.Node},
		Action: audit.ActionVisitorPIIView, Target: audit.Target{Kind: "visitor", ID: target},
		Outcome: audit.Success, RequestID: api.RequestID(c),
	}
	if m.Audit == nil {
		return false, api.ErrUnavailable.Wrap(errors.New("visitor: no audit log wired"))
	}
	ctx := c.Request().Context()
	if err := migrations.Transaction(m.DB.WithContext(ctx), func(tx *gorm.DB) error { return m.Audit.Append(ctx, tx, ev) }); err != nil {
		return false, api.ErrUnavailable.Wrap(err)
	}
	return true, nil
}

func (m *Module) live(c echo.Context) error {
	p := api.PrincipalOf(c)
	if p == nil {
		return api.ErrUnauthenticated
	}
	vs, err := m.Store.Live(c.Request().Context(), p.TenantID, c.QueryParam("site"), 1000)
	if err != nil {
		return err
	}
	pii := false
	if len(vs) > 0 {
		if pii, err = m.pii(c, p, "live"); err != nil {
			return err
		}
	}
	out := make([]LiveVisitor, 0, len(vs))
	for _, v := range vs {
		out = append(out, present(v, pii))
	}
	return c.JSON(http.StatusOK, map[string]any{"visitors": out})
}

func (m *Module) detail(c echo.Context) error {
	p := api.PrincipalOf(c)
	if p == nil {
		return api.ErrUnauthenticated
	}
	ctx := c.Request().Context()
	v, err := m.Store.Get(ctx, p.TenantID, c.Param("visitor"))
	if errors.Is(err, visitor.ErrNotFound) {
		return api.ErrNotFound
	}
	if err != nil {
		return err
	}
	pages, err := m.Store.Pages(ctx, p.TenantID, v.ID, 200)
	if err != nil {
		return err
	}
	pii, err := m.pii(c, p, v.ID)
	if err != nil {
		return err
	}
	ps := make([]Page, 0, len(pages))
	for _, pg := range pages {
		ps = append(ps, Page{URL: pg.URL, Title: pg.Title, ViewedAt: pg.ViewedAt})
	}
	return c.JSON(http.StatusOK, map[string]any{"visitor": present(v, pii), "pages": ps})
}
