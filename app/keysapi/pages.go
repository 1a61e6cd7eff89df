package keysapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/vault"
)

// rotateConfirmation is what the rotation form's confirmation field must hold.
const rotateConfirmation = "ROTATE"

// notices are the confirmations the page shows after a form, by key, so no text is reflected
// from the query string.
var notices = map[string]string{
	"rotated": "The key was rotated. New data keys are wrapped under the new version; existing ones stay readable until they are rewrapped.",
}

// versionCount is one row of the data keys per version table.
type versionCount struct {
	Version int
	Keys    int
	Retired bool
}

// pageData is what keys.html renders.
type pageData struct {
	CSRF   string
	Notice string
	// Errors holds field errors of the rotation form by field name; Error a message without one.
	Errors map[string]string
	Error  string
	Report vault.TenantKeyReport
	// Age is how long ago the key was last rotated, in words; empty when it never was.
	Age      string
	Versions []versionCount
	// NextVersion is the version a rotation creates.
	NextVersion int
	// Confirmation is the word the rotation form asks for.
	Confirmation string
	// Rotation is the key's place in the rotation policy.
	Rotation Rotation
	// CanRotate offers the rotation form (keys.manage); a reader (keys.view) sees the status only.
	CanRotate bool
}

func (m *Module) csrf(c echo.Context) string {
	if m.CSRF == nil {
		return ""
	}
	return m.CSRF(c)
}

func (m *Module) now() time.Time {
	if m.Now == nil {
		return time.Now()
	}
	return m.Now()
}

func (m *Module) render(c echo.Context, status int, d pageData) error {
	p := api.PrincipalOf(c)
	if p == nil {
		return api.ErrUnauthenticated
	}
	rep, err := m.Keys.Status(c.Request().Context(), p.TenantID)
	if err != nil {
		return errKeysUnavailable.Wrap(err)
	}
	d.Report, d.CSRF, d.Confirmation, d.NextVersion = rep, m.csrf(c), rotateConfirmation, rep.Key.LatestVersion+1
	if !rep.Key.LastRotation.IsZero() {
		d.Age = age(m.now().Sub(rep.Key.LastRotation))
	}
	d.Rotation = rotationOf(rep, m.now())
	d.CanRotate = m.Allowed != nil && m.Allowed(c, PermManage, "")
	for v, n := range rep.WrappedByVersion {
		d.Versions = append(d.Versions, versionCount{Version: v, Keys: n, Retired: v < rep.Key.MinDecryptionVersion})
	}
	slices.SortFunc(d.Versions, func(a, b versionCount) int { return b.Version - a.Version })
	return m.Pages.Render(c, status, "keys.html", d)
}

func (m *Module) page(c echo.Context) error {
	return m.render(c, http.StatusOK, pageData{Notice: notices[c.QueryParam("notice")]})
}

// rotateForm rotates the key when the form confirms it and names the version the page showed
// (a second submit of the same page then changes nothing).
func (m *Module) rotateForm(c echo.Context) error {
	if strings.TrimSpace(c.FormValue("confirm")) != rotateConfirmation {
		return m.render(c, http.StatusUnprocessableEntity, pageData{Errors: map[string]string{
			"confirm": fmt.Sprintf("Type %s to confirm the rotation.", rotateConfirmation)}})
	}
	expected, err := strconv.Atoi(c.FormValue("expected_latest_version"))
	if err != nil || expected < 1 {
		return m.render(c, http.StatusUnprocessableEntity, pageData{Error: "The form is out of date; review the key's status and try again."})
	}
	if _, err := m.rotate(c, expected); err != nil {
		var ae *api.Error
		if errors.As(err, &ae) && ae.Status == http.StatusConflict {
			return m.render(c, ae.Status, pageData{Error: ae.Message})
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/keys?notice=rotated")
}

// age says a duration in the largest whole unit: "3 days", "5 hours", "under a minute".
func age(d time.Duration) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.Itoa(n) + " " + unit + "s"
	}
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	default:
		return plural(int(d/(24*time.Hour)), "day")
	}
}
