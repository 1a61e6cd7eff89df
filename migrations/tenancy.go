package migrations

import (
	"context"
	"errors"
	"fmt"
)

// Tenant isolation in the database (PostgreSQL). Every tenant-owned table has row-level security
// enabled and forced (migration 00011): a row is visible and writable only when its tenant_id equals
// the session setting parley.tenant_id. The server connects as a role that neither owns the tables
// nor bypasses row-level security, so a query that forgets its WHERE tenant_id = ? still reads and
// writes nothing of another tenant.
//
// The setting comes from the context of each statement. Stores and services scope their context
// with WithTenant (the tenant they are already filtering on); the connection wrapper (pgtenant.go)
// sets parley.tenant_id before the statement runs — SET LOCAL inside a transaction, a session
// setting before a statement outside one — and only when it differs from what the connection
// already holds, so a request costs one extra round trip at most. A statement with no tenant in its
// context runs with an empty setting and sees no tenant's rows at all.
//
// Work that must span tenants goes through AcrossTenants, the one narrow path (SECURITY.md names
// its callers): resolving which tenant a session token, a site key or a sign-in belongs to,
// housekeeping, audit sealing and forwarding, the PAN discovery scan and retention. SQLite has no
// row-level security; there the scope is carried and ignored.

type tenantKey struct{}

// scope is what a context says about the tenant its statements may touch.
type scope struct {
	tenant string
	// across is set by AcrossTenants: the statement may see every tenant's rows.
	across bool
	// conflict is set when a context already scoped to one tenant was scoped to another: its
	// statements are refused (ErrTenantConflict) rather than run for either tenant.
	conflict bool
}

// ErrTenantConflict means a statement's context was scoped to two different tenants: a request of
// one tenant reached a store with another tenant's id. The statement is refused.
var ErrTenantConflict = errors.New("database: statement scoped to two tenants; refused")

// WithTenant returns ctx scoped to tenantID: statements run under it see only that tenant's rows.
// Scoping a context that already names a different tenant marks it in conflict, and every
// statement under it is refused with ErrTenantConflict. An empty tenantID leaves ctx unchanged.
func WithTenant(ctx context.Context, tenantID string) context.Context {
	if tenantID == "" {
		return ctx
	}
	if s, ok := ctx.Value(tenantKey{}).(scope); ok {
		switch {
		case s.conflict, s.tenant == tenantID && !s.across:
			return ctx
		case s.tenant != "" && s.tenant != tenantID:
			return context.WithValue(ctx, tenantKey{}, scope{conflict: true})
		}
	}
	return context.WithValue(ctx, tenantKey{}, scope{tenant: tenantID})
}

// AcrossTenants returns ctx for work that spans tenants (the narrow path SECURITY.md names):
// statements under it see every tenant's rows. A context already in conflict stays so.
func AcrossTenants(ctx context.Context) context.Context {
	if s, ok := ctx.Value(tenantKey{}).(scope); ok && s.conflict {
		return ctx
	}
	return context.WithValue(ctx, tenantKey{}, scope{across: true})
}

// TenantOf returns the tenant ctx is scoped to, or "".
func TenantOf(ctx context.Context) string {
	s, _ := ctx.Value(tenantKey{}).(scope)
	return s.tenant
}

// scopeOf returns the scope of ctx (the zero scope when none).
func scopeOf(ctx context.Context) scope {
	s, _ := ctx.Value(tenantKey{}).(scope)
	return s
}

// AsTenant returns ctx scoped to tenantID whatever scope ctx had, without the conflict check of
// WithTenant. Only the audit log uses it: it writes each event into the chain of the event's own
// tenant (an installation event during a tenant's request goes to audit.SystemTenant's chain).
func AsTenant(ctx context.Context, tenantID string) context.Context {
	return context.WithValue(ctx, tenantKey{}, scope{tenant: tenantID})
}

// ErrIsolationBypassed means the server's PostgreSQL role escapes row-level security: it is a
// superuser, has BYPASSRLS, or owns tables (so it could turn row-level security off).
var ErrIsolationBypassed = errors.New("database role escapes row-level security")

// CheckIsolation reports, on PostgreSQL, whether the connection's role is bound by row-level
// security: neither a superuser nor BYPASSRLS, and owning none of the schema's tables. The server
// warns at start when it is not (README, "Production deployment"). SQLite has nothing to check.
func CheckIsolation(ctx context.Context, db *DB) error {
	if db.Dialect != Postgres {
		return nil
	}
	var r struct {
		Super  bool
		Bypass bool
		Owns   int64
		Role   string
	}
	err := db.Gorm.WithContext(ctx).Raw(`SELECT r.rolsuper AS super, r.rolbypassrls AS bypass, current_user AS role,
		(SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		  WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relowner = r.oid) AS owns
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&r).Error
	if err != nil {
		return err
	}
	switch {
	case r.Super:
		return fmt.Errorf("%w: %s is a superuser", ErrIsolationBypassed, r.Role)
	case r.Bypass:
		return fmt.Errorf("%w: %s has BYPASSRLS", ErrIsolationBypassed, r.Role)
	case r.Owns > 0:
		return fmt.Errorf("%w: %s owns %d tables (migrate as the owner, serve as another role)", ErrIsolationBypassed, r.Role, r.Owns)
	}
	return nil
}
