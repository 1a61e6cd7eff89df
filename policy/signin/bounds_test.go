package signin

import (
	"strings"
	"testing"
	"time"
)

// TestUpperBounds: every threshold a tenant sets has an upper bound, checked just inside and
// just outside, and the refusal names the field and the allowed range.
func TestUpperBounds(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name  string
		ok    Policy
		bad   Policy
		field string
		rng   string // the range the message states
	}{
		{"lockout_threshold", withPolicy(func(p *Policy) { p.LockoutThreshold = 10 }), withPolicy(func(p *Policy) { p.LockoutThreshold = 11 }),
			"lockout_threshold", "1 to 10"},
		{"captcha_after", withPolicy(func(p *Policy) { p.CaptchaAfter = 10 }), withPolicy(func(p *Policy) { p.CaptchaAfter = 11 }),
			"captcha_after", "1 to 10"},
		{"lockout_duration", withPolicy(func(p *Policy) { p.LockoutDuration = MaxLockoutDuration }),
			withPolicy(func(p *Policy) { p.LockoutDuration = MaxLockoutDuration + time.Minute }), "lockout_duration", "30 minutes to 1 day"},
		{"disable_after", withPolicy(func(p *Policy) { p.DisableAfter = 100 }), withPolicy(func(p *Policy) { p.DisableAfter = 101 }),
			"disable_after", "at most 100"},
		{"ip_window", withPolicy(func(p *Policy) { p.IPWindow = day }), withPolicy(func(p *Policy) { p.IPWindow = day + time.Minute }),
			"ip_window", "1 minute to 1 day"},
		{"ip_captcha_after", withPolicy(func(p *Policy) { p.IPCaptchaAfter, p.IPThrottleAfter = 1000, 1000 }),
			withPolicy(func(p *Policy) { p.IPCaptchaAfter, p.IPThrottleAfter = 1001, 1001 }), "ip_captcha_after", "1 to 1000"},
		{"ip_throttle_after", withPolicy(func(p *Policy) { p.IPThrottleAfter = 5000 }), withPolicy(func(p *Policy) { p.IPThrottleAfter = 5001 }),
			"ip_throttle_after", "10 to 5000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.ok.Validate(); err != nil {
				t.Errorf("just inside: %v", err)
			}
			checkRefusal(t, tt.bad.Validate(), tt.field, tt.rng)
		})
	}
}

func TestSessionUpperBounds(t *testing.T) {
	const day = 24 * time.Hour
	noPCI := func(mod func(*SessionPolicy)) SessionPolicy {
		return withSession(func(p *SessionPolicy) { p.PCI = false; mod(p) })
	}
	tests := []struct {
		name  string
		ok    SessionPolicy
		bad   SessionPolicy
		field string
		rng   string
	}{
		{"absolute_timeout", withSession(func(p *SessionPolicy) { p.AbsoluteTimeout = day }),
			withSession(func(p *SessionPolicy) { p.AbsoluteTimeout = day + time.Minute }), "absolute_timeout", "1 minute and 1 day"},
		{"idle_timeout with PCI", withSession(func(p *SessionPolicy) { p.IdleTimeout = 15 * time.Minute }),
			withSession(func(p *SessionPolicy) { p.IdleTimeout = 16 * time.Minute }), "idle_timeout", "at most 15 minutes"},
		{"idle_timeout without PCI", noPCI(func(p *SessionPolicy) { p.IdleTimeout, p.AbsoluteTimeout = day, day }),
			noPCI(func(p *SessionPolicy) { p.IdleTimeout, p.AbsoluteTimeout = day+time.Minute, day }), "idle_timeout", "1 minute to 1 day"},
		{"inactive_after with PCI", withSession(func(p *SessionPolicy) { p.InactiveAfter = 90 * day }),
			withSession(func(p *SessionPolicy) { p.InactiveAfter = 91 * day }), "inactive_after", "at most 90 days"},
		{"inactive_after without PCI", noPCI(func(p *SessionPolicy) { p.InactiveAfter = 365 * day }),
			noPCI(func(p *SessionPolicy) { p.InactiveAfter = 366 * day }), "inactive_after", "1 day to 365 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.ok.Validate(); err != nil {
				t.Errorf("just inside: %v", err)
			}
			checkRefusal(t, tt.bad.Validate(), tt.field, tt.rng)
		})
	}
}

func checkRefusal(t *testing.T, err error, field, rng string) {
	t.Helper()
	if err == nil {
		t.Fatal("just outside: accepted")
	}
	fields := problemFields(err)
	if len(fields) == 0 || fields[0] != field {
		t.Fatalf("just outside: problems %v, want %s first", fields, field)
	}
	if !strings.Contains(err.Error(), rng) {
		t.Errorf("just outside: %q does not state the range %q", err, rng)
	}
}
