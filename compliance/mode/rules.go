package mode

import (
	"github.com/parleyhq/parley/compliance/evidence"
	"github.com/parleyhq/parley/policy/password"
	"github.com/parleyhq/parley/policy/signin"
)

// Setting names a setting the compliance mode guards.
type Setting string

// The guarded settings.
const (
	SettingPassword        Setting = "password_policy"
	SettingLockout         Setting = "signin_policy"
	SettingIdleTimeout     Setting = "session_policy.idle_timeout"
	SettingInactivity      Setting = "session_policy.inactive_after"
	SettingMFA             Setting = "mfa_policy"
	SettingTranscriptEmail Setting = "site.transcript_email"
	// The installation's settings: checked when `parley serve` starts (Startup).
	SettingKeyProvider    Setting = "key_provider"
	SettingAuditRetention Setting = "audit_retention"
)

// Value is a proposed setting; each rule reads its own part.
type Value struct {
	Password password.Policy
	SignIn   signin.Policy
	Session  signin.SessionPolicy
	// People are the organisation's console users with the MFA enforcement the proposed MFA
	// policy would give them.
	People []evidence.Person
	// Sites are the sites with their proposed transcript e-mail setting.
	Sites    []evidence.Site
	Platform evidence.Platform
}

// Rule maps a setting to the evidence check that decides it: the check's predicate (Gaps) and,
// through the control catalogue, the controls it supports in each framework.
type Rule struct {
	Setting Setting
	Check   string
	// Field is the request field at fault in a refusal ("" for a whole policy).
	Field string
	// Installation is set for settings of the installation (environment), not the organisation.
	Installation bool
	// Gaps is the check's own predicate over the proposed value: what falls short (nil: nothing).
	Gaps func(Value) []string
}

// rules is the one table of the compliance mode.
var rules = []Rule{
	{SettingPassword, evidence.CheckPasswordPolicy, "", false, func(v Value) []string { return evidence.PasswordGaps(v.Password) }},
	{SettingLockout, evidence.CheckLockout, "", false, func(v Value) []string { return evidence.LockoutGaps(v.SignIn) }},
	{SettingIdleTimeout, evidence.CheckIdleTimeout, "idle_timeout_minutes", false, func(v Value) []string { return evidence.IdleGaps(v.Session) }},
	{SettingInactivity, evidence.CheckInactiveAccounts, "inactive_after_days", false, func(v Value) []string { return evidence.InactivityGaps(v.Session) }},
	{SettingMFA, evidence.CheckMFA, "required", false, func(v Value) []string { return evidence.MFAExempt(v.People) }},
	{SettingTranscriptEmail, evidence.CheckTranscriptEmail, "transcript_email", false, func(v Value) []string { return evidence.TranscriptEmailOn(v.Sites) }},
	{SettingKeyProvider, evidence.CheckKeyProvider, "", true, func(v Value) []string { return evidence.KeyProviderGaps(v.Platform) }},
	{SettingAuditRetention, evidence.CheckAuditRetention, "", true, func(v Value) []string {
		// Forwarding is the same check's other half, but an installation without a collector is
		// drift to report, not a reason to refuse to start.
		if v.Platform.AuditRetention < evidence.MinAuditRetention {
			return []string{"audit retention is shorter than 12 months (10.5.1)"}
		}
		return nil
	}},
}

// Rules returns the table, in order.
func Rules() []Rule { return append([]Rule(nil), rules...) }

// RuleFor returns the rule of a setting.
func RuleFor(s Setting) (Rule, bool) {
	for _, r := range rules {
		if r.Setting == s {
			return r, true
		}
	}
	return Rule{}, false
}

// Evaluate applies a setting's rule to a proposed value under m: a *Refusal naming the controls
// of m's frameworks that the value would break, or nil when it breaks none (or m is off).
func (m Mode) Evaluate(s Setting, v Value) error {
	r, ok := RuleFor(s)
	if !ok || !m.On() {
		return nil
	}
	gaps := r.Gaps(v)
	if len(gaps) == 0 {
		return nil
	}
	controls := m.Controls(r.Check)
	if len(controls) == 0 {
		return nil
	}
	return &Refusal{Setting: s, Field: r.Field, Controls: controls, Problems: gaps}
}

// PasswordPolicy refuses a password policy below the mode's controls.
func (m Mode) PasswordPolicy(p password.Policy) error {
	return m.Evaluate(SettingPassword, Value{Password: p})
}

// SignInPolicy refuses a lockout weaker than the mode's controls.
func (m Mode) SignInPolicy(p signin.Policy) error {
	return m.Evaluate(SettingLockout, Value{SignIn: p})
}

// SessionPolicy refuses an idle timeout or an inactivity period beyond the mode's controls.
func (m Mode) SessionPolicy(p signin.SessionPolicy) error {
	if err := m.Evaluate(SettingIdleTimeout, Value{Session: p}); err != nil {
		return err
	}
	return m.Evaluate(SettingInactivity, Value{Session: p})
}

// MFAPolicy refuses an MFA policy that would exempt an active console user; people carry the
// enforcement the proposed policy gives them.
func (m Mode) MFAPolicy(people []evidence.Person) error {
	return m.Evaluate(SettingMFA, Value{People: people})
}

// TranscriptEmail refuses turning transcript e-mail on for a site.
func (m Mode) TranscriptEmail(site string, on bool) error {
	return m.Evaluate(SettingTranscriptEmail, Value{Sites: []evidence.Site{{Name: site, TranscriptEmail: on}}})
}

// Installation refuses an installation configuration (key provider, audit retention) that would
// break the mode's controls: the first refusal, or nil.
func (m Mode) Installation(p evidence.Platform) error {
	for _, r := range rules {
		if r.Installation {
			if err := m.Evaluate(r.Setting, Value{Platform: p}); err != nil {
				return err
			}
		}
	}
	return nil
}
