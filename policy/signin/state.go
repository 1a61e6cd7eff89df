package signin

import "time"

// State is the failure record of one sign-in identity, which the account store
// persists and updates atomically with each attempt.
//
// Key it by the identity a client submits (tenant and normalized email), and
// keep one for identities that match no account too: if only real accounts
// gathered failures, the CAPTCHA and lockout answers would tell an attacker
// which accounts exist.
type State struct {
	// ConsecutiveFailures counts failures since the last success or unlock.
	ConsecutiveFailures int
	// LifetimeFailures counts every failure; only Reenable resets it.
	LifetimeFailures int
	// LastFailureAt is the time of the latest failure.
	LastFailureAt time.Time
	// LockedUntil is the end of the current or latest lockout.
	LockedUntil time.Time
}

// Decision is what a sign-in attempt must face at a given time.
type Decision struct {
	// CaptchaRequired asks the client to solve a CAPTCHA before its
	// credentials are checked.
	CaptchaRequired bool
	// Locked refuses the attempt without checking the credentials
	// (PCI DSS 8.3.4).
	Locked bool
	// LockedUntil is when the lockout ends; zero when not Locked.
	LockedUntil time.Time
	// Disabled refuses the attempt for good: the account has failed too
	// often over its lifetime and needs an administrator.
	Disabled bool
	// Throttled refuses the attempt because its client IP failed too often.
	Throttled bool
	// ThrottledUntil is when the address may try again; zero when not
	// Throttled.
	ThrottledUntil time.Time
}

// Allowed reports whether the credentials may be checked at all; a required
// CAPTCHA must still be verified first.
func (d Decision) Allowed() bool { return !d.Locked && !d.Disabled && !d.Throttled }

// Merge combines the decisions for an account and for a client IP: each
// refusal or requirement of either holds, with the later retry time.
func (d Decision) Merge(o Decision) Decision {
	d.CaptchaRequired = d.CaptchaRequired || o.CaptchaRequired
	d.Disabled = d.Disabled || o.Disabled
	if o.Locked {
		d.Locked = true
		d.LockedUntil = later(d.LockedUntil, o.LockedUntil)
	}
	if o.Throttled {
		d.Throttled = true
		d.ThrottledUntil = later(d.ThrottledUntil, o.ThrottledUntil)
	}
	return d
}

// Decide returns what the next sign-in attempt for the identity faces at now.
//
// A CAPTCHA is required once the consecutive failures reach CaptchaAfter and
// stays required until a success or an unlock. A lockout runs until
// LockedUntil; when it ends the consecutive count is kept, so the CAPTCHA is
// still required and the next LockoutThreshold failures lock the account
// again. The account is disabled once its lifetime failures reach DisableAfter.
func (p Policy) Decide(s State, now time.Time) Decision {
	d := Decision{
		CaptchaRequired: s.ConsecutiveFailures >= p.CaptchaAfter,
		Disabled:        s.LifetimeFailures >= p.DisableAfter,
	}
	if now.Before(s.LockedUntil) {
		d.Locked, d.LockedUntil = true, s.LockedUntil
	}
	return d
}

// RecordFailure returns the state after a failed attempt at now: a wrong
// password, a wrong second factor or a wrong CAPTCHA answer. Callers do not
// check credentials while Decide reports the identity locked, disabled or
// throttled, so such refused attempts are not failures.
//
// A lockout (and a lockout audit event) begins with this failure exactly when
// Decide reports Locked after it and did not before.
func (p Policy) RecordFailure(s State, now time.Time) State {
	s.ConsecutiveFailures++
	s.LifetimeFailures++
	s.LastFailureAt = now
	if p.LockoutThreshold > 0 && s.ConsecutiveFailures%p.LockoutThreshold == 0 {
		s.LockedUntil = now.Add(p.LockoutDuration)
	}
	return s
}

// RecordSuccess returns the state after a successful sign-in: the consecutive
// count and any lockout are cleared; the lifetime count is kept.
func (p Policy) RecordSuccess(s State, _ time.Time) State {
	s.ConsecutiveFailures = 0
	s.LockedUntil = time.Time{}
	return s
}

// Unlock returns the state after an administrator unlocks the account, having
// confirmed the user's identity: as after a success.
func Unlock(s State) State {
	s.ConsecutiveFailures = 0
	s.LockedUntil = time.Time{}
	return s
}

// Reenable returns the state after an administrator re-enables an account
// disabled for failures: every count starts again from zero.
func Reenable(s State) State {
	return State{LastFailureAt: s.LastFailureAt}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
