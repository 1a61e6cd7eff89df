package tenanthttp

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/tenant"
)

// departmentForm is the department form as typed.
type departmentForm struct {
	Name         string
	QueueTimeout string
	HoursOn      bool
	Timezone     string
	Days         []dayHoursForm
}

type dayHoursForm struct{ Key, Label, Open, Close string }

func departmentFormOf(d tenant.Department) departmentForm {
	f := departmentForm{Name: d.Name}
	if d.QueueTimeoutSeconds > 0 {
		f.QueueTimeout = strconv.Itoa(d.QueueTimeoutSeconds)
	}
	h := d.Hours()
	if h != nil {
		f.HoursOn, f.Timezone = true, h.Timezone
	}
	for _, k := range tenant.Weekdays {
		day := dayHoursForm{Key: k, Label: dayLabels[k]}
		if h != nil {
			day.Open, day.Close = h.Days[k].Open, h.Days[k].Close
		}
		f.Days = append(f.Days, day)
	}
	return f
}

func readDepartmentForm(c echo.Context) departmentForm {
	f := departmentForm{Name: c.FormValue("name"), QueueTimeout: strings.TrimSpace(c.FormValue("queue_timeout_seconds")),
		HoursOn: c.FormValue("hours_enabled") == "on", Timezone: strings.TrimSpace(c.FormValue("hours_timezone"))}
	for _, k := range tenant.Weekdays {
		f.Days = append(f.Days, dayHoursForm{Key: k, Label: dayLabels[k],
			Open: strings.TrimSpace(c.FormValue("open_" + k)), Close: strings.TrimSpace(c.FormValue("close_" + k))})
	}
	return f
}

// input reads the form into a department; a value of the wrong kind is an *api.Error naming
// its field.
func (f departmentForm) input() (tenant.DepartmentInput, error) {
	in := tenant.DepartmentInput{Name: f.Name}
	if f.QueueTimeout != "" {
		n, err := strconv.Atoi(f.QueueTimeout)
		if err != nil {
			return in, invalidField("queue_timeout_seconds", "The queue timeout is a number of seconds (empty for the site's).")
		}
		in.QueueTimeoutSeconds = n
	}
	if f.HoursOn {
		h := &tenant.Hours{Timezone: f.Timezone, Days: map[string]tenant.Span{}}
		for _, d := range f.Days {
			switch {
			case d.Open == "" && d.Close == "":
				continue // closed that day
			case d.Open == "" || d.Close == "":
				return in, invalidField("business_hours.days", d.Label+": give both the opening and the closing time, or neither for a closed day.")
			}
			h.Days[d.Key] = tenant.Span{Open: d.Open, Close: d.Close}
		}
		in.Hours = h
	}
	return in, nil
}

// departmentsPage is what departments.html renders.
type departmentsPage struct {
	CSRF string
	// Department is empty: the shared form adds one.
	Department  tenant.Department
	Notice      string
	Departments []tenant.Department
	Form        departmentForm
	Error       formError
}

func (m *Module) renderDepartments(c echo.Context, d departmentsPage) error {
	tenantID, err := tenantOf(c)
	if err != nil {
		return err
	}
	if d.Departments, err = m.Tenants.Departments(c.Request().Context(), tenantID); err != nil {
		return err
	}
	d.CSRF = m.csrf(c)
	if d.Form.Days == nil {
		d.Form = departmentFormOf(tenant.Department{})
	}
	status := http.StatusOK
	if d.Error.Status != 0 {
		status = d.Error.Status
	}
	return m.Pages.Render(c, status, "departments.html", d)
}

func (m *Module) departmentsPage(c echo.Context) error {
	return m.renderDepartments(c, departmentsPage{Notice: notices[c.QueryParam("notice")]})
}

func (m *Module) createDepartmentForm(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	f := readDepartmentForm(c)
	in, err := f.input()
	var d tenant.Department
	if err == nil {
		d, err = m.Admin.CreateDepartment(c.Request().Context(), by, tenantID, in)
		err = classify(err, "department")
	}
	if err != nil {
		fe, err := m.formFailure(c, err)
		if err != nil {
			return err
		}
		return m.renderDepartments(c, departmentsPage{Form: f, Error: fe})
	}
	return c.Redirect(http.StatusSeeOther, "/departments/"+d.ID+"?notice=department_created")
}

// departmentPage is what department.html renders.
type departmentPage struct {
	CSRF        string
	Notice      string
	Department  tenant.Department
	Form        departmentForm
	Error       formError
	DeleteError formError
	// InUse is what kept the department from being deleted, when it was.
	InUse   tenant.DepartmentUse
	Members []member
}

func (m *Module) loadDepartment(c echo.Context) (tenant.Department, error) {
	tenantID, err := tenantOf(c)
	if err != nil {
		return tenant.Department{}, err
	}
	d, err := m.Tenants.Department(c.Request().Context(), tenantID, c.Param("department"))
	return d, classify(err, "department")
}

func (m *Module) renderDepartment(c echo.Context, dep tenant.Department, d departmentPage) error {
	var err error
	d.Department, d.CSRF = dep, m.csrf(c)
	if d.Form.Days == nil {
		d.Form = departmentFormOf(dep)
	}
	if d.Members, err = m.members(c.Request().Context(), dep.TenantID, dep.ID); err != nil {
		return err
	}
	status := http.StatusOK
	for _, fe := range []formError{d.Error, d.DeleteError} {
		if fe.Status != 0 {
			status = fe.Status
		}
	}
	return m.Pages.Render(c, status, "department.html", d)
}

func (m *Module) departmentPage(c echo.Context) error {
	dep, err := m.loadDepartment(c)
	if err != nil {
		return err
	}
	return m.renderDepartment(c, dep, departmentPage{Notice: notices[c.QueryParam("notice")]})
}

func (m *Module) updateDepartmentForm(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	dep, err := m.loadDepartment(c)
	if err != nil {
		return err
	}
	f := readDepartmentForm(c)
	in, err := f.input()
	if err == nil {
		_, err = m.Admin.UpdateDepartment(c.Request().Context(), by, tenantID, dep.ID, in)
		err = classify(err, "department")
	}
	if err != nil {
		fe, err := m.formFailure(c, err)
		if err != nil {
			return err
		}
		return m.renderDepartment(c, dep, departmentPage{Form: f, Error: fe})
	}
	return c.Redirect(http.StatusSeeOther, "/departments/"+dep.ID+"?notice=department_changed")
}

func (m *Module) deleteDepartmentForm(c echo.Context) error {
	by, tenantID, err := actor(c)
	if err != nil {
		return err
	}
	dep, err := m.loadDepartment(c)
	if err != nil {
		return err
	}
	var use tenant.DepartmentUse
	err = confirmed(c)
	if err == nil {
		use, err = m.Admin.DeleteDepartment(c.Request().Context(), by, tenantID, dep.ID)
		err = inUse(classify(err, "department"), use)
	}
	if err != nil {
		fe, err := m.formFailure(c, err)
		if err != nil {
			return err
		}
		return m.renderDepartment(c, dep, departmentPage{DeleteError: fe, InUse: use})
	}
	return c.Redirect(http.StatusSeeOther, "/departments?notice=department_deleted")
}
