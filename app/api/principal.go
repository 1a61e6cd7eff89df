package api

import (
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/migrations"
)

// Principal is the authenticated console user a request acts for (identity.Principal, which
// packages without HTTP use). The session middleware sets it; the authorization guard and
// handlers read it. It carries ids only, never credentials.
type Principal = identity.Principal

const principalKey = "parley.principal"

// SetPrincipal records the authenticated user on the request and scopes the request's context to
// the user's tenant: from here on, the database shows the request that tenant's rows only, and a
// store reached with another tenant's id is refused (migrations.WithTenant).
func SetPrincipal(c echo.Context, p *Principal) {
	c.Set(principalKey, p)
	if p != nil {
		r := c.Request()
		c.SetRequest(r.WithContext(migrations.WithTenant(r.Context(), p.TenantID)))
	}
}

// PrincipalOf returns the authenticated user of the request, or nil.
func PrincipalOf(c echo.Context) *Principal {
	p, _ := c.Get(principalKey).(*Principal)
	return p
}
