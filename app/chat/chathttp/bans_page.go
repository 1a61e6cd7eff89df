package chathttp

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/compliance/pan"
)

// The console's ban list page: GET /bans, POST /bans (add) and POST /bans/:ban/delete (lift),
// over the same engine calls, validation and audit records as the JSON routes.

// People names the users who banned: display name and e-mail address by user id (account.Store).
type People interface {
	People(ctx context.Context, tenantID string, ids []string) (map[string]account.Person, error)
}

// banExpiryLayout is the format of the form's expiry (an HTML datetime-local value, in UTC).
const banExpiryLayout = "2006-01-02T15:04"

// banNotices are the confirmations the page shows after a form, by key, so no text is reflected
// from the query string.
var banNotices = map[string]string{
	"ban_added":  "The ban was added. It applies to new chats and page views at once.",
	"ban_lifted": "The ban was lifted.",
}

// banForm is the add form as submitted (re-rendered when it has errors).
type banForm struct {
	Kind, Value, Reason, Expires string
}

// banRow is a ban as the page lists it, with who added it.
type banRow struct {
	chat.Ban
	// By is the user who added the ban; Known is false when they no longer exist.
	By    account.Person
	Known bool
}

// bansPage is what bans.html renders.
type bansPage struct {
	CSRF   string
	Notice string
	// Errors holds field errors of the add form by field name (kind, value, reason, expires_at);
	// Error a message without a field.
	Errors  map[string]string
	Error   string
	Form    banForm
	Active  []banRow
	Expired []banRow
}

func (m *Module) csrf(c echo.Context) string {
	if m.csrfToken == nil {
		return ""
	}
	return m.csrfToken(c)
}

func (m *Module) renderBans(c echo.Context, status int, d bansPage) error {
	if m.pages == nil {
		return api.ErrNotFound
	}
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	bans, err := m.chat.Bans(ctx, p.TenantID)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(bans))
	for _, b := range bans {
		ids = append(ids, b.CreatedBy)
	}
	people := map[string]account.Person{}
	if m.people != nil && len(ids) > 0 {
		if people, err = m.people.People(ctx, p.TenantID, ids); err != nil {
			return err
		}
	}
	now := m.chat.Now()
	for _, b := range bans {
		by, ok := people[b.CreatedBy]
		row := banRow{Ban: b, By: by, Known: ok}
		if b.ExpiresAt != nil && !b.ExpiresAt.After(now) {
			d.Expired = append(d.Expired, row)
		} else {
			d.Active = append(d.Active, row)
		}
	}
	d.CSRF = m.csrf(c)
	if d.Form.Kind == "" {
		d.Form.Kind = chat.BanIP
	}
	return m.pages.Render(c, status, "bans.html", d)
}

func (m *Module) bansPage(c echo.Context) error {
	return m.renderBans(c, http.StatusOK, bansPage{Notice: banNotices[c.QueryParam("notice")]})
}

func (m *Module) addBanForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	f := banForm{Kind: c.FormValue("kind"), Value: strings.TrimSpace(c.FormValue("value")),
		Reason: c.FormValue("reason"), Expires: strings.TrimSpace(c.FormValue("expires_at"))}
	in := chat.BanInput{Kind: f.Kind, Value: f.Value, Reason: f.Reason}
	if f.Expires != "" {
		t, err := time.ParseInLocation(banExpiryLayout, f.Expires, time.UTC)
		if err != nil {
			return m.banFormFailed(c, f, api.ErrInvalidRequest.WithField("expires_at").WithMessage("Enter the expiry as a date and time (UTC), or leave it empty."))
		}
		in.ExpiresAt = &t
	}
	if _, err := m.chat.AddBan(c.Request().Context(), p, in, originOf(c)); err != nil {
		return m.banFormFailed(c, f, httpError(c, err))
	}
	return c.Redirect(http.StatusSeeOther, "/bans?notice=ban_added")
}

// banFormFailed re-renders the add form with the API error's field and message, or passes other
// errors on. What the page shows again never holds a card number: a refused value is dropped and
// the reason is masked as it would be stored.
func (m *Module) banFormFailed(c echo.Context, f banForm, err error) error {
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status >= 500 || ae.Status == http.StatusNotFound || ae.Status == http.StatusForbidden {
		return err
	}
	if pan.Contains(f.Value) {
		f.Value = ""
	}
	f.Reason = pan.MaskLast4(f.Reason)
	d := bansPage{Form: f}
	switch {
	case errors.Is(err, errBanExists):
		d.Errors = map[string]string{"value": ae.Message}
	case ae.Field != "":
		d.Errors = map[string]string{ae.Field: ae.Message}
	default:
		d.Error = ae.Message
	}
	status := ae.Status
	if status == http.StatusBadRequest {
		status = http.StatusUnprocessableEntity
	}
	return m.renderBans(c, status, d)
}

func (m *Module) liftBanForm(c echo.Context) error {
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
	return c.Redirect(http.StatusSeeOther, "/bans?notice=ban_lifted")
}
