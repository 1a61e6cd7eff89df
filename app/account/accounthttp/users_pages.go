package accounthttp

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/compliance/pan"
)

// userStatuses are the statuses the user list filters by, in the order the filter offers them.
var userStatuses = []string{"active", "invited", "locked", "disabled"}

// userRow is one user in the console's list.
type userRow struct {
	ID, Email, Name, Status string
	MFA                     bool
	LastSignIn              *time.Time
	Roles                   []string
}

// inviteForm is what the invitation form sends, typed back on a refusal.
type inviteForm struct {
	Email, Name, Role, DepartmentID string
}

// invitedResult is the one-time invitation link the result page shows, once.
type invitedResult struct {
	UserID, Email, Name, URL string
	ExpiresAt                time.Time
}

// usersPage is what users.html renders.
type usersPage struct {
	CSRF, Notice  string
	Query, Status string
	Statuses      []string
	Users         []userRow
	Total         int
	Roles         []string
	Depts         []deptOption
	Invite        inviteForm
	Invited       *invitedResult
	Failure       formFailure
}

// displayStatus is a user's status as the console shows it: a running lockout shows as locked.
func displayStatus(v account.UserView) string {
	if v.LockedUntil != nil && v.Status != account.StatusDisabled {
		return "locked"
	}
	return string(v.Status)
}

func (m *Module) usersPage(c echo.Context) error {
	return m.renderUsers(c, http.StatusOK, usersPage{Notice: consoleNotices[c.QueryParam("notice")]})
}

// renderUsers fills the list and the form options into d and renders the page.
func (m *Module) renderUsers(c echo.Context, status int, d usersPage) error {
	ctx := c.Request().Context()
	cur := current(c)
	vs, err := m.Accounts.Users(ctx, cur.User.TenantID)
	if err != nil {
		return classify(err)
	}
	if d.Roles, err = m.roleNames(ctx, cur.User.TenantID); err != nil {
		return err
	}
	if d.Depts, err = m.departments(ctx, cur.User.TenantID); err != nil {
		return err
	}
	d.CSRF, d.Statuses, d.Total = account.CSRFToken(cur.Token), userStatuses, len(vs)
	d.Query = strings.TrimSpace(c.QueryParam("q"))
	if len(d.Query) > 200 {
		d.Query = d.Query[:200]
	}
	for _, s := range userStatuses {
		if c.QueryParam("status") == s {
			d.Status = s
		}
	}
	q := strings.ToLower(d.Query)
	for _, v := range vs {
		st := displayStatus(v)
		if d.Status != "" && st != d.Status {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(v.Email), q) && !strings.Contains(strings.ToLower(v.DisplayName), q) {
			continue
		}
		d.Users = append(d.Users, userRow{ID: v.ID, Email: v.Email, Name: v.DisplayName, Status: st, MFA: v.MFAEnabled,
			LastSignIn: v.LastSignInAt, Roles: v.Roles})
	}
	if d.Invite.Role == "" {
		d.Invite.Role = "agent"
	}
	return m.Pages.Render(c, status, "users.html", d)
}

// inviteUserSubmit invites a user. The answer is the page itself, with the one-time link: it is
// never put in a redirect (a URL lands in logs and history). Sent twice, the second invitation
// is refused: the address is taken.
func (m *Module) inviteUserSubmit(c echo.Context) error {
	f := inviteForm{Email: strings.TrimSpace(c.FormValue("email")), Name: c.FormValue("name"), Role: c.FormValue("role"),
		DepartmentID: c.FormValue("department_id")}
	refuse := func(ff formFailure) error {
		// What was typed is shown back with any card number masked; nothing was stored.
		back := inviteForm{Email: pan.MaskLast4(f.Email), Name: pan.MaskLast4(f.Name), Role: f.Role, DepartmentID: f.DepartmentID}
		return m.renderUsers(c, ff.Status, usersPage{Invite: back, Failure: ff})
	}
	switch {
	case f.Email == "" || len(f.Email) > maxEmailLen:
		return refuse(fieldFailure("invite", "email", "Enter the new user's e-mail address."))
	case len(f.Name) > 200:
		return refuse(fieldFailure("invite", "name", "The name is at most 200 characters."))
	case f.Role == "" || len(f.Role) > 64:
		return refuse(fieldFailure("invite", "role", "Choose a role."))
	case len(f.DepartmentID) > 64:
		return refuse(fieldFailure("invite", "department_id", "That department does not exist."))
	}
	ctx := c.Request().Context()
	inv, err := m.Accounts.Invite(ctx, actor(c), account.InviteInput{Email: f.Email, Name: f.Name, Role: f.Role,
		DepartmentID: f.DepartmentID})
	if err != nil {
		ff, err := failure("invite", err)
		if err != nil {
			return err
		}
		return refuse(ff)
	}
	return m.renderUsers(c, http.StatusCreated, usersPage{Invited: &invitedResult{
		UserID: inv.User.ID, Email: inv.User.Email, Name: inv.User.DisplayName,
		URL: m.PublicURL + "/invite?token=" + url.QueryEscape(inv.Token), ExpiresAt: inv.ExpiresAt,
	}})
}

