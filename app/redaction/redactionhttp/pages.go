package redactionhttp

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/redaction"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/compliance/redact"
)

// notices are the confirmations the page shows after a form, by key, so no text is reflected
// from the query string.
var notices = map[string]string{
	"rule_created": "The rule was added.",
	"rule_changed": "The rule was changed.",
	"rule_deleted": "The rule was deleted.",
	"mode_changed": "The card number masking mode was changed.",
}

// pageData is what redaction.html renders.
type pageData struct {
	CSRF      string
	Notice    string
	Error     string
	CanManage bool
	Mode      string
	Rules     []redaction.Rule
	// Try is the test-your-rule form as submitted; Trial its result.
	Try        redact.Rule
	Sample     string
	Trial      *redact.Trial
	Validators []string
}

func (m *Module) csrf(c echo.Context) string {
	if m.CSRF == nil {
		return ""
	}
	return m.CSRF(c)
}

func (m *Module) render(c echo.Context, status int, d pageData) error {
	_, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	mode, err := m.Store.MaskMode(ctx, tenantID)
	if err != nil {
		return err
	}
	if d.Rules, err = m.Store.Rules(ctx, tenantID); err != nil {
		return err
	}
	d.CSRF, d.Mode = m.csrf(c), mode.String()
	d.CanManage = m.Allowed != nil && m.Allowed(c, PermManage, "")
	d.Validators = []string{redact.ValidatorUSSSN, redact.ValidatorIBAN}
	if d.Try.Replacement == "" && d.Try.Pattern == "" {
		d.Try.Replacement = "[redacted]"
	}
	return m.Pages.Render(c, status, "redaction.html", d)
}

func (m *Module) page(c echo.Context) error {
	return m.render(c, http.StatusOK, pageData{Notice: notices[c.QueryParam("notice")]})
}

// failed re-renders the page with a client error's safe message, or passes other errors on.
func (m *Module) failed(c echo.Context, err error, d pageData) error {
	var ae *api.Error
	if errors.As(classify(err), &ae) && ae.Status < 500 && ae.Status != http.StatusNotFound {
		d.Error = ae.Message
		return m.render(c, ae.Status, d)
	}
	return classify(err)
}

// formRule reads a rule from a form.
func formRule(c echo.Context) redact.Rule {
	return redact.Rule{Name: c.FormValue("name"), Pattern: c.FormValue("pattern"), Replacement: c.FormValue("replacement"),
		Validator: c.FormValue("validator"), Enabled: c.FormValue("enabled") == "on"}
}

func (m *Module) tryForm(c echo.Context) error {
	_, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	r := formRule(c)
	if r.Name == "" {
		r.Name = "test"
	}
	d := pageData{Try: r}
	t, masked, err := m.trial(c, tenantID, r, c.FormValue("sample"))
	d.Sample = masked
	if err != nil {
		return m.failed(c, err, d)
	}
	d.Trial = &t
	return m.render(c, http.StatusOK, d)
}

func (m *Module) createForm(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	if _, err := m.Store.Create(c.Request().Context(), by, tenantID, formRule(c)); err != nil {
		return m.failed(c, err, pageData{})
	}
	return c.Redirect(http.StatusSeeOther, "/redaction?notice=rule_created")
}

func (m *Module) updateForm(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	if _, err := m.Store.Update(c.Request().Context(), by, tenantID, c.Param("rule"), formRule(c)); err != nil {
		return m.failed(c, err, pageData{})
	}
	return c.Redirect(http.StatusSeeOther, "/redaction?notice=rule_changed")
}

func (m *Module) deleteForm(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	if err := m.Store.Delete(c.Request().Context(), by, tenantID, c.Param("rule")); err != nil {
		return m.failed(c, err, pageData{})
	}
	return c.Redirect(http.StatusSeeOther, "/redaction?notice=rule_deleted")
}

func (m *Module) modeForm(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	mode, err := pan.ParseMode(c.FormValue("mode"))
	if err != nil {
		return m.failed(c, redaction.ErrInvalidMode, pageData{})
	}
	if err := m.Store.SetMaskMode(c.Request().Context(), by, tenantID, mode); err != nil {
		return m.failed(c, err, pageData{})
	}
	return c.Redirect(http.StatusSeeOther, "/redaction?notice=mode_changed")
}
