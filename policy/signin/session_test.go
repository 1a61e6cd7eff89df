package signin

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

func withSession(mod func(*SessionPolicy)) SessionPolicy {
	p := DefaultSessionPolicy()
	mod(&p)
	return p
}

func TestSessionPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		policy SessionPolicy
		want   []string
	}{
		{"default", DefaultSessionPolicy(), nil},
		{"pci shorter idle", withSession(func(p *SessionPolicy) { p.IdleTimeout = 5 * time.Minute }), nil},
		{"pci idle over 15 minutes", withSession(func(p *SessionPolicy) { p.IdleTimeout = 16 * time.Minute }), []string{"idle_timeout"}},
		{"no pci idle 30 minutes", withSession(func(p *SessionPolicy) { p.PCI, p.IdleTimeout = false, 30*time.Minute }), nil},
		{"idle under a minute", withSession(func(p *SessionPolicy) { p.IdleTimeout = 30 * time.Second }), []string{"idle_timeout"}},
		{"idle beyond absolute", withSession(func(p *SessionPolicy) { p.PCI, p.IdleTimeout, p.AbsoluteTimeout = false, 2*time.Hour, time.Hour }),
			[]string{"idle_timeout"}},
		{"pci idle beyond short absolute", withSession(func(p *SessionPolicy) { p.IdleTimeout, p.AbsoluteTimeout = 20*time.Minute, 10*time.Minute }),
			[]string{"idle_timeout", "idle_timeout"}},
		{"absolute over a day", withSession(func(p *SessionPolicy) { p.AbsoluteTimeout = 25 * time.Hour }), []string{"absolute_timeout"}},
		{"absolute zero", withSession(func(p *SessionPolicy) { p.AbsoluteTimeout = 0 }), []string{"absolute_timeout", "idle_timeout"}},
		{"pci inactive over 90 days", withSession(func(p *SessionPolicy) { p.InactiveAfter = 91 * day }), []string{"inactive_after"}},
		{"pci inactive never", withSession(func(p *SessionPolicy) { p.InactiveAfter = 0 }), []string{"inactive_after"}},
		{"no pci inactive never", withSession(func(p *SessionPolicy) { p.PCI, p.InactiveAfter = false, 0 }), nil},
		{"no pci inactive a year", withSession(func(p *SessionPolicy) { p.PCI, p.InactiveAfter = false, 365*day }), nil},
		{"inactive an hour", withSession(func(p *SessionPolicy) { p.InactiveAfter = time.Hour }), []string{"inactive_after"}},
		{"inactive negative", withSession(func(p *SessionPolicy) { p.PCI, p.InactiveAfter = false, -day }), []string{"inactive_after"}},
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
	err := withSession(func(p *SessionPolicy) { p.IdleTimeout = 20 * time.Minute }).Validate()
	want := "idle_timeout: End idle sessions after at most 15 minutes; the setting is 20 minutes (PCI DSS 8.2.8)."
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want it to contain %q", err, want)
	}
}

func TestSessionExpired(t *testing.T) {
	p := DefaultSessionPolicy()
	tests := []struct {
		name     string
		lastSeen time.Duration // from sign-in at t0
		now      time.Duration
		want     Expiry
	}{
		{"fresh", 0, time.Minute, ExpiryNone},
		{"idle just under 15 minutes", 10 * time.Minute, 25*time.Minute - time.Nanosecond, ExpiryNone},
		{"idle 15 minutes", 10 * time.Minute, 25 * time.Minute, ExpiryIdle},
		{"busy for hours", 11*time.Hour + 59*time.Minute, 11*time.Hour + 59*time.Minute + 30*time.Second, ExpiryNone},
		{"absolute 12 hours", 11*time.Hour + 59*time.Minute, 12 * time.Hour, ExpiryAbsolute},
		{"absolute wins over idle", time.Hour, 13 * time.Hour, ExpiryAbsolute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.SessionExpired(t0, t0.Add(tt.lastSeen), t0.Add(tt.now)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSessionExpiresAt(t *testing.T) {
	p := DefaultSessionPolicy()
	tests := []struct {
		name     string
		lastSeen time.Duration
		want     time.Time
	}{
		{"idle first", time.Hour, t0.Add(time.Hour + 15*time.Minute)},
		{"absolute first", 11*time.Hour + 50*time.Minute, t0.Add(12 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.SessionExpiresAt(t0, t0.Add(tt.lastSeen))
			if !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if e := p.SessionExpired(t0, t0.Add(tt.lastSeen), got); e == ExpiryNone {
				t.Errorf("got a live session at its expiry %v", got)
			}
			if e := p.SessionExpired(t0, t0.Add(tt.lastSeen), got.Add(-time.Nanosecond)); e != ExpiryNone {
				t.Errorf("got %q just before expiry, want a live session", e)
			}
		})
	}
}

func TestAccountInactive(t *testing.T) {
	tests := []struct {
		name   string
		policy SessionPolicy
		idle   time.Duration
		want   bool
	}{
		{"89 days", DefaultSessionPolicy(), 89 * day, false},
		{"just under 90 days", DefaultSessionPolicy(), 90*day - time.Second, false},
		{"90 days", DefaultSessionPolicy(), 90 * day, true},
		{"30 days custom", withSession(func(p *SessionPolicy) { p.InactiveAfter = 30 * day }), 30 * day, true},
		{"never", withSession(func(p *SessionPolicy) { p.PCI, p.InactiveAfter = false, 0 }), 3650 * day, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.AccountInactive(t0, t0.Add(tt.idle)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
