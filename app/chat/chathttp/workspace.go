package chathttp

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// The console's chat pages are not guarded by a route permission: taking chats (chat.accept)
// and supervising them (chat.monitor) are department permissions, and these pages address no
// department — they serve every department where the user holds them. The route needs a
// session; the handler asks the engine whether the user holds the permission tenant-wide or in
// any department, as the agent socket does, and answers 403 with the role to grant otherwise.

// grantRoles names, for the refusal pages, the default roles that hold chat.accept and
// chat.monitor.
const (
	rolesTakingChats = "agent, supervisor, admin or owner"
	rolesMonitoring  = "supervisor, admin or owner"
)

// workspacePage is what workspace.html renders.
type workspacePage struct {
	// Allowed is false when the user may neither take nor supervise chats (status 403).
	Allowed bool
	// TakesChats is true when chats are offered to the user (chat.accept somewhere).
	TakesChats bool
	// UserID is the signed-in user, for the grant the page asks for.
	UserID string
	Roles  string
}

// workspace serves GET /workspace: the agent workspace (static/console-chat.js over the agent
// socket) for a user who may open the agent socket; 403 with the role to grant otherwise.
func (m *Module) workspace(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	may, err := m.chat.MayConnect(ctx, p)
	if err != nil {
		return err
	}
	takes, err := m.chat.TakesChats(ctx, p)
	if err != nil {
		return err
	}
	d := workspacePage{Allowed: may, TakesChats: takes, UserID: p.UserID, Roles: rolesTakingChats}
	status := http.StatusOK
	if !may {
		status = http.StatusForbidden
	}
	return m.pages.Render(c, status, "workspace.html", d)
}
