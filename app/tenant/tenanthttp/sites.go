package tenanthttp

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/tenant"
)

// siteBody is one site as the API answers it.
type siteBody struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	SiteKey        string    `json:"site_key"`
	AllowedOrigins []string  `json:"allowed_origins"`
	Enabled        bool      `json:"enabled"`
	CreatedAt      time.Time `json:"created_at"`
}

func siteJSON(s tenant.Site) siteBody {
	origins := s.Origins()
	if origins == nil {
		origins = []string{}
	}
	return siteBody{ID: s.ID, Name: s.Name, SiteKey: s.SiteKey, AllowedOrigins: origins, Enabled: s.Enabled, CreatedAt: s.CreatedAt.UTC()}
}

// sitesBody is the answer of GET /api/v1/sites.
type sitesBody struct {
	Sites []siteBody `json:"sites"`
}

// siteInput is the body of POST /api/v1/sites and PUT /api/v1/sites/:site.
type siteInput struct {
	Name           string   `json:"name"`
	AllowedOrigins []string `json:"allowed_origins"`
}

func (m *Module) listSites(c echo.Context) error {
	tenantID, err := tenantOf(c)
	if err != nil {
		return err
	}
	sites, err := m.Tenants.Sites(c.Request().Context(), tenantID)
	if err != nil {
		return err
	}
	out := sitesBody{Sites: make([]siteBody, 0, len(sites))}
	for _, s := range sites {
		out.Sites = append(out.Sites, siteJSON(s))
	}
	return c.JSON(http.StatusOK, out)
}

func (m *Module) getSite(c echo.Context) error {
	tenantID, err := tenantOf(c)
	if err != nil {
		return err
	}
	site, err := m.Tenants.Site(c.Request().Context(), tenantID, c.Param("site"))
	if err != nil {
		return classify(err, "site")
	}
	return c.JSON(http.StatusOK, siteJSON(site))
}

func (m *Module) createSite(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	var in siteInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	site, err := m.Admin.CreateSite(c.Request().Context(), by, tenantID, tenant.SiteInput{Name: in.Name, Origins: in.AllowedOrigins})
	if err != nil {
		return classify(err, "site")
	}
	return c.JSON(http.StatusCreated, siteJSON(site))
}

func (m *Module) updateSite(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	var in siteInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	site, err := m.Admin.UpdateSite(c.Request().Context(), by, tenantID, c.Param("site"), tenant.SiteInput{Name: in.Name, Origins: in.AllowedOrigins})
	if err != nil {
		return classify(err, "site")
	}
	return c.JSON(http.StatusOK, siteJSON(site))
}

func (m *Module) disableSite(c echo.Context) error { return m.setEnabled(c, false) }
func (m *Module) enableSite(c echo.Context) error  { return m.setEnabled(c, true) }

func (m *Module) setEnabled(c echo.Context, enabled bool) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	site, err := m.Admin.SetSiteEnabled(c.Request().Context(), by, tenantID, c.Param("site"), enabled)
	if err != nil {
		return classify(err, "site")
	}
	return c.JSON(http.StatusOK, siteJSON(site))
}
