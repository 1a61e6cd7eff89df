package evidence

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/policy/password"
	"github.com/parleyhq/parley/policy/signin"
)

// The limits the checks hold the configuration to.
const (
	// MaxLockoutThreshold and MinLockoutDuration are PCI DSS 8.3.4.
	MaxLockoutThreshold = 10
	MinLockoutDuration  = 30 * time.Minute
	// MaxIdleTimeout is PCI DSS 8.2.8 (HIPAA 164.312(a)(2)(iii)).
	MaxIdleTimeout = 15 * time.Minute
	// MaxInactivity is PCI DSS 8.2.6.
	MaxInactivity = 90 * 24 * time.Hour
	// ReviewMonths is PCI DSS 7.2.4.
	ReviewMonths = 6
	// MaxKeyAge is the cryptoperiod of a tenant key: rotated at least yearly.
	MaxKeyAge = 365 * 24 * time.Hour
	// MinAuditRetention is PCI DSS 10.5.1.
	MinAuditRetention = 365 * 24 * time.Hour
	// MaxScanAge is how recent the last PAN discovery scan must be.
	MaxScanAge = 90 * 24 * time.Hour
	// CertWarning is how soon before expiry a certificate is called out in the evidence.
	CertWarning = 30 * 24 * time.Hour
)

// The check identifiers.
const (
	CheckPasswordPolicy   = "password-policy"
	CheckLockout          = "lockout"
	CheckIdleTimeout      = "idle-timeout"
	CheckMFA              = "mfa-enforced"
	CheckInactiveAccounts = "inactive-accounts"
	CheckAccessReview     = "access-review"
	CheckTLS              = "tls"
	CheckKeyProvider      = "key-provider"
	CheckKeyRotation      = "key-rotation"
	CheckAuditChain       = "audit-chain"
	CheckAuditRetention   = "audit-retention"
	CheckPANScan          = "pan-scan"
	CheckTranscriptEmail  = "transcript-email"
	CheckRetention        = "retention-policies"
	CheckCardMasking      = "card-masking"
	CheckTimeSource       = "time-source"
)

// Checks returns every automated check, in report order.
func Checks() []Check {
	return []Check{
		{CheckPasswordPolicy, "Password policy meets PCI DSS 8.3.6/8.3.7 or NIST SP 800-63B", checkPasswordPolicy},
		{CheckLockout, "Lockout after at most 10 attempts for at least 30 minutes", checkLockout},
		{CheckIdleTimeout, "Idle sessions end within 15 minutes", checkIdleTimeout},
		{CheckMFA, "MFA enforced for every console user", checkMFA},
		{CheckInactiveAccounts, "No account inactive for more than 90 days", checkInactive},
		{CheckAccessReview, "Access review signed off within six months", checkAccessReview},
		{CheckTLS, "TLS in transit, or a trusted TLS proxy declared", checkTLS},
		{CheckKeyProvider, "Key provider is Vault, not the development provider", checkKeyProvider},
		{CheckKeyRotation, "Organisation key rotated within its cryptoperiod", checkKeyRotation},
		{CheckAuditChain, "Audit chain verifies and its checkpoints are signed", checkAuditChain},
		{CheckAuditRetention, "Audit retention at least 12 months, forwarding configured", checkAuditRetention},
		{CheckPANScan, "Last PAN discovery scan is clean and recent", checkPANScan},
		{CheckTranscriptEmail, "Transcript e-mail is off on every site", checkTranscriptEmail},
		{CheckRetention, "Retention periods are set", checkRetention},
		{CheckCardMasking, "Card numbers masked; secure card form available", checkCardMasking},
		{CheckTimeSource, "Clock synchronised, timestamps in UTC", checkTimeSource},
	}
}

