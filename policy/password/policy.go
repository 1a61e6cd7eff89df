// Package password decides whether a password is acceptable under a tenant's
// password policy, and when a password expires or may be changed again.
//
// It covers every knob Comm100 offers (length, character classes, common
// passwords, username ban, expiry, change frequency, reset limits) and the two
// named profiles Parley ships: ProfilePCIDSS4 (PCI DSS v4.0.1 8.3.6, 8.3.7,
// 8.3.9) and ProfileNIST80063B (NIST SP 800-63B). Passwords are compared after
// Normalize (NFKC), which callers must use both when setting and when verifying
// a password. Hashing and the storage of previous hashes live elsewhere; this
// package only asks the caller, through HistoryChecker, whether a candidate
// matches one of them.
package password

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/policy"
)

// Profile names a password policy profile a tenant can choose.
type Profile string

// The profiles Parley ships.
const (
	// ProfilePCIDSS4 follows PCI DSS v4.0.1 requirement 8.3: at least 12
	// characters with letters and digits, not one of the last 4 passwords,
	// and a 90-day expiry unless MFA is enforced.
	ProfilePCIDSS4 Profile = "pci-dss-4"
	// ProfileNIST80063B follows NIST SP 800-63B: at least 15 characters when
	// the password is the only factor (8 with MFA), no composition rules, no
	// periodic change, and a mandatory blocklist.
	ProfileNIST80063B Profile = "nist-800-63b"
	// ProfileCustom is a tenant's own policy; it is only checked for
	// consistency and Parley's absolute floors.
	ProfileCustom Profile = "custom"
)

// Limits that hold for every policy, whatever its profile.
const (
	// MaxBytes is the hard cap on a password's size in bytes, before and
	// after normalization. Longer input is rejected before any other work.
	MaxBytes = 1024
	// FloorLength is the shortest minimum length any policy may set (the
	// NIST SP 800-63B absolute minimum).
	FloorLength = 8
	// DefaultMaxLength is the maximum length, in characters, of the shipped
	// profiles; NIST SP 800-63B asks for at least 64.
	DefaultMaxLength = 128
	// NISTMinMaxLength is the smallest MaxLength a NIST profile may set.
	NISTMinMaxLength = 64
	// MaxHistoryDepth bounds HistoryDepth: each remembered password costs one
	// hash comparison on every change.
	MaxHistoryDepth = 24
	// MaxMinLength bounds MinLength (and MinLengthWithMFA): a longer minimum
	// than the shipped maximum length would leave nobody a valid password.
	MaxMinLength = DefaultMaxLength
	// MaxExpiry bounds MaxAge: a password expires after at most a year, when
	// it expires at all.
	MaxExpiry = 365 * Day
	// MaxMinAge bounds MinAge: a user who fears a password is known must be
	// able to change it within a week.
	MaxMinAge = 7 * Day
	// MaxResetsLimit bounds MaxResetsPerDay when it is set (zero: unlimited).
	MaxResetsLimit = 10
	// Day is 24 hours, the unit of the profiles' ages.
	Day = 24 * time.Hour
)

// Sentinel errors of the password package.
var (
	// ErrTooLong reports a password over MaxBytes.
	ErrTooLong = errors.New("password: longer than 1024 bytes")
	// ErrInvalidUTF8 reports a password that is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("password: not valid UTF-8")
	// ErrInvalidPolicy reports a policy that is inconsistent or below
	// Parley's floors.
	ErrInvalidPolicy = errors.New("password: invalid policy")
	// ErrBelowProfile reports a policy weaker than the profile it claims.
	ErrBelowProfile = errors.New("password: policy weaker than its profile")
	// ErrUnknownProfile reports a profile name Parley does not ship.
	ErrUnknownProfile = errors.New("password: unknown profile")
	// ErrNoBlocklist reports a policy that bans common passwords evaluated
	// without a Blocklist.
	ErrNoBlocklist = errors.New("password: common-password ban without a blocklist")
	// ErrNoHistory reports a policy with a history depth evaluated without a
	// HistoryChecker.
	ErrNoHistory = errors.New("password: history depth without a history checker")
	// ErrHistory wraps a failure of the HistoryChecker.
	ErrHistory = errors.New("password: history check failed")
)

