package account

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/allowlist"
)

// Allowlist errors.
var (
	// ErrIPNotAllowed means the client address is outside an IP allowlist that applies.
	ErrIPNotAllowed = errors.New("client address not allowed")
	// ErrExcludesSelf means a new allowlist would shut out the administrator saving it; they must
	// confirm.
	ErrExcludesSelf = errors.New("the allowlist would exclude your own address")
	// ErrUnknownRoleList means an allowlist names a role that does not exist.
	ErrUnknownRoleList = errors.New("allowlist for an unknown role")
)

// MaxSuspension is the longest emergency suspension of a tenant's allowlists.
const MaxSuspension = 24 * time.Hour

// Allowlist is one stored list: Role "" is the tenant-wide list, any other a role's.
type Allowlist struct {
	Role      string
	List      *allowlist.List
	UpdatedAt time.Time
	UpdatedBy string
}

type allowlistRow struct {
	TenantID  string `gorm:"primaryKey"`
	Role      string `gorm:"primaryKey"`
	Entries   string
	UpdatedAt time.Time
	UpdatedBy string
}

func (allowlistRow) TableName() string { return "ip_allowlists" }

// Allowlists returns a tenant's lists, the tenant-wide one first.
func (s *Service) Allowlists(ctx context.Context, tenantID string) ([]Allowlist, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []allowlistRow
	if err := s.db().WithContext(ctx).Where("tenant_id = ?", tenantID).Order("role").Find(&rows).Error; err != nil {
		return nil, err
	}
	return parseRows(rows)
}

func parseRows(rows []allowlistRow) ([]Allowlist, error) {
	out := make([]Allowlist, 0, len(rows))
	for _, r := range rows {
		l, err := allowlist.Parse(r.Entries)
		if err != nil {
			// A stored list that no longer parses must not silently allow everyone.
			return nil, fmt.Errorf("stored allowlist %q: %w", r.Role, err)
		}
		out = append(out, Allowlist{Role: r.Role, List: l, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy})
	}
	return out, nil
}

// listsFor returns the lists that apply to holders of roles (the tenant's and each role's).
func (s *Service) listsFor(ctx context.Context, db *gorm.DB, tenantID string, roles []string) ([]Allowlist, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []allowlistRow
	q := db.WithContext(ctx).Where("tenant_id = ? AND (role = '' OR role IN ?)", tenantID, append([]string{""}, roles...))
	if err := q.Find(&rows).Error; err != nil {
		return nil, err
	}
	return parseRows(rows)
}

