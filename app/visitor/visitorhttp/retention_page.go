package visitorhttp

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/compliance/pan"
)

// The bounds of a tenant's visitor retention, in days (visitor.Store.SetRetention's).
const (
	minRetentionDays = 1
	maxRetentionDays = 3650
)

// retentionNotices are the confirmations the page shows after its form, by key, so no text is
// reflected from the query string.
var retentionNotices = map[string]string{
	"retention_changed":   "The retention was changed. Visitor data older than the new period is deleted within the hour.",
	"retention_unchanged": "The retention was already set to that; nothing changed.",
}

// retentionPage is what retention.html renders.
type retentionPage struct {
	CSRF   string
	Notice string
	// Days is the retention in force; Input the form's value as submitted (re-rendered with
	// Errors by field name).
	Days    int
	Input   string
	Errors  map[string]string
	Default int
	Min     int
	Max     int
}

func (m *Module) renderRetention(c echo.Context, status int, d retentionPage) error {
	p := api.PrincipalOf(c)
	if p == nil {
		return api.ErrUnauthenticated
	}
	days, err := m.Store.Retention(c.Request().Context(), p.TenantID)
	if err != nil {
		return err
	}
	d.Days, d.Default, d.Min, d.Max = days, visitor.DefaultRetentionDays, minRetentionDays, maxRetentionDays
	if d.Input == "" && d.Errors == nil {
		d.Input = strconv.Itoa(days)
	}
	if m.CSRF != nil {
		d.CSRF = m.CSRF(c)
	}
	return m.Pages.Render(c, status, "retention.html", d)
}

func (m *Module) retentionPage(c echo.Context) error {
	return m.renderRetention(c, http.StatusOK, retentionPage{Notice: retentionNotices[c.QueryParam("notice")]})
}

// retentionForm sets the retention from the page's form. Submitting the value in force changes
// and records nothing, so a repeated submit is harmless.
func (m *Module) retentionForm(c echo.Context) error {
	p := api.PrincipalOf(c)
	if p == nil {
		return api.ErrUnauthenticated
	}
	raw := strings.TrimSpace(c.FormValue("days"))
	fieldError := func(err *api.Error) error {
		// The input is shown again only when it is a short plain number: no text, and never a
		// card number, is reflected.
		if _, convErr := strconv.Atoi(raw); convErr != nil || len(raw) > 6 || pan.Contains(raw) {
			raw = ""
		}
		return m.renderRetention(c, http.StatusUnprocessableEntity, retentionPage{Input: raw, Errors: map[string]string{err.Field: err.Message}})
	}
	days, err := strconv.Atoi(raw)
	if err != nil {
		return fieldError(api.ErrInvalidRequest.WithField("days").WithMessage("Enter a whole number of days."))
	}
	current, err := m.Store.Retention(c.Request().Context(), p.TenantID)
	if err != nil {
		return err
	}
	if days == current {
		return c.Redirect(http.StatusSeeOther, "/retention?notice=retention_unchanged")
	}
	if err := m.changeRetention(c, p, days); err != nil {
		var ae *api.Error
		if errors.As(err, &ae) && ae.Field != "" && ae.Status < 500 {
			return fieldError(ae)
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/retention?notice=retention_changed")
}
