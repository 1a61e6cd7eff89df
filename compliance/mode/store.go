package mode

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// MaxReason is the longest reason accepted for a change, in characters.
const MaxReason = 500

// The errors of Set.
var (
	// ErrReasonRequired: turning a framework off needs a reason, recorded in the audit log.
	ErrReasonRequired = errors.New("compliance mode: a reason is required to turn a framework off")
	// ErrInvalidReason: the reason is longer than MaxReason characters or holds control
	// characters.
	ErrInvalidReason = errors.New("compliance mode: the reason is at most 500 characters, without control characters")
)

// State is an organisation's compliance mode and its last change.
type State struct {
	Mode      Mode      `json:"mode"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	Reason    string    `json:"reason,omitempty"`
}

type row struct {
	TenantID  string `gorm:"primaryKey"`
	PCI       bool   `gorm:"column:pci"`
	HIPAA     bool   `gorm:"column:hipaa"`
	UpdatedAt time.Time
	UpdatedBy string
	Reason    string
}

func (row) TableName() string { return "compliance_modes" }

func (r row) state() State {
	return State{Mode: Mode{PCI: r.PCI, HIPAA: r.HIPAA}, UpdatedAt: r.UpdatedAt.UTC(), UpdatedBy: r.UpdatedBy, Reason: r.Reason}
}

// Appender writes an audit event in the caller's transaction (auditlog.Log).
type Appender interface {
	Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error
}

// Store keeps each organisation's compliance mode; every change is audited in its transaction.
type Store struct {
	DB    *gorm.DB
	Audit Appender
	Now   func() time.Time
	// Changed is told of each organisation whose mode changed, after the commit (drift monitor).
	Changed func(tenantID string)
}

// Get returns an organisation's compliance mode (none when it never set one).
func (s *Store) Get(ctx context.Context, tenantID string) (State, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	return get(ctx, s.DB.WithContext(ctx), tenantID)
}

func get(ctx context.Context, tx *gorm.DB, tenantID string) (State, error) {
	var r row
	err := tx.WithContext(ctx).Where("tenant_id = ?", tenantID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return State{}, nil
	}
	if err != nil {
		return State{}, err
	}
	return r.state(), nil
}

// InMode returns the organisations with a framework on, and their modes. It reads across
// organisations: the drift monitor and the start-up check are its only callers.
func (s *Store) InMode(ctx context.Context) (map[string]Mode, error) {
	ctx = migrations.AcrossTenants(ctx)
	var rows []row
	if err := s.DB.WithContext(ctx).Where("pci OR hipaa").Order("tenant_id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]Mode, len(rows))
	for _, r := range rows {
		out[r.TenantID] = Mode{PCI: r.PCI, HIPAA: r.HIPAA}
	}
	return out, nil
}

// Change is a request to set an organisation's mode.
type Change struct {
	TenantID string
	Mode     Mode
	// Reason is required when a framework is turned off; it goes to the audit log.
	Reason    string
	Actor     audit.Actor
	Origin    audit.Origin
	RequestID string
}

// Set sets an organisation's mode, recorded as compliance.mode.change with the previous mode
// and the reason in the same transaction. Turning a framework off without a reason is
// ErrReasonRequired. Setting the mode in force changes and records nothing (changed false).
func (s *Store) Set(ctx context.Context, c Change) (st State, changed bool, err error) {
	c.Reason = strings.TrimSpace(c.Reason)
	if utf8.RuneCountInString(c.Reason) > MaxReason || !utf8.ValidString(c.Reason) || strings.IndexFunc(c.Reason, unicode.IsControl) >= 0 {
		return State{}, false, ErrInvalidReason
	}
	ctx = migrations.WithTenant(ctx, c.TenantID)
	err = migrations.Transaction(s.DB.WithContext(ctx), func(tx *gorm.DB) error {
		prev, err := get(ctx, tx, c.TenantID)
		if err != nil {
			return err
		}
		st = prev
		if prev.Mode == c.Mode {
			return nil
		}
		dropped := prev.Mode.Dropped(c.Mode)
		if dropped.On() && c.Reason == "" {
			return ErrReasonRequired
		}
		r := row{TenantID: c.TenantID, PCI: c.Mode.PCI, HIPAA: c.Mode.HIPAA, UpdatedAt: s.Now().UTC(), UpdatedBy: c.Actor.ID, Reason: c.Reason}
		if err := tx.WithContext(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"pci", "hipaa", "updated_at", "updated_by", "reason"}),
		}).Create(&r).Error; err != nil {
			return err
		}
		details := map[string]string{"mode": c.Mode.String(), "previous": prev.Mode.String()}
		if added := c.Mode.Dropped(prev.Mode); added.On() {
			details["turned_on"] = added.String()
		}
		if dropped.On() {
			details["turned_off"] = dropped.String()
		}
		if err := s.Audit.Append(ctx, tx, audit.Event{Tenant: c.TenantID, Actor: c.Actor, Origin: c.Origin, Action: audit.ActionComplianceMode,
			Target: audit.Target{Kind: "compliance_mode", ID: c.TenantID}, Outcome: audit.Success, Reason: c.Reason,
			RequestID: c.RequestID, Details: details}); err != nil {
			return err
		}
		st, changed = r.state(), true
		return nil
	})
	if err != nil {
		return State{}, false, err
	}
	if changed && s.Changed != nil {
		s.Changed(c.TenantID)
	}
	return st, changed, nil
}
