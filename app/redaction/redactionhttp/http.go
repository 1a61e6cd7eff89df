// Package redactionhttp serves each tenant's data-masking settings (package redaction) over
// HTTP: the JSON API and the console page with its "test your rule" form.
package redactionhttp

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/redaction"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/compliance/redact"
	"github.com/parleyhq/parley/web"
)

// Permissions the module's routes declare: redaction is part of the security settings.
const (
	PermView   = "security.view"
	PermManage = "security.manage"
)

// Module serves the redaction settings API and console page.
type Module struct {
	Store *redaction.Store
	Pages *web.Pages
	// CSRF returns the request's CSRF token for the page's forms.
	CSRF func(c echo.Context) string
	// Allowed reports whether the request's user holds a permission tenant-wide (the page shows
	// its forms only to those who may use them).
	Allowed func(c echo.Context, permission, departmentID string) bool
}

var _ server.Module = (*Module)(nil)

// The module's API errors.
var (
	errInvalidRule = api.New(http.StatusBadRequest, "invalid_rule", "The rule is not valid.")
	errRuleExists  = api.New(http.StatusConflict, "rule_exists", "A rule with that name exists.")
	errBuiltin     = api.New(http.StatusConflict, "builtin_rule", "Built-in rules keep their name, pattern and validator and cannot be deleted; turn them off instead.")
	errTooMany     = api.New(http.StatusConflict, "too_many_rules", "An organisation has at most 50 redaction rules.")
	errSample      = api.New(http.StatusBadRequest, "sample_too_large", "The sample text is at most 64 KiB.")
	errMode        = api.New(http.StatusBadRequest, "invalid_request", "The masking mode is bin_last4 or last4.").WithField("mode")
)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	route := func(perm, method, path, summary string, isAPI bool, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: perm,
			Scope: server.ScopeTenant, API: isAPI, Summary: summary, Handler: h}
	}
	return []server.Route{
		route(PermView, http.MethodGet, "/api/v1/redaction", "The organisation's PAN masking mode and redaction rules (built-in US SSN and IBAN, off by default, then its own).", true, m.get),
		route(PermManage, http.MethodPut, "/api/v1/redaction/pan-mask-mode", "Set the PAN masking mode: bin_last4 (first six and last four digits) or last4.", true, m.putMode),
		route(PermManage, http.MethodPost, "/api/v1/redaction/rules", "Add a redaction rule (name, RE2 pattern, replacement, optional validator).", true, m.create),
		route(PermManage, http.MethodPut, "/api/v1/redaction/rules/:rule", "Change a redaction rule; built-in rules change only their replacement and enabled flag.", true, m.update),
		route(PermManage, http.MethodDelete, "/api/v1/redaction/rules/:rule", "Delete one of the organisation's own redaction rules.", true, m.delete),
		route(PermView, http.MethodPost, "/api/v1/redaction/try", "Preview a rule on a sample text (card numbers are masked first, as in chat); nothing is stored.", true, m.try),
		route(PermView, http.MethodGet, "/redaction", "Redaction settings page with the test-your-rule form.", false, m.page),
		route(PermView, http.MethodPost, "/redaction/try", "Test-your-rule form.", false, m.tryForm),
		route(PermManage, http.MethodPost, "/redaction/rules", "Add a redaction rule (form).", false, m.createForm),
		route(PermManage, http.MethodPost, "/redaction/rules/:rule", "Change a redaction rule (form).", false, m.updateForm),
		route(PermManage, http.MethodPost, "/redaction/rules/:rule/delete", "Delete a redaction rule (form).", false, m.deleteForm),
		route(PermManage, http.MethodPost, "/redaction/pan-mask-mode", "Set the PAN masking mode (form).", false, m.modeForm),
	}
}

// classify maps store and rule errors to API errors.
func classify(err error) error {
	var re *redact.RuleError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re) && errors.Is(err, redact.ErrCardNumber):
		return api.ErrCardNumber.WithField(re.Field)
	case errors.As(err, &re):
		return errInvalidRule.WithField(re.Field).WithMessage(sentence(re.Error())).Wrap(err)
	case errors.Is(err, redaction.ErrExists):
		return errRuleExists.WithField("name")
	case errors.Is(err, redaction.ErrBuiltin):
		return errBuiltin
	case errors.Is(err, redaction.ErrTooMany):
		return errTooMany
	case errors.Is(err, redaction.ErrNotFound):
		return api.ErrNotFound
	case errors.Is(err, redaction.ErrInvalidMode):
		return errMode
	case errors.Is(err, redact.ErrSampleTooLarge):
		return errSample
	}
	return err
}

// sentence capitalises a message and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	if s[len(s)-1] != '.' {
		s += "."
	}
	return s
}

func actor(c echo.Context) (redaction.Actor, string, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return redaction.Actor{}, "", api.ErrUnauthenticated
	}
	return redaction.Actor{UserID: p.UserID, IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)}, p.TenantID, nil
}

// settingsBody is the answer of GET /api/v1/redaction.
type settingsBody struct {
	PanMaskMode string           `json:"pan_mask_mode"`
	Rules       []redaction.Rule `json:"rules"`
}

func (m *Module) get(c echo.Context) error {
	_, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	mode, err := m.Store.MaskMode(ctx, tenantID)
	if err != nil {
		return err
	}
	rules, err := m.Store.Rules(ctx, tenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, settingsBody{PanMaskMode: mode.String(), Rules: rules})
}

type modeBody struct {
	Mode string `json:"mode"`
}

func (m *Module) putMode(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	var in modeBody
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	mode, err := pan.ParseMode(in.Mode)
	if err != nil {
		return errMode
	}
	if err := m.Store.SetMaskMode(c.Request().Context(), by, tenantID, mode); err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusOK, map[string]string{"pan_mask_mode": mode.String()})
}

func (m *Module) create(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	var in redact.Rule
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	r, err := m.Store.Create(c.Request().Context(), by, tenantID, in)
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusCreated, r)
}

func (m *Module) update(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	var in redact.Rule
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	r, err := m.Store.Update(c.Request().Context(), by, tenantID, c.Param("rule"), in)
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusOK, r)
}

func (m *Module) delete(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	if err := m.Store.Delete(c.Request().Context(), by, tenantID, c.Param("rule")); err != nil {
		return classify(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// tryBody is the request of POST /api/v1/redaction/try.
type tryBody struct {
	Rule   redact.Rule `json:"rule"`
	Sample string      `json:"sample"`
}

// trial runs a rule on a sample as chat would: card numbers masked in the tenant's mode first.
// It returns the masked sample too, so a page never shows the card numbers back.
func (m *Module) trial(c echo.Context, tenantID string, r redact.Rule, sample string) (redact.Trial, string, error) {
	if len(sample) > redact.MaxSampleLen {
		return redact.Trial{}, "", errSample
	}
	mode, err := m.Store.MaskMode(c.Request().Context(), tenantID)
	if err != nil {
		return redact.Trial{}, "", err
	}
	masker, err := pan.NewMasker(pan.Options{Mode: mode})
	if err != nil {
		return redact.Trial{}, "", err
	}
	masked := masker.MaskString(sample)
	t, err := redact.TryRule(r, masked)
	return t, masked, classify(err)
}

func (m *Module) try(c echo.Context) error {
	_, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	var in tryBody
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	t, _, err := m.trial(c, tenantID, in.Rule, in.Sample)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}
