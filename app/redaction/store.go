package redaction

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/compliance/redact"
	"github.com/parleyhq/parley/migrations"
)

// Errors of the store. A *redact.RuleError explains an invalid rule.
var (
	ErrNotFound    = errors.New("redaction: rule not found")
	ErrExists      = errors.New("redaction: a rule with that name exists")
	ErrBuiltin     = errors.New("redaction: built-in rules cannot be deleted or renamed")
	ErrTooMany     = errors.New("redaction: too many rules")
	ErrInvalidMode = errors.New("redaction: unknown masking mode")
	ErrNoAuditor   = errors.New("redaction: no audit log configured")
)

// Auditor appends an event inside the transaction of the change it records; *auditlog.Log
// satisfies it.
type Auditor interface {
	Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error
}

// Rule is a tenant's redaction rule as the API shows it. Built-in rules have their name as id;
// only their replacement and enabled flag can change.
type Rule struct {
	ID string `json:"id"`
	redact.Rule
	Builtin   bool      `json:"builtin"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// Actor is who changes a setting, for the audit record.
type Actor struct {
	UserID    string
	IP        string
	UserAgent string
	RequestID string
}

type ruleRow struct {
	ID          string `gorm:"primaryKey"`
	TenantID    string
	Name        string
	NameKey     string
	Builtin     bool
	Pattern     string
	Replacement string
	Validator   string
	Enabled     bool
	Position    int
	UpdatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (ruleRow) TableName() string { return "redaction_rules" }

type settingsRow struct {
	TenantID    string `gorm:"primaryKey"`
	PanMaskMode string
	UpdatedBy   string
	UpdatedAt   time.Time
}

func (settingsRow) TableName() string { return "tenant_card_settings" }

// Store holds the tenants' masking modes and redaction rules.
type Store struct {
	DB    *gorm.DB
	Audit Auditor
	Now   func() time.Time
	// Node names this node in audit records.
	Node string
	// Changed, when set, is called after a tenant's settings changed (Policies.Invalidate).
	Changed func(tenantID string)
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func nameKey(name string) string { return strings.ToLower(name) }

// builtinByKey finds a built-in rule by name.
func builtinByKey(key string) (redact.Rule, bool) {
	for _, b := range redact.BuiltinRules() {
		if nameKey(b.Name) == key {
			return b, true
		}
	}
	return redact.Rule{}, false
}

// Rules returns a tenant's rules in the order they apply: the built-ins (as the tenant set
// them, off unless enabled), then the tenant's own in creation order.
func (s *Store) Rules(ctx context.Context, tenantID string) ([]Rule, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	return s.rules(ctx, s.DB, tenantID)
}

func (s *Store) rules(ctx context.Context, db *gorm.DB, tenantID string) ([]Rule, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []ruleRow
	if err := db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("position, created_at, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	var out []Rule
	for _, b := range redact.BuiltinRules() {
		r := Rule{ID: b.Name, Rule: b, Builtin: true}
		for _, row := range rows {
			if row.Builtin && row.NameKey == nameKey(b.Name) {
				r.Enabled, r.Replacement, r.UpdatedAt, r.UpdatedBy = row.Enabled, row.Replacement, row.UpdatedAt, row.UpdatedBy
			}
		}
		out = append(out, r)
	}
	for _, row := range rows {
		if row.Builtin {
			continue
		}
		out = append(out, Rule{ID: row.ID, Rule: redact.Rule{Name: row.Name, Pattern: row.Pattern, Replacement: row.Replacement,
			Enabled: row.Enabled, Validator: row.Validator}, UpdatedAt: row.UpdatedAt, UpdatedBy: row.UpdatedBy})
	}
	return out, nil
}

// plain returns the redact rules of a list.
func plain(rules []Rule) []redact.Rule {
	out := make([]redact.Rule, len(rules))
	for i, r := range rules {
		out[i] = r.Rule
	}
	return out
}

// checkSet validates a tenant's whole rule set after a change.
func checkSet(rules []Rule) error {
	if len(rules) > redact.MaxRules {
		return fmt.Errorf("%w: at most %d", ErrTooMany, redact.MaxRules)
	}
	err := redact.Validate(plain(rules))
	if errors.Is(err, redact.ErrDuplicateName) {
		return ErrExists
	}
	return err
}

// Create adds a tenant's rule at the end of its list.
func (s *Store) Create(ctx context.Context, by Actor, tenantID string, in redact.Rule) (Rule, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if _, ok := builtinByKey(nameKey(in.Name)); ok {
		return Rule{}, ErrExists
	}
	var out Rule
	err := s.change(ctx, by, tenantID, "create", in.Name, func(tx *gorm.DB, rules []Rule) error {
		now := s.now()
		row := ruleRow{ID: uuid.Must(uuid.NewV7()).String(), TenantID: tenantID, Name: in.Name, NameKey: nameKey(in.Name),
			Pattern: in.Pattern, Replacement: in.Replacement, Validator: in.Validator, Enabled: in.Enabled,
			Position: len(rules) + 1, UpdatedBy: by.UserID, CreatedAt: now, UpdatedAt: now}
		if err := checkSet(append(rules, Rule{ID: row.ID, Rule: in})); err != nil {
			return err
		}
		out = Rule{ID: row.ID, Rule: in, UpdatedAt: now, UpdatedBy: by.UserID}
		return tx.Create(&row).Error
	})
	return out, err
}

// Update changes a rule. A built-in rule keeps its name, pattern and validator: only its
// replacement and enabled flag change.
func (s *Store) Update(ctx context.Context, by Actor, tenantID, id string, in redact.Rule) (Rule, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out Rule
	err := s.change(ctx, by, tenantID, "update", id, func(tx *gorm.DB, rules []Rule) error {
		i := slices.IndexFunc(rules, func(r Rule) bool { return r.ID == id })
		if i < 0 {
			return ErrNotFound
		}
		now := s.now()
		cur := rules[i]
		if cur.Builtin {
			if (in.Name != "" && nameKey(in.Name) != nameKey(cur.Name)) || (in.Pattern != "" && in.Pattern != cur.Pattern) ||
				(in.Validator != "" && in.Validator != cur.Validator) {
				return ErrBuiltin
			}
			cur.Replacement, cur.Enabled = in.Replacement, in.Enabled
			rules[i] = cur
			if err := checkSet(rules); err != nil {
				return err
			}
			row := ruleRow{ID: uuid.Must(uuid.NewV7()).String(), TenantID: tenantID, Name: cur.Name, NameKey: nameKey(cur.Name),
				Builtin: true, Replacement: cur.Replacement, Enabled: cur.Enabled, UpdatedBy: by.UserID, CreatedAt: now, UpdatedAt: now}
			res := tx.Model(&ruleRow{}).Where("tenant_id = ? AND name_key = ? AND builtin", tenantID, row.NameKey).
				Updates(map[string]any{"replacement": row.Replacement, "enabled": row.Enabled, "updated_by": by.UserID, "updated_at": now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				if err := tx.Create(&row).Error; err != nil {
					return err
				}
			}
		} else {
			if in.Name == "" {
				in.Name = cur.Name
			}
			if _, ok := builtinByKey(nameKey(in.Name)); ok {
				return ErrExists
			}
			cur.Rule = in
			rules[i] = cur
			if err := checkSet(rules); err != nil {
				return err
			}
			if err := tx.Model(&ruleRow{}).Where("tenant_id = ? AND id = ?", tenantID, id).Updates(map[string]any{
				"name": in.Name, "name_key": nameKey(in.Name), "pattern": in.Pattern, "replacement": in.Replacement,
				"validator": in.Validator, "enabled": in.Enabled, "updated_by": by.UserID, "updated_at": now,
			}).Error; err != nil {
				return err
			}
		}
		cur.UpdatedAt, cur.UpdatedBy = now, by.UserID
		out = cur
		return nil
	})
	return out, err
}

// Delete removes a tenant's own rule; built-in rules are disabled instead (ErrBuiltin).
func (s *Store) Delete(ctx context.Context, by Actor, tenantID, id string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	return s.change(ctx, by, tenantID, "delete", id, func(tx *gorm.DB, rules []Rule) error {
		i := slices.IndexFunc(rules, func(r Rule) bool { return r.ID == id })
		switch {
		case i < 0:
			return ErrNotFound
		case rules[i].Builtin:
			return ErrBuiltin
		}
		return tx.Where("tenant_id = ? AND id = ? AND NOT builtin", tenantID, id).Delete(&ruleRow{}).Error
	})
}

// change runs fn over the tenant's current rules in a transaction with its audit record.
func (s *Store) change(ctx context.Context, by Actor, tenantID, op, rule string, fn func(tx *gorm.DB, rules []Rule) error) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	if s.Audit == nil {
		return ErrNoAuditor
	}
	err := migrations.Transaction(s.DB.WithContext(ctx), func(tx *gorm.DB) error {
		// Serialise a tenant's rule changes: the settings row is the lock (SQLite locks the whole
		// database for writers anyway).
		if err := s.ensureSettings(ctx, tx, tenantID); err != nil {
			return err
		}
		if err := tx.Exec("UPDATE tenant_card_settings SET updated_at = updated_at WHERE tenant_id = ?", tenantID).Error; err != nil {
			return err
		}
		rules, err := s.rules(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		if err := fn(tx, rules); err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, s.event(by, tenantID, "redaction_rule", map[string]string{"op": op, "rule": rule}))
	})
	if err == nil && s.Changed != nil {
		s.Changed(tenantID)
	}
	return err
}

func (s *Store) event(by Actor, tenantID, setting string, details map[string]string) audit.Event {
	details["setting"] = setting
	return audit.Event{
		Tenant: tenantID, Actor: audit.Actor{ID: by.UserID, Kind: audit.ActorUser},
		Origin: audit.Origin{IP: by.IP, UserAgent: by.UserAgent, Node: s.Node},
		Action: audit.ActionSecurityPolicy, Target: audit.Target{Kind: "tenant", ID: tenantID}, Outcome: audit.Success,
		RequestID: by.RequestID, Details: details,
	}
}

// ensureSettings creates the tenant's settings row with the defaults if it has none.
func (s *Store) ensureSettings(ctx context.Context, tx *gorm.DB, tenantID string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	tx = tx.WithContext(ctx)
	var n int64
	if err := tx.WithContext(ctx).Model(&settingsRow{}).Where("tenant_id = ?", tenantID).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	return tx.WithContext(ctx).Create(&settingsRow{TenantID: tenantID, PanMaskMode: pan.ModeBINLast4.String(), UpdatedAt: s.now()}).Error
}

// MaskMode returns the tenant's PAN masking mode (BIN and last four unless changed).
func (s *Store) MaskMode(ctx context.Context, tenantID string) (pan.Mode, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var row settingsRow
	err := s.DB.WithContext(ctx).Where("tenant_id = ?", tenantID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return pan.ModeBINLast4, nil
	}
	if err != nil {
		return 0, err
	}
	return pan.ParseMode(row.PanMaskMode)
}

// SetMaskMode changes the tenant's PAN masking mode.
func (s *Store) SetMaskMode(ctx context.Context, by Actor, tenantID string, mode pan.Mode) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	if mode != pan.ModeBINLast4 && mode != pan.ModeLast4 {
		return ErrInvalidMode
	}
	if s.Audit == nil {
		return ErrNoAuditor
	}
	err := migrations.Transaction(s.DB.WithContext(ctx), func(tx *gorm.DB) error {
		if err := s.ensureSettings(ctx, tx, tenantID); err != nil {
			return err
		}
		if err := tx.Model(&settingsRow{}).Where("tenant_id = ?", tenantID).
			Updates(map[string]any{"pan_mask_mode": mode.String(), "updated_by": by.UserID, "updated_at": s.now()}).Error; err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, s.event(by, tenantID, "card_mask_mode", map[string]string{"mode": mode.String()}))
	})
	if err == nil && s.Changed != nil {
		s.Changed(tenantID)
	}
	return err
}
