package authz

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/rbac"
)

// Assignment is one role granted to a user, tenant-wide (DepartmentID "") or in a department.
type Assignment struct {
	ID           string
	TenantID     string
	UserID       string
	Role         string
	DepartmentID string
	// GrantedBy is the user id of who granted it; empty for grants made at setup or by the CLI.
	GrantedBy string
	CreatedAt time.Time
}

// roleRow, permissionRow, assignmentRow and versionRow map the tables of migration 00005 (and
// role_assignments of 00001).
type roleRow struct {
	TenantID    string `gorm:"primaryKey"`
	Name        string `gorm:"primaryKey"`
	Description string
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedBy   string
	UpdatedAt   time.Time
}

func (roleRow) TableName() string { return "roles" }

type permissionRow struct {
	TenantID   string `gorm:"primaryKey"`
	Role       string `gorm:"primaryKey"`
	Permission string `gorm:"primaryKey"`
}

func (permissionRow) TableName() string { return "role_permissions" }

type assignmentRow struct {
	ID           string `gorm:"primaryKey"`
	TenantID     string
	UserID       string
	Role         string
	DepartmentID *string
	GrantedBy    string
	CreatedAt    time.Time
}

func (assignmentRow) TableName() string { return "role_assignments" }

func (r assignmentRow) assignment() Assignment {
	a := Assignment{ID: r.ID, TenantID: r.TenantID, UserID: r.UserID, Role: r.Role, GrantedBy: r.GrantedBy, CreatedAt: r.CreatedAt.UTC()}
	if r.DepartmentID != nil {
		a.DepartmentID = *r.DepartmentID
	}
	return a
}

type versionRow struct {
	ID      int `gorm:"primaryKey"`
	Version int64
}

func (versionRow) TableName() string { return "rbac_policy_version" }

// Store keeps custom roles, their permissions, role assignments and the policy version. It is the
// enforcer's rbac.Source.
type Store struct {
	db *gorm.DB
}

var _ rbac.Source = (*Store)(nil)

// NewStore returns a store over db.
func NewStore(db *gorm.DB) *Store { return &Store{db: db} }

// WithTx returns the store working inside transaction tx.
func (s *Store) WithTx(tx *gorm.DB) *Store { return &Store{db: tx} }

// PolicyVersion implements rbac.Source: one primary-key read.
func (s *Store) PolicyVersion(ctx context.Context) (int64, error) {
	var v versionRow
	if err := s.db.WithContext(ctx).Take(&v, "id = ?", 1).Error; err != nil {
		return 0, err
	}
	return v.Version, nil
}

// LoadPolicy implements rbac.Source: the version first, then every custom role and assignment.
func (s *Store) LoadPolicy(ctx context.Context) (rbac.Policy, error) {
	ctx = migrations.AcrossTenants(ctx) // every node holds the whole policy in memory (SECURITY.md)
	v, err := s.PolicyVersion(ctx)
	if err != nil {
		return rbac.Policy{}, err
	}
	db := s.db.WithContext(ctx)
	var roles []roleRow
	if err := db.Order("tenant_id, name").Find(&roles).Error; err != nil {
		return rbac.Policy{}, err
	}
	var perms []permissionRow
	if err := db.Order("tenant_id, role, permission").Find(&perms).Error; err != nil {
		return rbac.Policy{}, err
	}
	var rows []assignmentRow
	if err := db.Order("tenant_id, user_id, id").Find(&rows).Error; err != nil {
		return rbac.Policy{}, err
	}
	p := rbac.Policy{Version: v}
	byRole := groupPermissions(perms)
	for _, r := range roles {
		p.Roles = append(p.Roles, rbac.TenantRole{TenantID: r.TenantID, Role: rbac.Role{
			Name: r.Name, Description: r.Description, Permissions: byRole[[2]string{r.TenantID, r.Name}],
		}})
	}
	for _, r := range rows {
		a := r.assignment()
		p.Assignments = append(p.Assignments, rbac.Assignment{TenantID: a.TenantID, UserID: a.UserID, Role: a.Role, DepartmentID: a.DepartmentID})
	}
	return p, nil
}

func groupPermissions(perms []permissionRow) map[[2]string][]string {
	out := map[[2]string][]string{}
	for _, p := range perms {
		k := [2]string{p.TenantID, p.Role}
		out[k] = append(out[k], p.Permission)
	}
	for k, v := range out {
		// Catalogue order; names no longer in the catalogue are dropped (they grant nothing).
		clean, _ := rbac.CleanPermissions(knownOnly(v))
		out[k] = clean
	}
	return out
}