// CheckByID returns the check with the id.
func CheckByID(id string) (Check, bool) {
	for _, c := range Checks() {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// PasswordGaps lists how a password policy falls short of PCI DSS 8.3.6/8.3.7, or of NIST SP
// 800-63B under the nist-800-63b profile (nil: it meets them). The password-policy check and the
// compliance mode's refusals both use it, so they never disagree.
func PasswordGaps(pw password.Policy) []string {
	var gaps []string
	switch pw.Profile {
	case password.ProfileNIST80063B:
		if pw.MinLength < 15 {
			gaps = append(gaps, fmt.Sprintf("single-factor minimum length %d is below 15", pw.MinLength))
		}
		if pw.MinLengthWithMFA != 0 && pw.MinLengthWithMFA < 8 {
			gaps = append(gaps, fmt.Sprintf("minimum length with MFA %d is below 8", pw.MinLengthWithMFA))
		}
		if !pw.BanCommon {
			gaps = append(gaps, "common and compromised passwords are not refused")
		}
	default:
		if pw.MinLength < 12 {
			gaps = append(gaps, fmt.Sprintf("minimum length %d is below 12 (8.3.6)", pw.MinLength))
		}
		if !pw.RequireLetterAndDigit && !(pw.RequireDigit && (pw.RequireUpper || pw.RequireLower)) {
			gaps = append(gaps, "letters and digits are not both required (8.3.6)")
		}
		if pw.HistoryDepth < 4 {
			gaps = append(gaps, fmt.Sprintf("only the last %d passwords are refused; 8.3.7 asks for 4", pw.HistoryDepth))
		}
	}
	return gaps
}

func checkPasswordPolicy(ctx context.Context, in Input) Result {
	p, err := in.Accounts.Policies(ctx, in.Tenant)
	if err != nil {
		return errorResult("the password policy", err)
	}
	pw := p.Password
	gaps := PasswordGaps(pw)
	desc := fmt.Sprintf("profile %s: minimum %d characters, history %d, common passwords refused: %t", pw.Profile, pw.MinLength, pw.HistoryDepth, pw.BanCommon)
	if len(gaps) > 0 {
		return Result{Status: Fail, Evidence: desc + "; below the requirement", Details: gaps}
	}
	return Result{Status: Pass, Evidence: desc}
}

// LockoutGaps lists how a sign-in policy falls short of PCI DSS 8.3.4: lock after at most 10
// failures, for at least 30 minutes (nil: it meets it).
func LockoutGaps(s signin.Policy) []string {
	var gaps []string
	if s.LockoutThreshold < 1 || s.LockoutThreshold > MaxLockoutThreshold {
		gaps = append(gaps, fmt.Sprintf("lockout threshold %d is not between 1 and %d", s.LockoutThreshold, MaxLockoutThreshold))
	}
	if s.LockoutDuration < MinLockoutDuration {
		gaps = append(gaps, fmt.Sprintf("lockout of %s is shorter than %s", s.LockoutDuration, MinLockoutDuration))
	}
	return gaps
}

// IdleGaps lists how a session policy's idle timeout falls short of PCI DSS 8.2.8 (HIPAA
// 164.312(a)(2)(iii)): at most 15 minutes (nil: it meets it).
func IdleGaps(s signin.SessionPolicy) []string {
	if s.IdleTimeout <= 0 || s.IdleTimeout > MaxIdleTimeout {
		return []string{fmt.Sprintf("the idle timeout must be at most %s", MaxIdleTimeout)}
	}
	return nil
}

// InactivityGaps lists how a session policy falls short of PCI DSS 8.2.6: unused accounts
// disabled automatically within 90 days (nil: it meets it).
func InactivityGaps(s signin.SessionPolicy) []string {
	if s.InactiveAfter <= 0 || s.InactiveAfter > MaxInactivity {
		return []string{fmt.Sprintf("accounts are not disabled automatically within 90 days (setting: %s)", s.InactiveAfter)}
	}
	return nil
}

func checkLockout(ctx context.Context, in Input) Result {
	p, err := in.Accounts.Policies(ctx, in.Tenant)
	if err != nil {
		return errorResult("the sign-in policy", err)
	}
	s := p.SignIn
	desc := fmt.Sprintf("accounts lock after %d failed attempts for %s", s.LockoutThreshold, s.LockoutDuration)
	if gaps := LockoutGaps(s); len(gaps) > 0 {
		return Result{Status: Fail, Evidence: desc, Details: gaps}
	}
	return Result{Status: Pass, Evidence: desc}
}

func checkIdleTimeout(ctx context.Context, in Input) Result {
	p, err := in.Accounts.Policies(ctx, in.Tenant)
	if err != nil {
		return errorResult("the session policy", err)
	}
	t := p.Session.IdleTimeout
	desc := fmt.Sprintf("idle sessions end after %s (absolute limit %s)", t, p.Session.AbsoluteTimeout)
	if gaps := IdleGaps(p.Session); len(gaps) > 0 {
		return Result{Status: Fail, Evidence: desc, Details: gaps}
	}
	return Result{Status: Pass, Evidence: desc}
}

// active reports whether a person can sign in (invited and disabled accounts cannot).
func active(p Person) bool { return p.Status == "active" || p.Status == "locked" }

// MFAExempt lists the active console users the MFA policy does not require a second factor of
// (PCI DSS 8.4.1-8.4.3, HIPAA 164.312(d)); nil when it requires one of everybody who can sign in.
func MFAExempt(people []Person) []string {
	var out []string
	for _, p := range people {
		if active(p) && !p.MFAEnforced {
			out = append(out, p.Label()+": MFA not required by the policy")
		}
	}
	return out
}

func checkMFA(ctx context.Context, in Input) Result {
	people, err := in.Accounts.People(ctx, in.Tenant)
	if err != nil {
		return errorResult("the console users", err)
	}
	var n int
	exceptions := MFAExempt(people)
	for _, p := range people {
		if !active(p) {
			continue
		}
		n++
		if p.MFAEnforced && !p.MFAEnabled {
			exceptions = append(exceptions, p.Label()+": MFA required but not enrolled")
		}
	}
	if len(exceptions) > 0 {
		return Result{Status: Fail, Evidence: fmt.Sprintf("%d of %d active console users without enforced MFA", len(exceptions), n), Details: exceptions}
	}
	return Result{Status: Pass, Evidence: fmt.Sprintf("all %d active console users must and do present a second factor", n)}
}

func checkInactive(ctx context.Context, in Input) Result {
	p, err := in.Accounts.Policies(ctx, in.Tenant)
	if err != nil {
		return errorResult("the session policy", err)
	}
	people, err := in.Accounts.People(ctx, in.Tenant)
	if err != nil {
		return errorResult("the console users", err)
	}
	var stale []string
	for _, u := range people {
		if active(u) && !u.LastActive.IsZero() && in.Now.Sub(u.LastActive) > MaxInactivity {
			stale = append(stale, fmt.Sprintf("%s: last active %s", u.Label(), u.LastActive.UTC().Format(time.DateOnly)))
		}
	}
	stale = append(stale, InactivityGaps(p.Session)...)
	if len(stale) > 0 {
		return Result{Status: Fail, Evidence: "accounts unused for more than 90 days can still sign in", Details: stale}
	}
	return Result{Status: Pass, Evidence: fmt.Sprintf("no active account unused for more than 90 days; unused accounts are disabled after %d days", int(p.Session.InactiveAfter/(24*time.Hour)))}
}

func checkAccessReview(ctx context.Context, in Input) Result {
	st, err := in.Reviews.ReviewStatus(ctx, in.Tenant)
	if err != nil {
		return errorResult("the access reviews", err)
	}
	if st.LastSignedOff == nil {
		return Result{Status: Fail, Evidence: "no access review has been signed off"}
	}
	last := st.LastSignedOff.UTC()
	desc := "last access review signed off " + last.Format(time.DateOnly)
	if in.Now.After(last.AddDate(0, ReviewMonths, 0)) {
		return Result{Status: Fail, Evidence: desc + ", more than six months ago"}
	}
	return Result{Status: Pass, Evidence: desc + "; next due " + last.AddDate(0, ReviewMonths, 0).Format(time.DateOnly)}
}

func checkTLS(_ context.Context, in Input) Result {
	p := in.Platform
	if p.TLS {
		desc := "TLS terminated by Parley, minimum version " + p.TLSMinVersion
		if !p.CertNotAfter.IsZero() {
			desc += ", certificate valid until " + p.CertNotAfter.UTC().Format(time.DateOnly)
			if !in.Now.Before(p.CertNotAfter) {
				return Result{Status: Fail, Evidence: desc, Details: []string{"the certificate has expired"}}
			}
			if p.CertNotAfter.Sub(in.Now) < CertWarning {
				return Result{Status: Pass, Evidence: desc, Details: []string{"the certificate expires within 30 days"}}
			}
		}
		return Result{Status: Pass, Evidence: desc}
	}
	if strings.HasPrefix(p.PublicURL, "https://") && len(p.TrustedProxies) > 0 {
		return Result{Status: Pass, Evidence: "TLS terminated by a trusted proxy (" + strings.Join(p.TrustedProxies, ", ") + ") for " + p.PublicURL,
			Details: []string{"the proxy's TLS configuration is attested by the customer"}}
	}
	return Result{Status: Fail, Evidence: "Parley serves plain HTTP and no trusted TLS proxy is declared (PARLEY_TLS_CERT or PARLEY_TRUSTED_PROXIES with an https:// PARLEY_PUBLIC_URL)"}
}

// KeyProviderGaps lists how the installation's key provider falls short: keys must be held by
// Vault transit, not the development provider (PCI DSS 3.5.1, HIPAA 164.312(a)(2)(iv)).
func KeyProviderGaps(p Platform) []string {
	if p.KeyProvider == "vault" && p.KeyProviderProduction {
		return nil
	}
	return []string{fmt.Sprintf("key provider %q is not a production provider; configure Vault (VAULT_ADDR)", p.KeyProvider)}
}

func checkKeyProvider(_ context.Context, in Input) Result {
	if gaps := KeyProviderGaps(in.Platform); len(gaps) > 0 {
		return Result{Status: Fail, Evidence: gaps[0]}
	}
	return Result{Status: Pass, Evidence: "keys are held by HashiCorp Vault transit"}
}

func checkKeyRotation(ctx context.Context, in Input) Result {
	k, err := in.Keys.KeyStatus(ctx, in.Tenant)
	if err != nil {
		return errorResult("the key status", err)
	}
	since, what := k.LastRotation, "last rotated"
	if since.IsZero() {
		since, what = k.Created, "created"
	}
	desc := fmt.Sprintf("key version %d, min_decryption_version %d", k.LatestVersion, k.MinDecryptionVersion)
	var details []string
	if k.NeedRewrap > 0 {
		details = append(details, fmt.Sprintf("%d data keys still wrapped by an older version (run `parley keys rewrap`)", k.NeedRewrap))
	}
	if since.IsZero() {
		return Result{Status: Fail, Evidence: desc + "; when the key was made or rotated is not known", Details: details}
	}
	age := in.Now.Sub(since)
	desc += fmt.Sprintf(", %s %s (%d days ago)", what, since.UTC().Format(time.DateOnly), int(age/(24*time.Hour)))
	if age > MaxKeyAge {
		return Result{Status: Fail, Evidence: desc, Details: append(details, "the key is older than its 12-month cryptoperiod; run `parley keys rotate`")}
	}
	return Result{Status: Pass, Evidence: desc, Details: details}
}

func checkAuditChain(ctx context.Context, in Input) Result {
	c, err := in.Audit.VerifyChain(ctx, in.Tenant)
	if err != nil {
		return errorResult("the audit chain", err)
	}
	if !c.Intact {
		return Result{Status: Fail, Evidence: "the audit chain is DAMAGED: " + c.Damage}
	}
	desc := fmt.Sprintf("audit chain intact: %d events recomputed (seq %d–%d), %d checkpoint signatures verified", c.Events, c.FromSeq, c.ToSeq, c.Checkpoints)
	if c.ToSeq > 0 && c.Checkpoints == 0 {
		return Result{Status: Fail, Evidence: desc, Details: []string{"no signed checkpoint covers the chain"}}
	}
	return Result{Status: Pass, Evidence: desc}
}

// AuditRetentionGaps lists how the installation's audit retention and forwarding fall short of
// PCI DSS 10.5.1 (12 months) and 10.3.3 (a central copy).
func AuditRetentionGaps(p Platform) []string {
	var gaps []string
	if p.AuditRetention < MinAuditRetention {
		gaps = append(gaps, "retention is shorter than 12 months (10.5.1)")
	}
	if len(p.AuditForwarding) == 0 {
		gaps = append(gaps, "events are not forwarded to a central store (10.3.3; PARLEY_AUDIT_FORWARD_*)")
	}
	return gaps
}

func checkAuditRetention(_ context.Context, in Input) Result {
	p := in.Platform
	days := int(p.AuditRetention / (24 * time.Hour))
	desc := fmt.Sprintf("audit events kept online %d days", days)
	if len(p.AuditForwarding) > 0 {
		desc += "; forwarded to " + strings.Join(p.AuditForwarding, ", ")
	}
	if gaps := AuditRetentionGaps(p); len(gaps) > 0 {
		return Result{Status: Fail, Evidence: desc, Details: gaps}
	}
	return Result{Status: Pass, Evidence: desc}
}

func checkPANScan(ctx context.Context, in Input) Result {
	s, err := in.Scans.LastScan(ctx)
	if err != nil {
		return errorResult("the PAN discovery scans", err)
	}
	if !s.Found {
		return Result{Status: Fail, Evidence: "no PAN discovery scan on record; run `parley scan`"}
	}
	desc := fmt.Sprintf("last scan finished %s: %d locations, %d card numbers found (outcome %s)", s.FinishedAt.UTC().Format(time.RFC3339), s.Locations, s.Findings, s.Outcome)
	var gaps []string
	if s.Findings > 0 {
		gaps = append(gaps, "card numbers were found")
	}
	if s.Outcome != "" && s.Outcome != "clean" {
		gaps = append(gaps, "the scan did not finish clean")
	}
	if in.Now.Sub(s.FinishedAt) > MaxScanAge {
		gaps = append(gaps, "the last scan is more than 90 days old")
	}
	if len(gaps) > 0 {
		return Result{Status: Fail, Evidence: desc, Details: gaps}
	}
	return Result{Status: Pass, Evidence: desc}
}

// TranscriptEmailOn lists the sites that e-mail transcripts (PCI DSS 4.2.2, HIPAA
// 164.312(e)(1)): e-mail is not a secured end-user channel for chat content.
func TranscriptEmailOn(sites []Site) []string {
	var on []string
	for _, s := range sites {
		if s.TranscriptEmail {
			on = append(on, s.Name)
		}
	}
	return on
}

func checkTranscriptEmail(ctx context.Context, in Input) Result {
	sites, err := in.Sites.Sites(ctx, in.Tenant)
	if err != nil {
		return errorResult("the sites", err)
	}
	if on := TranscriptEmailOn(sites); len(on) > 0 {
		return Result{Status: Fail, Evidence: fmt.Sprintf("transcript e-mail is on for %d of %d sites", len(on), len(sites)), Details: on}
	}
	return Result{Status: Pass, Evidence: fmt.Sprintf("transcript e-mail is off on all %d sites", len(sites))}
}

func checkRetention(ctx context.Context, in Input) Result {
	ps, err := in.Retention.RetentionPeriods(ctx, in.Tenant)
	if err != nil {
		return errorResult("the retention periods", err)
	}
	if len(ps) == 0 {
		return Result{Status: Fail, Evidence: "no retention periods are set"}
	}
	var parts, gaps []string
	for _, p := range ps {
		if p.Days <= 0 {
			gaps = append(gaps, p.Kind+": kept until deleted by hand")
			continue
		}
		s := fmt.Sprintf("%s %d days", p.Kind, p.Days)
		if p.Default {
			s += " (default)"
		}
		parts = append(parts, s)
	}
	if len(gaps) > 0 {
		return Result{Status: Fail, Evidence: "some data has no retention period", Details: gaps}
	}
	return Result{Status: Pass, Evidence: "retention periods: " + strings.Join(parts, ", ")}
}

func checkCardMasking(ctx context.Context, in Input) Result {
	mode, err := in.Sites.MaskMode(ctx, in.Tenant)
	if err != nil {
		return errorResult("the masking mode", err)
	}
	var gaps []string
	if !slices.Contains([]string{"bin_last4", "last4"}, mode) {
		gaps = append(gaps, fmt.Sprintf("masking mode %q is not a PCI DSS 3.4.1 mode", mode))
	}
	if !in.Platform.SecureForm {
		gaps = append(gaps, "the secure card form is not available")
	}
	desc := "card numbers in chat are masked (" + mode + ")"
	if in.Platform.SecureForm {
		desc += "; the secure card form is available"
	}
	if len(gaps) > 0 {
		return Result{Status: Fail, Evidence: desc, Details: gaps}
	}
	return Result{Status: Pass, Evidence: desc}
}

func checkTimeSource(_ context.Context, in Input) Result {
	p := in.Platform
	if p.TimeZone != "UTC" {
		return Result{Status: Fail, Evidence: "timestamps are written in " + p.TimeZone + ", not UTC"}
	}
	switch {
	case p.ClockSynchronized == nil:
		return Result{Status: Manual, Evidence: "timestamps are UTC; whether the host clock is synchronised could not be read — attest the NTP configuration"}
	case !*p.ClockSynchronized:
		return Result{Status: Fail, Evidence: "timestamps are UTC, but the kernel reports the clock unsynchronised"}
	}
	return Result{Status: Pass, Evidence: "timestamps are UTC and the kernel reports the clock synchronised"}
}