// Policy is a tenant's password policy. Lengths count characters (Unicode code
// points) after Normalize. A zero duration or count disables its rule.
type Policy struct {
	// Profile is the profile this policy claims; Validate holds a named
	// profile's policy to at least that profile's requirements.
	Profile Profile
	// MinLength is the minimum length when the password is the only factor.
	MinLength int
	// MinLengthWithMFA, when not zero, replaces MinLength for users who must
	// also present a second factor (NIST SP 800-63B allows 8).
	MinLengthWithMFA int
	// MaxLength is the maximum length; zero means only MaxBytes applies.
	MaxLength int
	// RequireUpper asks for an upper-case letter.
	RequireUpper bool
	// RequireLower asks for a lower-case letter.
	RequireLower bool
	// RequireDigit asks for a digit.
	RequireDigit bool
	// RequireSpecial asks for a character that is neither a letter nor a
	// digit (punctuation, symbol or space).
	RequireSpecial bool
	// RequireLetterAndDigit asks for at least one letter and one digit
	// (PCI DSS 8.3.6 "numeric and alphabetic").
	RequireLetterAndDigit bool
	// BanCommon rejects passwords on the common-password Blocklist.
	BanCommon bool
	// BanPersonal rejects passwords containing the username, the local part
	// of the email address or the tenant name (see Evaluator.Evaluate).
	BanPersonal bool
	// MaxAge is how long a password stays valid; zero means it never expires.
	MaxAge time.Duration
	// ExpiryWaivedWithMFA lifts MaxAge for users who must present a second
	// factor (PCI DSS 8.3.9 applies to single-factor passwords only).
	ExpiryWaivedWithMFA bool
	// MinAge is how long a user must keep a password before changing it
	// again (change frequency). Administrator resets and forced changes are
	// not subject to it.
	MinAge time.Duration
	// HistoryDepth is how many previous passwords may not be reused.
	HistoryDepth int
	// MaxResetsPerDay limits self-service password resets per user per day;
	// zero means unlimited.
	MaxResetsPerDay int
}

// PCIDSS4 returns the pci-dss-4 profile: at least 12 characters with letters
// and digits, common and personal passwords banned, not one of the last 4, a
// 90-day expiry waived when MFA is enforced, a 1-day minimum age and 3 resets
// a day. The minimum age and reset limit are Parley's defaults, not PCI
// requirements.
func PCIDSS4() Policy {
	return Policy{
		Profile:               ProfilePCIDSS4,
		MinLength:             12,
		MaxLength:             DefaultMaxLength,
		RequireLetterAndDigit: true,
		BanCommon:             true,
		BanPersonal:           true,
		MaxAge:                90 * Day,
		ExpiryWaivedWithMFA:   true,
		MinAge:                1 * Day,
		HistoryDepth:          4,
		MaxResetsPerDay:       3,
	}
}

// NIST80063B returns the nist-800-63b profile: at least 15 characters, or 8
// when MFA is enforced, up to 128, no composition rules, no expiry, common and
// personal passwords banned and 3 resets a day (Parley's default).
func NIST80063B() Policy {
	return Policy{
		Profile:          ProfileNIST80063B,
		MinLength:        15,
		MinLengthWithMFA: 8,
		MaxLength:        DefaultMaxLength,
		BanCommon:        true,
		BanPersonal:      true,
		MaxResetsPerDay:  3,
	}
}

