package authz

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/policy/rbac"
	"github.com/parleyhq/parley/web"
)

// Permissions the module's routes declare.
const (
	PermRoleView            = "role.view"
	PermRoleManage          = "role.manage"
	PermAccessReviewView    = "access_review.view"
	PermAccessReviewPerform = "access_review.perform"
)

// Module serves the role editor and the access review: the JSON API and the console pages.
type Module struct {
	Service *Service
	Reviews *Reviews
	Guard   *Guard
	Pages   *web.Pages
	// CSRF returns the request's CSRF token for the console's forms (SessionCSRF).
	CSRF func(c echo.Context) string
}

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	apiRoute := func(perm, method, path, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: perm,
			Scope: server.ScopeTenant, API: true, Summary: summary, Handler: h}
	}
	page := func(perm, method, path, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: perm,
			Scope: server.ScopeTenant, Summary: summary, Handler: h}
	}
	return []server.Route{
		apiRoute(PermRoleView, http.MethodGet, "/api/v1/permissions", "The permission catalogue with the PCI DSS and HIPAA controls each supports.", m.listPermissions),
		apiRoute(PermRoleView, http.MethodGet, "/api/v1/roles", "The organisation's roles: the default ones and its custom roles.", m.listRoles),
		apiRoute(PermRoleManage, http.MethodPost, "/api/v1/roles", "Create a custom role from catalogue permissions the caller holds.", m.createRole),
		apiRoute(PermRoleView, http.MethodGet, "/api/v1/roles/:role", "One role.", m.getRole),
		apiRoute(PermRoleManage, http.MethodPut, "/api/v1/roles/:role", "Replace a custom role's description and permissions; its holders' sessions end.", m.updateRole),
		apiRoute(PermRoleManage, http.MethodDelete, "/api/v1/roles/:role", "Delete a custom role nobody holds.", m.deleteRole),
		apiRoute(PermRoleView, http.MethodGet, "/api/v1/users/:id/roles", "A user's role assignments.", m.userRoles),
		apiRoute(PermRoleManage, http.MethodPost, "/api/v1/users/:id/roles", "Grant a role tenant-wide or in a department; the user's sessions end.", m.assign),
		apiRoute(PermRoleManage, http.MethodDelete, "/api/v1/users/:id/roles/:assignment", "Remove a role assignment; the user's sessions end.", m.unassign),
		apiRoute(PermRoleView, http.MethodGet, "/api/v1/users/:id/effective-permissions", "What a user holds, tenant-wide and per department, and from which roles.", m.effective),
		apiRoute(PermAccessReviewView, http.MethodGet, "/api/v1/access-review", "The access review report: every user with roles, scope, last sign-in, MFA and inactivity.", m.report),
		apiRoute(PermAccessReviewView, http.MethodGet, "/api/v1/access-review/status", "Whether the access review is current (overdue after six months).", m.reviewStatus),
		apiRoute(PermAccessReviewView, http.MethodGet, "/api/v1/access-review/sign-offs", "Past access review sign-offs, newest first.", m.listSignOffs),
		apiRoute(PermAccessReviewPerform, http.MethodPost, "/api/v1/access-review/sign-offs", "Sign off the access review report the caller saw.", m.signOff),

		page(PermRoleView, http.MethodGet, "/roles", "Role editor page.", m.rolesPage),
		page(PermRoleManage, http.MethodPost, "/roles", "Create a custom role (form).", m.createRoleSubmit),
		page(PermRoleManage, http.MethodPost, "/roles/:role", "Change a custom role (form).", m.updateRoleSubmit),
		page(PermRoleManage, http.MethodPost, "/roles/:role/delete", "Delete a custom role (form).", m.deleteRoleSubmit),
		page(PermRoleManage, http.MethodPost, "/roles/users/:id/assignments", "Grant a role (form).", m.assignSubmit),
		page(PermRoleManage, http.MethodPost, "/roles/users/:id/assignments/:assignment/delete", "Remove a role assignment (form).", m.unassignSubmit),
		page(PermAccessReviewView, http.MethodGet, "/access-review", "Access review page.", m.reviewPage),
		page(PermAccessReviewPerform, http.MethodPost, "/access-review", "Sign off the access review (form).", m.signOffSubmit),
	}
}

