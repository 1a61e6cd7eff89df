package signin

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func problemFields(err error) []string {
	var pe *PolicyError
	if !errors.As(err, &pe) {
		return nil
	}
	out := make([]string, len(pe.Problems))
	for i, p := range pe.Problems {
		out[i] = p.Field
	}
	return out
}

func withPolicy(mod func(*Policy)) Policy {
	p := DefaultPolicy()
	mod(&p)
	return p
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		want   []string
	}{
		{"default", DefaultPolicy(), nil},
		{"strictest lockout", withPolicy(func(p *Policy) { p.LockoutThreshold, p.CaptchaAfter, p.DisableAfter = 1, 1, 1 }), nil},
		{"longer lockout", withPolicy(func(p *Policy) { p.LockoutDuration = 24 * time.Hour }), nil},
		{"captcha at lockout", withPolicy(func(p *Policy) { p.LockoutThreshold, p.CaptchaAfter = 3, 3 }), nil},
		{"lockout above 10", withPolicy(func(p *Policy) { p.LockoutThreshold = 11 }), []string{"lockout_threshold"}},
		{"lockout off", withPolicy(func(p *Policy) { p.LockoutThreshold = 0 }), []string{"lockout_threshold"}},
		{"lockout under 30 minutes", withPolicy(func(p *Policy) { p.LockoutDuration = 29*time.Minute + 59*time.Second }), []string{"lockout_duration"}},
		{"no lockout duration", withPolicy(func(p *Policy) { p.LockoutDuration = 0 }), []string{"lockout_duration"}},
		{"captcha off", withPolicy(func(p *Policy) { p.CaptchaAfter = 0 }), []string{"captcha_after"}},
		{"captcha after lockout", withPolicy(func(p *Policy) { p.LockoutThreshold = 4 }), []string{"captcha_after"}},
		{"disable above 100", withPolicy(func(p *Policy) { p.DisableAfter = 101 }), []string{"disable_after"}},
		{"disable before lockout", withPolicy(func(p *Policy) { p.DisableAfter = 9 }), []string{"disable_after"}},
		{"ip window too short", withPolicy(func(p *Policy) { p.IPWindow = 30 * time.Second }), []string{"ip_window"}},
		{"ip window too long", withPolicy(func(p *Policy) { p.IPWindow = 48 * time.Hour }), []string{"ip_window"}},
		{"ip captcha off", withPolicy(func(p *Policy) { p.IPCaptchaAfter = 0 }), []string{"ip_captcha_after"}},
		{"ip throttle before captcha", withPolicy(func(p *Policy) { p.IPThrottleAfter = 9 }), []string{"ip_throttle_after"}},
		{"zero policy", Policy{}, []string{"lockout_threshold", "captcha_after", "lockout_duration", "disable_after",
			"ip_window", "ip_captcha_after", "ip_throttle_after"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Validate()
			if got := problemFields(err); !slices.Equal(got, tt.want) {
				t.Fatalf("got problems %v (%v), want %v", got, err, tt.want)
			}
			if tt.want != nil && !errors.Is(err, ErrInvalidPolicy) {
				t.Errorf("got %v, want it to match ErrInvalidPolicy", err)
			}
		})
	}
}

func TestPolicyValidateMessages(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		want   string
	}{
		{"lockout threshold", withPolicy(func(p *Policy) { p.LockoutThreshold, p.CaptchaAfter = 12, 5 }),
			"lockout_threshold: Lock an account after 1 to 10 failed attempts; the setting is 12 (PCI DSS 8.3.4)."},
		{"lockout duration", withPolicy(func(p *Policy) { p.LockoutDuration = 15 * time.Minute }),
			"lockout_duration: Lock an account for 30 minutes to 1 day; the setting is 15 minutes (PCI DSS 8.3.4)."},
		{"disable after", withPolicy(func(p *Policy) { p.DisableAfter = 500 }),
			"disable_after: Disable an account after at most 100 failed attempts in all, and no fewer than the lockout threshold; the setting is 500 (NIST SP 800-63B)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
