package cannedhttp

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/canned"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/compliance/pan"
)

// notices are the confirmations the page shows after a form, by key, so no text is reflected
// from the query string.
var notices = map[string]string{
	"created": "The canned message was added.",
	"changed": "The canned message was changed.",
	"deleted": "The canned message was deleted.",
}

// form is the create or edit form as submitted (shown again when it has errors).
type form struct {
	Scope, DepartmentID, Shortcut, Title, Body string
}

// entry is a canned message as the page lists it.
type entry struct {
	canned.Message
	// Where names the list the text belongs to ("Personal", a department's name, "Shared").
	Where   string
	CanEdit bool
}

// pageData is what canned.html and canned_edit.html render.
type pageData struct {
	CSRF   string
	Notice string
	// Errors holds field errors of the form by field name; Error a message without a field.
	Errors map[string]string
	Error  string
	Query  string
	Form   form
	// Entries are the texts the user may read (matching Query); Edit is the text being edited.
	Entries []entry
	Edit    *entry
	// Scopes the user may write, and the departments whose texts they may write.
	CanShared   bool
	Departments []tenant.Department
	Placeholder struct{ Visitor, Agent string }
}

func (m *Module) csrf(c echo.Context) string {
	if m.CSRF == nil {
		return ""
	}
	return m.CSRF(c)
}

// where names the list of a text.
func where(msg canned.Message, names map[string]string) string {
	switch msg.Scope {
	case canned.ScopePersonal:
		return "Personal"
	case canned.ScopeShared:
		return "Shared"
	}
	if n, ok := names[msg.DepartmentID]; ok {
		return n
	}
	return "Department"
}

// render fills in what every canned page shows and renders the named template.
func (m *Module) render(c echo.Context, status int, name string, d pageData) error {
	if m.Pages == nil {
		return api.ErrNotFound
	}
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, err := m.Service.AccessOf(ctx, p)
	if err != nil {
		return err
	}
	depts, err := m.Departments.Departments(ctx, p.TenantID)
	if err != nil {
		return err
	}
	names := make(map[string]string, len(depts))
	for _, dp := range depts {
		names[dp.ID] = dp.Name
	}
	if d.Edit == nil {
		msgs, err := m.Service.List(ctx, p, a, d.Query, 0)
		if err != nil {
			return classify(err)
		}
		for _, msg := range msgs {
			d.Entries = append(d.Entries, entry{Message: msg, Where: where(msg, names), CanEdit: a.CanWrite(msg.Scope, msg.DepartmentID)})
		}
	} else {
		d.Edit.Where = where(d.Edit.Message, names)
	}
	d.CSRF = m.csrf(c)
	d.CanShared = a.CanWrite(canned.ScopeShared, "")
	d.Departments = a.ManagedDepartments(depts)
	if d.Form.Scope == "" {
		d.Form.Scope = canned.ScopePersonal
	}
	d.Placeholder.Visitor, d.Placeholder.Agent = "{"+canned.PlaceholderVisitorName+"}", "{"+canned.PlaceholderAgentName+"}"
	return m.Pages.Render(c, status, name, d)
}

func (m *Module) page(c echo.Context) error {
	q := c.QueryParam("q")
	if pan.Contains(q) {
		q = pan.MaskLast4(q)
	}
	d := pageData{Notice: notices[c.QueryParam("notice")], Query: q}
	if err := m.render(c, http.StatusOK, "canned.html", d); err != nil {
		var ae *api.Error
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
			return m.render(c, http.StatusUnprocessableEntity, "canned.html", pageData{Error: ae.Message})
		}
		return err
	}
	return nil
}

func readForm(c echo.Context) form {
	return form{Scope: c.FormValue("scope"), DepartmentID: c.FormValue("department_id"), Shortcut: c.FormValue("shortcut"),
		Title: c.FormValue("title"), Body: c.FormValue("body")}
}

// failed re-renders a form with the API error's field and message, or passes other errors on.
// What the page shows again never holds a card number: every field is masked as it would be
// logged, and the refusal is audited.
func (m *Module) failed(c echo.Context, name string, f form, edit *entry, err error) error {
	err = classify(err)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status >= 500 || ae.Status == http.StatusNotFound || ae.Status == http.StatusForbidden {
		return err
	}
	if errors.Is(err, api.ErrCardNumber) && m.CardRefused != nil {
		m.CardRefused(c, ae)
	}
	f.Shortcut, f.Title, f.Body = pan.MaskLast4(f.Shortcut), pan.MaskLast4(f.Title), pan.MaskLast4(f.Body)
	d := pageData{Form: f, Edit: edit}
	if ae.Field != "" {
		d.Errors = map[string]string{ae.Field: ae.Message}
	} else {
		d.Error = ae.Message
	}
	status := ae.Status
	if status == http.StatusBadRequest {
		status = http.StatusUnprocessableEntity
	}
	return m.render(c, status, name, d)
}

func (m *Module) createForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	f := readForm(c)
	in := canned.Input{Scope: f.Scope, Shortcut: f.Shortcut, Title: f.Title, Body: f.Body}
	if f.Scope == canned.ScopeDepartment {
		in.DepartmentID = f.DepartmentID
	}
	if _, err := m.Service.Create(c.Request().Context(), p, in, origin(c)); err != nil {
		return m.failed(c, "canned.html", f, nil, err)
	}
	return c.Redirect(http.StatusSeeOther, "/canned?notice=created")
}

// editable returns the text :message names when the user may change it.
func (m *Module) editable(c echo.Context) (*entry, error) {
	p, err := principal(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	msg, err := m.Service.Get(ctx, p, c.Param("message"))
	if err != nil {
		return nil, classify(err)
	}
	a, err := m.Service.AccessOf(ctx, p)
	if err != nil {
		return nil, err
	}
	if !a.CanWrite(msg.Scope, msg.DepartmentID) {
		return nil, api.ErrForbidden
	}
	return &entry{Message: msg, CanEdit: true}, nil
}

func (m *Module) editPage(c echo.Context) error {
	e, err := m.editable(c)
	if err != nil {
		return err
	}
	f := form{Scope: e.Scope, DepartmentID: e.DepartmentID, Shortcut: e.Shortcut, Title: e.Title, Body: e.Body}
	return m.render(c, http.StatusOK, "canned_edit.html", pageData{Form: f, Edit: e})
}

func (m *Module) updateForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	e, err := m.editable(c)
	if err != nil {
		return err
	}
	f := readForm(c)
	f.Scope, f.DepartmentID = e.Scope, e.DepartmentID
	in := canned.Input{Shortcut: f.Shortcut, Title: f.Title, Body: f.Body}
	if _, err := m.Service.Update(c.Request().Context(), p, e.ID, in, origin(c)); err != nil {
		return m.failed(c, "canned_edit.html", f, e, err)
	}
	return c.Redirect(http.StatusSeeOther, "/canned?notice=changed")
}

func (m *Module) deleteForm(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	if err := m.Service.Delete(c.Request().Context(), p, c.Param("message"), origin(c)); err != nil {
		return classify(err)
	}
	return c.Redirect(http.StatusSeeOther, "/canned?notice=deleted")
}
