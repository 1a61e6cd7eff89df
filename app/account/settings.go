package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/compliance/mode"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/password"
	"github.com/parleyhq/parley/policy/signin"
)

// Settings is a tenant's security configuration: password policy, sign-in defence, session
// timing, second-factor enforcement and the state of its IP allowlists. A tenant that never
// changed a setting has Parley's defaults (pci-dss-4, DefaultPolicy, DefaultSessionPolicy, MFA
// not required).
type Settings struct {
	Password password.Policy
	SignIn   signin.Policy
	Session  signin.SessionPolicy
	MFA      MFAPolicy
	// AllowlistSuspendedUntil is the end of an emergency suspension of the tenant's allowlists
	// (`parley allowlist disable`); zero when none.
	AllowlistSuspendedUntil time.Time
}

// MFAPolicy says who must present a second factor.
type MFAPolicy struct {
	// Required enforces MFA for every user of the tenant.
	Required bool `json:"required"`
	// RequiredRoles enforces MFA for holders of these roles.
	RequiredRoles []string `json:"required_roles"`
	// GraceSignIns is how many password-only sign-ins a user who must enrol gets; such a session
	// can only enrol. An administrator's MFA reset gives them again.
	GraceSignIns int `json:"grace_sign_ins"`
}

// Bounds of MFAPolicy.GraceSignIns.
const (
	DefaultGraceSignIns = 3
	MaxGraceSignIns     = 10
)

// DefaultSettings returns the settings of a tenant that changed nothing.
func DefaultSettings() Settings {
	return Settings{
		Password: password.PCIDSS4(),
		SignIn:   signin.DefaultPolicy(),
		Session:  signin.DefaultSessionPolicy(),
		MFA:      MFAPolicy{GraceSignIns: DefaultGraceSignIns},
	}
}

// EnforcedFor reports whether a holder of roles must present a second factor.
func (m MFAPolicy) EnforcedFor(roles []string) bool {
	if m.Required {
		return true
	}
	for _, r := range roles {
		if slices.Contains(m.RequiredRoles, r) {
			return true
		}
	}
	return false
}

// Validate reports the problems of an MFA policy.
func (m MFAPolicy) Validate() error {
	var probs []Problem
	if m.GraceSignIns < 1 || m.GraceSignIns > MaxGraceSignIns {
		probs = append(probs, Problem{Field: "grace_sign_ins", Message: fmt.Sprintf(
			"Allow 1 to %d sign-ins to enrol a second factor; the setting is %d.", MaxGraceSignIns, m.GraceSignIns)})
	}
	for _, r := range m.RequiredRoles {
		if r == "" || len(r) > 64 {
			probs = append(probs, Problem{Field: "required_roles", Message: "Role names must be 1 to 64 characters."})
			break
		}
	}
	if len(probs) > 0 {
		return &SettingsError{Problems: probs}
	}
	return nil
}

// Problem is one thing wrong with a setting, for the administrator.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// SettingsError lists every problem of a submitted setting; errors.Is matches ErrInvalidSettings.
type SettingsError struct {
	Problems []Problem
}

// ErrInvalidSettings is matched by every *SettingsError.
var ErrInvalidSettings = errors.New("invalid security settings")

func (e *SettingsError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Field + ": " + p.Message
	}
	return "invalid security settings: " + strings.Join(msgs, "; ")
}

// Unwrap returns ErrInvalidSettings.
func (e *SettingsError) Unwrap() error { return ErrInvalidSettings }

// settingsRow is the security_settings row: each area is a JSON document in the shape of the API.
type settingsRow struct {
	TenantID                string `gorm:"primaryKey"`
	PasswordPolicy          string
	SigninPolicy            string
	SessionPolicy           string
	MFAPolicy               string `gorm:"column:mfa_policy"`
	AllowlistSuspendedUntil *time.Time
	UpdatedAt               time.Time
	UpdatedBy               string
}

func (settingsRow) TableName() string { return "security_settings" }

// Settings returns a tenant's security settings. A stored setting that no longer validates is an
// error, never silently replaced by a default (fail closed).
func (s *Service) Settings(ctx context.Context, tenantID string) (Settings, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	return s.settingsTx(ctx, s.db(), tenantID)
}

func (s *Service) settingsTx(ctx context.Context, tx *gorm.DB, tenantID string) (Settings, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	tx = tx.WithContext(ctx)
	out := DefaultSettings()
	var row settingsRow
	err := tx.WithContext(ctx).Where("tenant_id = ?", tenantID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return out, nil
	}
	if err != nil {
		return Settings{}, err
	}
	if row.PasswordPolicy != "" {
		var ps PasswordSettings
		if err := json.Unmarshal([]byte(row.PasswordPolicy), &ps); err != nil {
			return Settings{}, fmt.Errorf("stored password policy: %w", err)
		}
		out.Password = ps.bounded().Policy()
		if err := out.Password.Validate(); err != nil {
			return Settings{}, fmt.Errorf("stored password policy: %w", err)
		}
	}
	if row.SigninPolicy != "" {
		var ss SignInSettings
		if err := json.Unmarshal([]byte(row.SigninPolicy), &ss); err != nil {
			return Settings{}, fmt.Errorf("stored sign-in policy: %w", err)
		}
		out.SignIn = ss.bounded().Policy()
		if err := out.SignIn.Validate(); err != nil {
			return Settings{}, fmt.Errorf("stored sign-in policy: %w", err)
		}
	}
	if row.SessionPolicy != "" {
		var ss SessionSettings
		if err := json.Unmarshal([]byte(row.SessionPolicy), &ss); err != nil {
			return Settings{}, fmt.Errorf("stored session policy: %w", err)
		}
		out.Session = ss.bounded().Policy()
		if err := out.Session.Validate(); err != nil {
			return Settings{}, fmt.Errorf("stored session policy: %w", err)
		}
	}
	if row.MFAPolicy != "" {
		var m MFAPolicy
		if err := json.Unmarshal([]byte(row.MFAPolicy), &m); err != nil {
			return Settings{}, fmt.Errorf("stored MFA policy: %w", err)
		}
		if err := m.Validate(); err != nil {
			return Settings{}, fmt.Errorf("stored MFA policy: %w", err)
		}
		out.MFA = m
	}
	if row.AllowlistSuspendedUntil != nil {
		out.AllowlistSuspendedUntil = row.AllowlistSuspendedUntil.UTC()
	}
	return out, nil
}

