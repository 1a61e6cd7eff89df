package transcript

import (
	"context"
	"strings"

	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/migrations"
)

// Scope is what a user may read: every conversation (All: transcript.view.all), the
// conversations of every department (AllDepartments: transcript.view.department held
// tenant-wide; a conversation without a department is not one of them) or of some departments,
// and their own conversations tenant-wide or in some departments.
type Scope struct {
	UserID         string
	All            bool
	AllDepartments bool
	Departments    []string
	OwnAll         bool
	OwnDepartments []string
}

// Empty reports whether the scope reaches no conversation.
func (sc Scope) Empty() bool {
	return !sc.All && !sc.AllDepartments && len(sc.Departments) == 0 && !sc.OwnAll && len(sc.OwnDepartments) == 0
}

// scopeOf works out p's scope from the RBAC policy: tenant-wide grants first, then each
// department's. A failed decision counts as not granted.
func (s *Service) scopeOf(ctx context.Context, p *identity.Principal) (Scope, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	sc := Scope{UserID: p.UserID}
	held := func(perm, dept string) bool {
		ok, err := s.Authz.Allowed(ctx, p.TenantID, p.UserID, dept, perm)
		return err == nil && ok
	}
	if held(PermViewAll, "") {
		sc.All = true
		return sc, nil
	}
	sc.AllDepartments = held(PermViewDepartment, "")
	sc.OwnAll = held(PermViewOwn, "")
	if sc.AllDepartments {
		// Every department's conversations are in; own ones count only for those without one.
		return sc, nil
	}
	depts, err := s.Departments.Departments(ctx, p.TenantID)
	if err != nil {
		return Scope{}, err
	}
	for _, d := range depts {
		if held(PermViewDepartment, d.ID) {
			sc.Departments = append(sc.Departments, d.ID)
		} else if !sc.OwnAll && held(PermViewOwn, d.ID) {
			sc.OwnDepartments = append(sc.OwnDepartments, d.ID)
		}
	}
	return sc, nil
}

// clause is the scope as an SQL condition over conversations c.
func (sc Scope) clause() (string, []any) {
	if sc.All {
		return "1 = 1", nil
	}
	var parts []string
	var args []any
	if sc.AllDepartments {
		parts = append(parts, "c.department_id IS NOT NULL")
	}
	if len(sc.Departments) > 0 {
		parts = append(parts, "c.department_id IN ?")
		args = append(args, sc.Departments)
	}
	if sc.OwnAll || len(sc.OwnDepartments) > 0 {
		own := "(c.agent_id = ? OR EXISTS (SELECT 1 FROM conversation_participants cp WHERE cp.conversation_id = c.id " +
			"AND cp.tenant_id = c.tenant_id AND cp.kind IN ('agent', 'supervisor') AND cp.participant_id = ?))"
		args = append(args, sc.UserID, sc.UserID)
		if !sc.OwnAll {
			own = "(" + own + " AND c.department_id IN ?)"
			args = append(args, sc.OwnDepartments)
		}
		parts = append(parts, own)
	}
	if len(parts) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}
