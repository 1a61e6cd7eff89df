package evidence

import (
	"context"
	"time"

	"github.com/parleyhq/parley/policy/password"
	"github.com/parleyhq/parley/policy/rbac"
	"github.com/parleyhq/parley/policy/signin"
)

// Sample returns the report of a demo organisation, Northwind Health & Finance, for the
// framework: a realistic mix of passing, failing and manual controls on fixed data and a fixed
// clock, so the rendered sample (`make evidence-sample`, docs/evidence/) is the same every time.
func Sample(f Framework) Report {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	synced := true
	review := now.AddDate(0, -2, -10)
	d := demo{now: now, review: review}
	in := Input{Tenant: "0193e5c0-7a51-7c3e-9d6f-3b0c1a2b4c5d", Now: now, Sources: Sources{
		Platform: Platform{TLS: true, TLSMinVersion: "TLS 1.2", CertNotAfter: now.AddDate(0, 5, 0), PublicURL: "https://chat.northwind.example",
			KeyProvider: "vault", KeyProviderProduction: true, AuditRetention: 400 * 24 * time.Hour,
			AuditForwarding: []string{"syslog:siem.northwind.example:6514"}, SecureForm: true, ClockSynchronized: &synced, TimeZone: "UTC"},
		Accounts: d, Reviews: d, Keys: d, Audit: d, Scans: d, Sites: d, Retention: d,
	}}
	return Evaluate(context.Background(), in, Period{Tenant: in.Tenant, Organisation: "Northwind Health & Finance", Framework: f,
		From: now.AddDate(-1, 0, 0), To: now, By: "ada.auditor@northwind.example"}, 18342)
}

// demo is the sample organisation's data.
type demo struct{ now, review time.Time }

func (d demo) Policies(context.Context, string) (AccountPolicies, error) {
	return AccountPolicies{Password: password.PCIDSS4(), SignIn: signin.DefaultPolicy(), Session: signin.DefaultSessionPolicy()}, nil
}

func (d demo) People(context.Context, string) ([]Person, error) {
	return []Person{
		{ID: "u1", Name: "Olivia Owner", Email: "olivia@northwind.example", Roles: []string{"owner"}, Status: "active", MFAEnabled: true, MFAEnforced: true, LastActive: d.now.Add(-2 * time.Hour)},
		{ID: "u2", Name: "Ada Auditor", Email: "ada.auditor@northwind.example", Roles: []string{"auditor"}, Status: "active", MFAEnabled: true, MFAEnforced: true, LastActive: d.now},
		{ID: "u3", Name: "Sam Supervisor", Email: "sam@northwind.example", Roles: []string{"supervisor"}, Status: "active", MFAEnabled: true, MFAEnforced: true, LastActive: d.now.AddDate(0, 0, -1)},
		{ID: "u4", Name: "Alex Agent", Email: "alex@northwind.example", Roles: []string{"agent"}, Status: "active", MFAEnabled: false, MFAEnforced: true, LastActive: d.now.AddDate(0, 0, -3)},
		{ID: "u5", Name: "Former Agent", Email: "former@northwind.example", Roles: []string{"agent"}, Status: "disabled", LastActive: d.now.AddDate(-1, 0, 0)},
	}, nil
}

func (d demo) ReviewStatus(context.Context, string) (rbac.ReviewStatus, error) {
	return rbac.ReviewStatusAt(&d.review, d.now), nil
}

func (d demo) KeyStatus(context.Context, string) (KeyStatus, error) {
	return KeyStatus{Provider: "vault", LatestVersion: 4, MinDecryptionVersion: 3, LastRotation: d.now.AddDate(0, -4, 0)}, nil
}

func (d demo) VerifyChain(context.Context, string) (ChainStatus, error) {
	return ChainStatus{Intact: true, Events: 52817, FromSeq: 1, ToSeq: 52817, Checkpoints: 211}, nil
}

func (d demo) LastScan(context.Context) (ScanStatus, error) {
	return ScanStatus{Found: true, FinishedAt: d.now.AddDate(0, 0, -6), Outcome: "clean", Locations: 64}, nil
}

func (d demo) Sites(context.Context, string) ([]Site, error) {
	return []Site{{ID: "s1", Name: "Patient portal"}, {ID: "s2", Name: "Card services", TranscriptEmail: true}}, nil
}

func (d demo) MaskMode(context.Context, string) (string, error) { return "last4", nil }

func (d demo) RetentionPeriods(context.Context, string) ([]RetentionPeriod, error) {
	return []RetentionPeriod{{Kind: "transcripts", Days: 2555, Default: true}, {Kind: "files", Days: 365, Default: true},
		{Kind: "offline", Days: 365, Default: true}, {Kind: "visitors", Days: 30}}, nil
}
