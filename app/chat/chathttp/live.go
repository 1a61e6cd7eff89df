package chathttp

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/tenant"
)

// livePage is what live.html renders.
type livePage struct {
	Chats []liveRow
	// Departments are those whose chats the user may list; Department the one chosen ("": all).
	Departments []tenant.Department
	Department  string
	// Workspace says the user may open the workspace (chat.accept somewhere), where monitoring,
	// whispering and joining happen; Join that they hold chat.join somewhere.
	Workspace, Join bool
}

// liveRow is one live chat as the page shows it.
type liveRow struct {
	ID, Site, SiteID, Department, DepartmentID string
	// Agent is the agent handling the chat (zero while it waits in the queue).
	Agent account.Person
	// State is "waiting" or "in progress"; Since how long it has been so.
	State, Since string
}

// live serves GET /live: every open chat in the departments where the user holds chat.monitor
// (all of them when tenant-wide), or in the one ?department= names, with its site, department,
// agent and waiting time or duration.
func (m *Module) live(c echo.Context) error {
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
	only := c.QueryParam("department")
	sites, err := m.tenants.Sites(ctx, p.TenantID)
	if err != nil {
		return err
	}
	siteNames := map[string]string{}
	for _, s := range sites {
		siteNames[s.ID] = s.Name
	}
	depts, err := m.tenants.Departments(ctx, p.TenantID)
	if err != nil {
		return err
	}
	deptNames := map[string]string{}
	for _, d := range depts {
		deptNames[d.ID] = d.Name
	}
	d := livePage{Department: only, Chats: make([]liveRow, 0, len(chats))}
	all, mine, err := m.chat.DepartmentsWith(ctx, p, permMonitor)
	if err != nil {
		return err
	}
	for perm, flag := range map[string]*bool{permAccept: &d.Workspace, "chat.join": &d.Join} {
		anywhere, in, err := m.chat.DepartmentsWith(ctx, p, perm)
		if err != nil {
			return err
		}
		*flag = anywhere || len(in) > 0
	}
	for _, dep := range depts {
		if all || slices.Contains(mine, dep.ID) {
			d.Departments = append(d.Departments, dep)
		}
	}
	if only != "" {
		keep := chats[:0]
		for _, lc := range chats {
			if lc.DepartmentID == only {
				keep = append(keep, lc)
			}
		}
		chats = keep
	}
	var agents []string
	for _, lc := range chats {
		if lc.AgentID != "" {
			agents = append(agents, lc.AgentID)
		}
	}
	people, err := m.people.People(ctx, p.TenantID, agents)
	if err != nil {
		return err
	}
	now := m.now()
	for _, lc := range chats {
		row := liveRow{ID: lc.ID, SiteID: lc.SiteID, Site: siteNames[lc.SiteID], DepartmentID: lc.DepartmentID,
			Department: deptNames[lc.DepartmentID], State: "waiting", Since: elapsed(now.Sub(lc.QueuedAt))}
		if lc.AgentID != "" {
			row.Agent = people[lc.AgentID]
			row.Agent.ID = lc.AgentID
		}
		if lc.Status == chat.StatusActive && lc.AcceptedAt != nil {
			row.State, row.Since = "in progress", elapsed(now.Sub(*lc.AcceptedAt))
		}
		d.Chats = append(d.Chats, row)
	}
	return m.pages.Render(c, http.StatusOK, "live.html", d)
}

// elapsed writes a duration the way the page shows it: "45 s", "12 min", "2 h 05 min".
func elapsed(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
	case d >= time.Hour:
		return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d/time.Second))
	}
	return fmt.Sprintf("%d min", int(d/time.Minute))
}
