package authz

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/policy/rbac"
)

// notices are the confirmations a page shows after a form, by key, so no text is reflected from
// the query string.
var notices = map[string]string{
	"role_created":    "The role was created.",
	"role_changed":    "The role was changed; its holders sign in again.",
	"role_deleted":    "The role was deleted.",
	"role_assigned":   "The role was granted; the user signs in again.",
	"role_unassigned": "The role assignment was removed; the user signs in again.",
	"review_signed":   "The access review was signed off.",
}

// permissionArea is a catalogue area with its permissions, for the forms' checkboxes.
type permissionArea struct {
	Area        string
	Permissions []rbac.Permission
}

func catalogueByArea() []permissionArea {
	var out []permissionArea
	for _, p := range rbac.Catalogue() {
		if n := len(out); n > 0 && out[n-1].Area == p.Area() {
			out[n-1].Permissions = append(out[n-1].Permissions, p)
			continue
		}
		out = append(out, permissionArea{Area: p.Area(), Permissions: []rbac.Permission{p}})
	}
	return out
}

// rolesPageData is what roles.html renders.
type rolesPageData struct {
	CSRF      string
	Notice    string
	Error     string
	CanManage bool
	Catalogue []permissionArea
	Roles     []RoleView
	Users     []ReviewUser
	Depts     map[string]string
	DeptList  []deptOption
	Selected  *Effective
	User      *ReviewUser
}

type deptOption struct{ ID, Name string }

func (m *Module) csrf(c echo.Context) string {
	if m.CSRF == nil {
		return ""
	}
	return m.CSRF(c)
}

func (m *Module) rolesPage(c echo.Context) error {
	return m.renderRoles(c, http.StatusOK, "")
}

func (m *Module) renderRoles(c echo.Context, status int, errMsg string) error {
	ctx := c.Request().Context()
	p := api.PrincipalOf(c)
	roles, err := m.Service.Roles(ctx, p.TenantID)
	if err != nil {
		return err
	}
	rep, err := m.Reviews.Report(ctx, p.TenantID)
	if err != nil {
		return err
	}
	depts, err := m.Reviews.Departments.Departments(ctx, p.TenantID)
	if err != nil {
		return err
	}
	d := rolesPageData{
		CSRF: m.csrf(c), Notice: notices[c.QueryParam("notice")], Error: errMsg,
		CanManage: m.Guard != nil && m.Guard.Allowed(c, PermRoleManage, ""),
		Catalogue: catalogueByArea(), Roles: roles, Users: rep.Users, Depts: map[string]string{},
	}
	for _, dep := range depts {
		d.Depts[dep.ID] = dep.Name
		d.DeptList = append(d.DeptList, deptOption{ID: dep.ID, Name: dep.Name})
	}
	if id := c.QueryParam("user"); id != "" {
		e, err := m.Service.EffectivePermissions(ctx, p.TenantID, id)
		if err != nil {
			return classify(err)
		}
		d.Selected = &e
		for i := range rep.Users {
			if rep.Users[i].UserID == id {
				d.User = &rep.Users[i]
			}
		}
	}
	return m.Pages.Render(c, status, "roles.html", d)
}

// formFailed re-renders a page with the error's safe message and status, or passes on errors
// that are not the client's (they become the error page).
func (m *Module) formFailed(c echo.Context, err error, render func(c echo.Context, status int, msg string) error) error {
	var ae *api.Error
	if errors.As(classify(err), &ae) && ae.Status < 500 {
		if ae.Status == http.StatusNotFound {
			return ae
		}
		return render(c, ae.Status, ae.Message)
	}
	return classify(err)
}

func (m *Module) createRoleSubmit(c echo.Context) error {
	by, err := actorOf(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return api.ErrInvalidRequest
	}
	_, err = m.Service.CreateRole(c.Request().Context(), by, RoleInput{
		Name: form.Get("name"), Description: form.Get("description"), Permissions: form["permissions"],
	})
	if err != nil {
		return m.formFailed(c, err, m.renderRoles)
	}
	return c.Redirect(http.StatusSeeOther, "/roles?notice=role_created")
}

func (m *Module) updateRoleSubmit(c echo.Context) error {
	by, err := actorOf(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return api.ErrInvalidRequest
	}
	_, err = m.Service.UpdateRole(c.Request().Context(), by, c.Param("role"), RoleInput{
		Description: form.Get("description"), Permissions: form["permissions"],
	})
	if err != nil {
		return m.formFailed(c, err, m.renderRoles)
	}
	return c.Redirect(http.StatusSeeOther, "/roles?notice=role_changed")
}

func (m *Module) deleteRoleSubmit(c echo.Context) error {
	by, err := actorOf(c)
	if err != nil {
		return err
	}
	if err := m.Service.DeleteRole(c.Request().Context(), by, c.Param("role")); err != nil {
		return m.formFailed(c, err, m.renderRoles)
	}
	return c.Redirect(http.StatusSeeOther, "/roles?notice=role_deleted")
}

func (m *Module) assignSubmit(c echo.Context) error {
	by, err := actorOf(c)
	if err != nil {
		return err
	}
	user := c.Param("id")
	_, err = m.Service.Assign(c.Request().Context(), by, user, c.FormValue("role"), c.FormValue("department_id"))
	if err != nil {
		return m.formFailed(c, err, m.renderRoles)
	}
	return c.Redirect(http.StatusSeeOther, "/roles?notice=role_assigned&user="+url.QueryEscape(user))
}

func (m *Module) unassignSubmit(c echo.Context) error {
	by, err := actorOf(c)
	if err != nil {
		return err
	}
	user := c.Param("id")
	if err := m.Service.Unassign(c.Request().Context(), by, user, c.Param("assignment")); err != nil {
		return m.formFailed(c, err, m.renderRoles)
	}
	return c.Redirect(http.StatusSeeOther, "/roles?notice=role_unassigned&user="+url.QueryEscape(user))
}

// reviewPageData is what access_review.html renders.
type reviewPageData struct {
	CSRF       string
	Notice     string
	Error      string
	CanSignOff bool
	Report     Report
	SignOffs   []SignOff
}

func (m *Module) reviewPage(c echo.Context) error {
	return m.renderReview(c, http.StatusOK, "")
}

func (m *Module) renderReview(c echo.Context, status int, errMsg string) error {
	ctx := c.Request().Context()
	p := api.PrincipalOf(c)
	rep, err := m.Reviews.Report(ctx, p.TenantID)
	if err != nil {
		return err
	}
	sos, err := m.Reviews.SignOffs(ctx, p.TenantID, 20)
	if err != nil {
		return err
	}
	return m.Pages.Render(c, status, "access_review.html", reviewPageData{
		CSRF: m.csrf(c), Notice: notices[c.QueryParam("notice")], Error: errMsg,
		CanSignOff: m.Guard != nil && m.Guard.Allowed(c, PermAccessReviewPerform, ""),
		Report:     rep, SignOffs: sos,
	})
}

func (m *Module) signOffSubmit(c echo.Context) error {
	by, err := actorOf(c)
	if err != nil {
		return err
	}
	if _, err := m.Reviews.SignOff(c.Request().Context(), by, c.FormValue("report_digest"), c.FormValue("notes")); err != nil {
		return m.formFailed(c, err, m.renderReview)
	}
	return c.Redirect(http.StatusSeeOther, "/access-review?notice=review_signed")
}
