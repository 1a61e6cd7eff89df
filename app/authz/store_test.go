package authz_test

import (
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/rbac"
)

// TestPolicyVersionFollowsEveryWriter: any write to role assignments or custom roles, by any
// code path, moves the version the nodes poll.
func TestPolicyVersionFollowsEveryWriter(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := newApp(t, db)
		ctx := context.Background()
		st := authz.NewStore(db.Gorm)
		version := func() int64 {
			v, err := st.PolicyVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		acme, _ := a.createTenant("Acme Bank")
		owner := a.createUser(acme, "owner@acme.test", rbac.RoleOwner)
		v0 := version()
		// The account store writes role_assignments itself (user creation, the CLI).
		u := a.createBareUser(acme.ID)
		if err := a.Users.Assign(ctx, &account.RoleAssignment{ID: uuid.Must(uuid.NewV7()).String(), TenantID: acme.ID, UserID: u.ID, Role: rbac.RoleAgent}); err != nil {
			t.Fatal(err)
		}
		v1 := version()
		if v1 <= v0 {
			t.Fatalf("version %d after a direct assignment, was %d", v1, v0)
		}
		p, err := st.LoadPolicy(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Version != v1 {
			t.Errorf("LoadPolicy version %d, want %d", p.Version, v1)
		}
		var found bool
		for _, as := range p.Assignments {
			found = found || (as.UserID == u.ID && as.Role == rbac.RoleAgent && as.DepartmentID == "" && as.TenantID == acme.ID)
		}
		if !found {
			t.Errorf("assignment missing from the loaded policy: %+v", p.Assignments)
		}
		if _, err := a.Authz.CreateRole(ctx, actor(acme.ID, owner.ID), authz.RoleInput{Name: "desk", Permissions: []string{"chat.end", "chat.accept"}}); err != nil {
			t.Fatal(err)
		}
		if v2 := version(); v2 <= v1 {
			t.Errorf("version %d after a role was created, was %d", v2, v1)
		}
		p, _ = st.LoadPolicy(ctx)
		if len(p.Roles) != 1 || p.Roles[0].Name != "desk" || p.Roles[0].TenantID != acme.ID || len(p.Roles[0].Permissions) != 2 || p.Roles[0].Permissions[0] != "chat.accept" {
			t.Errorf("loaded roles = %+v", p.Roles)
		}
		// The database refuses a duplicate grant even without the service.
		dup := account.RoleAssignment{ID: uuid.Must(uuid.NewV7()).String(), TenantID: acme.ID, UserID: u.ID, Role: rbac.RoleAgent}
		if err := a.Users.Assign(ctx, &dup); !migrations.IsUniqueViolation(err) {
			t.Errorf("duplicate assignment: error = %v, want a unique violation", err)
		}
	})
}

// TestMigrationDownAndUp applies migration 00005's down and up again.
func TestMigrationDownAndUp(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, app *migrations.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// Migrations run as the schema's owner, as in production, across tenants.
		ctx = migrations.AcrossTenants(ctx)
		db := migratetest.OpenEmpty(t, app.Dialect)
		sqlDB, err := db.SQL()
		if err != nil {
			t.Fatal(err)
		}
		dialect := goose.DialectSQLite3
		if db.Dialect == migrations.Postgres {
			dialect = goose.DialectPostgres
		}
		sub, err := fs.Sub(migrations.FS, string(db.Dialect))
		if err != nil {
			t.Fatal(err)
		}
		p, err := goose.NewProvider(dialect, sqlDB, sub, goose.WithDisableGlobalRegistry(true))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatal(err)
		}
		cur, err := p.GetDBVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 4); err != nil {
			t.Fatalf("down to 4 (from %d): %v", cur, err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("up again: %v", err)
		}
		if v, err := authz.NewStore(db.Gorm).PolicyVersion(ctx); err != nil || v != 1 {
			t.Errorf("policy version after re-migration = %d, %v; want 1", v, err)
		}
	})
}

// TestStoredPlannedPermissionsGrantNothing: a custom role saved when the catalogue still held
// permissions now planned (campaign.manage, survey.manage) keeps loading, at startup and on every
// refresh; those names grant nothing and the role keeps its catalogued permissions.
func TestStoredPlannedPermissionsGrantNothing(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := newApp(t, db)
		ctx := context.Background()
		acme, _ := a.createTenant("Acme Bank")
		u := a.createBareUser(acme.ID)
		now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
		for _, role := range []string{"legacy", "reports"} {
			if err := migratetest.Beneath(t, db).Gorm.Exec("INSERT INTO roles (tenant_id, name, description, created_at, updated_at) VALUES (?, ?, '', ?, ?)", acme.ID, role, now, now).Error; err != nil {
				t.Fatal(err)
			}
		}
		for _, rp := range [][2]string{{"legacy", "campaign.manage"}, {"legacy", "chat.accept"}, {"reports", "survey.manage"}} {
			if err := migratetest.Beneath(t, db).Gorm.Exec("INSERT INTO role_permissions (tenant_id, role, permission) VALUES (?, ?, ?)", acme.ID, rp[0], rp[1]).Error; err != nil {
				t.Fatal(err)
			}
		}
		for _, role := range []string{"legacy", "reports"} {
			if err := a.Users.Assign(ctx, &account.RoleAssignment{ID: uuid.Must(uuid.NewV7()).String(), TenantID: acme.ID, UserID: u.ID, Role: role}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.Enforcer.Refresh(ctx); err != nil {
			t.Fatalf("refresh with planned permissions stored: %v", err)
		}
		restarted := newApp(t, db) // startup loads the same rows
		for _, tc := range []struct {
			perm string
			want bool
		}{{"chat.accept", true}, {"campaign.manage", false}, {"survey.manage", false}} {
			if got, err := restarted.Enforcer.Allowed(ctx, acme.ID, u.ID, "", tc.perm); err != nil || got != tc.want {
				t.Errorf("Allowed(%s) = %v, %v; want %v", tc.perm, got, err, tc.want)
			}
		}
		r, err := restarted.Authz.Role(ctx, acme.ID, "legacy")
		if err != nil || len(r.Permissions) != 1 || r.Permissions[0] != "chat.accept" {
			t.Errorf("role legacy = %+v, %v; want only chat.accept", r, err)
		}
	})
}
