package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/rbac"
)

// Users is what authorization needs of the account domain; *account.Service implements it.
type Users interface {
	Users(ctx context.Context, tenantID string) ([]account.UserView, error)
	User(ctx context.Context, tenantID, userID string) (account.UserView, error)
}

// Sessions ends a user's sessions when their privileges change, inside the change's transaction,
// so their next request carries the new privileges; *account.Service implements it.
type Sessions interface {
	RevokeUserSessions(ctx context.Context, tx *gorm.DB, tenantID, userID string) (int64, error)
}

// Departments finds a tenant's department; another tenant's is tenant.ErrNotFound.
// *tenant.Store implements it.
type Departments interface {
	Department(ctx context.Context, tenantID, id string) (tenant.Department, error)
}

// Service is the role editor: custom roles built from the catalogue, assignments tenant-wide or
// per department, and effective permissions, with the guard rails PCI DSS 7.2 asks for: nobody
// grants, changes or removes a permission they do not hold, the last owner keeps the owner role,
// every change is audited in its own transaction and ends the affected users' sessions, and the
// node that made it reloads its enforcer at once (the others within their check interval).
type Service struct {
	DB          *gorm.DB
	Store       *Store
	Enforcer    *rbac.Enforcer
	Users       Users
	Sessions    Sessions
	Departments Departments
	Auditor     Auditor
	Now         func() time.Time
	Log         *slog.Logger
}

// RoleInput is a custom role as a caller writes it.
type RoleInput struct {
	// Name is a slug (rbac.CheckRoleName); one holding a card number is refused.
	Name string
	// Description is free text: card numbers in it keep only their last four digits.
	Description string
	Permissions []string
}

