package signin

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// clock is the injected time of a scripted test.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) advance(d time.Duration) { c.now = c.now.Add(d) }

// step is one event of a scripted sign-in history and what the next attempt
// must then face.
type step struct {
	do   string // "fail", "succeed", "unlock", "reenable" or "wait"
	n    int    // repeat count for "fail" (default 1)
	wait time.Duration
	want Decision
}

func run(t *testing.T, p Policy, steps []step) State {
	t.Helper()
	c := &clock{now: t0}
	var s State
	for i, st := range steps {
		switch st.do {
		case "fail":
			for range max(st.n, 1) {
				if !p.Decide(s, c.Now()).Allowed() {
					t.Fatalf("step %d: a failure was recorded while the attempt was refused", i)
				}
				s = p.RecordFailure(s, c.Now())
				c.advance(time.Second)
			}
		case "succeed":
			s = p.RecordSuccess(s, c.Now())
		case "unlock":
			s = Unlock(s)
		case "reenable":
			s = Reenable(s)
		case "wait":
			c.advance(st.wait)
		default:
			t.Fatalf("step %d: unknown action %q", i, st.do)
		}
		if got := p.Decide(s, c.Now()); got != st.want {
			t.Fatalf("step %d (%s ×%d, state %+v): got %+v, want %+v", i, st.do, max(st.n, 1), s, got, st.want)
		}
	}
	return s
}

// lockedAt is the Decision of a lockout beginning at the failure recorded at
// the given offset from t0 (failures are a second apart).
func lockedAt(offset time.Duration, d time.Duration) Decision {
	return Decision{CaptchaRequired: true, Locked: true, LockedUntil: t0.Add(offset).Add(d)}
}

func TestAccountThresholds(t *testing.T) {
	p := DefaultPolicy()
	captcha := Decision{CaptchaRequired: true}
	tests := []struct {
		name  string
		steps []step
	}{
		{"captcha from the fifth failure", []step{
			{do: "fail", n: 4, want: Decision{}},
			{do: "fail", want: captcha},
		}},
		{"lockout at the tenth failure for 30 minutes", []step{
			{do: "fail", n: 9, want: captcha},
			{do: "fail", want: lockedAt(9*time.Second, 30*time.Minute)},
			{do: "wait", wait: 30*time.Minute - 2*time.Second, want: lockedAt(9*time.Second, 30*time.Minute)},
			{do: "wait", wait: time.Second, want: captcha},
		}},
		{"after a lockout the captcha stays and the next ten lock again", []step{
			{do: "fail", n: 10, want: lockedAt(9*time.Second, 30*time.Minute)},
			{do: "wait", wait: 30 * time.Minute, want: captcha},
			{do: "fail", n: 9, want: captcha},
			{do: "fail", want: lockedAt(30*time.Minute+19*time.Second, 30*time.Minute)},
		}},
		{"success clears the consecutive count", []step{
			{do: "fail", n: 7, want: captcha},
			{do: "succeed", want: Decision{}},
			{do: "fail", n: 4, want: Decision{}},
		}},
		{"admin unlock ends a lockout", []step{
			{do: "fail", n: 10, want: lockedAt(9*time.Second, 30*time.Minute)},
			{do: "unlock", want: Decision{}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, p, tt.steps) })
	}
}

func TestAccountCustomThresholds(t *testing.T) {
	p := withPolicy(func(p *Policy) {
		p.CaptchaAfter, p.LockoutThreshold, p.LockoutDuration, p.DisableAfter = 2, 3, time.Hour, 7
	})
	if err := p.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	run(t, p, []step{
		{do: "fail", want: Decision{}},
		{do: "fail", want: Decision{CaptchaRequired: true}},
		{do: "fail", want: lockedAt(2*time.Second, time.Hour)},
		{do: "wait", wait: time.Hour, want: Decision{CaptchaRequired: true}},
		{do: "fail", n: 3, want: lockedAt(time.Hour+5*time.Second, time.Hour)},
		{do: "wait", wait: time.Hour, want: Decision{CaptchaRequired: true}},
		{do: "fail", want: Decision{CaptchaRequired: true, Disabled: true}},
	})
}

