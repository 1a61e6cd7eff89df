package app

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/auditlog"
	"github.com/parleyhq/parley/compliance/evidence"
	"github.com/parleyhq/parley/compliance/scan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/rbac"
)

// Evidence returns the evidence report generator over this application's live configuration
// and data, signing with the audit log's signer.
func (a *App) Evidence() *evidence.Generator {
	src := evidenceSources{a}
	return &evidence.Generator{
		Sources: evidence.Sources{Platform: a.evidencePlatform(), Accounts: src, Reviews: src, Keys: src, Audit: src, Scans: src, Sites: src, Retention: src},
		Signer:  a.Audit.Signer(), ExportAudit: a.Audit.Export, Now: a.Now,
	}
}

// evidencePlatform is the installation's configuration as the evidence checks read it.
func (a *App) evidencePlatform() evidence.Platform {
	cfg := a.Config
	p := evidence.Platform{TLS: cfg.TLS(), PublicURL: cfg.PublicURL, KeyProvider: a.Keys.Kind(), KeyProviderProduction: a.Keys.Production(),
		AuditRetention: a.Audit.Retention(), AuditForwarding: AuditForwardDestinations(cfg), SecureForm: a.CardForms != nil,
		ClockSynchronized: clockSynchronized(), TimeZone: "UTC"}
	if p.TLS {
		p.TLSMinVersion = "TLS 1.2"
		p.CertNotAfter = certNotAfter(cfg.TLSCert)
	}
	for _, pr := range cfg.TrustedProxies {
		p.TrustedProxies = append(p.TrustedProxies, pr.String())
	}
	return p
}

// certNotAfter reads the expiry of the first certificate in a PEM file (zero when unreadable).
func certNotAfter(path string) time.Time {
	raw, err := os.ReadFile(path) // #nosec G304 -- the operator configures the certificate file.
	if err != nil {
		return time.Time{}
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return time.Time{}
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return time.Time{}
	}
	return c.NotAfter.UTC()
}

// evidenceSources reads an organisation's settings and data for the evidence checks.
type evidenceSources struct{ a *App }

func (s evidenceSources) Policies(ctx context.Context, tenantID string) (evidence.AccountPolicies, error) {
	st, err := s.a.Accounts.Settings(ctx, tenantID)
	if err != nil {
		return evidence.AccountPolicies{}, err
	}
	return evidence.AccountPolicies{Password: st.Password, SignIn: st.SignIn, Session: st.Session}, nil
}

func (s evidenceSources) People(ctx context.Context, tenantID string) ([]evidence.Person, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	st, err := s.a.Accounts.Settings(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	users, err := s.a.Accounts.Users(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]evidence.Person, 0, len(users))
	for _, u := range users {
		p := evidence.Person{ID: u.ID, Name: u.DisplayName, Email: u.Email, Roles: u.Roles, Status: string(u.Status),
			MFAEnabled: u.MFAEnabled, MFAEnforced: st.MFA.EnforcedFor(u.Roles)}
		switch {
		case u.LastSignInAt != nil:
			p.LastActive = u.LastSignInAt.UTC()
		default:
			p.LastActive = u.CreatedAt.UTC()
		}
		if u.Status == account.StatusActive && u.LockedUntil != nil && u.LockedUntil.After(s.a.Now()) {
			p.Status = "locked"
		}
		out = append(out, p)
	}
	return out, nil
}

func (s evidenceSources) ReviewStatus(ctx context.Context, tenantID string) (rbac.ReviewStatus, error) {
	return s.a.AccessReviews.Status(ctx, tenantID)
}

func (s evidenceSources) KeyStatus(ctx context.Context, tenantID string) (evidence.KeyStatus, error) {
	r, err := s.a.KeyTools.Status(ctx, tenantID)
	if err != nil {
		return evidence.KeyStatus{}, err
	}
	k := evidence.KeyStatus{Provider: r.Provider, LatestVersion: r.Key.LatestVersion, MinDecryptionVersion: r.Key.MinDecryptionVersion,
		LastRotation: r.Key.LastRotation, NeedRewrap: r.NeedRewrap}
	if len(r.Key.Versions) > 0 {
		k.Created = r.Key.Versions[0].CreatedAt
	}
	return k, nil
}

func (s evidenceSources) VerifyChain(ctx context.Context, tenantID string) (evidence.ChainStatus, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	// The chain is sealed and signed at its head first, so the verification covers every event
	// written so far and ends at a signature made now.
	if _, err := s.a.Audit.Seal(ctx); err != nil {
		return evidence.ChainStatus{}, err
	}
	if _, err := s.a.Audit.Checkpoint(ctx, tenantID); err != nil && !errors.Is(err, auditlog.ErrEmptyChain) {
		return evidence.ChainStatus{}, err
	}
	rep, err := s.a.Audit.Verify(ctx, tenantID, 0)
	if err != nil {
		return evidence.ChainStatus{}, err
	}
	c := evidence.ChainStatus{Intact: rep.OK(), Events: rep.Events, FromSeq: rep.FromSeq, ToSeq: rep.ToSeq, Checkpoints: rep.Checkpoints}
	if rep.Damage != nil {
		c.Damage = rep.Damage.String()
	}
	return c, nil
}

