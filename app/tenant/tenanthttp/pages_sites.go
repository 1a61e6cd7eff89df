package tenanthttp

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/web"
)

// siteForm is the name-and-origins form as typed: origins one per line.
type siteForm struct {
	Name    string
	Origins string
}

func readSiteForm(c echo.Context) (siteForm, tenant.SiteInput) {
	f := siteForm{Name: c.FormValue("name"), Origins: c.FormValue("allowed_origins")}
	return f, tenant.SiteInput{Name: f.Name, Origins: strings.Fields(f.Origins)}
}

// sitesPage is what sites.html renders.
type sitesPage struct {
	CSRF   string
	Notice string
	Sites  []tenant.Site
	Form   siteForm
	Error  formError
}

func (m *Module) renderSites(c echo.Context, d sitesPage) error {
	tenantID, err := tenantOf(c)
	if err != nil {
		return err
	}
	if d.Sites, err = m.Tenants.Sites(c.Request().Context(), tenantID); err != nil {
		return err
	}
	d.CSRF = m.csrf(c)
	status := http.StatusOK
	if d.Error.Status != 0 {
		status = d.Error.Status
	}
	return m.Pages.Render(c, status, "sites.html", d)
}

func (m *Module) sitesPage(c echo.Context) error {
	return m.renderSites(c, sitesPage{Notice: notices[c.QueryParam("notice")]})
}

func (m *Module) createSiteForm(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	f, in := readSiteForm(c)
	site, err := m.Admin.CreateSite(c.Request().Context(), by, tenantID, in)
	if err != nil {
		fe, err := m.formFailure(c, classify(err, "site"))
		if err != nil {
			return err
		}
		return m.renderSites(c, sitesPage{Form: f, Error: fe})
	}
	return c.Redirect(http.StatusSeeOther, "/sites/"+site.ID+"?notice=site_created")
}

// sitePage is what site.html renders.
type sitePage struct {
	CSRF   string
	Notice string
	Site   tenant.Site
	// Form is the name-and-origins form; SiteError its failure.
	Form      siteForm
	SiteError formError
	// StateError is the failure of the disable/enable form.
	StateError formError
	// Embed is the snippet that puts the widget on the site's pages.
	Embed string
	// Settings is the widget settings form; SettingsError its failure.
	Settings      settingsForm
	SettingsError formError
	Departments   []tenant.Department
	// RateCeiling are the installation's visitor limits: a site may only tighten them.
	RateCeiling chat.RateLimits
}

// loadSite resolves :site in the user's tenant (404 otherwise).
func (m *Module) loadSite(c echo.Context) (tenant.Site, error) {
	tenantID, err := tenantOf(c)
	if err != nil {
		return tenant.Site{}, err
	}
	site, err := m.Tenants.Site(c.Request().Context(), tenantID, c.Param("site"))
	return site, classify(err, "site")
}

// renderSite renders the site page; the forms d does not fill show the stored values.
func (m *Module) renderSite(c echo.Context, site tenant.Site, d sitePage) error {
	ctx := c.Request().Context()
	d.Site, d.CSRF = site, m.csrf(c)
	if d.Form == (siteForm{}) {
		d.Form = siteForm{Name: site.Name, Origins: strings.Join(site.Origins(), "\n")}
	}
	sri, err := web.WidgetIntegrity("widget.js")
	if err != nil {
		return err
	}
	d.Embed = `<script src="` + strings.TrimRight(m.PublicURL, "/") + `/widget/v1/widget.js" data-site="` + site.SiteKey +
		`" integrity="` + sri + `" crossorigin="anonymous" async></script>`
	if d.Settings.Cookie == "" {
		set, err := m.Settings.SiteSettings(ctx, site.ID)
		if err != nil {
			return err
		}
		d.Settings = settingsFormOf(set)
	}
	if d.Departments, err = m.Tenants.Departments(ctx, site.TenantID); err != nil {
		return err
	}
	d.RateCeiling = m.Settings.InstallationRateLimits()
	status := http.StatusOK
	for _, fe := range []formError{d.SiteError, d.StateError, d.SettingsError} {
		if fe.Status != 0 {
			status = fe.Status
		}
	}
	return m.Pages.Render(c, status, "site.html", d)
}

func (m *Module) sitePage(c echo.Context) error {
	site, err := m.loadSite(c)
	if err != nil {
		return err
	}
	return m.renderSite(c, site, sitePage{Notice: notices[c.QueryParam("notice")]})
}

func (m *Module) updateSiteForm(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	site, err := m.loadSite(c)
	if err != nil {
		return err
	}
	f, in := readSiteForm(c)
	if _, err := m.Admin.UpdateSite(c.Request().Context(), by, tenantID, site.ID, in); err != nil {
		fe, err := m.formFailure(c, classify(err, "site"))
		if err != nil {
			return err
		}
		return m.renderSite(c, site, sitePage{Form: f, SiteError: fe})
	}
	return c.Redirect(http.StatusSeeOther, "/sites/"+site.ID+"?notice=site_changed")
}

func (m *Module) disableSiteForm(c echo.Context) error { return m.setEnabledForm(c, false) }
func (m *Module) enableSiteForm(c echo.Context) error  { return m.setEnabledForm(c, true) }

func (m *Module) setEnabledForm(c echo.Context, enabled bool) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	site, err := m.loadSite(c)
	if err != nil {
		return err
	}
	if !enabled {
		// Disabling stops the widget on a live website: the form asks to confirm it.
		if err := confirmed(c); err != nil {
			fe, err := m.formFailure(c, err)
			if err != nil {
				return err
			}
			return m.renderSite(c, site, sitePage{StateError: fe})
		}
	}
	if _, err := m.Admin.SetSiteEnabled(c.Request().Context(), by, tenantID, site.ID, enabled); err != nil {
		return classify(err, "site")
	}
	notice := "site_disabled"
	if enabled {
		notice = "site_enabled"
	}
	return c.Redirect(http.StatusSeeOther, "/sites/"+site.ID+"?notice="+notice)
}

func (m *Module) settingsForm(c echo.Context) error {
	site, err := m.loadSite(c)
	if err != nil {
		return err
	}
	f := readSettingsForm(c)
	set, err := f.settings()
	if err == nil {
		err = m.Settings.SetSiteSettings(c.Request().Context(), principalOf(c), site, set, originOf(c))
	}
	if err != nil {
		fe, err := m.formFailure(c, classifySettings(err))
		if err != nil {
			return err
		}
		return m.renderSite(c, site, sitePage{Settings: f, SettingsError: fe})
	}
	return c.Redirect(http.StatusSeeOther, "/sites/"+site.ID+"?notice=settings_changed#settings")
}