func TestLifetimeDisable(t *testing.T) {
	p := DefaultPolicy()
	c := &clock{now: t0}
	var s State
	for i := 1; i <= MaxDisableAfter; i++ {
		if d := p.Decide(s, c.Now()); d.Locked {
			c.advance(d.LockedUntil.Sub(c.Now()))
		}
		// A success now and then must not save the account.
		if i%7 == 0 {
			s = p.RecordSuccess(s, c.Now())
		}
		s = p.RecordFailure(s, c.Now())
		c.advance(time.Minute)
		if got, want := p.Decide(s, c.Now()).Disabled, i >= p.DisableAfter; got != want {
			t.Fatalf("after %d failures: got disabled %v, want %v", i, got, want)
		}
	}
	if s.LifetimeFailures != MaxDisableAfter {
		t.Errorf("got %d lifetime failures, want %d", s.LifetimeFailures, MaxDisableAfter)
	}
	c.advance(365 * 24 * time.Hour)
	if !p.Decide(s, c.Now()).Disabled {
		t.Error("got enabled a year later, want the lifetime count never to reset by itself")
	}
	if d := p.Decide(Unlock(s), c.Now()); !d.Disabled {
		t.Error("got enabled after unlock, want only Reenable to reset the lifetime count")
	}
	re := Reenable(s)
	if d := p.Decide(re, c.Now()); d != (Decision{}) {
		t.Errorf("got %+v after Reenable, want a clean decision", d)
	}
	if !re.LastFailureAt.Equal(s.LastFailureAt) {
		t.Errorf("got last failure %v after Reenable, want %v kept", re.LastFailureAt, s.LastFailureAt)
	}
}

func TestRecordFailureState(t *testing.T) {
	p := DefaultPolicy()
	s := p.RecordFailure(State{ConsecutiveFailures: 3, LifetimeFailures: 40}, t0)
	want := State{ConsecutiveFailures: 4, LifetimeFailures: 41, LastFailureAt: t0}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
	s = p.RecordSuccess(State{ConsecutiveFailures: 10, LifetimeFailures: 41, LastFailureAt: t0, LockedUntil: t0.Add(time.Hour)}, t0)
	want = State{LifetimeFailures: 41, LastFailureAt: t0}
	if s != want {
		t.Errorf("got %+v after success, want %+v", s, want)
	}
}

func TestDecisionMerge(t *testing.T) {
	later := t0.Add(time.Hour)
	tests := []struct {
		a, b, want Decision
	}{
		{Decision{}, Decision{}, Decision{}},
		{Decision{}, Decision{CaptchaRequired: true}, Decision{CaptchaRequired: true}},
		{Decision{Locked: true, LockedUntil: t0}, Decision{Throttled: true, ThrottledUntil: later},
			Decision{Locked: true, LockedUntil: t0, Throttled: true, ThrottledUntil: later}},
		{Decision{Throttled: true, ThrottledUntil: later}, Decision{Throttled: true, ThrottledUntil: t0},
			Decision{Throttled: true, ThrottledUntil: later}},
		{Decision{Locked: true, LockedUntil: t0}, Decision{Locked: true, LockedUntil: later, Disabled: true},
			Decision{Locked: true, LockedUntil: later, Disabled: true}},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if got := tt.a.Merge(tt.b); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if got := tt.b.Merge(tt.a); got != tt.want {
				t.Errorf("reversed: got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecisionAllowed(t *testing.T) {
	tests := []struct {
		d    Decision
		want bool
	}{
		{Decision{}, true},
		{Decision{CaptchaRequired: true}, true},
		{Decision{Locked: true}, false},
		{Decision{Disabled: true}, false},
		{Decision{Throttled: true}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+v", tt.d), func(t *testing.T) {
			if got := tt.d.Allowed(); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
