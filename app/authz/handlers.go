package authz

import (
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/policy/rbac"
)

func (m *Module) listPermissions(c echo.Context) error {
	out := []PermissionBody{}
	for _, p := range rbac.Catalogue() {
		out = append(out, permissionBody(p))
	}
	return c.JSON(http.StatusOK, map[string]any{"permissions": out})
}

func (m *Module) listRoles(c echo.Context) error {
	p := api.PrincipalOf(c)
	roles, err := m.Service.Roles(c.Request().Context(), p.TenantID)
	if err != nil {
		return err
	}
	out := make([]RoleBody, 0, len(roles))
	for _, r := range roles {
		out = append(out, roleBody(r))
	}
	return c.JSON(http.StatusOK, map[string]any{"roles": out})
}

func (m *Module) getRole(c echo.Context) error {
	p := api.PrincipalOf(c)
	r, err := m.Service.Role(c.Request().Context(), p.TenantID, c.Param("role"))
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusOK, roleBody(r))
}

// roleRequest is the body of POST /api/v1/roles and PUT /api/v1/roles/:role (no name).
type roleRequest struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
}

func (m *Module) createRole(c echo.Context) error {
	by, err := actorOf(c)
	if err != nil {
		return err
	}
	var req roleRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	r, err := m.Service.CreateRole(c.Request().Context(), by, RoleInput(req))
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusCreated, roleBody(RoleView{Role: r}))
}

func (m *Module) updateRole(c echo.Context) error {
	by, err := actorOf(c)
	if err != nil {
		return err
	}
	var req struct {
		Description string   `json:"description"`
		Permissions []string `json:"permissions"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	name := c.Param("role")
	if _, err := m.Service.UpdateRole(c.Request().Context(), by, name, RoleInput{Description: req.Description, Permissions: req.Permissions}); err != nil {
		return classify(err)
	}
	r, err := m.Service.Role(c.Request().Context(), by.TenantID, name)
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusOK, roleBody(r))
}

func (m *Module) deleteRole(c echo.Context) error {
	by, err := actorOf(c)
	if err != nil {
		return err
	}
	if err := m.Service.DeleteRole(c.Request().Context(), by, c.Param("role")); err != nil {
		return classify(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (m *Module) userRoles(c echo.Context) error {
	p := api.PrincipalOf(c)
	as, err := m.Service.UserAssignments(c.Request().Context(), p.TenantID, c.Param("id"))
	if err != nil {
		return classify(err)
	}
	out := make([]AssignmentBody, 0, len(as))
	for _, a := range as {
		out = append(out, assignmentBody(a))
	}
	return c.JSON(http.StatusOK, map[string]any{"user_id": c.Param("id"), "assignments": out})
}

// assignRequest is the body of POST /api/v1/users/:id/roles.
type assignRequest struct {
	Role string `json:"role"`
	// DepartmentID grants the role in one department; absent or null grants it tenant-wide.
	DepartmentID *string `json:"department_id"`
}

func (m *Module) assign(c echo.Context) error {
	by, err := actorOf(c)
	if err != nil {
		return err
	}
	var req assignRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	if req.Role == "" {
		return api.ErrInvalidRequest.WithField("role").WithMessage("Name the role to grant.")
	}
	dept := ""
	if req.DepartmentID != nil {
		if *req.DepartmentID == "" {
			return api.ErrInvalidRequest.WithField("department_id").WithMessage("Give a department id, or null for a tenant-wide grant.")
		}
		dept = *req.DepartmentID
	}
	a, err := m.Service.Assign(c.Request().Context(), by, c.Param("id"), req.Role, dept)
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusCreated, assignmentBody(a))
}

func (m *Module) unassign(c echo.Context) error {
	by, err := actorOf(c)
	if err != nil {
		return err
	}
	if err := m.Service.Unassign(c.Request().Context(), by, c.Param("id"), c.Param("assignment")); err != nil {
		return classify(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (m *Module) effective(c echo.Context) error {
	p := api.PrincipalOf(c)
	e, err := m.Service.EffectivePermissions(c.Request().Context(), p.TenantID, c.Param("id"))
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusOK, effectiveBody(e))
}

func (m *Module) report(c echo.Context) error {
	p := api.PrincipalOf(c)
	rep, err := m.Reviews.Report(c.Request().Context(), p.TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

func (m *Module) reviewStatus(c echo.Context) error {
	p := api.PrincipalOf(c)
	st, err := m.Reviews.Status(c.Request().Context(), p.TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (m *Module) listSignOffs(c echo.Context) error {
	p := api.PrincipalOf(c)
	out, err := m.Reviews.SignOffs(c.Request().Context(), p.TenantID, 100)
	if err != nil {
		return err
	}
	if out == nil {
		out = []SignOff{}
	}
	return c.JSON(http.StatusOK, map[string]any{"sign_offs": out})
}

// signOffRequest is the body of POST /api/v1/access-review/sign-offs.
type signOffRequest struct {
	ReportDigest string `json:"report_digest"`
	// Notes are free text: card numbers in them keep only their last four digits (CleanNotes).
	Notes string `json:"notes"`
}

func (m *Module) signOff(c echo.Context) error {
	by, err := actorOf(c)
	if err != nil {
		return err
	}
	var req signOffRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	if req.ReportDigest == "" {
		return api.ErrInvalidRequest.WithField("report_digest").WithMessage("Give the digest of the report you reviewed.")
	}
	so, err := m.Reviews.SignOff(c.Request().Context(), by, req.ReportDigest, req.Notes)
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusCreated, so)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
