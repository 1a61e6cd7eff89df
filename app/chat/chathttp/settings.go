package chathttp

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/tenant"
)

// consoleSite resolves :site (a site id) in the user's tenant.
func (m *Module) consoleSite(c echo.Context, p *api.Principal) (tenant.Site, error) {
	site, err := m.chat.Site(c.Request().Context(), p.TenantID, c.Param("site"))
	if errors.Is(err, chat.ErrNotFound) {
		return tenant.Site{}, api.ErrNotFound
	}
	return site, err
}

func (m *Module) getSettings(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	site, err := m.consoleSite(c, p)
	if err != nil {
		return err
	}
	set, err := m.chat.SiteSettings(c.Request().Context(), site.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}

func (m *Module) putSettings(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	site, err := m.consoleSite(c, p)
	if err != nil {
		return err
	}
	var in chat.Settings
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	if err := m.chat.SetSiteSettings(c.Request().Context(), p, site, in, originOf(c)); err != nil {
		return httpError(c, err)
	}
	set, err := m.chat.SiteSettings(c.Request().Context(), site.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}
