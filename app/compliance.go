package app

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/compliance/evidence"
	"github.com/parleyhq/parley/compliance/mode"
)

// DriftEvery is how often every organisation's compliance drift is computed again.
const DriftEvery = time.Minute

// newCompliance builds the compliance mode's store and drift monitor. The drift leaves out the
// audit chain check: the background verifier watches the chain and raises its own alerts, and the
// check would sign a checkpoint every time it ran.
func (a *App) newCompliance() {
	a.ComplianceDrift = &mode.Monitor{Input: a.driftInput, Skip: []string{evidence.CheckAuditChain}, Now: a.Now, Log: a.Log}
	a.ComplianceModes = &mode.Store{DB: a.DB.Gorm, Audit: a.Audit, Now: a.Now, Changed: a.ComplianceDrift.Changed}
	a.ComplianceDrift.Modes = a.ComplianceModes
}

// driftInput is an organisation's evidence input now: the evidence report's sources.
func (a *App) driftInput(tenantID string) evidence.Input {
	g := a.Evidence()
	return evidence.Input{Tenant: tenantID, Now: a.Now(), Sources: g.Sources}
}

// complianceModes is what the account and chat services read of the compliance mode.
type complianceModes struct{ a *App }

func (c complianceModes) Mode(ctx context.Context, tenantID string) (mode.Mode, error) {
	st, err := c.a.ComplianceModes.Get(ctx, tenantID)
	return st.Mode, err
}

func (c complianceModes) Changed(tenantID string) { c.a.ComplianceDrift.Changed(tenantID) }

// CheckCompliance refuses to serve an installation whose configuration breaks a control of an
// organisation's compliance mode: the development key provider (PCI DSS 3.5.1, HIPAA
// 164.312(a)(2)(iv)) or audit retention under 12 months (PCI DSS 10.5.1). `parley serve` calls
// it before listening (fail closed); the error names the organisation and the controls.
func (a *App) CheckCompliance(ctx context.Context) error {
	modes, err := a.ComplianceModes.InMode(ctx)
	if err != nil {
		return fmt.Errorf("read the compliance modes: %w", err)
	}
	p := a.evidencePlatform()
	for id, m := range modes {
		if err := m.Installation(p); err != nil {
			name := id
			if t, terr := a.Tenants.ByID(ctx, id); terr == nil {
				name = t.Slug
			}
			return fmt.Errorf("organisation %q is in %s compliance mode: %w (configure Vault and keep PARLEY_AUDIT_RETENTION_DAYS at 365 or more, or turn the mode off with `parley compliance-mode set --tenant %s --mode none --reason TEXT`)",
				name, m.String(), err, name)
		}
	}
	return nil
}

// driftCheck is the compliance_drift entry of /readyz: the drifting checks counted across
// organisations. Drift is an alert, not an outage: the node stays ready (the controls that
// still hold keep working), and the count shows in the details and in /metrics.
func driftCheck(m *mode.Monitor) func(ctx context.Context) (map[string]any, error) {
	return func(context.Context) (map[string]any, error) {
		t := m.Totals()
		d := map[string]any{"organisations_in_mode": t.Organisations, "organisations_drifting": t.Drifting, "drifting_checks": t.Checks}
		if !t.ComputedAt.IsZero() {
			d["computed_at"] = t.ComputedAt.Format(time.RFC3339)
		}
		if t.Checks > 0 {
			d["alert"] = "compliance_drift"
		}
		return d, nil
	}
}
