package setup

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/identity"
)

// demoNotices are the confirmations of the demo site page, by key, so no text is reflected from
// the query string.
var demoNotices = map[string]string{
	"created": "The demo site was created.",
	"exists":  "The demo site already exists: here it is.",
}

// demoPage is what demo_site.html renders.
type demoPage struct {
	CSRF   string
	Notice string
	// Error is a refusal's safe message, Field the input it names.
	Error, Field string
	// Site is the demo site once it exists.
	Site *DemoSite
	// TakesChats tells whether the signed-in user is offered chats in the workspace; UserID is
	// where a role is granted to them otherwise.
	TakesChats bool
	UserID     string
}

func (m *Module) csrf(c echo.Context) string {
	if m.CSRF == nil {
		return ""
	}
	return m.CSRF(c)
}

func (m *Module) takesChats(ctx context.Context, p *identity.Principal) (bool, error) {
	if m.TakesChats == nil {
		return false, nil
	}
	return m.TakesChats(ctx, p)
}

// renderDemo renders the demo site page: the button while there is no demo site, its links once
// there is one.
func (m *Module) renderDemo(c echo.Context, status int, d demoPage) error {
	p := api.PrincipalOf(c)
	if p == nil {
		return api.ErrUnauthenticated
	}
	ctx := c.Request().Context()
	ds, ok, err := m.Demo.Find(ctx, p.TenantID)
	if err != nil {
		return err
	}
	if ok {
		d.Site = &ds
	}
	if d.TakesChats, err = m.takesChats(ctx, p); err != nil {
		return err
	}
	d.CSRF, d.UserID = m.csrf(c), p.UserID
	return m.Pages.Render(c, status, "demo_site.html", d)
}

// demoSite serves GET /setup/demo-site.
func (m *Module) demoSite(c echo.Context) error {
	return m.renderDemo(c, http.StatusOK, demoPage{Notice: demoNotices[c.QueryParam("notice")]})
}

// createDemoSite serves POST /setup/demo-site: it creates the demo site unless it exists, then
// shows it (303 to the page).
func (m *Module) createDemoSite(c echo.Context) error {
	p := api.PrincipalOf(c)
	if p == nil {
		return api.ErrUnauthenticated
	}
	_, created, err := m.Demo.Ensure(c.Request().Context(), p, DemoOrigin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)})
	var ae *api.Error
	if errors.As(err, &ae) && ae.Status < 500 {
		return m.renderDemo(c, ae.Status, demoPage{Error: ae.Message, Field: ae.Field})
	}
	if err != nil {
		return err
	}
	notice := "exists"
	if created {
		notice = "created"
	}
	return c.Redirect(http.StatusSeeOther, "/setup/demo-site?notice="+notice)
}