func knownOnly(names []string) []string {
	out := names[:0:0]
	for _, n := range names {
		if rbac.Known(n) {
			out = append(out, n)
		}
	}
	return out
}

// lockPolicy bumps the policy version at the start of a change. On PostgreSQL the row lock it
// takes serializes every policy change until commit, so guard rails that count (the last owner)
// see a settled state; SQLite transactions are already exclusive.
func (s *Store) lockPolicy(ctx context.Context) error {
	res := s.db.WithContext(ctx).Model(&versionRow{}).Where("id = ?", 1).UpdateColumn("version", gorm.Expr("version + 1"))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return errors.New("rbac_policy_version row missing")
	}
	return nil
}

// CustomRoles lists a tenant's custom roles with their permissions, by name.
func (s *Store) CustomRoles(ctx context.Context, tenantID string) ([]rbac.Role, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	db := s.db.WithContext(ctx)
	var roles []roleRow
	if err := db.Where("tenant_id = ?", tenantID).Order("name").Find(&roles).Error; err != nil {
		return nil, err
	}
	var perms []permissionRow
	if err := db.Where("tenant_id = ?", tenantID).Find(&perms).Error; err != nil {
		return nil, err
	}
	byRole := groupPermissions(perms)
	out := make([]rbac.Role, 0, len(roles))
	for _, r := range roles {
		out = append(out, rbac.Role{Name: r.Name, Description: r.Description, Permissions: byRole[[2]string{tenantID, r.Name}]})
	}
	return out, nil
}

// RoleSet returns every role of a tenant by name: the default roles and its custom roles.
func (s *Store) RoleSet(ctx context.Context, tenantID string) (map[string]rbac.Role, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	custom, err := s.CustomRoles(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return rbac.RoleSet(custom), nil
}

// Role returns a tenant's role by name, default or custom; ErrRoleNotFound when it has none.
func (s *Store) Role(ctx context.Context, tenantID, name string) (rbac.Role, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if r, ok := rbac.DefaultRole(name); ok {
		return r, nil
	}
	var row roleRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND name = ?", tenantID, name).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return rbac.Role{}, ErrRoleNotFound
	}
	if err != nil {
		return rbac.Role{}, err
	}
	var perms []permissionRow
	if err := s.db.WithContext(ctx).Where("tenant_id = ? AND role = ?", tenantID, name).Find(&perms).Error; err != nil {
		return rbac.Role{}, err
	}
	return rbac.Role{Name: row.Name, Description: row.Description, Permissions: groupPermissions(perms)[[2]string{tenantID, name}]}, nil
}

// createRole inserts a custom role with its permissions.
func (s *Store) createRole(ctx context.Context, tenantID string, r rbac.Role, by string, now time.Time) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	db := s.db.WithContext(ctx)
	err := db.Create(&roleRow{TenantID: tenantID, Name: r.Name, Description: r.Description, CreatedBy: by, CreatedAt: now, UpdatedBy: by, UpdatedAt: now}).Error
	if migrations.IsUniqueViolation(err) {
		return ErrRoleExists
	}
	if err != nil {
		return err
	}
	return s.insertPermissions(ctx, tenantID, r.Name, r.Permissions)
}

func (s *Store) insertPermissions(ctx context.Context, tenantID, role string, perms []string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	if len(perms) == 0 {
		return nil
	}
	rows := make([]permissionRow, 0, len(perms))
	for _, p := range perms {
		rows = append(rows, permissionRow{TenantID: tenantID, Role: role, Permission: p})
	}
	return s.db.WithContext(ctx).Create(&rows).Error
}

// updateRole replaces a custom role's description and permissions.
func (s *Store) updateRole(ctx context.Context, tenantID string, r rbac.Role, by string, now time.Time) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	db := s.db.WithContext(ctx)
	res := db.Model(&roleRow{}).Where("tenant_id = ? AND name = ?", tenantID, r.Name).
		Updates(map[string]any{"description": r.Description, "updated_by": by, "updated_at": now})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrRoleNotFound
	}
	if err := db.Where("tenant_id = ? AND role = ?", tenantID, r.Name).Delete(&permissionRow{}).Error; err != nil {
		return err
	}
	return s.insertPermissions(ctx, tenantID, r.Name, r.Permissions)
}

