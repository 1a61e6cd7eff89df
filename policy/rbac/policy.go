package rbac

import (
	"context"
	"slices"
	"sort"
)

// Assignment grants a role to a user, tenant-wide (DepartmentID "") or in one department.
type Assignment struct {
	TenantID     string
	UserID       string
	Role         string
	DepartmentID string
}

// TenantRole is a custom role of one tenant.
type TenantRole struct {
	TenantID string
	Role
}

// Policy is everything the enforcer decides from, as of one policy version: the custom roles of
// every tenant and every role assignment.
type Policy struct {
	Version     int64
	Roles       []TenantRole
	Assignments []Assignment
}

// Source is where the policy is kept (the database). PolicyVersion must be cheap: it is asked on
// every check interval. The version grows with every change to roles or assignments.
type Source interface {
	PolicyVersion(ctx context.Context) (int64, error)
	// LoadPolicy reads the whole policy. It reads the version before the rows, so a change that
	// lands in between is seen again at the next version check.
	LoadPolicy(ctx context.Context) (Policy, error)
}

// RoleSet returns the roles of a tenant by name: the default roles and the given custom roles.
func RoleSet(custom []Role) map[string]Role {
	out := make(map[string]Role, len(custom)+5)
	for _, r := range DefaultRoles() {
		out[r.Name] = r
	}
	for _, r := range custom {
		if !IsDefaultRole(r.Name) {
			out[r.Name] = r
		}
	}
	return out
}

// PermissionSet maps each permission held to the roles that grant it.
type PermissionSet map[string][]string

// Has reports whether the set holds permission.
func (s PermissionSet) Has(permission string) bool {
	_, ok := s[permission]
	return ok
}

// Names returns the permissions held, in catalogue order.
func (s PermissionSet) Names() []string {
	var out []string
	for _, n := range Names() {
		if s.Has(n) {
			out = append(out, n)
		}
	}
	return out
}

func (s PermissionSet) add(permission, role string) {
	if !slices.Contains(s[permission], role) {
		s[permission] = append(s[permission], role)
		sort.Strings(s[permission])
	}
}

// Grants is what one user holds in one tenant: the permissions granted tenant-wide and those
// granted in each department. It is the plain-Go reading of the same rules the Casbin model
// encodes; a test checks that both agree.
type Grants struct {
	Tenant      PermissionSet
	Departments map[string]PermissionSet
}

// GrantsOf computes a user's grants from their assignments and the tenant's roles by name.
// Assignments of roles missing from roles grant nothing; in a department, only departmental
// permissions count.
func GrantsOf(roles map[string]Role, assignments []Assignment) Grants {
	g := Grants{Tenant: PermissionSet{}, Departments: map[string]PermissionSet{}}
	for _, a := range assignments {
		r, ok := roles[a.Role]
		if !ok {
			continue
		}
		for _, p := range r.Permissions {
			if a.DepartmentID == "" {
				g.Tenant.add(p, r.Name)
				continue
			}
			if info, ok := Lookup(p); ok && info.Departmental {
				set := g.Departments[a.DepartmentID]
				if set == nil {
					set = PermissionSet{}
					g.Departments[a.DepartmentID] = set
				}
				set.add(p, r.Name)
			}
		}
	}
	return g
}

// Allows reports whether the grants allow permission tenant-wide (departmentID "") or in one
// department.
func (g Grants) Allows(permission, departmentID string) bool {
	if g.Tenant.Has(permission) {
		return true
	}
	if departmentID == "" {
		return false
	}
	return g.Departments[departmentID].Has(permission)
}

// Missing returns the permissions of perms the grants do not allow in the scope, in the order
// given.
func (g Grants) Missing(perms []string, departmentID string) []string {
	var out []string
	for _, p := range perms {
		if !g.Allows(p, departmentID) {
			out = append(out, p)
		}
	}
	return out
}