// ClientAddr parses a client address as Echo's RealIP reports it; an unparseable one is the
// zero Addr, which only empty lists let in.
func ClientAddr(ip string) netip.Addr {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// allowed reports whether addr passes every list, unless the tenant's lists are suspended.
func allowed(lists []Allowlist, addr netip.Addr, st Settings, now time.Time) bool {
	if now.Before(st.AllowlistSuspendedUntil) {
		return true
	}
	for _, l := range lists {
		if !l.List.Allows(addr) {
			return false
		}
	}
	return true
}

// checkAllowlists applies the tenant's and the roles' lists to o.IP, auditing a refusal.
func (s *Service) checkAllowlists(ctx context.Context, db *gorm.DB, tenantID, userID string, roles []string, st Settings, o Origin, stage string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	lists, err := s.listsFor(ctx, db, tenantID, roles)
	if err != nil {
		return err
	}
	return s.enforceAllowlists(ctx, lists, tenantID, userID, st, o, stage)
}

// enforceAllowlists applies lists to o.IP, auditing a refusal.
func (s *Service) enforceAllowlists(ctx context.Context, lists []Allowlist, tenantID, userID string, st Settings, o Origin, stage string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	if allowed(lists, ClientAddr(o.IP), st, s.now()) {
		return nil
	}
	e := o.event(tenantID, ActionIPDenied, userID, Failure)
	e.Target = Target{Kind: "user", ID: userID}
	e.Reason = "not_in_allowlist"
	e.Details = map[string]string{"stage": stage}
	if err := record(ctx, s.Auditor, nil, e); err != nil {
		return err
	}
	return ErrIPNotAllowed
}

// SetAllowlistInput is a new list for the tenant (Role "") or a role.
type SetAllowlistInput struct {
	Role string
	// Entries are CIDR prefixes or addresses, one per element.
	Entries []string
	// ConfirmSelfExclusion saves a list that shuts out the administrator's own address.
	ConfirmSelfExclusion bool
}

// SetAllowlist replaces one of the tenant's lists; an empty list removes it (no restriction).
// Malformed entries are a *allowlist.ParseError naming each; a list that would shut out the
// administrator's own address (by.Origin.IP) is ErrExcludesSelf unless confirmed.
func (s *Service) SetAllowlist(ctx context.Context, by Actor, in SetAllowlistInput) (*allowlist.List, error) {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	l, err := allowlist.ParseEntries(in.Entries)
	if err != nil {
		return nil, err
	}
	if in.Role != "" && !s.roleKnown(ctx, by.TenantID, in.Role) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownRoleList, in.Role)
	}
	err = migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		if !in.ConfirmSelfExclusion && !by.System {
			if err := s.wouldExcludeSelf(ctx, tx, by, in.Role, l); err != nil {
				return err
			}
		}
		now := s.now()
		if l.Empty() {
			if err := tx.Where("tenant_id = ? AND role = ?", by.TenantID, in.Role).Delete(&allowlistRow{}).Error; err != nil {
				return err
			}
		} else {
			row := allowlistRow{TenantID: by.TenantID, Role: in.Role, Entries: l.String(), UpdatedAt: now, UpdatedBy: by.UserID}
			if err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "role"}},
				DoUpdates: clause.AssignmentColumns([]string{"entries", "updated_at", "updated_by"}),
			}).Create(&row).Error; err != nil {
				return err
			}
		}
		e := by.event(by.TenantID, ActionAllowlistChange, Success)
		e.Target = Target{Kind: "allowlist", ID: roleLabel(in.Role)}
		e.Details = map[string]string{"role": roleLabel(in.Role), "entries": strings.TrimSpace(l.String()), "count": fmt.Sprint(l.Len())}
		if in.ConfirmSelfExclusion {
			e.Details["self_exclusion_confirmed"] = "true"
		}
		return record(ctx, s.Auditor, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// wouldExcludeSelf checks the administrator's own access with the new list in place.
func (s *Service) wouldExcludeSelf(ctx context.Context, tx *gorm.DB, by Actor, role string, next *allowlist.List) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	tx = tx.WithContext(ctx)
	u, err := s.Store.WithTx(tx).ByID(ctx, by.TenantID, by.UserID)
	if err != nil {
		return err
	}
	roles, err := s.roleNames(ctx, tx, u)
	if err != nil {
		return err
	}
	if role != "" && !slices.Contains(roles, role) {
		return nil
	}
	lists, err := s.listsFor(ctx, tx, by.TenantID, roles)
	if err != nil {
		return err
	}
	replaced := false
	for i := range lists {
		if lists[i].Role == role {
			lists[i].List, replaced = next, true
		}
	}
	if !replaced {
		lists = append(lists, Allowlist{Role: role, List: next})
	}
	// Judge the list as it will be enforced, whether or not an emergency suspension runs now.
	if !allowed(lists, ClientAddr(by.Origin.IP), Settings{}, s.now()) {
		return ErrExcludesSelf
	}
	return nil
}

// SuspendAllowlists lifts every allowlist of a tenant until the given time: emergency access
// from the server's shell (HIPAA 164.312(a)(2)(ii)), time-limited and audited. A zero until ends
// a suspension.
func (s *Service) SuspendAllowlists(ctx context.Context, by Actor, tenantID string, until time.Time) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	now := s.now()
	if !until.IsZero() && (!until.After(now) || until.Sub(now) > MaxSuspension) {
		return fmt.Errorf("%w: suspend for up to %s", ErrInvalidSettings, MaxSuspension)
	}
	var value any
	if !until.IsZero() {
		value = until.UTC()
	}
	return migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		if err := s.saveSetting(ctx, tx, tenantID, "allowlist_suspended_until", value, by.UserID); err != nil {
			return err
		}
		e := by.event(tenantID, ActionEmergencyAccess, Success)
		e.Target = Target{Kind: "allowlist", ID: "all"}
		e.Reason = "allowlist_suspended"
		e.Details = map[string]string{"until": "none"}
		if !until.IsZero() {
			e.Details["until"] = until.UTC().Format(time.RFC3339)
		}
		if err := record(ctx, s.Auditor, tx, e); err != nil {
			return err
		}
		e.Action = ActionAllowlistChange
		return record(ctx, s.Auditor, tx, e)
	})
}

func roleLabel(role string) string {
	if role == "" {
		return "tenant"
	}
	return "role:" + role
}
