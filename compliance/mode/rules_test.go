package mode

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/compliance/evidence"
	"github.com/parleyhq/parley/policy/password"
	"github.com/parleyhq/parley/policy/signin"
)

var (
	pci   = Mode{PCI: true}
	hipaa = Mode{HIPAA: true}
	both  = Mode{PCI: true, HIPAA: true}
)

func compliantValue() Value {
	return Value{
		Password: password.PCIDSS4(), SignIn: signin.DefaultPolicy(), Session: signin.DefaultSessionPolicy(),
		People: []evidence.Person{{ID: "u1", Email: "olive@example.test", Status: "active", Roles: []string{"owner"}, MFAEnforced: true, MFAEnabled: true},
			{ID: "u2", Email: "gone@example.test", Status: "disabled"}},
		Sites:    []evidence.Site{{Name: "Support"}},
		Platform: evidence.Platform{KeyProvider: "vault", KeyProviderProduction: true, AuditRetention: 400 * 24 * time.Hour},
	}
}

// TestRules: each rule refuses a value beyond its control's threshold under each mode, naming
// the controls of that mode's frameworks; a value within the threshold passes whatever it was
// before (a tightened-but-compliant change), and no mode refuses anything.
func TestRules(t *testing.T) {
	tests := []struct {
		name    string
		setting Setting
		breaks  func(v *Value)
		// want are the controls named under pci, hipaa and both.
		pci, hipaa []string
	}{
		{"password minimum 8", SettingPassword, func(v *Value) { v.Password.MinLength = 8 }, []string{"PCI DSS 8.3.6-8.3.7"}, []string{"HIPAA 164.312(d)", "HIPAA 164.308(a)(5)(ii)(D)"}},
		{"password history 3", SettingPassword, func(v *Value) { v.Password.HistoryDepth = 3 }, []string{"PCI DSS 8.3.6-8.3.7"}, []string{"HIPAA 164.312(d)", "HIPAA 164.308(a)(5)(ii)(D)"}},
		{"password letters only", SettingPassword, func(v *Value) { v.Password.RequireLetterAndDigit, v.Password.RequireDigit = false, false }, []string{"PCI DSS 8.3.6-8.3.7"}, []string{"HIPAA 164.312(d)", "HIPAA 164.308(a)(5)(ii)(D)"}},
		{"NIST profile, 12 characters", SettingPassword, func(v *Value) { v.Password = password.NIST80063B(); v.Password.MinLength = 12 }, []string{"PCI DSS 8.3.6-8.3.7"}, []string{"HIPAA 164.312(d)", "HIPAA 164.308(a)(5)(ii)(D)"}},
		{"lockout after 11", SettingLockout, func(v *Value) { v.SignIn.LockoutThreshold = 11 }, []string{"PCI DSS 8.3.4"}, []string{"HIPAA 164.312(d)", "HIPAA 164.308(a)(5)(ii)(C)"}},
		{"lockout 29 minutes", SettingLockout, func(v *Value) { v.SignIn.LockoutDuration = 29 * time.Minute }, []string{"PCI DSS 8.3.4"}, []string{"HIPAA 164.312(d)", "HIPAA 164.308(a)(5)(ii)(C)"}},
		{"idle 16 minutes", SettingIdleTimeout, func(v *Value) { v.Session.IdleTimeout = 16 * time.Minute }, []string{"PCI DSS 8.2.8"}, []string{"HIPAA 164.312(a)(2)(iii)"}},
		{"never disable unused accounts", SettingInactivity, func(v *Value) { v.Session.InactiveAfter = 0 }, []string{"PCI DSS 8.2.6"}, []string{"HIPAA 164.312(a)(2)(i)"}},
		{"disable after 91 days", SettingInactivity, func(v *Value) { v.Session.InactiveAfter = 91 * 24 * time.Hour }, []string{"PCI DSS 8.2.6"}, []string{"HIPAA 164.312(a)(2)(i)"}},
		{"owner exempt from MFA", SettingMFA, func(v *Value) { v.People[0].MFAEnforced = false }, []string{"PCI DSS 8.4.1-8.4.3"}, []string{"HIPAA 164.312(d)"}},
		{"transcript e-mail on", SettingTranscriptEmail, func(v *Value) { v.Sites[0].TranscriptEmail = true }, []string{"PCI DSS 4.2.2"}, []string{"HIPAA 164.312(e)(1)-(e)(2)"}},
		{"development key provider", SettingKeyProvider, func(v *Value) { v.Platform.KeyProvider, v.Platform.KeyProviderProduction = "local-dev", false }, []string{"PCI DSS 3.5.1"}, []string{"HIPAA 164.312(a)(2)(iv)", "HIPAA 164.312(c)(1)-(c)(2)"}},
		{"audit kept 300 days", SettingAuditRetention, func(v *Value) { v.Platform.AuditRetention = 300 * 24 * time.Hour }, []string{"PCI DSS 10.3.1-10.3.4", "PCI DSS 10.5.1"}, []string{"HIPAA 164.312(b)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := pci.Evaluate(tc.setting, compliantValue()); err != nil {
				t.Fatalf("a compliant value is refused: %v", err)
			}
			v := compliantValue()
			tc.breaks(&v)
			for _, c := range []struct {
				m    Mode
				want []string
			}{{pci, tc.pci}, {hipaa, tc.hipaa}, {both, append(slices.Clone(tc.pci), tc.hipaa...)}} {
				err := c.m.Evaluate(tc.setting, v)
				var ref *Refusal
				if !errors.As(err, &ref) || !errors.Is(err, ErrRefused) {
					t.Fatalf("under %s: got %v, want a refusal", c.m, err)
				}
				if !slices.Equal(ref.Controls, c.want) || ref.Setting != tc.setting || len(ref.Problems) == 0 {
					t.Errorf("under %s: got %v %v, want %v", c.m, ref.Controls, ref.Problems, c.want)
				}
				code, msg, _, details := ref.Refusal()
				d, _ := details.(RefusalDetails)
				if code != RefusalCode || d.Control != c.want[0] || !containsAll(msg, c.want) {
					t.Errorf("under %s: code %s, message %q, details %+v", c.m, code, msg, d)
				}
			}
			if err := (Mode{}).Evaluate(tc.setting, v); err != nil {
				t.Errorf("no mode refuses nothing; got %v", err)
			}
		})
	}
}

