// Package tenanthttp serves an organisation's tenancy to the console's JSON API: its sites
// (websites that embed the widget). The store stays in package tenant, which knows nothing of
// HTTP.
package tenanthttp

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
)

// PermSites guards the site list: the permission that guards a site's settings
// (GET /api/v1/chat/sites/:site/settings) until a read-only site.view exists.
const PermSites = "site.manage"

// Sites is what the module needs of the tenant store.
type Sites interface {
	Sites(ctx context.Context, tenantID string) ([]tenant.Site, error)
}

var _ Sites = (*tenant.Store)(nil)

// Module serves the tenancy routes.
type Module struct {
	Tenants Sites
}

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	return []server.Route{{
		Method: http.MethodGet, Path: "/api/v1/sites", Access: server.Authenticated,
		Permission: PermSites, Scope: server.ScopeTenant, API: true,
		Summary: "The organisation's sites, sorted by name: id, name, public site key, allowed origins, enabled, created_at.",
		Handler: m.listSites,
	}}
}

// siteBody is one site as the API answers it.
type siteBody struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	SiteKey        string    `json:"site_key"`
	AllowedOrigins []string  `json:"allowed_origins"`
	Enabled        bool      `json:"enabled"`
	CreatedAt      time.Time `json:"created_at"`
}

// sitesBody is the answer of GET /api/v1/sites.
type sitesBody struct {
	Sites []siteBody `json:"sites"`
}

func (m *Module) listSites(c echo.Context) error {
	p := api.PrincipalOf(c)
	if p == nil {
		return api.ErrUnauthenticated
	}
	sites, err := m.Tenants.Sites(c.Request().Context(), p.TenantID)
	if err != nil {
		return err
	}
	out := sitesBody{Sites: make([]siteBody, 0, len(sites))}
	for _, s := range sites {
		origins := s.Origins()
		if origins == nil {
			origins = []string{}
		}
		out.Sites = append(out.Sites, siteBody{
			ID: s.ID, Name: s.Name, SiteKey: s.SiteKey, AllowedOrigins: origins,
			Enabled: s.Enabled, CreatedAt: s.CreatedAt.UTC(),
		})
	}
	return c.JSON(http.StatusOK, out)
}
