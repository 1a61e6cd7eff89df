// Package console serves the agent, supervisor, admin and auditor web console: server-rendered
// pages over the same services the JSON API uses.
package console

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/web"
)

// Module serves the console's public pages and static assets.
type Module struct {
	Pages     *web.Pages
	Tenants   *tenant.Store
	PublicURL string
	// Shell builds the console shell and the landing page of each user.
	Shell *Shell
	// Overview reads what the administrator's overview shows.
	Overview Overview
}

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	return []server.Route{
		{Method: http.MethodGet, Path: "/", Access: server.Public, Summary: "Start page.", Handler: m.home},
		{Method: http.MethodGet, Path: "/demo", Access: server.Public, Summary: "Demo visitor page embedding the widget of a site (?site=KEY).", Handler: m.demo},
		{Method: http.MethodGet, Path: "/static/*", Access: server.Public, Summary: "Stylesheets and scripts.", Handler: m.static},
		{Method: http.MethodGet, Path: "/start", Access: server.Authenticated, Summary: "Sends a signed-in user to their landing page: overview, live chats, workspace or audit log.", Handler: m.start},
		{Method: http.MethodGet, Path: "/overview", Access: server.Authenticated, Permission: PermOverview, Scope: server.ScopeTenant,
			Summary: "Administrator's overview: agents online, chats queued and active, standing alerts, compliance warnings.", Handler: m.overview},
	}
}

// static serves one embedded asset. A folder, /static/ itself included, is not found: no
// listing is ever produced.
func (m *Module) static(c echo.Context) error {
	name, err := url.PathUnescape(c.Param("*"))
	if err != nil || name == "" || !fs.ValidPath(name) {
		return api.ErrNotFound
	}
	f, err := web.StaticFiles().Open(name)
	if err != nil {
		return api.ErrNotFound
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		return fmt.Errorf("static %s: embedded file cannot seek", name)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(c.Response(), c.Request(), st.Name(), st.ModTime(), rs)
	return nil
}

func (m *Module) home(c echo.Context) error {
	n, err := m.Tenants.Count(c.Request().Context())
	if err != nil {
		return err
	}
	return m.Pages.Render(c, http.StatusOK, "home.html", map[string]any{"NeedsSetup": n == 0})
}

// demo renders the demo visitor page: a made-up customer website embedding the widget of the site
// named by ?site=, with the SRI-pinned loader. The site must list Parley's own origin among its
// allowed origins for the widget to open there.
func (m *Module) demo(c echo.Context) error {
	key := c.QueryParam("site")
	if key == "" || len(key) > 80 {
		return api.ErrNotFound
	}
	site, err := m.Tenants.SiteByKey(c.Request().Context(), key)
	if errors.Is(err, tenant.ErrNotFound) {
		return api.ErrNotFound
	}
	if err != nil {
		return err
	}
	sri, err := web.WidgetIntegrity("widget.js")
	if err != nil {
		return err
	}
	return m.Pages.Render(c, http.StatusOK, "demo.html", web.DemoPage{
		SiteKey: site.SiteKey, SiteName: site.Name, ParleyOrigin: m.PublicURL, Integrity: sri,
	})
}
