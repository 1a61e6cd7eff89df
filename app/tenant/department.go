package tenant

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
)

// Bounds of a department's own queue timeout (0 means the site's applies).
const (
	MinQueueTimeout = 30
	MaxQueueTimeout = 86400
)

// Department groups agents and chats inside a tenant.
type Department struct {
	ID       string `gorm:"primaryKey"`
	TenantID string
	Name     string
	// BusinessHours is the department's weekly schedule (Hours as JSON); empty when it keeps its
	// sites' hours. Read it with Hours.
	BusinessHours string
	// QueueTimeoutSeconds is how long a chat waits in the department's queue before it is
	// missed; 0 means the site's queue timeout applies.
	QueueTimeoutSeconds int
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Hours returns the department's own weekly schedule, nil when it has none.
func (d Department) Hours() *Hours { return decodeHours(d.BusinessHours) }

// DepartmentSettings are what a person sets on a department besides its name.
type DepartmentSettings struct {
	Hours               *Hours
	QueueTimeoutSeconds int
}

// Check validates the settings: the schedule (Hours.Check) and a queue timeout of 0 or
// MinQueueTimeout to MaxQueueTimeout seconds.
func (s DepartmentSettings) Check() error {
	if err := s.Hours.Check(); err != nil {
		return err
	}
	if s.QueueTimeoutSeconds != 0 && (s.QueueTimeoutSeconds < MinQueueTimeout || s.QueueTimeoutSeconds > MaxQueueTimeout) {
		return &FieldError{Field: "queue_timeout_seconds", Index: -1, Err: ErrInvalidQueueTimeout}
	}
	return nil
}

// CreateDepartment adds a department to a tenant.
func (s *Store) CreateDepartment(ctx context.Context, tenantID, name string) (Department, error) {
	return s.createDepartment(ctx, tenantID, name, DepartmentSettings{})
}

func (s *Store) createDepartment(ctx context.Context, tenantID, name string, set DepartmentSettings) (Department, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	name, err := CleanName(name)
	if err != nil {
		return Department{}, err
	}
	now := s.now().UTC()
	d := Department{ID: uuid.Must(uuid.NewV7()).String(), TenantID: tenantID, Name: name,
		BusinessHours: encodeHours(set.Hours), QueueTimeoutSeconds: set.QueueTimeoutSeconds, CreatedAt: now, UpdatedAt: now}
	if err := s.db.WithContext(ctx).Create(&d).Error; err != nil {
		if migrations.IsUniqueViolation(err) {
			return Department{}, ErrNameTaken
		}
		return Department{}, err
	}
	return d, nil
}

// Departments lists a tenant's departments.
func (s *Store) Departments(ctx context.Context, tenantID string) ([]Department, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []Department
	err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("name").Find(&out).Error
	return out, err
}

// Department finds one department of a tenant; another tenant's is ErrNotFound.
func (s *Store) Department(ctx context.Context, tenantID, id string) (Department, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var d Department
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&d).Error
	return d, notFound(err)
}

// updateDepartment writes a department's name and settings (already checked).
func (s *Store) updateDepartment(ctx context.Context, d *Department) error {
	ctx = migrations.WithTenant(ctx, d.TenantID)
	d.UpdatedAt = s.now().UTC()
	res := s.db.WithContext(ctx).Model(&Department{}).Where("tenant_id = ? AND id = ?", d.TenantID, d.ID).
		Updates(map[string]any{"name": d.Name, "business_hours": d.BusinessHours,
			"queue_timeout_seconds": d.QueueTimeoutSeconds, "updated_at": d.UpdatedAt})
	switch {
	case migrations.IsUniqueViolation(res.Error):
		return ErrNameTaken
	case res.Error != nil:
		return res.Error
	case res.RowsAffected == 0:
		return ErrNotFound
	}
	return nil
}

// DepartmentUse is what still refers to a department.
type DepartmentUse struct {
	// OpenConversations are the department's queued, offered and active chats.
	OpenConversations int64
	// Assignments are the roles granted in the department.
	Assignments int64
}

// InUse reports whether anything keeps the department from being deleted.
func (u DepartmentUse) InUse() bool { return u.OpenConversations > 0 || u.Assignments > 0 }

// departmentUse counts what refers to a department. The department's row is what the other
// tables point at (their foreign keys end open chats' routing and cascade role grants), so its
// store reads those references itself, inside the deleting transaction.
func departmentUse(ctx context.Context, tx *gorm.DB, tenantID, id string) (DepartmentUse, error) {
	var u DepartmentUse
	db := tx.WithContext(ctx)
	if err := db.Table("conversations").Where("tenant_id = ? AND department_id = ? AND status IN ?",
		tenantID, id, []string{"queued", "assigned", "active"}).Count(&u.OpenConversations).Error; err != nil {
		return u, err
	}
	err := db.Table("role_assignments").Where("tenant_id = ? AND department_id = ?", tenantID, id).Count(&u.Assignments).Error
	return u, err
}

// deleteDepartment removes a department row.
func deleteDepartment(ctx context.Context, tx *gorm.DB, tenantID, id string) error {
	res := tx.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Delete(&Department{})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// Lister lists a tenant's sites and departments; *Store is one.
type Lister interface {
	Sites(ctx context.Context, tenantID string) ([]Site, error)
	Departments(ctx context.Context, tenantID string) ([]Department, error)
}

// Names maps the ids of a tenant's sites and of its departments to their names, for the pages
// and exports that show them.
func Names(ctx context.Context, l Lister, tenantID string) (sites, depts map[string]string, err error) {
	ss, err := l.Sites(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	ds, err := l.Departments(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	sites, depts = make(map[string]string, len(ss)), make(map[string]string, len(ds))
	for _, x := range ss {
		sites[x.ID] = x.Name
	}
	for _, x := range ds {
		depts[x.ID] = x.Name
	}
	return sites, depts, nil
}