// saveSetting writes one column of a tenant's settings row, creating the row when needed.
func (s *Service) saveSetting(ctx context.Context, tx *gorm.DB, tenantID, column string, value any, by string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	tx = tx.WithContext(ctx)
	now := s.now().UTC()
	row := settingsRow{TenantID: tenantID, UpdatedAt: now, UpdatedBy: by}
	if err := tx.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return err
	}
	return tx.WithContext(ctx).Model(&settingsRow{}).Where("tenant_id = ?", tenantID).
		Updates(map[string]any{column: value, "updated_at": now, "updated_by": by}).Error
}

// Actor is who performs an administrative action: a signed-in user, or the system (a job, the
// CLI) with ID naming it.
type Actor struct {
	TenantID string
	UserID   string
	// System marks an action by Parley itself; UserID then names the job or command.
	System bool
	Origin Origin
}

func (a Actor) event(tenantID, action string, outcome Outcome) Event {
	e := a.Origin.event(tenantID, action, a.UserID, outcome)
	if a.System {
		e.ActorKind = ActorSystem
	}
	return e
}

// SetPasswordPolicy replaces a tenant's password policy after checking it.
func (s *Service) SetPasswordPolicy(ctx context.Context, by Actor, p password.Policy) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	// The compliance mode speaks first: its refusal names the control a value would break.
	if err := s.guard(ctx, by, "password", func(m mode.Mode) error { return m.PasswordPolicy(p) }); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	doc, err := json.Marshal(PasswordSettingsFrom(p))
	if err != nil {
		return err
	}
	return s.setPolicy(ctx, by, "password_policy", "password", string(doc))
}

// SetSignInPolicy replaces a tenant's sign-in defence after checking it.
func (s *Service) SetSignInPolicy(ctx context.Context, by Actor, p signin.Policy) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	// The compliance mode speaks first: its refusal names the control a value would break.
	if err := s.guard(ctx, by, "signin", func(m mode.Mode) error { return m.SignInPolicy(p) }); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	doc, err := json.Marshal(SignInSettingsFrom(p))
	if err != nil {
		return err
	}
	return s.setPolicy(ctx, by, "signin_policy", "signin", string(doc))
}

// SetSessionPolicy replaces a tenant's session timing after checking it.
func (s *Service) SetSessionPolicy(ctx context.Context, by Actor, p signin.SessionPolicy) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	// The compliance mode speaks first: its refusal names the control a value would break.
	if err := s.guard(ctx, by, "session", func(m mode.Mode) error { return m.SessionPolicy(p) }); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	doc, err := json.Marshal(SessionSettingsFrom(p))
	if err != nil {
		return err
	}
	return s.setPolicy(ctx, by, "session_policy", "session", string(doc))
}

// SetMFAPolicy replaces a tenant's second-factor enforcement after checking it.
func (s *Service) SetMFAPolicy(ctx context.Context, by Actor, m MFAPolicy) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	if err := m.Validate(); err != nil {
		return err
	}
	roles := slices.Clone(m.RequiredRoles)
	slices.Sort(roles)
	m.RequiredRoles = slices.Compact(roles)
	if m.RequiredRoles == nil {
		m.RequiredRoles = []string{}
	}
	for _, r := range m.RequiredRoles {
		if !s.roleKnown(ctx, by.TenantID, r) {
			return &SettingsError{Problems: []Problem{{Field: "required_roles", Message: fmt.Sprintf("%q is not a role.", r)}}}
		}
	}
	if err := s.guard(ctx, by, "mfa", func(md mode.Mode) error {
		if !md.On() {
			return nil
		}
		people, err := s.mfaPeople(ctx, by.TenantID, m)
		if err != nil {
			return err
		}
		return md.MFAPolicy(people)
	}); err != nil {
		return err
	}
	doc, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.setPolicy(ctx, by, "mfa_policy", "mfa", string(doc))
}

func (s *Service) setPolicy(ctx context.Context, by Actor, column, area, doc string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	err := migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		if err := s.saveSetting(ctx, tx, by.TenantID, column, doc, by.UserID); err != nil {
			return err
		}
		e := by.event(by.TenantID, ActionSecurityPolicy, Success)
		e.Target = Target{Kind: "security_policy", ID: area}
		e.Details = map[string]string{"area": area, "policy": doc}
		return record(ctx, s.Auditor, tx, e)
	})
	if err == nil {
		s.changed(by.TenantID)
	}
	return err
}
