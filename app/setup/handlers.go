package setup

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/web"
)

// Module serves the setup page and the demo site page that follows it.
type Module struct {
	Service *Service
	Pages   *web.Pages
	// PasswordHelp describes the password policy on the form.
	PasswordHelp string
	// Demo creates the demo site; CSRF returns the session's form token; TakesChats tells
	// whether a user is offered chats in the workspace (chat.accept somewhere).
	Demo       *Demo
	CSRF       func(echo.Context) string
	TakesChats func(ctx context.Context, p *identity.Principal) (bool, error)
}

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	return []server.Route{
		{Method: http.MethodGet, Path: "/setup", Access: server.Public, Summary: "One-time setup page (token in the link).", Handler: m.form},
		{Method: http.MethodPost, Path: "/setup", Access: server.Public, Summary: "Create the first tenant and its owner.", Handler: m.submit},
		{Method: http.MethodGet, Path: "/setup/demo-site", Access: server.Authenticated, Permission: "site.manage", Scope: server.ScopeTenant,
			Summary: "The demo site: a button that creates it, then its visitor page and the agent workspace.", Handler: m.demoSite},
		{Method: http.MethodPost, Path: "/setup/demo-site", Access: server.Authenticated, Permission: "site.manage", Scope: server.ScopeTenant,
			Summary: "Create the demo site (a site on Parley's own origin and its department) unless it exists.", Handler: m.createDemoSite},
	}
}

type formData struct {
	Token, Tenant, Email, PasswordHelp, ExpiresAt string
	Errors                                        []string
}

var errInvalidLink = api.New(http.StatusNotFound, "setup_link_invalid", "This setup link is invalid, already used or expired. Restart parley serve on the server for a new one.")

func (m *Module) form(c echo.Context) error {
	token := c.QueryParam("token")
	exp, err := m.Service.Valid(c.Request().Context(), token)
	if errors.Is(err, ErrInvalidToken) {
		return errInvalidLink
	}
	if err != nil {
		return err
	}
	return m.Pages.Render(c, http.StatusOK, "setup.html", formData{
		Token: token, PasswordHelp: m.PasswordHelp, ExpiresAt: exp.UTC().Format(time.RFC3339),
	})
}

func (m *Module) submit(c echo.Context) error {
	ctx := c.Request().Context()
	f := Form{
		Token: c.FormValue("token"), TenantName: c.FormValue("tenant"), Email: c.FormValue("email"),
		Password: c.FormValue("password"), Confirm: c.FormValue("confirm"),
	}
	t, u, err := m.Service.Complete(ctx, f)
	if err == nil {
		return m.Pages.Render(c, http.StatusOK, "setup_done.html", map[string]string{"Tenant": t.Name, "Slug": t.Slug, "Email": u.Email})
	}
	var msgs []string
	var rejected *account.PasswordRejected
	var card *account.CardNumberError
	status := http.StatusUnprocessableEntity
	switch {
	case errors.Is(err, tenant.ErrCardNumber):
		// Neither shown again nor kept: the field is emptied.
		msgs, f.TenantName, status = append(msgs, "A card number is not allowed in the organisation name."), "", http.StatusBadRequest
	case errors.As(err, &card):
		msgs, f.Email, status = append(msgs, "A card number is not allowed in the e-mail address."), "", http.StatusBadRequest
	case errors.Is(err, ErrInvalidToken), errors.Is(err, ErrAlreadySetUp):
		return errInvalidLink
	case errors.As(err, &rejected):
		for _, v := range rejected.Violations {
			msgs = append(msgs, v.Message)
		}
	case errors.Is(err, ErrPasswordMismatch):
		msgs = append(msgs, "The two passwords differ.")
	case errors.Is(err, account.ErrInvalidEmail):
		msgs = append(msgs, "Enter a valid e-mail address.")
	case errors.Is(err, tenant.ErrInvalidName):
		msgs = append(msgs, "The organisation name must be 2 to 100 characters with at least two letters or digits.")
	default:
		return err
	}
	exp, verr := m.Service.Valid(ctx, f.Token)
	if verr != nil {
		return errInvalidLink
	}
	return m.Pages.Render(c, status, "setup.html", formData{
		Token: f.Token, Tenant: f.TenantName, Email: f.Email, PasswordHelp: m.PasswordHelp,
		ExpiresAt: exp.UTC().Format(time.RFC3339), Errors: msgs,
	})
}
