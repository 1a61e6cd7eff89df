package password

import (
	"testing"
	"time"
)

func TestExpired(t *testing.T) {
	changed := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		policy Policy
		now    time.Time
		mfa    bool
		want   bool
	}{
		{"pci day 89", PCIDSS4(), changed.Add(89 * Day), false, false},
		{"pci a second before 90 days", PCIDSS4(), changed.Add(90*Day - time.Second), false, false},
		{"pci at 90 days", PCIDSS4(), changed.Add(90 * Day), false, true},
		{"pci after 90 days", PCIDSS4(), changed.Add(400 * Day), false, true},
		{"pci waived with mfa", PCIDSS4(), changed.Add(400 * Day), true, false},
		{"pci not waived when policy says so", custom(func(p *Policy) { p.MaxAge = 60 * Day }), changed.Add(60 * Day), true, true},
		{"nist never", NIST80063B(), changed.Add(4000 * Day), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.Expired(changed, tt.now, tt.mfa); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("unknown change time counts as expired", func(t *testing.T) {
		if !PCIDSS4().Expired(time.Time{}, changed, false) {
			t.Error("got false, want true")
		}
		if NIST80063B().Expired(time.Time{}, changed, false) {
			t.Error("got true, want false without an expiry")
		}
	})
	t.Run("expires at", func(t *testing.T) {
		at, ok := PCIDSS4().ExpiresAt(changed, false)
		if want := changed.Add(90 * Day); !ok || !at.Equal(want) {
			t.Errorf("got %v %v, want %v true", at, ok, want)
		}
		if _, ok := PCIDSS4().ExpiresAt(changed, true); ok {
			t.Error("got an expiry with MFA, want none")
		}
	})
}

func TestTooSoon(t *testing.T) {
	changed := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		policy  Policy
		changed time.Time
		now     time.Time
		want    bool
	}{
		{"pci an hour later", PCIDSS4(), changed, changed.Add(time.Hour), true},
		{"pci a second before a day", PCIDSS4(), changed, changed.Add(Day - time.Second), true},
		{"pci a day later", PCIDSS4(), changed, changed.Add(Day), false},
		{"nist at once", NIST80063B(), changed, changed, false},
		{"never changed", PCIDSS4(), time.Time{}, changed, false},
		{"custom week", custom(func(p *Policy) { p.MinAge = 7 * Day }), changed, changed.Add(6 * Day), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.TooSoon(tt.changed, tt.now); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if got, want := PCIDSS4().ChangeAllowedAt(changed), changed.Add(Day); !got.Equal(want) {
		t.Errorf("ChangeAllowedAt: got %v, want %v", got, want)
	}
}

func TestResetAllowed(t *testing.T) {
	tests := []struct {
		name   string
		limit  int
		resets int
		want   bool
	}{
		{"none yet", 3, 0, true},
		{"last allowed", 3, 2, true},
		{"limit reached", 3, 3, false},
		{"over limit", 3, 7, false},
		{"unlimited", 0, 1000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := custom(func(p *Policy) { p.MaxResetsPerDay = tt.limit })
			if got := p.ResetAllowed(tt.resets); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