// RoleView is a role with how many assignments it has.
type RoleView struct {
	rbac.Role
	Assignments int
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Roles lists a tenant's roles: the default roles first, then the custom ones by name.
func (s *Service) Roles(ctx context.Context, tenantID string) ([]RoleView, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	custom, err := s.Store.CustomRoles(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	counts, err := s.Store.RoleAssignmentCounts(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []RoleView
	for _, r := range append(rbac.DefaultRoles(), custom...) {
		out = append(out, RoleView{Role: r, Assignments: counts[r.Name]})
	}
	return out, nil
}

// Role returns one role of a tenant; ErrRoleNotFound if it has none of that name.
func (s *Service) Role(ctx context.Context, tenantID, name string) (RoleView, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	r, err := s.Store.Role(ctx, tenantID, name)
	if err != nil {
		return RoleView{}, err
	}
	counts, err := s.Store.RoleAssignmentCounts(ctx, tenantID)
	if err != nil {
		return RoleView{}, err
	}
	return RoleView{Role: r, Assignments: counts[name]}, nil
}

// KnownRole reports whether a tenant has a role of that name (for account.Service.KnownRole and
// `parley user create --role`).
func (s *Service) KnownRole(ctx context.Context, tenantID, role string) bool {
	ctx = migrations.WithTenant(ctx, tenantID)
	_, err := s.Store.Role(ctx, tenantID, role)
	return err == nil
}

// cleanRole checks a role definition before any transaction: the name (on create), the
// description and the permissions.
func cleanRole(in RoleInput, checkName bool) (rbac.Role, error) {
	if checkName {
		if err := rbac.CheckRoleName(in.Name); err != nil {
			return rbac.Role{}, err
		}
	}
	desc, err := rbac.CleanDescription(in.Description)
	if err != nil {
		return rbac.Role{}, err
	}
	perms, err := rbac.CleanPermissions(in.Permissions)
	if err != nil {
		return rbac.Role{}, err
	}
	return rbac.Role{Name: in.Name, Description: desc, Permissions: perms}, nil
}

// CreateRole adds a custom role. The actor must hold every permission it grants, tenant-wide.
func (s *Service) CreateRole(ctx context.Context, by Actor, in RoleInput) (rbac.Role, error) {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	r, err := cleanRole(in, true)
	if err != nil {
		return rbac.Role{}, err
	}
	attempt := by.event(ActionRoleCreate, Success, "role", r.Name)
	attempt.Details = map[string]string{"permissions": strings.Join(r.Permissions, " ")}
	err = s.change(ctx, by, attempt, func(tx *gorm.DB, st *Store) error {
		if err := s.requireHeld(ctx, st, by, r.Permissions, ""); err != nil {
			return err
		}
		if err := st.createRole(ctx, by.TenantID, r, by.UserID, s.now()); err != nil {
			return err
		}
		return record(ctx, s.Auditor, tx, attempt)
	})
	return r, err
}

// UpdateRole replaces a custom role's description and permissions. The actor must hold every
// permission the role has now and will have, and every holder's sessions end.
func (s *Service) UpdateRole(ctx context.Context, by Actor, name string, in RoleInput) (rbac.Role, error) {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	if rbac.IsDefaultRole(name) {
		return rbac.Role{}, ErrBuiltinRole
	}
	if err := noCardNumber("name", name); err != nil {
		return rbac.Role{}, err
	}
	in.Name = name
	r, err := cleanRole(in, false)
	if err != nil {
		return rbac.Role{}, err
	}
	attempt := by.event(ActionRoleChange, Success, "role", name)
	err = s.change(ctx, by, attempt, func(tx *gorm.DB, st *Store) error {
		old, err := st.Role(ctx, by.TenantID, name)
		if err != nil {
			return err
		}
		added, removed := diff(old.Permissions, r.Permissions)
		attempt.Details = map[string]string{"added": strings.Join(added, " "), "removed": strings.Join(removed, " ")}
		if err := s.requireHeld(ctx, st, by, union(old.Permissions, r.Permissions), ""); err != nil {
			return err
		}
		if err := st.updateRole(ctx, by.TenantID, r, by.UserID, s.now()); err != nil {
			return err
		}
		holders, err := st.RoleUsers(ctx, by.TenantID, name)
		if err != nil {
			return err
		}
		ended, err := s.endSessions(ctx, tx, by.TenantID, holders...)
		if err != nil {
			return err
		}
		e := attempt
		e.Details["holders"] = strconv.Itoa(len(holders))
		e.Details["sessions_ended"] = strconv.FormatInt(ended, 10)
		return record(ctx, s.Auditor, tx, e)
	})
	return r, err
}

// DeleteRole removes a custom role that nobody holds. The actor must hold its permissions.
func (s *Service) DeleteRole(ctx context.Context, by Actor, name string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	if rbac.IsDefaultRole(name) {
		return ErrBuiltinRole
	}
	if err := noCardNumber("name", name); err != nil {
		return err
	}
	attempt := by.event(ActionRoleDelete, Success, "role", name)
	return s.change(ctx, by, attempt, func(tx *gorm.DB, st *Store) error {
		old, err := st.Role(ctx, by.TenantID, name)
		if err != nil {
			return err
		}
		attempt.Details = map[string]string{"permissions": strings.Join(old.Permissions, " ")}
		if err := s.requireHeld(ctx, st, by, old.Permissions, ""); err != nil {
			return err
		}
		holders, err := st.RoleUsers(ctx, by.TenantID, name)
		if err != nil {
			return err
		}
		if len(holders) > 0 {
			return ErrRoleInUse
		}
		if err := st.deleteRole(ctx, by.TenantID, name); err != nil {
			return err
		}
		return record(ctx, s.Auditor, tx, attempt)
	})
}

// UserAssignments lists a user's role assignments; ErrUserNotFound for another tenant's user.
func (s *Service) UserAssignments(ctx context.Context, tenantID, userID string) ([]Assignment, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if err := s.userExists(ctx, tenantID, userID); err != nil {
		return nil, err
	}
	return s.Store.Assignments(ctx, tenantID, userID)
}

// Assign grants a role to a user, tenant-wide (departmentID "") or in one department. The actor
// must hold, in that scope, every permission the grant gives; the user's sessions end.
func (s *Service) Assign(ctx context.Context, by Actor, userID, role, departmentID string) (Assignment, error) {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	if err := noCardNumber("role", role); err != nil {
		return Assignment{}, err
	}
	if err := s.userExists(ctx, by.TenantID, userID); err != nil {
		return Assignment{}, err
	}
	if departmentID != "" {
		if err := s.departmentExists(ctx, by.TenantID, departmentID); err != nil {
			return Assignment{}, err
		}
	}
	a := Assignment{
		ID: uuid.Must(uuid.NewV7()).String(), TenantID: by.TenantID, UserID: userID, Role: role,
		DepartmentID: departmentID, GrantedBy: by.UserID, CreatedAt: s.now(),
	}
	attempt := by.event(ActionRoleAssign, Success, "user", userID)
	attempt.Details = map[string]string{"role": role, "department_id": departmentID, "assignment_id": a.ID}
	err := s.change(ctx, by, attempt, func(tx *gorm.DB, st *Store) error {
		r, err := st.Role(ctx, by.TenantID, role)
		if errors.Is(err, ErrRoleNotFound) {
			return &UnknownRoleError{Name: role}
		}
		if err != nil {
			return err
		}
		if err := s.requireHeld(ctx, st, by, effectiveIn(r.Permissions, departmentID), departmentID); err != nil {
			return err
		}
		if err := st.addAssignment(ctx, &a); err != nil {
			return err
		}
		ended, err := s.endSessions(ctx, tx, by.TenantID, userID)
		if err != nil {
			return err
		}
		attempt.Details["sessions_ended"] = strconv.FormatInt(ended, 10)
		return record(ctx, s.Auditor, tx, attempt)
	})
	return a, err
}

// Unassign removes one of a user's role assignments. The actor must hold the permissions it
// gave; the last active owner keeps the owner role; the user's sessions end.
func (s *Service) Unassign(ctx context.Context, by Actor, userID, assignmentID string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	if err := s.userExists(ctx, by.TenantID, userID); err != nil {
		return err
	}
	attempt := by.event(ActionRoleUnassign, Success, "user", userID)
	attempt.Details = map[string]string{"assignment_id": assignmentID}
	return s.change(ctx, by, attempt, func(tx *gorm.DB, st *Store) error {
		a, err := st.assignment(ctx, by.TenantID, userID, assignmentID)
		if err != nil {
			return err
		}
		attempt.Details["role"], attempt.Details["department_id"] = a.Role, a.DepartmentID
		r, err := st.Role(ctx, by.TenantID, a.Role)
		if err != nil && !errors.Is(err, ErrRoleNotFound) {
			return err
		}
		if err := s.requireHeld(ctx, st, by, effectiveIn(r.Permissions, a.DepartmentID), a.DepartmentID); err != nil {
			return err
		}
		if a.Role == rbac.RoleOwner && a.DepartmentID == "" {
			n, err := st.activeOwners(ctx, by.TenantID, a.ID, "")
			if err != nil {
				return err
			}
			if n == 0 {
				return ErrLastOwner
			}
		}
		if err := st.removeAssignment(ctx, by.TenantID, a.ID); err != nil {
			return err
		}
		ended, err := s.endSessions(ctx, tx, by.TenantID, userID)
		if err != nil {
			return err
		}
		attempt.Details["sessions_ended"] = strconv.FormatInt(ended, 10)
		return record(ctx, s.Auditor, tx, attempt)
	})
}

// CheckOwnerRemains returns ErrLastOwner when taking userID out of service (disabling or
// deleting them) would leave the tenant without an active tenant-wide owner. Call it inside the
// transaction that does so: it locks the policy, so role changes and other such checks wait for
// that transaction, and counts the owners it sees.
func (s *Service) CheckOwnerRemains(ctx context.Context, tx *gorm.DB, tenantID, userID string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	tx = tx.WithContext(ctx)
	st := s.Store.WithTx(tx)
	if err := st.lockPolicy(ctx); err != nil {
		return err
	}
	mine, err := st.userOwnerAssignments(ctx, tenantID, userID)
	if err != nil || len(mine) == 0 {
		return err
	}
	others, err := st.activeOwners(ctx, tenantID, "", userID)
	if err != nil {
		return err
	}
	if others == 0 {
		return ErrLastOwner
	}
	return nil
}

// CheckGrant is the escalation rule for other domains that grant roles (an invitation names the
// invitee's role): nil when by may grant role tenant-wide (departmentID "") or in a department;
// *UnknownRoleError for a role the tenant lacks; *EscalationError, audited as an escalation
// attempt, when by does not hold every permission the grant gives there.
func (s *Service) CheckGrant(ctx context.Context, by Actor, role, departmentID string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	r, err := s.Store.Role(ctx, by.TenantID, role)
	if errors.Is(err, ErrRoleNotFound) {
		return &UnknownRoleError{Name: role}
	}
	if err != nil {
		return err
	}
	return s.checkHeld(ctx, by, effectiveIn(r.Permissions, departmentID), departmentID, map[string]string{"role": role, "department_id": departmentID})
}

// CheckOutranks is the rule for acting on another account (disabling it, resetting its password
// or second factor): nil when by holds every permission userID holds, in every scope;
// *EscalationError, audited, otherwise. So an administrator cannot lock out an owner.
func (s *Service) CheckOutranks(ctx context.Context, by Actor, userID string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	target, err := s.EffectivePermissions(ctx, by.TenantID, userID)
	if err != nil {
		return err
	}
	mine, err := s.EffectivePermissions(ctx, by.TenantID, by.UserID)
	if err != nil {
		return err
	}
	missing := mine.Grants.Missing(target.Grants.Tenant.Names(), "")
	for _, dept := range sortedKeys(target.Grants.Departments) {
		missing = union(missing, mine.Grants.Missing(target.Grants.Departments[dept].Names(), dept))
	}
	if len(missing) == 0 {
		return nil
	}
	esc := &EscalationError{Missing: missing}
	s.auditEscalation(ctx, by, "user", userID, "user.manage", esc, nil)
	return esc
}

// checkHeld fails with an audited *EscalationError unless by holds perms in the scope.
func (s *Service) checkHeld(ctx context.Context, by Actor, perms []string, departmentID string, details map[string]string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	err := s.requireHeld(ctx, s.Store, by, perms, departmentID)
	var esc *EscalationError
	if errors.As(err, &esc) {
		s.auditEscalation(ctx, by, "role", details["role"], ActionRoleAssign, esc, details)
	}
	return err
}

// auditEscalation records an escalation attempt outside any transaction: the attempt changed
// nothing, and the refusal stands whether or not the record is written.
func (s *Service) auditEscalation(ctx context.Context, by Actor, targetKind, targetID, attempted string, esc *EscalationError, details map[string]string) {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	e := by.event(ActionEscalationAttempt, Failure, targetKind, targetID)
	e.Reason = "escalation"
	e.Details = map[string]string{"attempted": attempted, "missing": strings.Join(esc.Missing, " ")}
	for k, v := range details {
		e.Details[k] = v
	}
	if err := record(ctx, s.Auditor, nil, e); err != nil {
		s.log().ErrorContext(ctx, "escalation attempt not audited", "request_id", by.RequestID, "cause", err.Error())
	}
}

// Effective is what a user holds: their assignments and the permissions they give, tenant-wide
// and per department, each with the roles granting it.
type Effective struct {
	UserID      string
	Assignments []Assignment
	Grants      rbac.Grants
}

// EffectivePermissions computes a user's effective permissions from the stored policy.
func (s *Service) EffectivePermissions(ctx context.Context, tenantID, userID string) (Effective, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if err := s.userExists(ctx, tenantID, userID); err != nil {
		return Effective{}, err
	}
	as, err := s.Store.Assignments(ctx, tenantID, userID)
	if err != nil {
		return Effective{}, err
	}
	g, err := s.grantsFrom(ctx, s.Store, tenantID, as)
	if err != nil {
		return Effective{}, err
	}
	return Effective{UserID: userID, Assignments: as, Grants: g}, nil
}

func (s *Service) grantsFrom(ctx context.Context, st *Store, tenantID string, as []Assignment) (rbac.Grants, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	roles, err := st.RoleSet(ctx, tenantID)
	if err != nil {
		return rbac.Grants{}, err
	}
	ras := make([]rbac.Assignment, 0, len(as))
	for _, a := range as {
		ras = append(ras, rbac.Assignment{TenantID: a.TenantID, UserID: a.UserID, Role: a.Role, DepartmentID: a.DepartmentID})
	}
	return rbac.GrantsOf(roles, ras), nil
}

// requireHeld fails with *EscalationError unless the actor holds every permission in perms in the
// scope, as the transaction sees the policy (not the cache).
func (s *Service) requireHeld(ctx context.Context, st *Store, by Actor, perms []string, departmentID string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	as, err := st.Assignments(ctx, by.TenantID, by.UserID)
	if err != nil {
		return err
	}
	g, err := s.grantsFrom(ctx, st, by.TenantID, as)
	if err != nil {
		return err
	}
	if missing := g.Missing(perms, departmentID); len(missing) > 0 {
		return &EscalationError{Missing: missing}
	}
	return nil
}

// change runs fn in a transaction that first locks the policy; on success the enforcer reloads.
// An escalation is audited as an attempt outside the rolled-back transaction.
func (s *Service) change(ctx context.Context, by Actor, attempt Event, fn func(tx *gorm.DB, st *Store) error) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	if s.Auditor == nil {
		return fmt.Errorf("%w: %w", ErrAudit, ErrNoAuditor)
	}
	err := migrations.Transaction(s.DB.WithContext(ctx), func(tx *gorm.DB) error {
		st := s.Store.WithTx(tx)
		if err := st.lockPolicy(ctx); err != nil {
			return err
		}
		return fn(tx, st)
	})
	var esc *EscalationError
	if errors.As(err, &esc) {
		s.auditEscalation(ctx, by, attempt.TargetKind, attempt.TargetID, attempt.Action, esc, attempt.Details)
		return err
	}
	if err != nil {
		return err
	}
	if s.Enforcer != nil {
		if rerr := s.Enforcer.Reload(ctx); rerr != nil {
			// Committed; the next version check reloads.
			s.log().ErrorContext(ctx, "authorization policy reload failed", "request_id", by.RequestID, "cause", rerr.Error())
		}
	}
	return nil
}

// endSessions ends the sessions of users, failing closed without a session store.
func (s *Service) endSessions(ctx context.Context, tx *gorm.DB, tenantID string, userIDs ...string) (int64, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	tx = tx.WithContext(ctx)
	if s.Sessions == nil {
		return 0, errors.New("authz: no session store to end sessions after a privilege change")
	}
	var total int64
	for _, id := range userIDs {
		n, err := s.Sessions.RevokeUserSessions(ctx, tx, tenantID, id)
		if err != nil {
			return total, fmt.Errorf("end sessions: %w", err)
		}
		total += n
	}
	return total, nil
}

func (s *Service) userExists(ctx context.Context, tenantID, userID string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	if userID == "" {
		return ErrUserNotFound
	}
	_, err := s.Users.User(ctx, tenantID, userID)
	if errors.Is(err, account.ErrNotFound) {
		return ErrUserNotFound
	}
	return err
}

func (s *Service) departmentExists(ctx context.Context, tenantID, id string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	_, err := s.Departments.Department(ctx, tenantID, id)
	if errors.Is(err, tenant.ErrNotFound) {
		return ErrDepartmentNotFound
	}
	return err
}

// effectiveIn returns the permissions of perms that take effect in the scope: all of them
// tenant-wide, the departmental ones in a department.
func effectiveIn(perms []string, departmentID string) []string {
	if departmentID == "" {
		return perms
	}
	var out []string
	for _, p := range perms {
		if info, ok := rbac.Lookup(p); ok && info.Departmental {
			out = append(out, p)
		}
	}
	return out
}

func diff(old, cur []string) (added, removed []string) {
	for _, p := range cur {
		if !slices.Contains(old, p) {
			added = append(added, p)
		}
	}
	for _, p := range old {
		if !slices.Contains(cur, p) {
			removed = append(removed, p)
		}
	}
	return added, removed
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, p := range b {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