func containsAll(s string, subs []string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

// TestTightenedButCompliant: changes judged against the threshold, not the previous value — a
// stricter policy passes, and so does a looser one still within the control.
func TestTightenedButCompliant(t *testing.T) {
	for name, f := range map[string]func(v *Value) Setting{
		"minimum 20":                 func(v *Value) Setting { v.Password.MinLength = 20; return SettingPassword },
		"minimum back to 12 from 20": func(v *Value) Setting { v.Password.MinLength = 12; return SettingPassword },
		"NIST profile with 15":       func(v *Value) Setting { v.Password = password.NIST80063B(); return SettingPassword },
		"lockout after 3 for 2 hours": func(v *Value) Setting {
			v.SignIn.LockoutThreshold, v.SignIn.LockoutDuration = 3, 2*time.Hour
			return SettingLockout
		},
		"lockout after 10 for 30 min": func(v *Value) Setting {
			v.SignIn.LockoutThreshold, v.SignIn.LockoutDuration = 10, 30*time.Minute
			return SettingLockout
		},
		"idle 5 minutes":               func(v *Value) Setting { v.Session.IdleTimeout = 5 * time.Minute; return SettingIdleTimeout },
		"idle exactly 15 minutes":      func(v *Value) Setting { v.Session.IdleTimeout = 15 * time.Minute; return SettingIdleTimeout },
		"disabled after 30 days":       func(v *Value) Setting { v.Session.InactiveAfter = 30 * 24 * time.Hour; return SettingInactivity },
		"disabled user exempt of MFA":  func(v *Value) Setting { v.People[1].MFAEnforced = false; return SettingMFA },
		"transcript e-mail off":        func(v *Value) Setting { v.Sites[0].TranscriptEmail = false; return SettingTranscriptEmail },
		"audit kept exactly 365 days":  func(v *Value) Setting { v.Platform.AuditRetention = 365 * 24 * time.Hour; return SettingAuditRetention },
		"no forwarding is drift, only": func(v *Value) Setting { v.Platform.AuditForwarding = nil; return SettingAuditRetention },
	} {
		t.Run(name, func(t *testing.T) {
			v := compliantValue()
			s := f(&v)
			if err := both.Evaluate(s, v); err != nil {
				t.Errorf("refused: %v", err)
			}
		})
	}
}

// TestRulesAgreeWithChecks: for every organisation rule, the evidence check over the same value
// fails exactly when the rule refuses it, so a refusal and the evidence report never disagree.
func TestRulesAgreeWithChecks(t *testing.T) {
	breaks := map[Setting][]func(v *Value){
		SettingPassword:        {func(v *Value) {}, func(v *Value) { v.Password.MinLength = 9 }, func(v *Value) { v.Password.HistoryDepth = 0 }},
		SettingLockout:         {func(v *Value) {}, func(v *Value) { v.SignIn.LockoutThreshold = 12 }},
		SettingIdleTimeout:     {func(v *Value) {}, func(v *Value) { v.Session.IdleTimeout = time.Hour }},
		SettingTranscriptEmail: {func(v *Value) {}, func(v *Value) { v.Sites[0].TranscriptEmail = true }},
		SettingKeyProvider:     {func(v *Value) {}, func(v *Value) { v.Platform.KeyProviderProduction = false }},
	}
	for _, r := range Rules() {
		fs, ok := breaks[r.Setting]
		if !ok {
			continue
		}
		check, ok := evidence.CheckByID(r.Check)
		if !ok {
			t.Fatalf("rule %s names unknown check %s", r.Setting, r.Check)
		}
		for i, f := range fs {
			v := compliantValue()
			f(&v)
			src := &valueSources{v: v}
			res := check.Run(context.Background(), evidence.Input{Tenant: "t", Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), Sources: evidence.Sources{
				Platform: v.Platform, Accounts: src, Sites: src}})
			refused := pci.Evaluate(r.Setting, v) != nil
			if refused != (res.Status == evidence.Fail) {
				t.Errorf("%s case %d: refused %t, check %s (%s)", r.Setting, i, refused, res.Status, res.Evidence)
			}
		}
	}
}

