package chathttp

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/compliance/pan"
)

// The console's offline-message inbox: GET /offline (newest first, new or handled), GET
// /offline/:message (one message opened, audited as a view of the visitor's personal data) and
// POST /offline/:message/handled (marked handled with a note of the answer given).

// Permissions of the inbox's routes.
const (
	permOfflineView  = "offline.view.department"
	permOfflineReply = "offline.reply"
)

// offlineNotices are the confirmations the inbox shows after a form, by key.
var offlineNotices = map[string]string{
	"handled": "The message was marked handled.",
}

// offlineRow is an offline message as the inbox lists it.
type offlineRow struct {
	chat.OfflineSummary
	Department, Site string
	By               account.Person
}

// offlinePage is what offline.html renders.
type offlinePage struct {
	Notice   string
	Status   string
	Messages []offlineRow
}

// offlineMessagePage is what offline_message.html renders.
type offlineMessagePage struct {
	CSRF             string
	Error            string
	Errors           map[string]string
	Note             string
	Message          chat.OfflineDetail
	Department, Site string
	By               account.Person
}

// names returns the tenant's department and site names by id.
func (m *Module) names(c echo.Context, tenantID string) (depts, sites map[string]string, err error) {
	ctx := c.Request().Context()
	depts, sites = map[string]string{}, map[string]string{}
	ds, err := m.tenants.Departments(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range ds {
		depts[d.ID] = d.Name
	}
	ss, err := m.tenants.Sites(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	for _, s := range ss {
		sites[s.ID] = s.Name
	}
	return depts, sites, nil
}

// person names a user for the inbox (an empty Person when unknown).
func (m *Module) person(c echo.Context, tenantID string, ids []string) (map[string]account.Person, error) {
	if m.people == nil || len(ids) == 0 {
		return map[string]account.Person{}, nil
	}
	return m.people.People(c.Request().Context(), tenantID, ids)
}

func (m *Module) offlinePage(c echo.Context) error {
	if m.pages == nil {
		return api.ErrNotFound
	}
	p, err := principal(c)
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if status != chat.OfflineNew && status != chat.OfflineHandled {
		status = ""
	}
	msgs, err := m.chat.OfflineInbox(c.Request().Context(), p, chat.OfflineFilter{Status: status})
	if err != nil {
		return httpError(c, err)
	}
	depts, sites, err := m.names(c, p.TenantID)
	if err != nil {
		return err
	}
	var ids []string
	for _, msg := range msgs {
		if msg.HandledBy != "" {
			ids = append(ids, msg.HandledBy)
		}
	}
	people, err := m.person(c, p.TenantID, ids)
	if err != nil {
		return err
	}
	d := offlinePage{Notice: offlineNotices[c.QueryParam("notice")], Status: status}
	for _, msg := range msgs {
		d.Messages = append(d.Messages, offlineRow{OfflineSummary: msg, Department: depts[msg.DepartmentID], Site: sites[msg.SiteID], By: people[msg.HandledBy]})
	}
	return m.pages.Render(c, http.StatusOK, "offline.html", d)
}

// renderOfflineMessage opens :message and renders it; d carries a form's errors.
func (m *Module) renderOfflineMessage(c echo.Context, status int, d offlineMessagePage) error {
	if m.pages == nil {
		return api.ErrNotFound
	}
	p, err := principal(c)
	if err != nil {
		return err
	}
	msg, err := m.chat.OpenOffline(c.Request().Context(), p, c.Param("message"), originOf(c))
	if err != nil {
		return httpError(c, err)
	}
	depts, sites, err := m.names(c, p.TenantID)
	if err != nil {
		return err
	}
	people, err := m.person(c, p.TenantID, []string{msg.HandledBy})
	if err != nil {
		return err
	}
	d.CSRF, d.Message, d.Department, d.Site, d.By = m.csrf(c), msg, depts[msg.DepartmentID], sites[msg.SiteID], people[msg.HandledBy]
	return m.pages.Render(c, status, "offline_message.html", d)
}

func (m *Module) offlineMessagePage(c echo.Context) error {
	return m.renderOfflineMessage(c, http.StatusOK, offlineMessagePage{})
}

func (m *Module) handleOfflineForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	note := c.FormValue("note")
	err = m.chat.HandleOffline(c.Request().Context(), p, c.Param("message"), note, originOf(c))
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/offline?notice=handled")
	}
	var ae *api.Error
	if !errors.As(httpError(c, err), &ae) || ae.Status >= 500 || ae.Status == http.StatusNotFound || ae.Status == http.StatusForbidden {
		return httpError(c, err)
	}
	d := offlineMessagePage{Note: pan.MaskLast4(note)}
	if ae.Field != "" && ae.Field != "status" {
		d.Errors = map[string]string{ae.Field: ae.Message}
	} else {
		d.Error = ae.Message
	}
	return m.renderOfflineMessage(c, http.StatusUnprocessableEntity, d)
}