func (s evidenceSources) LastScan(ctx context.Context) (evidence.ScanStatus, error) {
	r, err := (&scan.Store{DB: s.a.DB.Gorm}).Last(ctx)
	if errors.Is(err, scan.ErrNoScan) {
		return evidence.ScanStatus{}, nil
	}
	if err != nil {
		return evidence.ScanStatus{}, err
	}
	return evidence.ScanStatus{Found: true, FinishedAt: r.FinishedAt.UTC(), Outcome: r.Outcome(), Findings: r.Matches(), Locations: len(r.Locations)}, nil
}

func (s evidenceSources) Sites(ctx context.Context, tenantID string) ([]evidence.Site, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	sites, err := s.a.Tenants.Sites(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]evidence.Site, 0, len(sites))
	for _, site := range sites {
		st, err := s.a.Chat.SiteSettings(ctx, site.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, evidence.Site{ID: site.ID, Name: site.Name, TranscriptEmail: st.TranscriptEmail})
	}
	return out, nil
}

func (s evidenceSources) MaskMode(ctx context.Context, tenantID string) (string, error) {
	m, err := s.a.Redaction.MaskMode(ctx, tenantID)
	if err != nil {
		return "", err
	}
	return m.String(), nil
}

func (s evidenceSources) RetentionPeriods(ctx context.Context, tenantID string) ([]evidence.RetentionPeriod, error) {
	ps, err := s.a.Retention.Periods(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]evidence.RetentionPeriod, 0, len(ps))
	for _, p := range ps {
		out = append(out, evidence.RetentionPeriod{Kind: strings.ReplaceAll(string(p.Kind), "_", " "), Days: p.Days, Default: p.IsDefault})
	}
	return out, nil
}

// RunEvidenceSweep deletes, every period until ctx ends, the evidence reports whose six years
// (HIPAA 164.316(b)(2)) have passed, organisation by organisation; nothing younger goes, and no
// other retention setting touches them.
//
// The first sweep runs a minute after start, then one every period, on whichever node holds
// the sweep's lease (evidence.SweepLease), so each organisation gets one sweep, and one
// evidence.expire record, per period.
func (a *App) RunEvidenceSweep(ctx context.Context, every time.Duration) {
	t := time.NewTimer(min(time.Minute, every))
	defer t.Stop()
	store := &evidence.Store{DB: a.DB.Gorm}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := a.Now()
		if ok, err := store.Lease(ctx, evidence.SweepLease, a.Config.NodeID, now, now.Add(every/2)); err != nil {
			a.Log.ErrorContext(ctx, "evidence sweep: lease", "cause", err.Error())
		} else if ok {
			// The lease is kept until it lapses: another node does not sweep again this period.
			if err := a.SweepEvidence(ctx); err != nil && ctx.Err() == nil {
				a.Log.ErrorContext(ctx, "evidence sweep", "cause", err.Error())
			}
		}
		t.Reset(every)
	}
}

// SweepEvidence runs the six-year sweep of evidence reports once: for each organisation, it
// deletes the reports whose retention ended and records evidence.expire with the count (counts
// only, like retention.run), in the same transaction, so a deletion is never unrecorded. A
// failing organisation does not stop the others; the first failure is returned.
func (a *App) SweepEvidence(ctx context.Context) error {
	tenants, err := a.Audit.Tenants(ctx)
	if err != nil {
		return fmt.Errorf("list organisations: %w", err)
	}
	store := &evidence.Store{DB: a.DB.Gorm}
	var first error
	for _, id := range tenants {
		if id == audit.SystemTenant {
			continue
		}
		tctx := migrations.WithTenant(ctx, id)
		now := a.Now()
		var n int64
		err := migrations.Transaction(a.DB.Gorm.WithContext(tctx), func(tx *gorm.DB) error {
			var err error
			if n, err = store.ExpireIn(tctx, tx, id, now); err != nil {
				return err
			}
			return a.Audit.Append(tctx, tx, audit.Event{
				Tenant: id, Actor: audit.Actor{ID: "evidence-retention", Kind: audit.ActorSystem}, Origin: audit.Origin{Node: a.Config.NodeID},
				Action: audit.ActionEvidenceExpire, Target: audit.Target{Kind: "evidence_reports", ID: id}, Outcome: audit.Success,
				Details: map[string]string{"deleted": strconv.FormatInt(n, 10), "retention_years": strconv.Itoa(evidence.RetentionYears),
					"created_before": now.UTC().AddDate(-evidence.RetentionYears, 0, 0).Format(time.RFC3339)},
			})
		})
		if err != nil {
			a.Log.ErrorContext(ctx, "evidence sweep", "tenant", id, "cause", err.Error())
			if first == nil {
				first = err
			}
			continue
		}
		if n > 0 {
			a.Log.InfoContext(ctx, "evidence reports past their six years deleted", "tenant", id, "count", n)
		}
	}
	return first
}