// deleteRole removes a custom role and its permissions.
func (s *Store) deleteRole(ctx context.Context, tenantID, name string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	res := s.db.WithContext(ctx).Where("tenant_id = ? AND name = ?", tenantID, name).Delete(&roleRow{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrRoleNotFound
	}
	return nil
}

// Assignments lists a user's role assignments, oldest first.
func (s *Store) Assignments(ctx context.Context, tenantID, userID string) ([]Assignment, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []assignmentRow
	if err := s.db.WithContext(ctx).Where("tenant_id = ? AND user_id = ?", tenantID, userID).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	return toAssignments(rows), nil
}

// TenantAssignments lists every role assignment of a tenant, by user.
func (s *Store) TenantAssignments(ctx context.Context, tenantID string) ([]Assignment, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []assignmentRow
	if err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("user_id, created_at, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	return toAssignments(rows), nil
}

func toAssignments(rows []assignmentRow) []Assignment {
	out := make([]Assignment, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.assignment())
	}
	return out
}

// assignment returns one assignment of a user; ErrAssignmentNotFound when it is not theirs.
func (s *Store) assignment(ctx context.Context, tenantID, userID, id string) (Assignment, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var row assignmentRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND user_id = ? AND id = ?", tenantID, userID, id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Assignment{}, ErrAssignmentNotFound
	}
	return row.assignment(), err
}

// RoleUsers returns the ids of the users who hold a role, in any scope.
func (s *Store) RoleUsers(ctx context.Context, tenantID, role string) ([]string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var ids []string
	err := s.db.WithContext(ctx).Model(&assignmentRow{}).Where("tenant_id = ? AND role = ?", tenantID, role).
		Distinct().Order("user_id").Pluck("user_id", &ids).Error
	return ids, err
}

// RoleAssignmentCounts returns how many assignments each role of a tenant has.
func (s *Store) RoleAssignmentCounts(ctx context.Context, tenantID string) (map[string]int, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []struct {
		Role string
		N    int
	}
	err := s.db.WithContext(ctx).Model(&assignmentRow{}).Select("role, COUNT(*) AS n").
		Where("tenant_id = ?", tenantID).Group("role").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Role] = r.N
	}
	return out, nil
}

// addAssignment inserts an assignment; ErrAlreadyAssigned if the user already holds the role in
// that scope.
func (s *Store) addAssignment(ctx context.Context, a *Assignment) error {
	ctx = migrations.WithTenant(ctx, a.TenantID)
	row := assignmentRow{ID: a.ID, TenantID: a.TenantID, UserID: a.UserID, Role: a.Role, GrantedBy: a.GrantedBy, CreatedAt: a.CreatedAt}
	if a.DepartmentID != "" {
		d := a.DepartmentID
		row.DepartmentID = &d
	}
	err := s.db.WithContext(ctx).Create(&row).Error
	if migrations.IsUniqueViolation(err) {
		return ErrAlreadyAssigned
	}
	return err
}

// removeAssignment deletes one assignment.
func (s *Store) removeAssignment(ctx context.Context, tenantID, id string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	res := s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Delete(&assignmentRow{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrAssignmentNotFound
	}
	return nil
}

// activeOwners counts the tenant-wide owner assignments of active users, leaving out one
// assignment (the one about to be removed) and one user's; "" leaves out none.
func (s *Store) activeOwners(ctx context.Context, tenantID, exceptAssignment, exceptUser string) (int64, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var n int64
	q := s.db.WithContext(ctx).Table("role_assignments AS ra").
		Joins("JOIN users u ON u.id = ra.user_id AND u.tenant_id = ra.tenant_id").
		Where("ra.tenant_id = ? AND ra.role = ? AND ra.department_id IS NULL AND u.status = ?", tenantID, rbac.RoleOwner, "active")
	if exceptAssignment != "" {
		q = q.Where("ra.id <> ?", exceptAssignment)
	}
	if exceptUser != "" {
		q = q.Where("ra.user_id <> ?", exceptUser)
	}
	if err := q.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count owners: %w", err)
	}
	return n, nil
}

// userOwnerAssignments returns the ids of a user's tenant-wide owner assignments.
func (s *Store) userOwnerAssignments(ctx context.Context, tenantID, userID string) ([]string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var ids []string
	err := s.db.WithContext(ctx).Model(&assignmentRow{}).
		Where("tenant_id = ? AND user_id = ? AND role = ? AND department_id IS NULL", tenantID, userID, rbac.RoleOwner).
		Pluck("id", &ids).Error
	return ids, err
}
