package tenanthttp

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
)

// notices are the confirmations the pages show after a form, by key, so no text is reflected
// from the query string.
var notices = map[string]string{
	"site_created":       "The site was added. Add the embed code below to its pages.",
	"site_changed":       "The site was saved.",
	"site_disabled":      "The site was disabled: its widget no longer opens.",
	"site_enabled":       "The site was enabled: its widget opens again.",
	"settings_changed":   "The widget settings were saved.",
	"department_created": "The department was added.",
	"department_changed": "The department was saved.",
	"department_deleted": "The department was deleted.",
}

// formError is a form's failure as a page shows it: a summary and a message per field.
type formError struct {
	Status  int
	Message string
	Fields  map[string]string
}

// formFailure turns a client error (*api.Error below 500, other than 404) into a formError to
// re-render the form with; any other error is returned to the error renderer. A refused card
// number is audited as the renderer would have.
func (m *Module) formFailure(c echo.Context, err error) (formError, error) {
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status >= 500 || ae.Status == http.StatusNotFound {
		return formError{}, err
	}
	if ae.Code == api.ErrCardNumber.Code && m.CardRefused != nil {
		m.CardRefused(c, ae)
	}
	fe := formError{Status: ae.Status, Message: ae.Message, Fields: map[string]string{}}
	if ae.Field != "" {
		fe.Fields[ae.Field] = ae.Message
	}
	return fe, nil
}

func (m *Module) csrf(c echo.Context) string {
	if m.CSRF == nil {
		return ""
	}
	return m.CSRF(c)
}

// confirmed checks the confirmation box of a destructive form.
func confirmed(c echo.Context) error {
	if c.FormValue("confirm") != "yes" {
		return errConfirm
	}
	return nil
}
