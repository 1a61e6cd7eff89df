package tenanthttp

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/tenant"
)

// departmentBody is one department as the API answers it.
type departmentBody struct {
	ID                  string        `json:"id"`
	Name                string        `json:"name"`
	BusinessHours       *tenant.Hours `json:"business_hours"`
	QueueTimeoutSeconds int           `json:"queue_timeout_seconds"`
	CreatedAt           time.Time     `json:"created_at"`
	UpdatedAt           time.Time     `json:"updated_at"`
}

func departmentJSON(d tenant.Department) departmentBody {
	return departmentBody{ID: d.ID, Name: d.Name, BusinessHours: d.Hours(), QueueTimeoutSeconds: d.QueueTimeoutSeconds,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
}

// departmentInput is the body of POST /api/v1/departments and PUT /api/v1/departments/:department.
type departmentInput struct {
	Name                string        `json:"name"`
	BusinessHours       *tenant.Hours `json:"business_hours"`
	QueueTimeoutSeconds int           `json:"queue_timeout_seconds"`
}

func (in departmentInput) input() tenant.DepartmentInput {
	return tenant.DepartmentInput{Name: in.Name, DepartmentSettings: tenant.DepartmentSettings{
		Hours: in.BusinessHours, QueueTimeoutSeconds: in.QueueTimeoutSeconds}}
}

// member is a user holding a role in a department.
type member struct {
	UserID string   `json:"user_id"`
	Name   string   `json:"name"`
	Email  string   `json:"email"`
	Roles  []string `json:"roles"`
}

func (m *Module) listDepartments(c echo.Context) error {
	tenantID, err := tenantOf(c)
	if err != nil {
		return err
	}
	ds, err := m.Tenants.Departments(c.Request().Context(), tenantID)
	if err != nil {
		return err
	}
	out := struct {
		Departments []departmentBody `json:"departments"`
	}{Departments: make([]departmentBody, 0, len(ds))}
	for _, d := range ds {
		out.Departments = append(out.Departments, departmentJSON(d))
	}
	return c.JSON(http.StatusOK, out)
}

func (m *Module) getDepartment(c echo.Context) error {
	tenantID, err := tenantOf(c)
	if err != nil {
		return err
	}
	d, err := m.Tenants.Department(c.Request().Context(), tenantID, c.Param("department"))
	if err != nil {
		return classify(err, "department")
	}
	return c.JSON(http.StatusOK, departmentJSON(d))
}

func (m *Module) createDepartment(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	var in departmentInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	d, err := m.Admin.CreateDepartment(c.Request().Context(), by, tenantID, in.input())
	if err != nil {
		return classify(err, "department")
	}
	return c.JSON(http.StatusCreated, departmentJSON(d))
}

func (m *Module) updateDepartment(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	var in departmentInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	d, err := m.Admin.UpdateDepartment(c.Request().Context(), by, tenantID, c.Param("department"), in.input())
	if err != nil {
		return classify(err, "department")
	}
	return c.JSON(http.StatusOK, departmentJSON(d))
}

func (m *Module) deleteDepartment(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	use, err := m.Admin.DeleteDepartment(c.Request().Context(), by, tenantID, c.Param("department"))
	if err != nil {
		return inUse(classify(err, "department"), use)
	}
	return c.NoContent(http.StatusNoContent)
}

// inUse adds what keeps a department from being deleted to errInUse.
func inUse(err error, use tenant.DepartmentUse) error {
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == errInUse.Code {
		return ae.WithDetails(map[string]int64{"open_conversations": use.OpenConversations, "role_assignments": use.Assignments})
	}
	return err
}

func (m *Module) listMembers(c echo.Context) error {
	tenantID, err := tenantOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	d, err := m.Tenants.Department(ctx, tenantID, c.Param("department"))
	if err != nil {
		return classify(err, "department")
	}
	ms, err := m.members(ctx, tenantID, d.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		Members []member `json:"members"`
	}{ms})
}

// members lists the users holding a role in department id, sorted by name then e-mail, each
// with the roles granted there.
func (m *Module) members(ctx context.Context, tenantID, id string) ([]member, error) {
	as, err := m.Assignments.TenantAssignments(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	roles := map[string][]string{}
	var ids []string
	for _, a := range as {
		if a.DepartmentID != id {
			continue
		}
		if _, seen := roles[a.UserID]; !seen {
			ids = append(ids, a.UserID)
		}
		roles[a.UserID] = append(roles[a.UserID], a.Role)
	}
	people, err := m.People.People(ctx, tenantID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]member, 0, len(ids))
	for _, uid := range ids {
		p := people[uid]
		rs := roles[uid]
		sort.Strings(rs)
		out = append(out, member{UserID: uid, Name: p.DisplayName, Email: p.Email, Roles: rs})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i].Name), strings.ToLower(out[j].Name)
		if a != b {
			return a < b
		}
		return out[i].Email < out[j].Email
	})
	return out, nil
}
