package password

import "time"

// ExpiresAt returns when a password changed at changedAt expires, and false
// when it never does: the policy has no MaxAge, or the user must present a
// second factor and the policy waives expiry for them (PCI DSS 8.3.9).
func (p Policy) ExpiresAt(changedAt time.Time, mfaEnforced bool) (time.Time, bool) {
	if p.MaxAge <= 0 || (mfaEnforced && p.ExpiryWaivedWithMFA) {
		return time.Time{}, false
	}
	return changedAt.Add(p.MaxAge), true
}

// Expired reports whether a password changed at changedAt must be changed at
// now. A zero changedAt (never recorded) counts as expired whenever the policy
// has an expiry.
func (p Policy) Expired(changedAt, now time.Time, mfaEnforced bool) bool {
	at, ok := p.ExpiresAt(changedAt, mfaEnforced)
	if !ok {
		return false
	}
	return changedAt.IsZero() || !now.Before(at)
}

// ChangeAllowedAt returns the earliest time a user may change, of their own
// accord, a password changed at changedAt (the policy's MinAge).
func (p Policy) ChangeAllowedAt(changedAt time.Time) time.Time {
	if p.MinAge <= 0 || changedAt.IsZero() {
		return changedAt
	}
	return changedAt.Add(p.MinAge)
}

// TooSoon reports whether a self-service change at now comes before the
// policy's MinAge has passed since changedAt. It does not apply to a forced
// change (first use, expiry, administrator reset).
func (p Policy) TooSoon(changedAt, now time.Time) bool {
	return now.Before(p.ChangeAllowedAt(changedAt))
}

// ResetAllowed reports whether a user who has had resetsToday self-service
// password resets in the past 24 hours may have another.
func (p Policy) ResetAllowed(resetsToday int) bool {
	return p.MaxResetsPerDay <= 0 || resetsToday < p.MaxResetsPerDay
}
