package auditapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
)

// People names a tenant's users: those of ids that are users of the tenant, keyed by id, in one
// query (account.Store implements it).
type People interface {
	People(ctx context.Context, tenantID string, ids []string) (map[string]account.Person, error)
}

var _ People = (*account.Store)(nil)

// pageRow is one event as the audit page shows it: ActorName and TargetName name the user the
// actor or target id refers to, and are empty when the id names no user of the tenant.
type pageRow struct {
	EventBody
	ActorName  string
	TargetName string
}

// pageFilters are the query parameters of the search form and the API that the "Older events"
// link carries over; the cursor (before) is set apart.
var pageFilters = []string{"q", "action", "outcome", "actor", "target_kind", "target_id", "from", "to", "limit"}

// olderLink returns the link to the page after the current one: every active filter of the
// request and the cursor next.
func olderLink(params url.Values, next int64) string {
	v := url.Values{}
	for _, name := range pageFilters {
		for _, x := range params[name] {
			if x != "" {
				v.Add(name, x)
			}
		}
	}
	v.Set("before", strconv.FormatInt(next, 10))
	return "/audit?" + v.Encode()
}

// personLabel is a user's name as the page shows it: "Name (e-mail)", or the one of them set.
// It is PAN-masked like the rest of the log's free text.
func personLabel(p account.Person) string {
	label := p.Email
	switch {
	case p.DisplayName != "" && p.Email != "":
		label = p.DisplayName + " (" + p.Email + ")"
	case p.DisplayName != "":
		label = p.DisplayName
	}
	return pan.MaskLast4(label)
}

// name resolves the users the events refer to (user actors, user targets) in one query, and
// returns the page rows.
func (m *Module) name(ctx context.Context, tenantID string, events []EventBody) ([]pageRow, error) {
	rows := make([]pageRow, len(events))
	seen := map[string]bool{}
	var ids []string
	want := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for i, e := range events {
		rows[i].EventBody = e
		if e.Actor.Kind == audit.ActorUser {
			want(e.Actor.ID)
		}
		if e.Target.Kind == "user" {
			want(e.Target.ID)
		}
	}
	if m.People == nil || len(ids) == 0 {
		return rows, nil
	}
	people, err := m.People.People(ctx, tenantID, ids)
	if err != nil {
		return nil, err
	}
	for i, e := range events {
		if p, ok := people[e.Actor.ID]; ok && e.Actor.Kind == audit.ActorUser {
			rows[i].ActorName = personLabel(p)
		}
		if p, ok := people[e.Target.ID]; ok && e.Target.Kind == "user" {
			rows[i].TargetName = personLabel(p)
		}
	}
	return rows, nil
}

func (m *Module) page(c echo.Context) error {
	data, err := m.pageData(c)
	if err != nil {
		return err
	}
	return m.Pages.Render(c, http.StatusOK, "audit.html", data)
}

// verifyPage verifies the chain now and shows the page with the result. Verifying again only
// verifies again: a repeated submit changes nothing but adds its own record.
func (m *Module) verifyPage(c echo.Context) error {
	rep, err := m.runVerify(c, api.PrincipalOf(c).TenantID, 0)
	if err != nil {
		return err
	}
	data, err := m.pageData(c)
	if err != nil {
		return err
	}
	data["Verified"] = &rep
	return m.Pages.Render(c, http.StatusOK, "audit.html", data)
}

func (m *Module) pageData(c echo.Context) (map[string]any, error) {
	out, q, err := m.runSearch(c)
	var msg string
	var apiErr *api.Error
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest {
		msg, err = apiErr.Message, nil
	}
	if err != nil {
		return nil, err
	}
	tenantID := api.PrincipalOf(c).TenantID
	rows, err := m.name(c.Request().Context(), tenantID, out.Events)
	if err != nil {
		return nil, err
	}
	var older string
	if out.Next > 0 {
		older = olderLink(c.QueryParams(), out.Next)
	}
	data := map[string]any{
		"Events": rows, "Older": older, "Query": q, "Error": msg,
		"Keyword": c.QueryParam("q"), "Action": c.QueryParam("action"), "Outcome": c.QueryParam("outcome"),
		"Status": m.statusBody(tenantID), "Actions": audit.Catalogue(),
	}
	if m.Allowed != nil {
		data["CanVerify"] = m.Allowed(c, "audit.verify", "")
		data["CanExport"] = m.Allowed(c, "audit.export", "")
	}
	if m.CSRF != nil {
		data["CSRF"] = m.CSRF(c)
	}
	if m.Drift != nil {
		d, err := m.Drift(c.Request().Context(), tenantID)
		if err != nil {
			return nil, err
		}
		d = d.WithLinks(nil) // read-only here: the fixes are linked from the overview
		data["Drift"] = &d
	}
	return data, nil
}
