package accounthttp

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/authz"
)

// RoleAdmin is the role service the console's user pages call to list roles and to grant and
// remove a user's roles: the very calls of the role editor, so its escalation guards (nobody
// grants or removes what they do not hold; the last owner stays) and its audit apply unchanged.
type RoleAdmin interface {
	Roles(ctx context.Context, tenantID string) ([]authz.RoleView, error)
	UserAssignments(ctx context.Context, tenantID, userID string) ([]authz.Assignment, error)
	Assign(ctx context.Context, by authz.Actor, userID, role, departmentID string) (authz.Assignment, error)
	Unassign(ctx context.Context, by authz.Actor, userID, assignmentID string) error
}

var _ RoleAdmin = (*authz.Service)(nil)

// Permits tells whether the signed-in user holds a permission, so a page offers only the forms
// its user may send (the routes check again).
type Permits interface {
	Allowed(c echo.Context, permission, departmentID string) bool
}

var _ Permits = (*authz.Guard)(nil)

// PermRoleManage is the permission of the role grant forms on a user's page, the role editor's.
const PermRoleManage = authz.PermRoleManage

// consoleNotices are the confirmations the user and security pages show after a form, by key,
// so no text is reflected from the query string.
var consoleNotices = map[string]string{
	"user_disabled":     "The user was disabled and their sessions ended.",
	"user_enabled":      "The user was enabled again.",
	"user_unlocked":     "The lockout was lifted.",
	"mfa_reset":         "Two-step verification was removed; the user sets it up again at their next sign-in.",
	"session_ended":     "The session was ended.",
	"role_granted":      "The role was granted; the user signs in again.",
	"role_removed":      "The role assignment was removed; the user signs in again.",
	"password_saved":    "The password policy was saved.",
	"signin_saved":      "The sign-in protection settings were saved.",
	"session_saved":     "The session timeouts were saved.",
	"mfa_saved":         "The two-step verification requirement was saved.",
	"allowlist_saved":   "The IP allowlist was saved.",
	"allowlist_removed": "The IP allowlist was removed: no address restriction applies to it any more.",
}

// fieldErrors holds a form's problems keyed "form.field" (a field's message) or "form" (the
// form's message), so one page can carry several forms.
type fieldErrors map[string]string

// formFailure is a refused form: its per-field messages, the summary and the status to answer.
type formFailure struct {
	Form    string
	Errors  fieldErrors
	Message string
	Status  int
}

// errConfirm asks for the confirmation a destructive form needs.
var errConfirm = api.New(http.StatusUnprocessableEntity, "confirmation_required",
	"Tick the box to confirm.").WithField("confirm")

// confirmed reports whether a destructive form carries its confirmation.
func confirmed(c echo.Context) bool { return c.FormValue("confirm") == "yes" }

// failure turns the error of a form's service call into field errors. It returns the error
// itself (ok false) when it is not the client's to fix: a 404 (the object is not there for this
// user), or a server failure; those become the error page.
func failure(form string, err error) (formFailure, error) {
	var ae *api.Error
	if !errors.As(err, &ae) {
		err = classify(err)
		if !errors.As(err, &ae) {
			return formFailure{}, err
		}
	}
	if ae.Status >= 500 || ae.Status == http.StatusNotFound && ae.Field == "" || ae.Status == http.StatusUnauthorized {
		return formFailure{}, ae
	}
	f := formFailure{Form: form, Errors: fieldErrors{}, Message: ae.Message, Status: ae.Status}
	if f.Status == http.StatusBadRequest {
		f.Status = http.StatusUnprocessableEntity
	}
	switch d := ae.Details.(type) {
	case []account.Problem:
		for _, p := range d {
			add(f.Errors, form+"."+p.Field, p.Message)
		}
	case []EntryProblem:
		add(f.Errors, form+".entries", ae.Message)
	}
	if ae.Field != "" {
		if _, ok := f.Errors[form+"."+ae.Field]; !ok {
			add(f.Errors, form+"."+ae.Field, ae.Message)
		}
	}
	f.Errors[form] = ae.Message
	return f, nil
}

func add(errs fieldErrors, key, msg string) {
	if prev, ok := errs[key]; ok {
		errs[key] = prev + " " + msg
		return
	}
	errs[key] = msg
}

// fieldFailure is a form refused before any service call, for one field.
func fieldFailure(form, field, msg string) formFailure {
	return formFailure{Form: form, Errors: fieldErrors{form + "." + field: msg, form: msg}, Message: msg,
		Status: http.StatusUnprocessableEntity}
}

// authzActor is the acting user as the role service takes it.
func authzActor(c echo.Context) authz.Actor {
	a := actor(c)
	return authz.Actor{TenantID: a.TenantID, UserID: a.UserID, ClientIP: a.Origin.IP, UserAgent: a.Origin.UserAgent,
		RequestID: a.Origin.RequestID}
}

// allowed reports whether the signed-in user holds permission tenant-wide.
func (m *Module) allowed(c echo.Context, permission string) bool {
	return m.Guard != nil && m.Guard.Allowed(c, permission, "")
}

// roleNames lists the tenant's role names, default and custom.
func (m *Module) roleNames(ctx context.Context, tenantID string) ([]string, error) {
	if m.Roles == nil {
		return append([]string(nil), account.DefaultRoles...), nil
	}
	rs, err := m.Roles.Roles(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out, nil
}

// deptOption is a department as a select offers it.
type deptOption struct{ ID, Name string }

func (m *Module) departments(ctx context.Context, tenantID string) ([]deptOption, error) {
	ds, err := m.Tenants.Departments(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]deptOption, len(ds))
	for i, d := range ds {
		out[i] = deptOption{ID: d.ID, Name: d.Name}
	}
	return out, nil
}
