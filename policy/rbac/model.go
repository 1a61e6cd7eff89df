package rbac

import (
	"errors"
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// ModelText is the Casbin model: RBAC with domains.
//
//   - a request is (user, domain, permission); the domain is "tenant:<id>" for a tenant-wide
//     check or "tenant:<id>/dept:<id>" for a check in one department;
//   - a policy row (role, domain, permission) says a role holds a permission; default roles are
//     defined in every tenant ("*"), custom roles in their tenant's domain;
//   - a grouping row (user, role, domain) grants a role tenant-wide or in one department.
//
// A role granted in the tenant covers every department inside it; a role granted in a department
// covers only that department, and only for departmental permissions. There is no deny rule:
// whatever is not granted is refused.
const ModelText = `[request_definition]
r = sub, dom, obj

[policy_definition]
p = sub, dom, obj

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.obj == p.obj && covers(p.dom, r.dom) && (g(r.sub, p.sub, tenantOf(r.dom)) || (departmental(r.obj) && g(r.sub, p.sub, r.dom)))
`

// anyTenant is the policy domain of the default roles.
const anyTenant = "*"

// TenantDomain is the Casbin domain of a tenant.
func TenantDomain(tenantID string) string { return "tenant:" + tenantID }

// DepartmentDomain is the Casbin domain of a department inside a tenant.
func DepartmentDomain(tenantID, departmentID string) string {
	return "tenant:" + tenantID + "/dept:" + departmentID
}

// domainOf returns the request domain of a check: the department's when one is given.
func domainOf(tenantID, departmentID string) string {
	if departmentID == "" {
		return TenantDomain(tenantID)
	}
	return DepartmentDomain(tenantID, departmentID)
}

func userSubject(userID string) string { return "user:" + userID }
func roleSubject(role string) string   { return "role:" + role }

// Covers reports whether a grant in domain grant reaches a request in domain req: "*" reaches
// every tenant, a domain reaches itself, and a tenant reaches each of its departments.
func Covers(grant, req string) bool {
	if grant == anyTenant || grant == req {
		return true
	}
	return len(req) > len(grant) && strings.HasPrefix(req, grant) && req[len(grant)] == '/'
}

// tenantDomainOf returns the tenant part of a domain ("tenant:a/dept:b" → "tenant:a").
func tenantDomainOf(dom string) string {
	t, _, _ := strings.Cut(dom, "/")
	return t
}

// checkID refuses ids that are empty or that hold the characters domains are built from, so no
// id can name another domain.
func checkID(kind, id string) error {
	if id == "" || strings.ContainsAny(id, "/:*") {
		return fmt.Errorf("%w: %s", ErrInvalidID, kind)
	}
	return nil
}

func stringArgs(name string, n int, args []any) ([]string, error) {
	if len(args) != n {
		return nil, fmt.Errorf("%s: want %d arguments, got %d", name, n, len(args))
	}
	out := make([]string, n)
	for i, a := range args {
		s, ok := a.(string)
		if !ok {
			return nil, fmt.Errorf("%s: argument %d is %T, not a string", name, i+1, a)
		}
		out[i] = s
	}
	return out, nil
}

// newCasbin builds a Casbin enforcer over the model and the given rows: policy rows (role,
// domain, permission) and grouping rows (user, role, domain).
func newCasbin(policies, groupings [][]string) (*casbin.Enforcer, error) {
	m, err := model.NewModelFromString(ModelText)
	if err != nil {
		return nil, err
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, err
	}
	e.EnableLog(false)
	e.EnableAutoBuildRoleLinks(false)
	e.AddFunction("covers", func(args ...any) (any, error) {
		s, err := stringArgs("covers", 2, args)
		if err != nil {
			return false, err
		}
		return Covers(s[0], s[1]), nil
	})
	e.AddFunction("tenantOf", func(args ...any) (any, error) {
		s, err := stringArgs("tenantOf", 1, args)
		if err != nil {
			return "", err
		}
		return tenantDomainOf(s[0]), nil
	})
	e.AddFunction("departmental", func(args ...any) (any, error) {
		s, err := stringArgs("departmental", 1, args)
		if err != nil {
			return false, err
		}
		p, ok := Lookup(s[0])
		return ok && p.Departmental, nil
	})
	if len(policies) > 0 {
		if err := e.GetModel().AddPolicies("p", "p", policies); err != nil {
			return nil, err
		}
	}
	if len(groupings) > 0 {
		if err := e.GetModel().AddPolicies("g", "g", groupings); err != nil {
			return nil, err
		}
	}
	if err := e.BuildRoleLinks(); err != nil {
		return nil, err
	}
	return e, nil
}

// tenantRows turns a tenant's custom roles and assignments, plus the default roles, into Casbin
// rows.
func tenantRows(tenantID string, custom []Role, assignments []Assignment) (policies, groupings [][]string, err error) {
	for _, r := range DefaultRoles() {
		for _, p := range r.Permissions {
			policies = append(policies, []string{roleSubject(r.Name), anyTenant, p})
		}
	}
	dom := TenantDomain(tenantID)
	for _, r := range custom {
		for _, p := range r.Permissions {
			policies = append(policies, []string{roleSubject(r.Name), dom, p})
		}
	}
	for _, a := range assignments {
		if a.TenantID != tenantID {
			return nil, nil, errors.New("assignment of another tenant")
		}
		if err := checkID("user", a.UserID); err != nil {
			return nil, nil, err
		}
		if a.DepartmentID != "" {
			if err := checkID("department", a.DepartmentID); err != nil {
				return nil, nil, err
			}
		}
		groupings = append(groupings, []string{userSubject(a.UserID), roleSubject(a.Role), domainOf(tenantID, a.DepartmentID)})
	}
	return policies, groupings, nil
}
