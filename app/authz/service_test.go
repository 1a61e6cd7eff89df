package authz_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/rbac"
)

func TestRoleEditorGuardRails(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := newApp(t, db)
		ctx := context.Background()
		acme, depts := a.createTenant("Acme Bank", "Cards", "Loans")
		cards, loans := depts[0].ID, depts[1].ID
		owner := a.createUser(acme, "owner@acme.test", rbac.RoleOwner)
		admin := a.createUser(acme, "admin@acme.test", rbac.RoleAdmin)
		sup := a.createBareUser(acme.ID)
		if _, err := a.Authz.Assign(ctx, actor(acme.ID, owner.ID), sup.ID, rbac.RoleSupervisor, cards); err != nil {
			t.Fatal(err)
		}
		byOwner, byAdmin, bySup := actor(acme.ID, owner.ID), actor(acme.ID, admin.ID), actor(acme.ID, sup.ID)

		t.Run("create role with unknown permissions names them", func(t *testing.T) {
			_, err := a.Authz.CreateRole(ctx, byOwner, authz.RoleInput{Name: "x-team", Permissions: []string{"chat.accept", "audit.delete", "fly"}})
			var unknown *rbac.UnknownPermissionsError
			if !errors.As(err, &unknown) || !slices.Equal(unknown.Names, []string{"audit.delete", "fly"}) {
				t.Fatalf("error = %v, want unknown audit.delete, fly", err)
			}
		})
		t.Run("admin cannot create a role with audit access", func(t *testing.T) {
			_, err := a.Authz.CreateRole(ctx, byAdmin, authz.RoleInput{Name: "peek", Permissions: []string{"site.manage", "audit.view"}})
			var esc *authz.EscalationError
			if !errors.As(err, &esc) || !slices.Equal(esc.Missing, []string{"audit.view"}) {
				t.Fatalf("error = %v, want escalation missing audit.view", err)
			}
			if _, err := a.Authz.Role(ctx, acme.ID, "peek"); !errors.Is(err, authz.ErrRoleNotFound) {
				t.Errorf("role peek exists after a refused create: %v", err)
			}
			ev := a.Audit.find(authz.ActionEscalationAttempt)
			if len(ev) == 0 || ev[len(ev)-1].ActorID != admin.ID || ev[len(ev)-1].Details["missing"] != "audit.view" ||
				ev[len(ev)-1].Details["attempted"] != authz.ActionRoleCreate || ev[len(ev)-1].Outcome != authz.Failure {
				t.Errorf("escalation attempt not audited as expected: %+v", ev)
			}
		})
		t.Run("admin cannot make anyone owner or auditor", func(t *testing.T) {
			target := a.createBareUser(acme.ID)
			for _, role := range []string{rbac.RoleOwner, rbac.RoleAuditor} {
				if _, err := a.Authz.Assign(ctx, byAdmin, target.ID, role, ""); !errors.Is(err, authz.ErrEscalation) {
					t.Errorf("admin assigns %s: error = %v, want escalation", role, err)
				}
			}
			if _, err := a.Authz.Assign(ctx, byAdmin, admin.ID, rbac.RoleOwner, ""); !errors.Is(err, authz.ErrEscalation) {
				t.Errorf("admin makes themself owner: error = %v, want escalation", err)
			}
		})
		t.Run("admin grants supervisor in a department", func(t *testing.T) {
			target := a.createBareUser(acme.ID)
			as, err := a.Authz.Assign(ctx, byAdmin, target.ID, rbac.RoleSupervisor, loans)
			if err != nil {
				t.Fatal(err)
			}
			if as.GrantedBy != admin.ID || as.DepartmentID != loans {
				t.Errorf("assignment = %+v", as)
			}
			if ok, err := a.Enforcer.Allowed(ctx, acme.ID, target.ID, loans, "chat.monitor"); !ok || err != nil {
				t.Errorf("grant not in force at once: %v %v", ok, err)
			}
			if ok, _ := a.Enforcer.Allowed(ctx, acme.ID, target.ID, cards, "chat.monitor"); ok {
				t.Error("department grant reaches another department")
			}
			if _, err := a.Authz.Assign(ctx, byAdmin, target.ID, rbac.RoleSupervisor, loans); !errors.Is(err, authz.ErrAlreadyAssigned) {
				t.Errorf("second identical grant: error = %v, want ErrAlreadyAssigned", err)
			}
		})
		t.Run("a department supervisor cannot grant anything tenant-wide", func(t *testing.T) {
			target := a.createBareUser(acme.ID)
			if _, err := a.Authz.Assign(ctx, bySup, target.ID, rbac.RoleAgent, ""); !errors.Is(err, authz.ErrEscalation) {
				t.Errorf("error = %v, want escalation", err)
			}
			// Holding every agent permission in Cards is enough to grant agent there.
			if _, err := a.Authz.Assign(ctx, bySup, target.ID, rbac.RoleAgent, cards); err != nil {
				t.Errorf("supervisor grants agent in own department: %v", err)
			}
			if _, err := a.Authz.Assign(ctx, bySup, target.ID, rbac.RoleAgent, loans); !errors.Is(err, authz.ErrEscalation) {
				t.Errorf("supervisor grants agent in another department: error = %v, want escalation", err)
			}
		})
		t.Run("unknown role and other tenant's ids", func(t *testing.T) {
			target := a.createBareUser(acme.ID)
			var unknown *authz.UnknownRoleError
			if _, err := a.Authz.Assign(ctx, byOwner, target.ID, "wizard", ""); !errors.As(err, &unknown) || unknown.Name != "wizard" {
				t.Errorf("unknown role: error = %v", err)
			}
			other, odepts := a.createTenant("Other Corp", "Sales")
			stranger := a.createBareUser(other.ID)
			if _, err := a.Authz.Assign(ctx, byOwner, stranger.ID, rbac.RoleAgent, ""); !errors.Is(err, authz.ErrUserNotFound) {
				t.Errorf("other tenant's user: error = %v, want ErrUserNotFound", err)
			}
			if _, err := a.Authz.Assign(ctx, byOwner, target.ID, rbac.RoleAgent, odepts[0].ID); !errors.Is(err, authz.ErrDepartmentNotFound) {
				t.Errorf("other tenant's department: error = %v, want ErrDepartmentNotFound", err)
			}
		})
		t.Run("last owner keeps the owner role", func(t *testing.T) {
			as, err := a.Authz.UserAssignments(ctx, acme.ID, owner.ID)
			if err != nil || len(as) != 1 {
				t.Fatalf("owner assignments = %v, %v", as, err)
			}
			if err := a.Authz.Unassign(ctx, byOwner, owner.ID, as[0].ID); !errors.Is(err, authz.ErrLastOwner) {
				t.Fatalf("remove last owner: error = %v, want ErrLastOwner", err)
			}
			if err := a.DB.Gorm.Transaction(func(tx *gorm.DB) error { return a.Authz.CheckOwnerRemains(ctx, tx, acme.ID, owner.ID) }); !errors.Is(err, authz.ErrLastOwner) {
				t.Errorf("CheckOwnerRemains = %v, want ErrLastOwner", err)
			}
			second := a.createBareUser(acme.ID)
			if _, err := a.Authz.Assign(ctx, byOwner, second.ID, rbac.RoleOwner, ""); err != nil {
				t.Fatal(err)
			}
			if err := a.Authz.Unassign(ctx, byOwner, owner.ID, as[0].ID); err != nil {
				t.Fatalf("remove one of two owners: %v", err)
			}
			if ok, _ := a.Enforcer.Allowed(ctx, acme.ID, owner.ID, "", "keys.manage"); ok {
				t.Error("removed owner still holds keys.manage")
			}
			// Restore, as the second owner.
			if _, err := a.Authz.Assign(ctx, actor(acme.ID, second.ID), owner.ID, rbac.RoleOwner, ""); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("custom role lifecycle", func(t *testing.T) {
			r, err := a.Authz.CreateRole(ctx, byAdmin, authz.RoleInput{Name: "billing", Description: " Billing desk ", Permissions: []string{"ban.manage", "chat.accept", "chat.accept"}})
			if err != nil {
				t.Fatal(err)
			}
			if r.Description != "Billing desk" || !slices.Equal(r.Permissions, []string{"chat.accept", "ban.manage"}) {
				t.Errorf("role = %+v", r)
			}
			if _, err := a.Authz.CreateRole(ctx, byAdmin, authz.RoleInput{Name: "billing", Permissions: []string{"chat.accept"}}); !errors.Is(err, authz.ErrRoleExists) {
				t.Errorf("duplicate: error = %v, want ErrRoleExists", err)
			}
			if _, err := a.Authz.CreateRole(ctx, byAdmin, authz.RoleInput{Name: "admin", Permissions: []string{"chat.accept"}}); !errors.Is(err, rbac.ErrReservedRoleName) {
				t.Errorf("default name: error = %v, want ErrReservedRoleName", err)
			}
			target := a.createUser(acme, "billing@acme.test", rbac.RoleAgent)
			if _, err := a.Authz.Assign(ctx, byAdmin, target.ID, "billing", ""); err != nil {
				t.Fatal(err)
			}
			if err := a.Authz.DeleteRole(ctx, byAdmin, "billing"); !errors.Is(err, authz.ErrRoleInUse) {
				t.Errorf("delete assigned role: error = %v, want ErrRoleInUse", err)
			}
			if _, err := a.Authz.UpdateRole(ctx, byAdmin, "billing", authz.RoleInput{Permissions: []string{"chat.accept", "transcript.view.all"}}); !errors.Is(err, authz.ErrEscalation) {
				t.Errorf("admin adds transcript.view.all: error = %v, want escalation", err)
			}
			if _, err := a.Authz.UpdateRole(ctx, byOwner, "billing", authz.RoleInput{Permissions: []string{"chat.accept", "transcript.view.all"}}); err != nil {
				t.Fatal(err)
			}
			if ok, _ := a.Enforcer.Allowed(ctx, acme.ID, target.ID, "", "transcript.view.all"); !ok {
				t.Error("role change not in force at once")
			}
			// Now the role holds a permission the admin lacks: the admin can neither change
			// nor remove it.
			if _, err := a.Authz.UpdateRole(ctx, byAdmin, "billing", authz.RoleInput{Permissions: []string{"chat.accept"}}); !errors.Is(err, authz.ErrEscalation) {
				t.Errorf("admin strips a role beyond theirs: error = %v, want escalation", err)
			}
			if _, err := a.Authz.UpdateRole(ctx, byOwner, "owner", authz.RoleInput{Permissions: []string{"chat.accept"}}); !errors.Is(err, authz.ErrBuiltinRole) {
				t.Errorf("change default role: error = %v, want ErrBuiltinRole", err)
			}
			if err := a.Authz.DeleteRole(ctx, byOwner, "auditor"); !errors.Is(err, authz.ErrBuiltinRole) {
				t.Errorf("delete default role: error = %v, want ErrBuiltinRole", err)
			}
			ev := a.Audit.find(authz.ActionRoleChange)
			if len(ev) != 1 || ev[0].Details["added"] != "transcript.view.all" || ev[0].Details["holders"] != "1" {
				t.Errorf("role.change events = %+v", ev)
			}
		})
		t.Run("known roles for user creation", func(t *testing.T) {
			for _, r := range append(rbac.DefaultRoleNames(), "billing") {
				if !a.Authz.KnownRole(ctx, acme.ID, r) {
					t.Errorf("KnownRole(%q) = false", r)
				}
			}
			if a.Authz.KnownRole(ctx, acme.ID, "wizard") {
				t.Error("KnownRole(wizard) = true")
			}
			u := a.createUser(acme, "auditor@acme.test", rbac.RoleAuditor)
			if ok, err := a.Enforcer.Allowed(ctx, acme.ID, u.ID, "", "audit.verify"); !ok || err != nil {
				t.Errorf("user created with role auditor: Allowed(audit.verify) = %v, %v", ok, err)
			}
			err := a.DB.Gorm.Transaction(func(tx *gorm.DB) error {
				_, err := a.Accounts.CreateUser(ctx, tx, account.NewUser{TenantID: acme.ID, TenantName: acme.Name, Email: "w@acme.test", Password: testPassword, Role: "wizard"})
				return err
			})
			if !errors.Is(err, account.ErrUnknownRole) {
				t.Errorf("create user with unknown role: error = %v", err)
			}
		})
		t.Run("checks other domains call", func(t *testing.T) {
			before := len(a.Audit.find(authz.ActionEscalationAttempt))
			if err := a.Authz.CheckGrant(ctx, byAdmin, rbac.RoleOwner, ""); !errors.Is(err, authz.ErrEscalation) {
				t.Errorf("admin invites an owner: error = %v, want escalation", err)
			}
			if err := a.Authz.CheckGrant(ctx, byAdmin, rbac.RoleAgent, cards); err != nil {
				t.Errorf("admin invites an agent: %v", err)
			}
			var unknown *authz.UnknownRoleError
			if err := a.Authz.CheckGrant(ctx, byAdmin, "wizard", ""); !errors.As(err, &unknown) {
				t.Errorf("unknown role: error = %v", err)
			}
			if err := a.Authz.CheckOutranks(ctx, byAdmin, owner.ID); !errors.Is(err, authz.ErrEscalation) {
				t.Errorf("admin acts on the owner: error = %v, want escalation", err)
			}
			if err := a.Authz.CheckOutranks(ctx, byAdmin, sup.ID); err != nil {
				t.Errorf("admin acts on a supervisor: %v", err)
			}
			if err := a.Authz.CheckOutranks(ctx, byOwner, admin.ID); err != nil {
				t.Errorf("owner acts on the admin: %v", err)
			}
			if err := a.Authz.CheckOutranks(ctx, bySup, admin.ID); !errors.Is(err, authz.ErrEscalation) {
				t.Errorf("supervisor acts on the admin: error = %v, want escalation", err)
			}
			if got := len(a.Audit.find(authz.ActionEscalationAttempt)) - before; got != 3 {
				t.Errorf("%d escalation attempts audited, want 3", got)
			}
		})
		t.Run("no change without an audit record", func(t *testing.T) {
			a.Audit.Fail = errBoom
			defer func() { a.Audit.Fail = nil }()
			target := a.createBareUser(acme.ID)
			if _, err := a.Authz.Assign(ctx, byOwner, target.ID, rbac.RoleAgent, ""); !errors.Is(err, authz.ErrAudit) {
				t.Fatalf("error = %v, want ErrAudit", err)
			}
			if as, _ := a.Authz.UserAssignments(ctx, acme.ID, target.ID); len(as) != 0 {
				t.Errorf("assignment written without its audit record: %+v", as)
			}
		})
	})
}