// assignmentRow is one of a user's role assignments.
type assignmentRow struct {
	ID, Role, DepartmentID, DepartmentName string
	CreatedAt                              time.Time
}

// grantForm is what the role grant form sends, typed back on a refusal.
type grantForm struct{ Role, DepartmentID string }

// userPage is what user.html renders.
type userPage struct {
	CSRF, Notice string
	User         UserBody
	Status       string
	Self         bool
	Assignments  []assignmentRow
	Roles        []string
	Depts        []deptOption
	Sessions     []SessionItem
	CanGrant     bool
	Grant        grantForm
	// TemporaryPassword is a reset password, shown once on the answer to the reset form.
	TemporaryPassword string
	Failure           formFailure
}

func (m *Module) userPage(c echo.Context) error {
	return m.renderUser(c, http.StatusOK, userPage{Notice: consoleNotices[c.QueryParam("notice")]})
}

// renderUser renders a user's page; a user of another tenant is not found.
func (m *Module) renderUser(c echo.Context, status int, d userPage) error {
	ctx := c.Request().Context()
	cur := current(c)
	tenantID, id := cur.User.TenantID, c.Param("id")
	v, err := m.Accounts.User(ctx, tenantID, id)
	if err != nil {
		return classify(err)
	}
	d.CSRF, d.User, d.Status, d.Self = account.CSRFToken(cur.Token), userBody(v), displayStatus(v), id == cur.User.ID
	if d.Depts, err = m.departments(ctx, tenantID); err != nil {
		return err
	}
	names := map[string]string{}
	for _, dep := range d.Depts {
		names[dep.ID] = dep.Name
	}
	if m.Roles != nil {
		as, err := m.Roles.UserAssignments(ctx, tenantID, id)
		if err != nil {
			return authz.Classify(err)
		}
		for _, a := range as {
			d.Assignments = append(d.Assignments, assignmentRow{ID: a.ID, Role: a.Role, DepartmentID: a.DepartmentID,
				DepartmentName: names[a.DepartmentID], CreatedAt: a.CreatedAt})
		}
	}
	if d.Roles, err = m.roleNames(ctx, tenantID); err != nil {
		return err
	}
	ss, err := m.Accounts.Sessions(ctx, tenantID, id)
	if err != nil {
		return classify(err)
	}
	for _, s := range ss {
		d.Sessions = append(d.Sessions, SessionItem{ID: s.ID, Current: s.ID == cur.Session.ID, ClientIP: s.ClientIP,
			UserAgent: s.UserAgent, CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt, MFA: s.MFA})
	}
	d.CanGrant = m.Roles != nil && m.allowed(c, PermRoleManage)
	return m.Pages.Render(c, status, "user.html", d)
}

// userAction runs one of the user page's forms: a destructive one needs its confirmation; on
// success the page is shown again with notice; a refusal shows the form's field errors.
func (m *Module) userAction(c echo.Context, form, notice string, destructive bool, do func() error) error {
	if destructive && !confirmed(c) {
		return m.renderUser(c, errConfirm.Status, userPage{Failure: fieldFailure(form, "confirm", errConfirm.Message)})
	}
	if err := do(); err != nil {
		ff, err := failure(form, err)
		if err != nil {
			return err
		}
		return m.renderUser(c, ff.Status, userPage{Failure: ff})
	}
	return c.Redirect(http.StatusSeeOther, "/users/"+url.PathEscape(c.Param("id"))+"?notice="+notice)
}

