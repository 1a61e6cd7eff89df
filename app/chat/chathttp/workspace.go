package chathttp

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/protocol"
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

// workspacePage is what workspace.html renders: who is signed in, what the workspace may offer
// them (each flag true when they hold the permission tenant-wide or in a department; the server
// still checks every frame and request in the conversation's department) and which optional
// frames the agent socket of this build understands.
type workspacePage struct {
	// UserID is the signed-in user.
	UserID string
	// Can lists the workspace's features the user may use, space-separated: monitor, whisper,
	// join, transfer, end, refuse, card, ban, canned, invite, team, offline, cobrowse,
	// cobrowse_control.
	Can string
	// Frames lists the optional agent frames the socket accepts, space-separated: status
	// (online/away) and transfer_note (a note with a transfer).
	Frames string
	// APIs lists the optional JSON routes this server has, space-separated: agents (the transfer
	// dialog's roster) and canned (the composer's canned messages).
	APIs string
	// Monitor and Join name a conversation /live asked the workspace to supervise.
	Monitor, Join string
}

// workspaceFeatures maps each workspace feature to the permission it needs.
var workspaceFeatures = []struct{ feature, permission string }{
	{"monitor", "chat.monitor"}, {"whisper", "chat.whisper"}, {"join", "chat.join"},
	{"transfer", "chat.transfer"}, {"end", "chat.end"}, {"refuse", "chat.refuse"},
	{"card", "chat.request_card"}, {"ban", "ban.manage"}, {"canned", "canned.use"},
	{"invite", "chat.invite"}, {"team", "chat.agent_chat"}, {"offline", "offline.reply"},
	{"cobrowse", "cobrowse.view"}, {"cobrowse_control", "cobrowse.control"},
}

// socketFrames are the optional agent frames the decoder of this build accepts: the workspace
// offers the status selector and the transfer note only when the socket takes them.
var socketFrames = func() string {
	var out []string
	probes := []struct{ name, frame string }{
		{"status", `{"type":"status","status":"online"}`},
		{"transfer_note", `{"type":"transfer","conversation_id":"c","agent_id":"a","note":"n"}`},
	}
	for _, p := range probes {
		if _, err := protocol.Decode(protocol.SideAgent, []byte(p.frame)); err == nil {
			out = append(out, p.name)
		}
	}
	return strings.Join(out, " ")
}()

// workspace serves GET /workspace: the agent workspace (static/console-chat.js over the agent
// socket) — status, queue, chats in tabs, composer, visitor panel, transfer and, for
// supervisors, the live chats with monitor, whisper and join. ?monitor= or ?join= (from /live)
// names a conversation to supervise at once.
func (m *Module) workspace(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var can []string
	for _, f := range workspaceFeatures {
		all, depts, err := m.chat.DepartmentsWith(ctx, p, f.permission)
		if err != nil {
			return err
		}
		if all || len(depts) > 0 {
			can = append(can, f.feature)
		}
	}
	d := workspacePage{UserID: p.UserID, Can: strings.Join(can, " "), Frames: socketFrames, APIs: optionalAPIs(c.Echo())}
	if id := c.QueryParam("monitor"); validID(id) {
		d.Monitor = id
	}
	if id := c.QueryParam("join"); validID(id) {
		d.Join = id
	}
	return m.pages.Render(c, http.StatusOK, "workspace.html", d)
}

// optionalAPIs names the JSON routes of other parts of the console the workspace uses when the
// server has them: GET /api/v1/chat/agents ("agents") and GET /api/v1/canned ("canned").
func optionalAPIs(e *echo.Echo) string {
	want := map[string]string{chatBase + "/agents": "agents", "/api/v1/canned": "canned"}
	var out []string
	for _, r := range e.Routes() {
		if name, ok := want[r.Path]; ok && r.Method == http.MethodGet {
			out = append(out, name)
			delete(want, r.Path)
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// validID reports whether s may be a conversation id the page hands to its socket (the socket
// checks it again): 1–64 letters, digits and dashes.
func validID(s string) bool {
	if s == "" || len(s) > protocol.MaxIDLen {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// conversationVisitor serves GET /api/v1/chat/conversations/:conversation/visitor: the visitor
// panel of the workspace (chat.accept in the conversation's department). The e-mail address is
// masked unless the user holds visitor.view_pii there (then the view is audited); ?mask=1 asks for
// it masked anyway (the panel's refresh), which is not audited.
func (m *Module) conversationVisitor(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	panel, err := m.chat.Visitor(c.Request().Context(), p, c.Param("conversation"), c.QueryParam("mask") == "1", originOf(c))
	if err != nil {
		return httpError(c, err)
	}
	return c.JSON(http.StatusOK, panel)
}

// liveChat is one row of GET /api/v1/chat/live.
type liveChat struct {
	ID           string     `json:"id"`
	SiteID       string     `json:"site_id"`
	Site         string     `json:"site"`
	DepartmentID string     `json:"department_id"`
	Department   string     `json:"department"`
	Status       string     `json:"status"`
	Agent        *liveAgent `json:"agent"`
	QueuedAt     string     `json:"queued_at"`
	AcceptedAt   string     `json:"accepted_at,omitempty"`
	// WaitSeconds is how long the chat waited (or still waits) for an agent.
	WaitSeconds int64 `json:"wait_seconds"`
}

type liveAgent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// liveJSON serves GET /api/v1/chat/live: the supervisor view of the workspace — every open chat
// in the departments where the user holds chat.monitor, with its agent and wait. No visitor data,
// no message.
func (m *Module) liveJSON(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	chats, err := m.chat.Live(ctx, p)
	if errors.Is(err, chat.ErrForbidden) {
		return api.ErrForbidden
	}
	if err != nil {
		return err
	}
	siteNames, deptNames, err := tenant.Names(ctx, m.tenants, p.TenantID)
	if err != nil {
		return err
	}
	var ids []string
	for _, lc := range chats {
		if lc.AgentID != "" {
			ids = append(ids, lc.AgentID)
		}
	}
	people := map[string]account.Person{}
	if m.people != nil && len(ids) > 0 {
		if people, err = m.people.People(ctx, p.TenantID, ids); err != nil {
			return err
		}
	}
	now := m.now()
	out := make([]liveChat, 0, len(chats))
	for _, lc := range chats {
		row := liveChat{ID: lc.ID, SiteID: lc.SiteID, Site: siteNames[lc.SiteID], DepartmentID: lc.DepartmentID,
			Department: deptNames[lc.DepartmentID], Status: lc.Status, QueuedAt: lc.QueuedAt.UTC().Format(time.RFC3339)}
		wait := now.Sub(lc.QueuedAt)
		if lc.AcceptedAt != nil {
			row.AcceptedAt = lc.AcceptedAt.UTC().Format(time.RFC3339)
			wait = lc.AcceptedAt.Sub(lc.QueuedAt)
		}
		row.WaitSeconds = max(int64(wait.Seconds()), 0)
		if lc.AgentID != "" {
			who := people[lc.AgentID]
			name := who.DisplayName
			if name == "" {
				name = who.Email
			}
			row.Agent = &liveAgent{ID: lc.AgentID, Name: name}
		}
		out = append(out, row)
	}
	return c.JSON(http.StatusOK, map[string]any{"chats": out})
}
