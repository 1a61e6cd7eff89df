package chathttp

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/compliance/pan"
)

// Routing: the roster of the transfer dialog (GET /api/v1/chat/agents), the routing API
// (GET /api/v1/chat/routing, PUT …/routing/settings, …/routing/departments/:department,
// …/routing/agents/:user) and the console's Routing page over the same engine calls (GET
// /routing and its three forms).

// Agents lists a tenant's console users who take chats (id → display name, or e-mail address
// when they have no name), for the Routing page's agents.
type Agents func(ctx context.Context, tenantID string) (map[string]string, error)

// roster serves GET /api/v1/chat/agents: who a chat can be transferred to.
func (m *Module) roster(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	r, err := m.chat.Roster(c.Request().Context(), p)
	if err != nil {
		return httpError(c, err)
	}
	return c.JSON(http.StatusOK, r)
}

// agentsOf returns the tenant's agents (none without an Agents lister).
func (m *Module) agentsOf(ctx context.Context, tenantID string) (map[string]string, error) {
	if m.agents == nil {
		return map[string]string{}, nil
	}
	return m.agents(ctx, tenantID)
}

func (m *Module) getRouting(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	agents, err := m.agentsOf(ctx, p.TenantID)
	if err != nil {
		return err
	}
	r, err := m.chat.Routing(ctx, p.TenantID, agents)
	if err != nil {
		return httpError(c, err)
	}
	return c.JSON(http.StatusOK, r)
}

func (m *Module) putRoutingSettings(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var in chat.RoutingSettings
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	if err := m.chat.SaveRoutingSettings(c.Request().Context(), p, in, originOf(c)); err != nil {
		return httpError(c, err)
	}
	return c.JSON(http.StatusOK, in)
}

// departmentRoutingInput is the body of PUT …/routing/departments/:department.
type departmentRoutingInput struct {
	Mode                string   `json:"mode"`
	Capacity            int      `json:"capacity"`
	OfferTimeoutSeconds int      `json:"offer_timeout_seconds"`
	Priority            int      `json:"priority"`
	RequiredSkills      []string `json:"required_skills"`
	SkillQuestion       string   `json:"skill_question"`
}

func (m *Module) putDepartmentRouting(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	if !protocol.ValidID(c.Param("department")) {
		return api.ErrNotFound
	}
	var in departmentRoutingInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	d, err := m.chat.SaveDepartmentRouting(c.Request().Context(), p, chat.DepartmentRouting{DepartmentID: c.Param("department"),
		Mode: in.Mode, Capacity: in.Capacity, OfferTimeoutSeconds: in.OfferTimeoutSeconds, Priority: in.Priority,
		RequiredSkills: in.RequiredSkills, SkillQuestion: in.SkillQuestion}, originOf(c))
	if err != nil {
		return httpError(c, err)
	}
	if d.RequiredSkills == nil {
		d.RequiredSkills = []string{}
	}
	return c.JSON(http.StatusOK, d)
}

// agentRoutingInput is the body of PUT …/routing/agents/:user.
type agentRoutingInput struct {
	Capacity int      `json:"capacity"`
	Skills   []string `json:"skills"`
}

// agentOf returns the display name of one of the tenant's agents, or ErrNotFound.
func (m *Module) agentOf(ctx context.Context, tenantID, userID string) (string, error) {
	if !protocol.ValidID(userID) {
		return "", api.ErrNotFound
	}
	agents, err := m.agentsOf(ctx, tenantID)
	if err != nil {
		return "", err
	}
	name, ok := agents[userID]
	if !ok {
		return "", api.ErrNotFound
	}
	return name, nil
}

func (m *Module) putAgentRouting(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	name, err := m.agentOf(ctx, p.TenantID, c.Param("user"))
	if err != nil {
		return err
	}
	var in agentRoutingInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	a, err := m.chat.SaveAgentRouting(ctx, p, c.Param("user"), in.Capacity, in.Skills, originOf(c))
	if err != nil {
		return httpError(c, err)
	}
	a.Name = name
	if a.Skills == nil {
		a.Skills = []string{}
	}
	return c.JSON(http.StatusOK, a)
}

// routingNotices are the page's confirmations by key (nothing is reflected from the query).
var routingNotices = map[string]string{
	"settings":   "The routing settings were saved.",
	"department": "The department's routing was saved. It applies to chats routed from now on.",
	"agent":      "The agent's capacity and skills were saved.",
}

// routingPage is what routing.html renders.
type routingPage struct {
	CSRF    string
	Notice  string
	Routing chat.RoutingOverview
	// Form names the form that failed ("settings", "department:ID" or "agent:ID"); Errors holds
	// its field errors and Error a message without a field.
	Form   string
	Errors map[string]string
	Error  string
	// Values are the failed form's values, shown again (card numbers removed).
	Values map[string]string
	// Settings, Departments and Agents are the forms as shown: stored values, or the failed
	// form's values with its errors.
	Settings    routingForm
	Departments []routingForm
	Agents      []routingForm
}

// routingForm is one form of the page: what it edits, its values and its errors.
type routingForm struct {
	ID, Name, Status string
	Values           map[string]string
	Errors           map[string]string
	Error            string
}

// form returns the form named key with stored as its values, or the failed form's.
func (d *routingPage) form(key, id, name string, stored map[string]string) routingForm {
	f := routingForm{ID: id, Name: name, Values: stored}
	if d.Form == key {
		f.Values, f.Errors, f.Error = d.Values, d.Errors, d.Error
	}
	return f
}

