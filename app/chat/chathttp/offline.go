package chathttp

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// listOffline serves the offline messages the user may read, of every department or of the
// :department the route names.
func (m *Module) listOffline(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	msgs, err := m.chat.OfflineMessages(c.Request().Context(), p, 500, originOf(c))
	if err != nil {
		return httpError(c, err)
	}
	if dept := c.Param("department"); dept != "" {
		kept := msgs[:0]
		for _, msg := range msgs {
			if msg.DepartmentID == dept {
				kept = append(kept, msg)
			}
		}
		msgs = kept
	}
	return c.JSON(http.StatusOK, map[string]any{"offline_messages": msgs})
}
