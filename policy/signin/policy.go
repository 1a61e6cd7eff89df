// Package signin decides how Parley defends sign-in and how long a console
// session lives: when a CAPTCHA is required, when an account is locked and for
// how long (PCI DSS 8.3.4), when repeated failures disable it (NIST SP 800-63B),
// when a client IP is throttled, when a session expires for idleness (PCI DSS
// 8.2.8) or age, and when an unused account is disabled (PCI DSS 8.2.6).
//
// Every decision is a pure function of counters the caller stores and of the
// time the caller passes in, so the account store can read, update and write
// the counters in one transaction, and tests can move the clock at will.
package signin

import (
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley/policy"
)

// Defaults and limits of the sign-in defence.
const (
	// DefaultCaptchaAfter is how many consecutive failures make a CAPTCHA
	// required (Comm100 shows one after five).
	DefaultCaptchaAfter = 5
	// DefaultLockoutThreshold is how many consecutive failures lock an account.
	DefaultLockoutThreshold = 10
	// MaxLockoutThreshold is the most failures PCI DSS 8.3.4 allows before a
	// lockout.
	MaxLockoutThreshold = 10
	// DefaultLockoutDuration is how long a lockout lasts.
	DefaultLockoutDuration = 30 * time.Minute
	// MinLockoutDuration is the shortest lockout PCI DSS 8.3.4 allows.
	MinLockoutDuration = 30 * time.Minute
	// MaxLockoutDuration is the longest lockout Parley accepts: longer ones lock
	// users out for days on an attacker's say-so (an administrator can unlock
	// sooner, never later).
	MaxLockoutDuration = 24 * time.Hour
	// DefaultDisableAfter is how many failures, over the account's lifetime,
	// disable it.
	DefaultDisableAfter = 100
	// MaxDisableAfter is the most failures NIST SP 800-63B allows before the
	// authenticator is disabled.
	MaxDisableAfter = 100
	// DefaultIPWindow is the window over which failures from one client IP
	// are counted.
	DefaultIPWindow = 15 * time.Minute
	// MinIPWindow and MaxIPWindow bound IPWindow.
	MinIPWindow, MaxIPWindow = time.Minute, 24 * time.Hour
	// DefaultIPCaptchaAfter is how many failures from one client IP in a
	// window make a CAPTCHA required for every sign-in from it.
	DefaultIPCaptchaAfter = 10
	// MaxIPCaptchaAfter is the most failures from one client IP in a window
	// Parley lets pass before a CAPTCHA is required.
	MaxIPCaptchaAfter = 1000
	// DefaultIPThrottleAfter is how many failures from one client IP in a
	// window refuse further sign-ins from it until the window ends.
	DefaultIPThrottleAfter = 50
	// MaxIPThrottleAfter is the most failures from one client IP in a window
	// Parley lets pass before the address is throttled.
	MaxIPThrottleAfter = 5000
)

// ErrInvalidPolicy reports a sign-in or session policy that is inconsistent or
// below the PCI DSS or NIST limits; the error is a *PolicyError.
var ErrInvalidPolicy = errors.New("signin: invalid policy")

// Policy is a tenant's sign-in defence. Counts are attempts, durations are
// wall-clock time.
type Policy struct {
	// CaptchaAfter is how many consecutive failures of an account make a
	// CAPTCHA required for its next attempt; at most LockoutThreshold.
	CaptchaAfter int
	// LockoutThreshold is how many consecutive failures lock the account;
	// 1 to 10 (PCI DSS 8.3.4). Every further run of as many failures locks it
	// again.
	LockoutThreshold int
	// LockoutDuration is how long a lockout lasts unless an administrator
	// unlocks the account; 30 minutes (PCI DSS 8.3.4) to 24 hours.
	LockoutDuration time.Duration
	// DisableAfter is how many failures over the account's lifetime — never
	// reset by a success or by time — disable the account; from
	// LockoutThreshold to 100 (NIST SP 800-63B).
	DisableAfter int
	// IPWindow is the fixed window over which failures from one client IP
	// are counted.
	IPWindow time.Duration
	// IPCaptchaAfter is how many failures from a client IP in a window make
	// a CAPTCHA required for every sign-in from it; 1 to 1000.
	IPCaptchaAfter int
	// IPThrottleAfter is how many failures from a client IP in a window
	// refuse sign-ins from it until the window ends; from IPCaptchaAfter to
	// 5000.
	IPThrottleAfter int
}

