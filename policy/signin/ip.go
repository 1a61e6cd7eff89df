package signin

import "time"

// IPState is the failure record of one client IP (as resolved through the
// trusted proxies), which the caller persists or keeps in a shared cache.
//
// Unlike an account's count it is not reset by a success: one valid account
// must not let an address that is guessing at many others start afresh. It
// counts failures in a fixed window of Policy.IPWindow instead.
type IPState struct {
	// WindowStart is when the current window opened, at the first failure
	// after the previous window ended.
	WindowStart time.Time
	// Failures counts failures from the address in the current window.
	Failures int
}

// windowOpen reports whether s's window still runs at now. A now slightly
// before WindowStart (another instance's clock running ahead) counts as inside
// the window, so clock skew cannot wipe the count.
func (p Policy) windowOpen(s IPState, now time.Time) bool {
	return !s.WindowStart.IsZero() && now.Before(s.WindowStart.Add(p.IPWindow))
}

// DecideIP returns what the next sign-in attempt from the address faces at
// now: a CAPTCHA once its failures in the window reach IPCaptchaAfter, and a
// refusal until the window ends once they reach IPThrottleAfter. Combine it
// with the account's Decision through Decision.Merge.
func (p Policy) DecideIP(s IPState, now time.Time) Decision {
	if !p.windowOpen(s, now) {
		return Decision{}
	}
	d := Decision{CaptchaRequired: s.Failures >= p.IPCaptchaAfter}
	if s.Failures >= p.IPThrottleAfter {
		d.Throttled, d.ThrottledUntil = true, s.WindowStart.Add(p.IPWindow)
	}
	return d
}

// RecordIPFailure returns the address's state after a failed attempt at now,
// opening a new window when the previous one has ended.
func (p Policy) RecordIPFailure(s IPState, now time.Time) IPState {
	if !p.windowOpen(s, now) {
		return IPState{WindowStart: now, Failures: 1}
	}
	s.Failures++
	return s
}