// Error codes of the module, besides api's shared ones.
var (
	errUnknownPermission = api.New(http.StatusBadRequest, "unknown_permission", "The request names permissions that do not exist.")
	errUnknownRole       = api.New(http.StatusBadRequest, "unknown_role", "The request names a role that does not exist.")
	errRoleExists        = api.New(http.StatusConflict, "role_exists", "A role with that name exists.")
	errRoleBuiltin       = api.New(http.StatusConflict, "role_builtin", "Default roles cannot be changed or deleted; build a custom role instead.")
	errRoleInUse         = api.New(http.StatusConflict, "role_in_use", "The role is still assigned; remove its assignments first.")
	errAlreadyAssigned   = api.New(http.StatusConflict, "already_assigned", "The user already holds that role there.")
	errLastOwner         = api.New(http.StatusConflict, "last_owner", "The organisation's last owner keeps the owner role; make someone else owner first.")
	errReportChanged     = api.New(http.StatusConflict, "report_changed", "The access review report changed since it was shown; review it again.")
	errEscalation        = api.ErrForbidden.WithMessage("You cannot grant, change or remove permissions you do not hold.")
)

// classify maps the module's errors to API errors.
func classify(err error) error {
	var (
		unknownPerms *rbac.UnknownPermissionsError
		unknownRole  *UnknownRoleError
		esc          *EscalationError
		card         *CardNumberError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &card):
		return api.ErrCardNumber.WithField(card.Field)
	case errors.Is(err, rbac.ErrRoleNameCardNumber):
		return api.ErrCardNumber.WithField("name")
	case errors.As(err, &unknownPerms):
		return errUnknownPermission.WithField("permissions").
			WithMessage(fmt.Sprintf("Unknown permissions: %s.", strings.Join(quoteAll(unknownPerms.Names), ", "))).
			WithDetails(map[string]any{"unknown": unknownPerms.Names})
	case errors.As(err, &unknownRole):
		return errUnknownRole.WithField("role").WithMessage(fmt.Sprintf("Unknown role: %q.", unknownRole.Name)).
			WithDetails(map[string]any{"unknown": []string{unknownRole.Name}})
	case errors.As(err, &esc):
		return errEscalation.WithDetails(map[string]any{"missing": esc.Missing}).Wrap(err)
	case errors.Is(err, rbac.ErrInvalidRoleName), errors.Is(err, rbac.ErrReservedRoleName):
		return api.ErrInvalidRequest.WithField("name").WithMessage(sentence(err))
	case errors.Is(err, rbac.ErrInvalidDescription):
		return api.ErrInvalidRequest.WithField("description").WithMessage(sentence(err))
	case errors.Is(err, rbac.ErrNoPermissions):
		return api.ErrInvalidRequest.WithField("permissions").WithMessage("Choose at least one permission.")
	case errors.Is(err, ErrInvalidNotes):
		return api.ErrInvalidRequest.WithField("notes").WithMessage("Notes must be at most 2000 characters without control characters.")
	case errors.Is(err, ErrRoleNotFound), errors.Is(err, ErrUserNotFound), errors.Is(err, ErrAssignmentNotFound):
		return api.ErrNotFound
	case errors.Is(err, ErrDepartmentNotFound):
		return api.ErrNotFound.WithField("department_id")
	case errors.Is(err, ErrRoleExists):
		return errRoleExists
	case errors.Is(err, ErrBuiltinRole):
		return errRoleBuiltin
	case errors.Is(err, ErrRoleInUse):
		return errRoleInUse
	case errors.Is(err, ErrAlreadyAssigned):
		return errAlreadyAssigned
	case errors.Is(err, ErrLastOwner):
		return errLastOwner
	case errors.Is(err, ErrReportChanged):
		return errReportChanged
	case errors.Is(err, ErrAudit):
		return api.ErrUnavailable.Wrap(err)
	}
	return err
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}

// sentence turns a validation error into a client message: its text, capitalised, with a full
// stop. Only errors built from constant texts reach it.
func sentence(err error) string {
	s := err.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// actorOf returns who is acting: the request's principal, with its origin.
func actorOf(c echo.Context) (Actor, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return Actor{}, api.ErrUnauthenticated
	}
	return Actor{TenantID: p.TenantID, UserID: p.UserID, ClientIP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)}, nil
}

