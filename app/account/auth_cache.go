package account

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
)

// Bounds of Authenticate's per-node caches; a full cache starts again empty.
const (
	maxCachedUsers   = 1 << 14
	maxCachedTenants = 1 << 12
)

// securityLoadTries is how often reading a tenant's settings and allowlists is retried while
// other writers keep changing them, before the request fails (closed).
const securityLoadTries = 3

// errSecurityUnsettled means a tenant's settings or allowlists changed during every try to read
// them.
var errSecurityUnsettled = errors.New("security settings changed while being read")

// versionedCache keeps values on this node as of the version of their rows (migration 00008:
// triggers bump users.version and security_versions.version in the transaction of every write).
// An entry is used only for a request whose session query read that same version, so a change
// committed on any node is in force from the next request everywhere; nothing is invalidated by
// hand, and a database restored to an older state is simply read again.
type versionedCache[V any] struct {
	mu      sync.RWMutex
	entries map[string]versioned[V]
}

type versioned[V any] struct {
	version int64
	value   V
}

func (c *versionedCache[V]) get(key string, version int64) (V, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[key]
	if !ok || e.version != version {
		var zero V
		return zero, false
	}
	return e.value, true
}

func (c *versionedCache[V]) put(key string, version int64, v V, limit int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= limit {
		c.entries = make(map[string]versioned[V])
	}
	c.entries[key] = versioned[V]{version: version, value: v}
}

// cachedUser is a user with their role names, as of the version of their row (which any write
// to the row or to their role assignments bumps).
type cachedUser struct {
	user  User
	roles []string
}

// userRow is a users row with its version and role names.
type userRow struct {
	User      `gorm:"embedded"`
	Version   int64
	RoleNames string
}

// roleSeparator joins role names in userRow.RoleNames; role names are lower-case letters, digits,
// '-' and '_' (rbac.CheckRoleName).
const roleSeparator = ","

// sessionUser returns a tenant's user and their role names as of version (read with the session)
// or later: from the cache when it holds that version, else from the database in one query, so
// the user and the roles are of one version. ErrNoSession when the user is gone.
func (s *Service) sessionUser(ctx context.Context, tenantID, userID string, version int64) (cachedUser, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if u, ok := s.userCache.get(userID, version); ok && u.user.TenantID == tenantID {
		return u, nil
	}
	agg := "group_concat(ra.role, '" + roleSeparator + "')"
	if s.DB.Dialect == migrations.Postgres {
		agg = "string_agg(ra.role, '" + roleSeparator + "')"
	}
	var rows []userRow
	err := s.db().WithContext(ctx).Raw("SELECT u.*, COALESCE((SELECT "+agg+" FROM role_assignments ra "+
		"WHERE ra.tenant_id = u.tenant_id AND ra.user_id = u.id), '') AS role_names "+
		"FROM users u WHERE u.tenant_id = ? AND u.id = ?", tenantID, userID).Scan(&rows).Error
	if err != nil {
		return cachedUser{}, err
	}
	if len(rows) == 0 {
		return cachedUser{}, ErrNoSession
	}
	su := cachedUser{user: rows[0].User, roles: splitRoles(rows[0].RoleNames)}
	s.userCache.put(userID, rows[0].Version, su, maxCachedUsers)
	return su, nil
}

// splitRoles returns the distinct role names of userRow.RoleNames, sorted.
func splitRoles(joined string) []string {
	if joined == "" {
		return nil
	}
	roles := strings.Split(joined, roleSeparator)
	slices.Sort(roles)
	return slices.Compact(roles)
}

// tenantSecurity is a tenant's settings and every IP allowlist, as of one security version.
type tenantSecurity struct {
	settings Settings
	lists    []Allowlist
}

// listsFor returns the lists that apply to holders of roles: the tenant's and each role's.
func (t *tenantSecurity) listsFor(roles []string) []Allowlist {
	out := make([]Allowlist, 0, len(t.lists))
	for _, l := range t.lists {
		if l.Role == "" || slices.Contains(roles, l.Role) {
			out = append(out, l)
		}
	}
	return out
}

// security returns a tenant's settings and allowlists as of version (read with the session) or
// later: from the cache when it holds that version, else from the database.
func (s *Service) security(ctx context.Context, tenantID string, version int64) (*tenantSecurity, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if t, ok := s.secCache.get(tenantID, version); ok {
		return t, nil
	}
	v, t, err := s.loadSecurity(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	s.secCache.put(tenantID, v, t, maxCachedTenants)
	return t, nil
}

// loadSecurity reads a tenant's security version, settings and allowlists. The version is read
// before and after the rest: when both agree no change committed in between, so what was read is
// exactly that version (every change bumps it in its own transaction); otherwise it tries again.
// A stored setting or list that no longer validates is an error (fail closed).
func (s *Service) loadSecurity(ctx context.Context, tenantID string) (int64, *tenantSecurity, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	db := s.db().WithContext(ctx)
	for range securityLoadTries {
		before, err := securityVersion(db, tenantID)
		if err != nil {
			return 0, nil, err
		}
		st, err := s.settingsTx(ctx, db, tenantID)
		if err != nil {
			return 0, nil, err
		}
		var rows []allowlistRow
		if err := db.Where("tenant_id = ?", tenantID).Order("role").Find(&rows).Error; err != nil {
			return 0, nil, err
		}
		lists, err := parseRows(rows)
		if err != nil {
			return 0, nil, err
		}
		after, err := securityVersion(db, tenantID)
		if err != nil {
			return 0, nil, err
		}
		if before == after {
			return before, &tenantSecurity{settings: st, lists: lists}, nil
		}
	}
	return 0, nil, errSecurityUnsettled
}

// securityVersion returns a tenant's security version; 0 when it never changed a setting or list.
func securityVersion(db *gorm.DB, tenantID string) (int64, error) {
	var v []int64
	if err := db.Table("security_versions").Where("tenant_id = ?", tenantID).Limit(1).Pluck("version", &v).Error; err != nil {
		return 0, err
	}
	if len(v) == 0 {
		return 0, nil
	}
	return v[0], nil
}
