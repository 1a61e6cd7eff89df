package account_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/policy/password"
	"github.com/parleyhq/parley/policy/signin"
)

func TestSettingsRoundTrip(t *testing.T) {
	for _, p := range []password.Policy{password.PCIDSS4(), password.NIST80063B()} {
		t.Run(string(p.Profile), func(t *testing.T) {
			if got := account.PasswordSettingsFrom(p).Policy(); got != p {
				t.Errorf("password policy round trip = %+v, want %+v", got, p)
			}
		})
	}
	if got := account.SignInSettingsFrom(signin.DefaultPolicy()).Policy(); got != signin.DefaultPolicy() {
		t.Errorf("sign-in policy round trip = %+v", got)
	}
	if got := account.SessionSettingsFrom(signin.DefaultSessionPolicy()).Policy(); got != signin.DefaultSessionPolicy() {
		t.Errorf("session policy round trip = %+v", got)
	}
	d := account.DefaultSettings()
	if d.Password.Profile != password.ProfilePCIDSS4 || d.SignIn.LockoutThreshold != 10 || d.Session.IdleTimeout.Minutes() != 15 ||
		d.Session.AbsoluteTimeout.Hours() != 12 || d.Session.InactiveAfter.Hours() != 90*24 || d.MFA.Required {
		t.Errorf("defaults = %+v", d)
	}
}

func TestMFAPolicy(t *testing.T) {
	tests := []struct {
		name  string
		p     account.MFAPolicy
		roles []string
		want  bool
	}{
		{"nobody", account.MFAPolicy{GraceSignIns: 3}, []string{"owner"}, false},
		{"everyone", account.MFAPolicy{Required: true, GraceSignIns: 3}, nil, true},
		{"role held", account.MFAPolicy{RequiredRoles: []string{"admin", "owner"}, GraceSignIns: 3}, []string{"agent", "owner"}, true},
		{"role not held", account.MFAPolicy{RequiredRoles: []string{"admin"}, GraceSignIns: 3}, []string{"agent"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.EnforcedFor(tt.roles); got != tt.want {
				t.Errorf("EnforcedFor(%v) = %v, want %v", tt.roles, got, tt.want)
			}
			if err := tt.p.Validate(); err != nil {
				t.Errorf("Validate = %v", err)
			}
		})
	}
	for _, bad := range []account.MFAPolicy{{GraceSignIns: 0}, {GraceSignIns: 11}, {GraceSignIns: 1, RequiredRoles: []string{""}}} {
		if err := bad.Validate(); !errors.Is(err, account.ErrInvalidSettings) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidSettings", bad, err)
		}
	}
}

// FuzzPasswordSettings: any stored document either fails to decode or validate, or is a policy
// that survives a round trip through its stored form.
func FuzzPasswordSettings(f *testing.F) {
	for _, p := range []password.Policy{password.PCIDSS4(), password.NIST80063B()} {
		b, _ := json.Marshal(account.PasswordSettingsFrom(p))
		f.Add(b)
	}
	f.Add([]byte(`{"profile":"custom","min_length":8,"expiry_days":-1}`))
	f.Add([]byte(`{"profile":"custom","min_length":9223372036854775807}`))
	common := password.NewBlocklist()
	f.Fuzz(func(t *testing.T, doc []byte) {
		var ps account.PasswordSettings
		if json.Unmarshal(doc, &ps) != nil {
			return
		}
		if ps.ExpiryDays < 0 || ps.ExpiryDays > 3650 || ps.MinAgeDays < 0 || ps.MinAgeDays > 3650 {
			return // the API refuses these before they reach storage
		}
		p := ps.Policy()
		if p.Validate() != nil {
			return
		}
		if got := account.PasswordSettingsFrom(p); got != ps {
			t.Fatalf("round trip %+v -> %+v", ps, got)
		}
		if _, err := password.NewEvaluator(p, common); err != nil {
			t.Fatalf("valid policy without an evaluator: %v", err)
		}
	})
}