func (m *Module) disableSubmit(c echo.Context) error {
	return m.userAction(c, "disable", "user_disabled", true, func() error {
		if c.Param("id") == current(c).User.ID {
			return errConflictState.WithMessage("You cannot disable your own account.")
		}
		return m.Accounts.Disable(c.Request().Context(), actor(c), c.Param("id"))
	})
}

func (m *Module) enableSubmit(c echo.Context) error {
	return m.userAction(c, "enable", "user_enabled", false, func() error {
		return m.Accounts.Enable(c.Request().Context(), actor(c), c.Param("id"))
	})
}

func (m *Module) unlockSubmit(c echo.Context) error {
	return m.userAction(c, "unlock", "user_unlocked", false, func() error {
		return m.Accounts.Unlock(c.Request().Context(), actor(c), c.Param("id"))
	})
}

func (m *Module) mfaResetSubmit(c echo.Context) error {
	return m.userAction(c, "mfa_reset", "mfa_reset", true, func() error {
		return m.Accounts.ResetMFA(c.Request().Context(), actor(c), c.Param("id"))
	})
}

// passwordResetSubmit resets a user's password to a temporary one and shows it once, on the
// answer itself (never in a redirect); the user must change it at first sign-in.
func (m *Module) passwordResetSubmit(c echo.Context) error {
	if !confirmed(c) {
		return m.renderUser(c, errConfirm.Status, userPage{Failure: fieldFailure("password_reset", "confirm", errConfirm.Message)})
	}
	temp, err := m.Accounts.ResetPassword(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		ff, err := failure("password_reset", err)
		if err != nil {
			return err
		}
		return m.renderUser(c, ff.Status, userPage{Failure: ff})
	}
	return m.renderUser(c, http.StatusOK, userPage{TemporaryPassword: temp})
}

func (m *Module) endSessionSubmit(c echo.Context) error {
	own := c.Param("session") == current(c).Session.ID
	if !confirmed(c) {
		return m.renderUser(c, errConfirm.Status, userPage{Failure: fieldFailure("session_"+c.Param("session"), "confirm", errConfirm.Message)})
	}
	if err := m.Accounts.RevokeSession(c.Request().Context(), actor(c), c.Param("id"), c.Param("session")); err != nil {
		return classify(err)
	}
	if own {
		m.Sessions.clearCookie(c)
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return c.Redirect(http.StatusSeeOther, "/users/"+url.PathEscape(c.Param("id"))+"?notice=session_ended")
}

func (m *Module) grantSubmit(c echo.Context) error {
	g := grantForm{Role: c.FormValue("role"), DepartmentID: c.FormValue("department_id")}
	refuse := func(ff formFailure) error {
		return m.renderUser(c, ff.Status, userPage{Grant: grantForm{Role: pan.MaskLast4(g.Role), DepartmentID: g.DepartmentID}, Failure: ff})
	}
	if g.Role == "" || len(g.Role) > 64 {
		return refuse(fieldFailure("grant", "role", "Choose a role."))
	}
	if m.Roles == nil {
		return api.ErrUnavailable
	}
	_, err := m.Roles.Assign(c.Request().Context(), authzActor(c), c.Param("id"), g.Role, g.DepartmentID)
	if err != nil {
		ff, err := failure("grant", authz.Classify(err))
		if err != nil {
			return err
		}
		return refuse(ff)
	}
	return c.Redirect(http.StatusSeeOther, "/users/"+url.PathEscape(c.Param("id"))+"?notice=role_granted")
}

func (m *Module) revokeRoleSubmit(c echo.Context) error {
	form := "assignment_" + c.Param("assignment")
	if !confirmed(c) {
		return m.renderUser(c, errConfirm.Status, userPage{Failure: fieldFailure(form, "confirm", errConfirm.Message)})
	}
	if m.Roles == nil {
		return api.ErrUnavailable
	}
	if err := m.Roles.Unassign(c.Request().Context(), authzActor(c), c.Param("id"), c.Param("assignment")); err != nil {
		ff, err := failure(form, authz.Classify(err))
		if err != nil {
			return err
		}
		return m.renderUser(c, ff.Status, userPage{Failure: ff})
	}
	return c.Redirect(http.StatusSeeOther, "/users/"+url.PathEscape(c.Param("id"))+"?notice=role_removed")
}