// TestEveryRuleHasControls: each rule's check supports at least one control of each framework,
// and names a field or a whole policy.
func TestEveryRuleHasControls(t *testing.T) {
	for _, r := range Rules() {
		for _, m := range []Mode{pci, hipaa} {
			if len(m.Controls(r.Check)) == 0 {
				t.Errorf("%s: no %s control uses check %s", r.Setting, m, r.Check)
			}
		}
		if fix, _ := Fix(r.Check); fix == "" {
			t.Errorf("%s: no fix for check %s", r.Setting, r.Check)
		}
	}
	for _, c := range evidence.Checks() {
		if fix, _ := Fix(c.ID); fix == "" {
			t.Errorf("check %s has no fix text", c.ID)
		}
	}
}

// valueSources serves a Value to the evidence checks.
type valueSources struct{ v Value }

func (s *valueSources) Policies(context.Context, string) (evidence.AccountPolicies, error) {
	return evidence.AccountPolicies{Password: s.v.Password, SignIn: s.v.SignIn, Session: s.v.Session}, nil
}
func (s *valueSources) People(context.Context, string) ([]evidence.Person, error) {
	return s.v.People, nil
}
func (s *valueSources) Sites(context.Context, string) ([]evidence.Site, error) { return s.v.Sites, nil }
func (s *valueSources) MaskMode(context.Context, string) (string, error)       { return "last4", nil }
