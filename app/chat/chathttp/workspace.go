package chathttp

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/tenant"
)

// The console's chat pages serve every department where the user holds their permission
// (chat.accept for the workspace, chat.monitor for the live chats), so the route's guard checks
// it where the user holds it: in the department ?department= names (another tenant's, or an
// unknown one, is 404), else tenant-wide or in the first department where the user holds it. A
// user who holds it nowhere is refused (403, audited) like on any other route.
func (m *Module) heldIn(permission string) func(c echo.Context, tenantID string) (string, error) {
	return func(c echo.Context, tenantID string) (string, error) {
		ctx := c.Request().Context()
		if id := c.QueryParam("department"); id != "" {
			if len(id) > 64 {
				return "", api.ErrNotFound
			}
			_, err := m.tenants.Department(ctx, tenantID, id)
			if errors.Is(err, tenant.ErrNotFound) {
				return "", api.ErrNotFound
			}
			return id, err
		}
		p, err := principal(c)
		if err != nil {
			return "", err
		}
		return m.chat.DepartmentWith(ctx, p, permission)
	}
}

// workspacePage is what workspace.html renders.
type workspacePage struct {
	// UserID is the signed-in user.
	UserID string
}

// workspace serves GET /workspace: the agent workspace (static/console-chat.js over the agent
// socket) — the queue with its offers, the agent's conversations and the selected transcript.
func (m *Module) workspace(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	return m.pages.Render(c, http.StatusOK, "workspace.html", workspacePage{UserID: p.UserID})
}