// ForProfile returns the shipped policy of a named profile. ProfileCustom
// starts from the pci-dss-4 settings, relabelled custom.
func ForProfile(p Profile) (Policy, error) {
	switch p {
	case ProfilePCIDSS4:
		return PCIDSS4(), nil
	case ProfileNIST80063B:
		return NIST80063B(), nil
	case ProfileCustom:
		c := PCIDSS4()
		c.Profile = ProfileCustom
		return c, nil
	default:
		return Policy{}, fmt.Errorf("%w: %q", ErrUnknownProfile, truncate(string(p), 32))
	}
}

// MinLengthFor returns the minimum length that applies to a user, given
// whether the user must present a second factor.
func (p Policy) MinLengthFor(mfaEnforced bool) int {
	if mfaEnforced && p.MinLengthWithMFA > 0 {
		return p.MinLengthWithMFA
	}
	return p.MinLength
}

// Problem is one reason a Policy is not acceptable; its Err is ErrInvalidPolicy or
// ErrBelowProfile.
type Problem = policy.Problem

// PolicyError lists every Problem of a Policy. errors.Is matches it against ErrInvalidPolicy
// and, when a problem is a shortfall against the claimed profile, ErrBelowProfile. It is the
// policy.PolicyError every policy package reports, so callers handle them alike.
type PolicyError = policy.PolicyError

// Validate reports every problem of the policy as a *PolicyError: settings
// that contradict each other, fall below Parley's floors, or — for a policy
// claiming pci-dss-4 or nist-800-63b — fall short of that profile. A tenant may
// tighten a named profile but never loosen it.
func (p Policy) Validate() error {
	var probs []Problem
	bad := func(field, format string, args ...any) {
		probs = append(probs, Problem{Field: field, Message: fmt.Sprintf(format, args...), Err: ErrInvalidPolicy})
	}
	switch p.Profile {
	case ProfilePCIDSS4, ProfileNIST80063B, ProfileCustom:
	default:
		bad("profile", "Choose one of %s, %s or %s.", ProfilePCIDSS4, ProfileNIST80063B, ProfileCustom)
	}
	if p.MinLength < FloorLength || p.MinLength > MaxMinLength {
		bad("min_length", "The minimum length must be %d to %d characters; it is %d.", FloorLength, MaxMinLength, p.MinLength)
	}
	if p.MinLengthWithMFA != 0 && (p.MinLengthWithMFA < FloorLength || p.MinLengthWithMFA > p.MinLength) {
		bad("min_length_with_mfa", "The minimum length with MFA must be between %d and the minimum length (%d); it is %d.",
			FloorLength, p.MinLength, p.MinLengthWithMFA)
	}
	if p.MaxLength != 0 {
		if p.MaxLength > MaxBytes {
			bad("max_length", "The maximum length must be at most %d characters; it is %d.", MaxBytes, p.MaxLength)
		}
		if p.MaxLength < p.MinLength {
			bad("max_length", "The maximum length (%d) must not be below the minimum length (%d).", p.MaxLength, p.MinLength)
		}
	}
	if p.MaxAge < 0 || p.MaxAge > MaxExpiry {
		bad("max_age", "The expiry must be 0 (never) to %s; it is %s.", days(MaxExpiry), days(p.MaxAge))
	}
	if p.MinAge < 0 || p.MinAge > MaxMinAge {
		bad("min_age", "The minimum age must be 0 to %s; it is %s.", days(MaxMinAge), days(p.MinAge))
	}
	if p.MaxAge > 0 && p.MinAge >= p.MaxAge {
		bad("min_age", "The minimum age (%s) must be shorter than the expiry (%s).", days(p.MinAge), days(p.MaxAge))
	}
	if p.HistoryDepth < 0 || p.HistoryDepth > MaxHistoryDepth {
		bad("history_depth", "The history depth must be between 0 and %d; it is %d.", MaxHistoryDepth, p.HistoryDepth)
	}
	if p.MaxResetsPerDay < 0 || p.MaxResetsPerDay > MaxResetsLimit {
		bad("max_resets_per_day", "The reset limit must be 0 (unlimited) to %d a day; it is %d.", MaxResetsLimit, p.MaxResetsPerDay)
	}
	switch p.Profile {
	case ProfilePCIDSS4:
		probs = append(probs, p.shortOfPCI()...)
	case ProfileNIST80063B:
		probs = append(probs, p.shortOfNIST()...)
	}
	if len(probs) > 0 {
		return &PolicyError{Invalid: ErrInvalidPolicy, Problems: probs}
	}
	return nil
}

