package signin

import (
	"testing"
	"time"
)

func TestIPThresholds(t *testing.T) {
	p := DefaultPolicy()
	windowEnd := t0.Add(DefaultIPWindow)
	tests := []struct {
		name     string
		failures int           // failures a second apart from t0
		at       time.Duration // when the next attempt comes, from t0
		want     Decision
	}{
		{"no failures", 0, 0, Decision{}},
		{"nine failures", 9, 10 * time.Second, Decision{}},
		{"captcha at ten", 10, 10 * time.Second, Decision{CaptchaRequired: true}},
		{"forty-nine", 49, time.Minute, Decision{CaptchaRequired: true}},
		{"throttled at fifty", 50, time.Minute, Decision{CaptchaRequired: true, Throttled: true, ThrottledUntil: windowEnd}},
		{"throttled until the window ends", 50, DefaultIPWindow - time.Nanosecond,
			Decision{CaptchaRequired: true, Throttled: true, ThrottledUntil: windowEnd}},
		{"window over", 50, DefaultIPWindow, Decision{}},
		{"clock of another instance behind", 10, -2 * time.Second, Decision{CaptchaRequired: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s IPState
			for i := range tt.failures {
				s = p.RecordIPFailure(s, t0.Add(time.Duration(i)*time.Second))
			}
			if got := p.DecideIP(s, t0.Add(tt.at)); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestIPWindowRestarts(t *testing.T) {
	p := withPolicy(func(p *Policy) { p.IPWindow, p.IPCaptchaAfter, p.IPThrottleAfter = 10*time.Minute, 2, 3 })
	tests := []struct {
		name string
		at   time.Duration // failure time from t0
		want IPState
	}{
		{"first failure opens the window", 0, IPState{WindowStart: t0, Failures: 1}},
		{"inside the window", 9 * time.Minute, IPState{WindowStart: t0, Failures: 2}},
		{"skewed clock stays inside", -time.Second, IPState{WindowStart: t0, Failures: 3}},
		{"after the window a new one opens", 10 * time.Minute, IPState{WindowStart: t0.Add(10 * time.Minute), Failures: 1}},
	}
	// The steps build on each other, so they run as one script.
	var s IPState
	for _, tt := range tests {
		s = p.RecordIPFailure(s, t0.Add(tt.at))
		if s != tt.want {
			t.Fatalf("%s: got %+v, want %+v", tt.name, s, tt.want)
		}
	}
}

func TestAccountAndIPTogether(t *testing.T) {
	p := DefaultPolicy()
	now := t0.Add(time.Minute)
	acct := p.RecordFailure(State{}, t0)
	ip := IPState{WindowStart: t0, Failures: DefaultIPCaptchaAfter}
	got := p.Decide(acct, now).Merge(p.DecideIP(ip, now))
	if want := (Decision{CaptchaRequired: true}); got != want {
		t.Errorf("got %+v, want %+v: a fresh account behind a noisy address needs a CAPTCHA", got, want)
	}
}
