// Package keysapi serves a tenant's encryption key status to the console and the evidence
// report: the key provider in use (and whether it is fit for production), the transit key's
// versions, the minimum decryption version, the last rotation and how many wrapped data keys sit
// at each version. Rotation and rewrap are operator actions from the server's shell
// (`parley keys …`), not web actions.
package keysapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/vault"
)

// Reporter is what the module needs of the key tools.
type Reporter interface {
	Status(ctx context.Context, tenantID string) (vault.TenantKeyReport, error)
}

var _ Reporter = (*vault.Keys)(nil)

// Module serves the key status route.
type Module struct {
	Keys Reporter
}

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	return []server.Route{{
		Method: http.MethodGet, Path: "/api/v1/keys/status", Access: server.Authenticated,
		Permission: "keys.manage", Scope: server.ScopeTenant, API: true,
		Summary: "The organisation's encryption key: provider, versions, minimum decryption version, last rotation, data keys per version.",
		Handler: m.status,
	}}
}

var errKeysUnavailable = api.New(http.StatusServiceUnavailable, "key_provider_unavailable", "The key provider does not answer right now; try again shortly.")

func (m *Module) status(c echo.Context) error {
	rep, err := m.Keys.Status(c.Request().Context(), api.PrincipalOf(c).TenantID)
	if err != nil {
		return errKeysUnavailable.Wrap(err)
	}
	return c.JSON(http.StatusOK, rep)
}