func (m *Module) renderRouting(c echo.Context, status int, d routingPage) error {
	if m.pages == nil {
		return api.ErrNotFound
	}
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	agents, err := m.agentsOf(ctx, p.TenantID)
	if err != nil {
		return err
	}
	if d.Routing, err = m.chat.Routing(ctx, p.TenantID, agents); err != nil {
		return httpError(c, err)
	}
	r := d.Routing
	d.Settings = d.form("settings", "", "", map[string]string{"idle_minutes": strconv.Itoa(r.Settings.IdleMinutes),
		"default_capacity": strconv.Itoa(r.Settings.DefaultCapacity)})
	for _, dr := range r.Departments {
		d.Departments = append(d.Departments, d.form("department:"+dr.DepartmentID, dr.DepartmentID, dr.Name, map[string]string{
			"mode": dr.Mode, "capacity": strconv.Itoa(dr.Capacity), "offer_timeout_seconds": strconv.Itoa(dr.OfferTimeoutSeconds),
			"priority": strconv.Itoa(dr.Priority), "required_skills": strings.Join(dr.RequiredSkills, ", "), "skill_question": dr.SkillQuestion}))
	}
	for _, a := range r.Agents {
		f := d.form("agent:"+a.UserID, a.UserID, a.Name, map[string]string{"capacity": strconv.Itoa(a.Capacity), "skills": strings.Join(a.Skills, ", ")})
		f.Status = a.Status
		d.Agents = append(d.Agents, f)
	}
	d.CSRF = m.csrf(c)
	return m.pages.Render(c, status, "routing.html", d)
}

func (m *Module) routingPage(c echo.Context) error {
	return m.renderRouting(c, http.StatusOK, routingPage{Notice: routingNotices[c.QueryParam("notice")]})
}

// formInt reads a whole number from a form field ("" is 0).
func formInt(c echo.Context, field string) (int, error) {
	v := strings.TrimSpace(c.FormValue(field))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || len(v) > 6 {
		return 0, api.ErrInvalidRequest.WithField(field).WithMessage("Enter a whole number.")
	}
	return n, nil
}

// formSkills splits a form's skills (commas or spaces).
func formSkills(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func (m *Module) routingSettingsForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	values := map[string]string{"idle_minutes": c.FormValue("idle_minutes"), "default_capacity": c.FormValue("default_capacity")}
	var in chat.RoutingSettings
	if in.IdleMinutes, err = formInt(c, "idle_minutes"); err == nil {
		if in.DefaultCapacity, err = formInt(c, "default_capacity"); err == nil {
			if err = m.chat.SaveRoutingSettings(c.Request().Context(), p, in, originOf(c)); err != nil {
				err = httpError(c, err)
			}
		}
	}
	if err != nil {
		return m.routingFormFailed(c, "settings", values, err)
	}
	return c.Redirect(http.StatusSeeOther, "/routing?notice=settings")
}

func (m *Module) departmentRoutingForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	id := c.Param("department")
	if !protocol.ValidID(id) {
		return api.ErrNotFound
	}
	values := map[string]string{"mode": c.FormValue("mode"), "capacity": c.FormValue("capacity"),
		"offer_timeout_seconds": c.FormValue("offer_timeout_seconds"), "priority": c.FormValue("priority"),
		"required_skills": c.FormValue("required_skills"), "skill_question": c.FormValue("skill_question")}
	d := chat.DepartmentRouting{DepartmentID: id, Mode: values["mode"], RequiredSkills: formSkills(values["required_skills"]),
		SkillQuestion: values["skill_question"]}
	for field, dst := range map[string]*int{"capacity": &d.Capacity, "offer_timeout_seconds": &d.OfferTimeoutSeconds, "priority": &d.Priority} {
		if *dst, err = formInt(c, field); err != nil {
			return m.routingFormFailed(c, "department:"+id, values, err)
		}
	}
	if _, err := m.chat.SaveDepartmentRouting(c.Request().Context(), p, d, originOf(c)); err != nil {
		return m.routingFormFailed(c, "department:"+id, values, httpError(c, err))
	}
	return c.Redirect(http.StatusSeeOther, "/routing?notice=department")
}

func (m *Module) agentRoutingForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	id := c.Param("user")
	if _, err := m.agentOf(ctx, p.TenantID, id); err != nil {
		return err
	}
	values := map[string]string{"capacity": c.FormValue("capacity"), "skills": c.FormValue("skills")}
	capacity, err := formInt(c, "capacity")
	if err == nil {
		_, err = m.chat.SaveAgentRouting(ctx, p, id, capacity, formSkills(values["skills"]), originOf(c))
		if err != nil {
			err = httpError(c, err)
		}
	}
	if err != nil {
		return m.routingFormFailed(c, "agent:"+id, values, err)
	}
	return c.Redirect(http.StatusSeeOther, "/routing?notice=agent")
}

// routingFormFailed re-renders the page with the failed form's error; what it shows again never
// holds a card number.
func (m *Module) routingFormFailed(c echo.Context, form string, values map[string]string, err error) error {
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status >= 500 || ae.Status == http.StatusNotFound || ae.Status == http.StatusForbidden {
		return err
	}
	for k, v := range values {
		if pan.Contains(v) {
			values[k] = ""
		}
	}
	d := routingPage{Form: form, Values: values}
	if ae.Field != "" {
		d.Errors = map[string]string{ae.Field: ae.Message}
	} else {
		d.Error = ae.Message
	}
	status := ae.Status
	if status == http.StatusBadRequest {
		status = http.StatusUnprocessableEntity
	}
	return m.renderRouting(c, status, d)
}