// Meets reports, as a *PolicyError wrapping ErrBelowProfile, every way the
// policy falls short of a named profile, whatever profile it claims; nil means
// it meets the profile. Use it to tell a tenant claiming PCI DSS whether its
// custom policy is strong enough.
func (p Policy) Meets(profile Profile) error {
	var probs []Problem
	switch profile {
	case ProfilePCIDSS4:
		probs = p.shortOfPCI()
	case ProfileNIST80063B:
		probs = p.shortOfNIST()
	case ProfileCustom:
	default:
		return fmt.Errorf("%w: %q", ErrUnknownProfile, truncate(string(profile), 32))
	}
	if len(probs) > 0 {
		return &PolicyError{Invalid: ErrInvalidPolicy, Problems: probs}
	}
	return nil
}

func (p Policy) shortOfPCI() []Problem {
	var probs []Problem
	short := func(field, format string, args ...any) {
		probs = append(probs, Problem{Field: field, Message: fmt.Sprintf(format, args...) + " (PCI DSS 8.3)", Err: ErrBelowProfile})
	}
	if p.MinLength < 12 {
		short("min_length", "The minimum length must be at least 12 characters; it is %d.", p.MinLength)
	}
	if p.MinLengthWithMFA != 0 && p.MinLengthWithMFA < 12 {
		short("min_length_with_mfa", "The minimum length with MFA must be at least 12 characters; it is %d.", p.MinLengthWithMFA)
	}
	if !p.RequireLetterAndDigit && !(p.RequireDigit && (p.RequireUpper || p.RequireLower)) {
		short("require_letter_and_digit", "Passwords must contain both letters and digits.")
	}
	if p.HistoryDepth < 4 {
		short("history_depth", "Passwords must differ from at least the last 4; the depth is %d.", p.HistoryDepth)
	}
	if p.MaxAge <= 0 || p.MaxAge > 90*Day {
		short("max_age", "Passwords must expire after at most 90 days (waivable with MFA); the expiry is %s.", days(p.MaxAge))
	}
	return probs
}

func (p Policy) shortOfNIST() []Problem {
	var probs []Problem
	short := func(field, format string, args ...any) {
		probs = append(probs, Problem{Field: field, Message: fmt.Sprintf(format, args...) + " (NIST SP 800-63B)", Err: ErrBelowProfile})
	}
	if p.MinLength < 15 {
		short("min_length", "The minimum length must be at least 15 characters; it is %d.", p.MinLength)
	}
	if p.MaxLength != 0 && p.MaxLength < NISTMinMaxLength {
		short("max_length", "The maximum length must be at least %d characters; it is %d.", NISTMinMaxLength, p.MaxLength)
	}
	if p.RequireUpper || p.RequireLower || p.RequireDigit || p.RequireSpecial || p.RequireLetterAndDigit {
		short("composition", "Character-class rules must be off.")
	}
	if p.MaxAge != 0 {
		short("max_age", "Passwords must not expire periodically; the expiry is %s.", days(p.MaxAge))
	}
	if !p.BanCommon {
		short("ban_common", "Common passwords must be banned.")
	}
	if !p.BanPersonal {
		short("ban_personal", "Passwords containing the username, email or tenant name must be banned.")
	}
	return probs
}

// days renders a duration in whole days and hours for messages.
func days(d time.Duration) string {
	if d == 0 {
		return "none"
	}
	if d%Day == 0 {
		n := int64(d / Day)
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return d.String()
}

// truncate shortens s to at most n bytes at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