func TestRoleChangeEndsSessionsAndTakesEffect(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := newApp(t, db)
		ctx := context.Background()
		acme, _ := a.createTenant("Acme Bank")
		owner := a.createUser(acme, "owner@acme.test", rbac.RoleOwner)
		agent := a.createUser(acme, "agent@acme.test", rbac.RoleAgent)
		c := a.login(acme.Slug, "agent@acme.test")
		if rec := c.do("GET", "/api/v1/roles", ""); rec.Code != 403 {
			t.Fatalf("agent lists roles: status %d, want 403", rec.Code)
		}
		if _, err := a.Authz.Assign(ctx, actor(acme.ID, owner.ID), agent.ID, rbac.RoleAdmin, ""); err != nil {
			t.Fatal(err)
		}
		if rec := c.do("GET", "/api/v1/roles", ""); rec.Code != 401 {
			t.Errorf("old session after a role change: status %d, want 401 (sessions end)", rec.Code)
		}
		c = a.login(acme.Slug, "agent@acme.test")
		if rec := c.do("GET", "/api/v1/roles", ""); rec.Code != 200 {
			t.Errorf("new session after the grant: status %d, want 200", rec.Code)
		}
	})
}

// TestPolicyReachesOtherNodes runs two nodes over one database: a change on one is in force on
// the other once its check interval has passed, with no restart.
func TestPolicyReachesOtherNodes(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		n1, n2 := newApp(t, db), newApp(t, db)
		ctx := context.Background()
		acme, _ := n1.createTenant("Acme Bank")
		owner := n1.createUser(acme, "owner@acme.test", rbac.RoleOwner)
		agent := n1.createBareUser(acme.ID)
		// Node 2 has decided (and cached) that the agent may not manage bans.
		if ok, _ := n2.Enforcer.Allowed(ctx, acme.ID, agent.ID, "", "ban.manage"); ok {
			t.Fatal("allowed before any grant")
		}
		if _, err := n1.Authz.Assign(ctx, actor(acme.ID, owner.ID), agent.ID, rbac.RoleAdmin, ""); err != nil {
			t.Fatal(err)
		}
		if ok, _ := n1.Enforcer.Allowed(ctx, acme.ID, agent.ID, "", "ban.manage"); !ok {
			t.Error("node 1 (where the change was made) does not see it")
		}
		n2.Clock.Advance(rbac.DefaultCheckInterval + 1)
		if ok, _ := n2.Enforcer.Allowed(ctx, acme.ID, agent.ID, "", "ban.manage"); !ok {
			t.Error("node 2 does not see the change after its check interval")
		}
		if n1.Enforcer.Version() != n2.Enforcer.Version() {
			t.Errorf("versions differ: %d and %d", n1.Enforcer.Version(), n2.Enforcer.Version())
		}
	})
}
