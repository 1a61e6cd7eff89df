package chathttp

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/protocol"
)

// The console's ban list: GET, POST /api/v1/chat/bans and DELETE /api/v1/chat/bans/:ban.

func (m *Module) listBans(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	bans, err := m.chat.Bans(c.Request().Context(), p.TenantID)
	if err != nil {
		return err
	}
	if bans == nil {
		bans = []chat.Ban{}
	}
	return c.JSON(http.StatusOK, map[string]any{"bans": bans})
}

func (m *Module) addBan(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var in chat.BanInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	b, err := m.chat.AddBan(c.Request().Context(), p, in, originOf(c))
	if err != nil {
		return httpError(c, err)
	}
	return c.JSON(http.StatusCreated, b)
}

func (m *Module) removeBan(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	if !protocol.ValidID(c.Param("ban")) {
		return api.ErrNotFound
	}
	if err := m.chat.RemoveBan(c.Request().Context(), p, c.Param("ban"), originOf(c)); err != nil {
		return httpError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
