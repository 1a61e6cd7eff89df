package account

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/compliance/evidence"
	"github.com/parleyhq/parley/compliance/mode"
	"github.com/parleyhq/parley/migrations"
)

// ActionComplianceRefused records a setting the compliance mode refused.
const ActionComplianceRefused = "compliance.mode.refusal"

// ComplianceModes reads an organisation's compliance mode and hears of changes that bear on its
// drift (the app's compliance mode store and drift monitor).
type ComplianceModes interface {
	Mode(ctx context.Context, tenantID string) (mode.Mode, error)
	Changed(tenantID string)
}

// guard refuses a security setting that would break a control of the organisation's compliance
// mode: rule decides under the mode; a refusal is audited (outcome failure, the controls named)
// and returned as a *mode.Refusal. A mode that cannot be read refuses the change (fail closed).
func (s *Service) guard(ctx context.Context, by Actor, area string, rule func(mode.Mode) error) error {
	if s.Compliance == nil {
		return nil
	}
	m, err := s.Compliance.Mode(ctx, by.TenantID)
	if err != nil {
		return fmt.Errorf("read the compliance mode: %w", err)
	}
	err = rule(m)
	var ref *mode.Refusal
	if !errors.As(err, &ref) {
		return err
	}
	e := by.event(by.TenantID, ActionComplianceRefused, Failure)
	e.Target = Target{Kind: "security_policy", ID: area}
	e.Details = map[string]string{"setting": string(ref.Setting), "controls": strings.Join(ref.Controls, ", "), "mode": m.String()}
	if aerr := record(ctx, s.Auditor, nil, e); aerr != nil {
		return aerr
	}
	return err
}

// changed tells the drift monitor that a setting of the organisation changed.
func (s *Service) changed(tenantID string) {
	if s.Compliance != nil {
		s.Compliance.Changed(tenantID)
	}
}

// mfaPeople returns the organisation's console users with the enforcement policy m gives them,
// as the MFA check reads them.
func (s *Service) mfaPeople(ctx context.Context, tenantID string, m MFAPolicy) ([]evidence.Person, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	users, err := s.Users(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]evidence.Person, 0, len(users))
	for _, u := range users {
		out = append(out, evidence.Person{ID: u.ID, Name: u.DisplayName, Email: u.Email, Roles: u.Roles, Status: string(u.Status),
			MFAEnabled: u.MFAEnabled, MFAEnforced: m.EnforcedFor(u.Roles)})
	}
	return out, nil
}
