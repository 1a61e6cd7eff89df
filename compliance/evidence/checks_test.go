package evidence

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/policy/password"
	"github.com/parleyhq/parley/policy/rbac"
	"github.com/parleyhq/parley/policy/signin"
)

// values are Sources over plain values: the configuration a check is run against.
type values struct {
	policies AccountPolicies
	people   []Person
	review   rbac.ReviewStatus
	key      KeyStatus
	chain    ChainStatus
	scan     ScanStatus
	sites    []Site
	mode     string
	periods  []RetentionPeriod
	err      error
}

func (v *values) Policies(context.Context, string) (AccountPolicies, error) { return v.policies, v.err }
func (v *values) People(context.Context, string) ([]Person, error)          { return v.people, v.err }
func (v *values) ReviewStatus(context.Context, string) (rbac.ReviewStatus, error) {
	return v.review, v.err
}
func (v *values) KeyStatus(context.Context, string) (KeyStatus, error)     { return v.key, v.err }
func (v *values) VerifyChain(context.Context, string) (ChainStatus, error) { return v.chain, v.err }
func (v *values) LastScan(context.Context) (ScanStatus, error)             { return v.scan, v.err }
func (v *values) Sites(context.Context, string) ([]Site, error)            { return v.sites, v.err }
func (v *values) MaskMode(context.Context, string) (string, error)         { return v.mode, v.err }
func (v *values) RetentionPeriods(context.Context, string) ([]RetentionPeriod, error) {
	return v.periods, v.err
}

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// compliant returns an installation and organisation that pass every check.
func compliant() (Platform, *values) {
	synced := true
	last := testNow.AddDate(0, -2, 0)
	p := Platform{TLS: true, TLSMinVersion: "TLS 1.2", CertNotAfter: testNow.AddDate(1, 0, 0), PublicURL: "https://chat.example.test",
		KeyProvider: "vault", KeyProviderProduction: true, AuditRetention: days(400), AuditForwarding: []string{"syslog:logs.example.test:6514"},
		SecureForm: true, ClockSynchronized: &synced, TimeZone: "UTC"}
	v := &values{
		policies: AccountPolicies{Password: password.PCIDSS4(), SignIn: signin.DefaultPolicy(), Session: signin.DefaultSessionPolicy()},
		people: []Person{
			{ID: "u1", Name: "Olive Owner", Email: "olive@example.test", Roles: []string{"owner"}, Status: "active", MFAEnabled: true, MFAEnforced: true, LastActive: testNow.Add(-time.Hour)},
			{ID: "u2", Email: "gone@example.test", Status: "disabled", LastActive: testNow.AddDate(-1, 0, 0)},
		},
		review:  rbac.ReviewStatus{LastSignedOff: &last},
		key:     KeyStatus{Provider: "vault", LatestVersion: 3, MinDecryptionVersion: 2, LastRotation: testNow.AddDate(0, -3, 0)},
		chain:   ChainStatus{Intact: true, Events: 42, FromSeq: 1, ToSeq: 42, Checkpoints: 2},
		scan:    ScanStatus{Found: true, FinishedAt: testNow.AddDate(0, 0, -7), Outcome: "clean", Locations: 30},
		sites:   []Site{{ID: "s1", Name: "Support"}},
		mode:    "last4",
		periods: []RetentionPeriod{{Kind: "conversations", Days: 365}, {Kind: "visitors", Days: 30, Default: true}},
	}
	return p, v
}

