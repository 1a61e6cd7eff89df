package accounthttp

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
)

// UserList is a tenant's users.
type UserList struct {
	Users []UserBody `json:"users"`
}

func (m *Module) listUsers(c echo.Context) error {
	vs, err := m.Accounts.Users(c.Request().Context(), current(c).User.TenantID)
	if err != nil {
		return classify(err)
	}
	out := UserList{Users: make([]UserBody, len(vs))}
	for i, v := range vs {
		out.Users[i] = userBody(v)
	}
	return c.JSON(http.StatusOK, out)
}

func (m *Module) getUser(c echo.Context) error {
	v, err := m.Accounts.User(c.Request().Context(), current(c).User.TenantID, c.Param("id"))
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusOK, userBody(v))
}

type inviteRequest struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	// DepartmentID grants the role in one department; empty grants it organisation-wide.
	DepartmentID string `json:"department_id"`
}

// InvitationBody answers an invitation: the one-time link to hand to the new user. It is shown
// once; only its hash is stored.
type InvitationBody struct {
	User          UserBody  `json:"user"`
	InvitationURL string    `json:"invitation_url"`
	ExpiresAt     time.Time `json:"expires_at"`
}

func (m *Module) invite(c echo.Context) error {
	var req inviteRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	switch {
	case req.Email == "" || len(req.Email) > maxEmailLen:
		return errInvalidEmail
	case len(req.Name) > 200:
		return api.ErrInvalidRequest.WithField("name").WithMessage("The name is at most 200 characters.")
	case req.Role == "":
		return errUnknownRole
	case len(req.DepartmentID) > 64:
		return api.ErrInvalidRequest.WithField("department_id").WithMessage("That department does not exist.")
	}
	ctx := c.Request().Context()
	inv, err := m.Accounts.Invite(ctx, actor(c), account.InviteInput{Email: req.Email, Name: req.Name, Role: req.Role, DepartmentID: req.DepartmentID})
	if err != nil {
		return classify(err)
	}
	v, err := m.Accounts.User(ctx, inv.User.TenantID, inv.User.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, InvitationBody{
		User: userBody(v), InvitationURL: m.PublicURL + "/invite?token=" + url.QueryEscape(inv.Token), ExpiresAt: inv.ExpiresAt,
	})
}

func (m *Module) unlock(c echo.Context) error {
	if err := m.Accounts.Unlock(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return classify(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (m *Module) disable(c echo.Context) error {
	if c.Param("id") == current(c).User.ID {
		return errConflictState.WithMessage("You cannot disable your own account.")
	}
	if err := m.Accounts.Disable(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return classify(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (m *Module) enable(c echo.Context) error {
	if err := m.Accounts.Enable(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return classify(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// TemporaryPasswordBody carries a reset password to hand to the user out of band; it must be
// changed at first sign-in.
type TemporaryPasswordBody struct {
	TemporaryPassword string `json:"temporary_password"`
}

func (m *Module) resetPassword(c echo.Context) error {
	temp, err := m.Accounts.ResetPassword(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusOK, TemporaryPasswordBody{TemporaryPassword: temp})
}

func (m *Module) resetMFA(c echo.Context) error {
	if err := m.Accounts.ResetMFA(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return classify(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (m *Module) userSessions(c echo.Context) error {
	if _, err := m.Accounts.User(c.Request().Context(), current(c).User.TenantID, c.Param("id")); err != nil {
		return classify(err)
	}
	return m.listSessions(c, c.Param("id"))
}

func (m *Module) revokeUserSession(c echo.Context) error {
	if err := m.Accounts.RevokeSession(c.Request().Context(), actor(c), c.Param("id"), c.Param("session")); err != nil {
		return classify(err)
	}
	if c.Param("session") == current(c).Session.ID {
		m.Sessions.clearCookie(c)
	}
	return c.NoContent(http.StatusNoContent)
}
