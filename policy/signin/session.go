package signin

import "time"

// Defaults and limits of console sessions and account inactivity.
const (
	// DefaultIdleTimeout ends a console session after 15 idle minutes.
	DefaultIdleTimeout = 15 * time.Minute
	// MaxPCIIdleTimeout is the longest idle time PCI DSS 8.2.8 allows.
	MaxPCIIdleTimeout = 15 * time.Minute
	// MinIdleTimeout is the shortest idle timeout Parley accepts.
	MinIdleTimeout = time.Minute
	// DefaultAbsoluteTimeout ends a console session 12 hours after sign-in.
	DefaultAbsoluteTimeout = 12 * time.Hour
	// MaxAbsoluteTimeout is the longest session Parley allows: one day.
	MaxAbsoluteTimeout = 24 * time.Hour
	// DefaultInactiveAfter disables an account unused for 90 days.
	DefaultInactiveAfter = 90 * 24 * time.Hour
	// MaxPCIInactiveAfter is the longest inactivity PCI DSS 8.2.6 allows.
	MaxPCIInactiveAfter = 90 * 24 * time.Hour
	// MinInactiveAfter is the shortest inactivity period Parley accepts.
	MinInactiveAfter = 24 * time.Hour
	// MaxInactiveAfter is the longest inactivity period Parley accepts when
	// the PCI limits are off (zero, never, stays possible there).
	MaxInactiveAfter = 365 * 24 * time.Hour
)

// SessionPolicy is a tenant's console-session timing and account-inactivity
// rule.
type SessionPolicy struct {
	// IdleTimeout ends a session this long after its last request.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after sign-in, however busy.
	AbsoluteTimeout time.Duration
	// InactiveAfter disables an account not signed in to for this long;
	// zero never does, which PCI forbids.
	InactiveAfter time.Duration
	// PCI holds the policy to PCI DSS: an idle timeout of at most 15 minutes
	// (8.2.8) and inactive accounts disabled within 90 days (8.2.6).
	PCI bool
}

// DefaultSessionPolicy returns Parley's session timing: 15 minutes idle, 12
// hours absolute, accounts disabled after 90 days unused, PCI limits on.
func DefaultSessionPolicy() SessionPolicy {
	return SessionPolicy{
		IdleTimeout:     DefaultIdleTimeout,
		AbsoluteTimeout: DefaultAbsoluteTimeout,
		InactiveAfter:   DefaultInactiveAfter,
		PCI:             true,
	}
}

// Validate reports every problem of the policy as a *PolicyError wrapping
// ErrInvalidPolicy.
func (p SessionPolicy) Validate() error {
	var probs problems
	if p.AbsoluteTimeout < MinIdleTimeout || p.AbsoluteTimeout > MaxAbsoluteTimeout {
		probs.add("absolute_timeout", "End sessions between %s and %s after sign-in; the setting is %s.",
			minutes(MinIdleTimeout), minutes(MaxAbsoluteTimeout), minutes(p.AbsoluteTimeout))
	}
	if p.IdleTimeout < MinIdleTimeout || p.IdleTimeout > MaxAbsoluteTimeout {
		probs.add("idle_timeout", "End idle sessions after %s to %s; the setting is %s.",
			minutes(MinIdleTimeout), minutes(MaxAbsoluteTimeout), minutes(p.IdleTimeout))
	}
	if p.PCI && p.IdleTimeout > MaxPCIIdleTimeout {
		probs.add("idle_timeout", "End idle sessions after at most %s; the setting is %s (PCI DSS 8.2.8).",
			minutes(MaxPCIIdleTimeout), minutes(p.IdleTimeout))
	}
	if p.IdleTimeout > p.AbsoluteTimeout {
		probs.add("idle_timeout", "The idle timeout (%s) must not exceed the absolute timeout (%s).",
			minutes(p.IdleTimeout), minutes(p.AbsoluteTimeout))
	}
	switch {
	case p.InactiveAfter < 0 || (p.InactiveAfter > 0 && (p.InactiveAfter < MinInactiveAfter || p.InactiveAfter > MaxInactiveAfter)):
		probs.add("inactive_after", "Disable unused accounts after %s to %s, or never; the setting is %s.",
			minutes(MinInactiveAfter), minutes(MaxInactiveAfter), minutes(p.InactiveAfter))
	case p.PCI && (p.InactiveAfter == 0 || p.InactiveAfter > MaxPCIInactiveAfter):
		probs.add("inactive_after", "Disable accounts unused for at most %s; the setting is %s (PCI DSS 8.2.6).",
			minutes(MaxPCIInactiveAfter), inactivity(p.InactiveAfter))
	}
	return probs.err()
}

// Expiry says why a session ended.
type Expiry string

// The reasons a session ends by time.
const (
	// ExpiryNone: the session is still valid.
	ExpiryNone Expiry = ""
	// ExpiryIdle: no request for IdleTimeout.
	ExpiryIdle Expiry = "idle"
	// ExpiryAbsolute: AbsoluteTimeout since sign-in.
	ExpiryAbsolute Expiry = "absolute"
)

// SessionExpiresAt returns when a session created at createdAt and last used
// at lastSeenAt ends, whichever timeout comes first.
func (p SessionPolicy) SessionExpiresAt(createdAt, lastSeenAt time.Time) time.Time {
	abs := createdAt.Add(p.AbsoluteTimeout)
	idle := lastSeenAt.Add(p.IdleTimeout)
	if idle.Before(abs) {
		return idle
	}
	return abs
}

// SessionExpired reports whether the session has ended at now, and why; the
// absolute timeout wins when both have passed. A session is valid up to, not
// including, its expiry instant.
func (p SessionPolicy) SessionExpired(createdAt, lastSeenAt, now time.Time) Expiry {
	switch {
	case !now.Before(createdAt.Add(p.AbsoluteTimeout)):
		return ExpiryAbsolute
	case !now.Before(lastSeenAt.Add(p.IdleTimeout)):
		return ExpiryIdle
	default:
		return ExpiryNone
	}
}

// AccountInactive reports whether an account whose latest activity was at
// lastActiveAt is to be disabled at now. Pass the later of the last sign-in and
// the time the account was created, invited or re-enabled, so a fresh account
// is not disabled at once.
func (p SessionPolicy) AccountInactive(lastActiveAt, now time.Time) bool {
	if p.InactiveAfter <= 0 {
		return false
	}
	return !now.Before(lastActiveAt.Add(p.InactiveAfter))
}

func inactivity(d time.Duration) string {
	if d == 0 {
		return "never"
	}
	return minutes(d)
}
