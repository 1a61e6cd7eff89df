package app

import (
	"context"
	"time"

	"github.com/parleyhq/parley/app/integrity"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/forward"
	"github.com/parleyhq/parley/compliance/evidence"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// newAuditorConsole assembles what the auditor's console runs besides the pages of other
// modules: the background verifications of the Integrity page and the evidence report runner.
func (a *App) newAuditorConsole(opts Options) {
	a.Integrity = &integrity.Service{Chain: a.Audit, DB: a.DB.Gorm, Now: opts.Now, Rand: opts.Rand, Node: a.Config.NodeID, Log: opts.Log,
		KeyVersions: a.auditKeyVersions, Destinations: AuditForwardDestinations(a.Config), Alerts: a.Alerts.Active,
		Health: func() []forward.SinkStatus {
			if f := a.auditForwarder.Load(); f != nil {
				return f.Status()
			}
			return nil
		}}
	a.EvidenceJobs = &evidence.Runner{Store: &evidence.Store{DB: a.DB.Gorm}, Generator: a.Evidence, Audit: a.Audit, Now: opts.Now,
		Node: a.Config.NodeID, Log: opts.Log,
		Organisation: func(ctx context.Context, tenantID string) (string, error) {
			t, err := a.Tenants.ByID(migrations.WithTenant(ctx, tenantID), tenantID)
			return t.Name, err
		},
		Requester: func(ctx context.Context, tenantID, userID string) string {
			u, err := a.Users.ByID(migrations.WithTenant(ctx, tenantID), tenantID, userID)
			if err != nil {
				return ""
			}
			return u.Email
		}}
}

// auditKeyVersions maps the audit signing key's ids to their versions: every version of the
// Vault transit signing key, or version 1 of the local key file.
func (a *App) auditKeyVersions(ctx context.Context) map[string]int {
	out := map[string]int{}
	s := a.Audit.Signer()
	if sk, ok := a.Keys.(vault.SigningKeys); ok && a.Config.Vault.Enabled() {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if all, err := sk.PublicKeys(ctx, AuditSigningKey); err == nil {
			for v, pub := range all {
				out[audit.KeyIDFor(pub)] = v
			}
			return out
		}
	}
	if s != nil {
		out[s.KeyID()] = 1
	}
	return out
}