func TestChecks(t *testing.T) {
	tests := []struct {
		check  string
		breaks func(p *Platform, v *values)
		want   string // text the failing evidence or details must hold
	}{
		{CheckPasswordPolicy, func(_ *Platform, v *values) { v.policies.Password.MinLength = 8 }, "below 12"},
		{CheckPasswordPolicy, func(_ *Platform, v *values) { v.policies.Password.HistoryDepth = 1 }, "8.3.7"},
		{CheckPasswordPolicy, func(_ *Platform, v *values) {
			v.policies.Password = password.NIST80063B()
			v.policies.Password.MinLength = 10
		}, "below 15"},
		{CheckLockout, func(_ *Platform, v *values) { v.policies.SignIn.LockoutThreshold = 11 }, "between 1 and 10"},
		{CheckLockout, func(_ *Platform, v *values) { v.policies.SignIn.LockoutDuration = 10 * time.Minute }, "shorter than 30m"},
		{CheckIdleTimeout, func(_ *Platform, v *values) { v.policies.Session.IdleTimeout = time.Hour }, "at most 15m"},
		{CheckMFA, func(_ *Platform, v *values) { v.people[0].MFAEnabled = false }, "Olive Owner <olive@example.test>: MFA required but not enrolled"},
		{CheckMFA, func(_ *Platform, v *values) {
			v.people = append(v.people, Person{Email: "agent@example.test", Status: "active"})
		}, "agent@example.test: MFA not required"},
		{CheckInactiveAccounts, func(_ *Platform, v *values) { v.people[0].LastActive = testNow.AddDate(0, -4, 0) }, "last active 2026-02-01"},
		{CheckInactiveAccounts, func(_ *Platform, v *values) { v.policies.Session.InactiveAfter = 0 }, "not disabled automatically"},
		{CheckAccessReview, func(_ *Platform, v *values) { v.review.LastSignedOff = nil }, "no access review"},
		{CheckAccessReview, func(_ *Platform, v *values) {
			old := testNow.AddDate(0, -7, 0)
			v.review.LastSignedOff = &old
		}, "more than six months"},
		{CheckTLS, func(p *Platform, _ *values) { p.TLS = false }, "plain HTTP"},
		{CheckTLS, func(p *Platform, _ *values) { p.CertNotAfter = testNow.Add(-time.Hour) }, "expired"},
		{CheckKeyProvider, func(p *Platform, _ *values) { p.KeyProvider, p.KeyProviderProduction = "local", false }, `"local"`},
		{CheckKeyRotation, func(_ *Platform, v *values) { v.key.LastRotation = testNow.AddDate(-2, 0, 0) }, "cryptoperiod"},
		{CheckAuditChain, func(_ *Platform, v *values) { v.chain = ChainStatus{Damage: "hash mismatch at seq 7"} }, "DAMAGED"},
		{CheckAuditChain, func(_ *Platform, v *values) { v.chain.Checkpoints = 0 }, "no signed checkpoint"},
		{CheckAuditRetention, func(p *Platform, _ *values) { p.AuditRetention = days(90) }, "shorter than 12 months"},
		{CheckAuditRetention, func(p *Platform, _ *values) { p.AuditForwarding = nil }, "not forwarded"},
		{CheckPANScan, func(_ *Platform, v *values) { v.scan = ScanStatus{} }, "no PAN discovery scan"},
		{CheckPANScan, func(_ *Platform, v *values) { v.scan.Findings, v.scan.Outcome = 2, "found" }, "card numbers were found"},
		{CheckPANScan, func(_ *Platform, v *values) { v.scan.FinishedAt = testNow.AddDate(-1, 0, 0) }, "more than 90 days"},
		{CheckTranscriptEmail, func(_ *Platform, v *values) { v.sites = append(v.sites, Site{Name: "Sales", TranscriptEmail: true}) }, "Sales"},
		{CheckRetention, func(_ *Platform, v *values) { v.periods = nil }, "no retention periods"},
		{CheckRetention, func(_ *Platform, v *values) { v.periods[0].Days = 0 }, "kept until deleted"},
		{CheckCardMasking, func(p *Platform, _ *values) { p.SecureForm = false }, "secure card form is not available"},
		{CheckCardMasking, func(_ *Platform, v *values) { v.mode = "none" }, "not a PCI DSS 3.4.1 mode"},
		{CheckTimeSource, func(p *Platform, _ *values) { f := false; p.ClockSynchronized = &f }, "unsynchronised"},
		{CheckTimeSource, func(p *Platform, _ *values) { p.TimeZone = "Europe/London" }, "not UTC"},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.check] = true
		t.Run(tt.check+"/"+tt.want, func(t *testing.T) {
			c, ok := CheckByID(tt.check)
			if !ok {
				t.Fatalf("no check %q", tt.check)
			}
			p, v := compliant()
			in := Input{Tenant: "t1", Now: testNow, Sources: Sources{Platform: p, Accounts: v, Reviews: v, Keys: v, Audit: v, Scans: v, Sites: v, Retention: v}}
			if r := c.Run(context.Background(), in); r.Status != Pass {
				t.Fatalf("compliant configuration: %+v", r)
			}
			tt.breaks(&in.Platform, v)
			r := c.Run(context.Background(), in)
			text := r.Evidence + " | " + strings.Join(r.Details, " | ")
			if r.Status != Fail || !strings.Contains(text, tt.want) {
				t.Fatalf("broken configuration: %s %q; want fail containing %q", r.Status, text, tt.want)
			}
		})
	}
	for _, c := range Checks() {
		if !covered[c.ID] {
			t.Errorf("check %s has no failing configuration in this table", c.ID)
		}
	}
}

func TestCheckSourceErrorFails(t *testing.T) {
	p, v := compliant()
	v.err = errors.New("database is down")
	in := Input{Tenant: "t1", Now: testNow, Sources: Sources{Platform: p, Accounts: v, Reviews: v, Keys: v, Audit: v, Scans: v, Sites: v, Retention: v}}
	for _, c := range Checks() {
		r := c.Run(context.Background(), in)
		if r.Status == Pass && strings.Contains(r.Evidence, "could not read") {
			t.Errorf("%s passed on a source error", c.ID)
		}
	}
}

func TestTimeSourceUnknownIsManual(t *testing.T) {
	p, v := compliant()
	p.ClockSynchronized = nil
	in := Input{Now: testNow, Sources: Sources{Platform: p, Accounts: v}}
	if r := checkTimeSource(context.Background(), in); r.Status != Manual {
		t.Fatalf("unknown clock state: %+v", r)
	}
}

func TestCatalogue(t *testing.T) {
	for _, f := range []Framework{PCI, HIPAA} {
		cs := Catalogue(f)
		if len(cs) < 10 {
			t.Fatalf("%s: %d controls", f, len(cs))
		}
		seen := map[string]bool{}
		for _, c := range cs {
			if seen[c.ID] || c.Title == "" || c.Parley == "" || len(c.Checks)+len(c.Manual) == 0 {
				t.Errorf("%s %s: duplicate or incomplete", f, c.ID)
			}
			seen[c.ID] = true
			for _, id := range c.Checks {
				if _, ok := CheckByID(id); !ok {
					t.Errorf("%s %s: unknown check %q", f, c.ID, id)
				}
			}
		}
	}
	// Every check supports at least one control of each framework or the other.
	for _, c := range Checks() {
		if !slices.ContainsFunc(catalogue, func(ctl Control) bool { return slices.Contains(ctl.Checks, c.ID) }) {
			t.Errorf("check %s supports no control", c.ID)
		}
	}
}