// SessionCSRF returns the CSRF token function for the console's forms: the token of the session
// whose cookie is called cookieName.
func SessionCSRF(cookieName string) func(c echo.Context) string {
	return func(c echo.Context) string {
		// A response that has just replaced the session (a second factor turned on rotates it)
		// renders its forms with the new session's token.
		for _, line := range c.Response().Header().Values("Set-Cookie") {
			if ck, err := http.ParseSetCookie(line); err == nil && ck.Name == cookieName && ck.Value != "" && ck.MaxAge >= 0 {
				return account.CSRFToken(ck.Value)
			}
		}
		ck, err := c.Cookie(cookieName)
		if err != nil || ck.Value == "" {
			return ""
		}
		return account.CSRFToken(ck.Value)
	}
}

// PermissionBody is a catalogue entry as the API shows it.
type PermissionBody struct {
	Name         string   `json:"name"`
	Area         string   `json:"area"`
	Description  string   `json:"description"`
	Kind         string   `json:"kind"`
	Departmental bool     `json:"departmental"`
	Sensitive    bool     `json:"sensitive"`
	PCI          []string `json:"pci_dss"`
	HIPAA        []string `json:"hipaa"`
}

// RoleBody is a role as the API shows it.
type RoleBody struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Builtin     bool     `json:"builtin"`
	Permissions []string `json:"permissions"`
	Assignments int      `json:"assignments"`
}

// AssignmentBody is a role assignment as the API shows it.
type AssignmentBody struct {
	ID           string    `json:"id"`
	UserID       string    `json:"user_id"`
	Role         string    `json:"role"`
	DepartmentID *string   `json:"department_id"`
	GrantedBy    string    `json:"granted_by"`
	CreatedAt    time.Time `json:"created_at"`
}

// GrantBody is one permission held and the roles granting it.
type GrantBody struct {
	Permission string   `json:"permission"`
	Roles      []string `json:"roles"`
}

// DepartmentGrantsBody is what a user holds in one department beyond their tenant-wide grants.
type DepartmentGrantsBody struct {
	DepartmentID string      `json:"department_id"`
	Permissions  []GrantBody `json:"permissions"`
}

// EffectiveBody answers GET /api/v1/users/:id/effective-permissions.
type EffectiveBody struct {
	UserID      string                 `json:"user_id"`
	Assignments []AssignmentBody       `json:"assignments"`
	TenantWide  []GrantBody            `json:"tenant_wide"`
	Departments []DepartmentGrantsBody `json:"departments"`
}

func permissionBody(p rbac.Permission) PermissionBody {
	return PermissionBody{Name: p.Name, Area: p.Area(), Description: p.Description, Kind: string(p.Kind),
		Departmental: p.Departmental, Sensitive: p.Sensitive, PCI: nonNil(p.PCI), HIPAA: nonNil(p.HIPAA)}
}

func roleBody(r RoleView) RoleBody {
	return RoleBody{Name: r.Name, Description: r.Description, Builtin: r.Builtin, Permissions: nonNil(r.Permissions), Assignments: r.Assignments}
}

func assignmentBody(a Assignment) AssignmentBody {
	b := AssignmentBody{ID: a.ID, UserID: a.UserID, Role: a.Role, GrantedBy: a.GrantedBy, CreatedAt: a.CreatedAt.UTC()}
	if a.DepartmentID != "" {
		d := a.DepartmentID
		b.DepartmentID = &d
	}
	return b
}

func grantsBody(set rbac.PermissionSet) []GrantBody {
	out := []GrantBody{}
	for _, p := range set.Names() {
		out = append(out, GrantBody{Permission: p, Roles: set[p]})
	}
	return out
}

func effectiveBody(e Effective) EffectiveBody {
	b := EffectiveBody{UserID: e.UserID, Assignments: []AssignmentBody{}, TenantWide: grantsBody(e.Grants.Tenant), Departments: []DepartmentGrantsBody{}}
	for _, a := range e.Assignments {
		b.Assignments = append(b.Assignments, assignmentBody(a))
	}
	for _, d := range sortedKeys(e.Grants.Departments) {
		b.Departments = append(b.Departments, DepartmentGrantsBody{DepartmentID: d, Permissions: grantsBody(e.Grants.Departments[d])})
	}
	return b
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