// DefaultPolicy returns the sign-in defence Parley ships: CAPTCHA from 5
// consecutive failures, a 30-minute lockout at 10, disabling at 100 lifetime
// failures, and per-IP CAPTCHA at 10 and throttling at 50 failures in 15 minutes.
func DefaultPolicy() Policy {
	return Policy{
		CaptchaAfter:     DefaultCaptchaAfter,
		LockoutThreshold: DefaultLockoutThreshold,
		LockoutDuration:  DefaultLockoutDuration,
		DisableAfter:     DefaultDisableAfter,
		IPWindow:         DefaultIPWindow,
		IPCaptchaAfter:   DefaultIPCaptchaAfter,
		IPThrottleAfter:  DefaultIPThrottleAfter,
	}
}

// Validate reports every problem of the policy as a *PolicyError wrapping
// ErrInvalidPolicy.
func (p Policy) Validate() error {
	var probs problems
	if p.LockoutThreshold < 1 || p.LockoutThreshold > MaxLockoutThreshold {
		probs.add("lockout_threshold", "Lock an account after 1 to %d failed attempts; the setting is %d (PCI DSS 8.3.4).",
			MaxLockoutThreshold, p.LockoutThreshold)
	}
	if p.CaptchaAfter < 1 || (p.LockoutThreshold >= 1 && p.CaptchaAfter > p.LockoutThreshold) {
		probs.add("captcha_after", "Require a CAPTCHA after 1 to %d failed attempts, no later than the lockout; the setting is %d.",
			max(p.LockoutThreshold, 1), p.CaptchaAfter)
	}
	if p.LockoutDuration < MinLockoutDuration || p.LockoutDuration > MaxLockoutDuration {
		probs.add("lockout_duration", "Lock an account for %s to %s; the setting is %s (PCI DSS 8.3.4).",
			minutes(MinLockoutDuration), minutes(MaxLockoutDuration), minutes(p.LockoutDuration))
	}
	if p.DisableAfter > MaxDisableAfter || p.DisableAfter < max(p.LockoutThreshold, 1) {
		probs.add("disable_after", "Disable an account after at most %d failed attempts in all, and no fewer than the lockout threshold; the setting is %d (NIST SP 800-63B).",
			MaxDisableAfter, p.DisableAfter)
	}
	if p.IPWindow < MinIPWindow || p.IPWindow > MaxIPWindow {
		probs.add("ip_window", "Count failures per address over %s to %s; the setting is %s.",
			minutes(MinIPWindow), minutes(MaxIPWindow), minutes(p.IPWindow))
	}
	if p.IPCaptchaAfter < 1 || p.IPCaptchaAfter > MaxIPCaptchaAfter {
		probs.add("ip_captcha_after", "Require a CAPTCHA from an address after 1 to %d failed attempts; the setting is %d.",
			MaxIPCaptchaAfter, p.IPCaptchaAfter)
	}
	switch {
	case p.IPThrottleAfter > MaxIPThrottleAfter:
		probs.add("ip_throttle_after", "Throttle an address after %d to %d failed attempts; the setting is %d.",
			max(p.IPCaptchaAfter, 1), MaxIPThrottleAfter, p.IPThrottleAfter)
	case p.IPThrottleAfter < max(p.IPCaptchaAfter, 1):
		probs.add("ip_throttle_after", "Throttle an address no sooner than it must solve a CAPTCHA (%d failures); the setting is %d.",
			p.IPCaptchaAfter, p.IPThrottleAfter)
	}
	return probs.err()
}

// Problem is one reason a policy is not acceptable; Field is the setting at fault, in snake
// case ("lockout_threshold").
type Problem = policy.Problem

// PolicyError lists every Problem of a Policy or SessionPolicy; errors.Is matches it against
// ErrInvalidPolicy. It is the policy.PolicyError every policy package reports, so callers handle
// them alike.
type PolicyError = policy.PolicyError

type problems []Problem

func (ps *problems) add(field, format string, args ...any) {
	*ps = append(*ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &PolicyError{Invalid: ErrInvalidPolicy, Problems: ps}
}

// minutes renders a duration for administrators: "30 minutes", "12 hours",
// "90 days".
func minutes(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	default:
		return d.String()
	}
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
