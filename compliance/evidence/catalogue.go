package evidence

import "fmt"

// Framework is a compliance framework a report is made for.
type Framework string

// The frameworks.
const (
	PCI   Framework = "pci"
	HIPAA Framework = "hipaa"
)

// ParseFramework reads "pci" or "hipaa".
func ParseFramework(s string) (Framework, error) {
	switch Framework(s) {
	case PCI, HIPAA:
		return Framework(s), nil
	}
	return "", fmt.Errorf("unknown framework %q (pci or hipaa)", s)
}

// Name is the framework's full name.
func (f Framework) Name() string {
	switch f {
	case PCI:
		return "PCI DSS v4.0.1"
	case HIPAA:
		return "HIPAA Security Rule (45 CFR 164)"
	}
	return string(f)
}

// Control is one requirement (PCI DSS) or section (HIPAA) Parley supports.
type Control struct {
	ID        string    `json:"id"`
	Framework Framework `json:"framework"`
	Title     string    `json:"title"`
	// Parley is what Parley does for the control.
	Parley string `json:"parley"`
	// Checks are the automated checks' ids; Manual the items the customer must attest.
	Checks []string `json:"checks"`
	Manual []string `json:"manual"`
}

// Catalogue returns the controls of a framework, in the standard's order.
func Catalogue(f Framework) []Control {
	var out []Control
	for _, c := range catalogue {
		if c.Framework == f {
			out = append(out, c)
		}
	}
	return out
}

var catalogue = []Control{
	// PCI DSS v4.0.1
	{ID: "3.3.1", Framework: PCI, Title: "Sensitive authentication data is not stored after authorization",
		Parley: "Card numbers typed in chat are masked before storage; CVV is only ever entered in the secure card form, which keeps card data in memory and never writes it to the database or the logs.",
		Checks: []string{CheckPANScan, CheckCardMasking},
		Manual: []string{"Agents are instructed never to ask for the CVV in chat.", "Crash dumps and debug output of the host are disabled or scrubbed."}},
	{ID: "3.4.1", Framework: PCI, Title: "PAN is masked when displayed",
		Parley: "Every card number in chat, visitor data, logs and audit details is masked to BIN and last four or last four only; no role sees more.",
		Checks: []string{CheckCardMasking}},
	{ID: "3.5.1", Framework: PCI, Title: "PAN is rendered unreadable wherever it is stored",
		Parley: "Content is sealed with per-conversation data keys wrapped by the organisation's key; the PAN discovery scan proves no card number is stored in clear; retention limits what is kept.",
		Checks: []string{CheckPANScan, CheckKeyProvider, CheckKeyRotation, CheckRetention},
		Manual: []string{"Database backups are encrypted and access to them is restricted."}},
	{ID: "4.2.1", Framework: PCI, Title: "Strong cryptography protects data in transit",
		Parley: "Parley serves TLS 1.2 or later with the configured certificate, or runs behind a declared TLS proxy; the widget refuses plain HTTP origins.",
		Checks: []string{CheckTLS},
		Manual: []string{"The TLS proxy (when used) allows only TLS 1.2 or later with trusted certificates."}},
	{ID: "4.2.2", Framework: PCI, Title: "PAN sent via end-user messaging is secured",
		Parley: "Card numbers are masked in the chat stream, the secure card form carries card data outside the chat, and transcript e-mail is off.",
		Checks: []string{CheckCardMasking, CheckTranscriptEmail}},
	{ID: "7.2.1-7.2.3", Framework: PCI, Title: "Access is assigned by job function with least privilege",
		Parley: "Roles map to job functions; every route is guarded by a catalogued permission; role assignments are audited.",
		Manual: []string{"Role assignments are approved by authorised personnel."}},
	{ID: "7.2.4", Framework: PCI, Title: "User accounts and privileges are reviewed every six months",
		Parley: "Access reviews list every user, role and privileged permission and are signed off in the console.",
		Checks: []string{CheckAccessReview}},
	{ID: "8.2.1-8.2.2", Framework: PCI, Title: "Unique user IDs; no shared accounts",
		Parley: "Every console user signs in with their own e-mail address; the audit log names the user of every action.",
		Manual: []string{"No console account is shared between people."}},
	{ID: "8.2.6", Framework: PCI, Title: "Inactive accounts are disabled within 90 days",
		Parley: "Accounts unused for the configured period (at most 90 days) are disabled automatically.",
		Checks: []string{CheckInactiveAccounts}},
	{ID: "8.2.8", Framework: PCI, Title: "Sessions idle more than 15 minutes require re-authentication",
		Parley: "Console sessions end after the idle timeout (at most 15 minutes under the PCI limits).",
		Checks: []string{CheckIdleTimeout}},
	{ID: "8.3.4", Framework: PCI, Title: "Accounts lock after at most 10 invalid attempts for at least 30 minutes",
		Parley: "Sign-in failures lock the account; CAPTCHA and per-IP throttling slow guessing.",
		Checks: []string{CheckLockout}},
	{ID: "8.3.6-8.3.7", Framework: PCI, Title: "Passwords of at least 12 characters with letters and digits; not one of the last 4",
		Parley: "The pci-dss-4 password profile enforces length, composition, history and a blocklist; the NIST profile is offered where MFA covers all access.",
		Checks: []string{CheckPasswordPolicy}},
	{ID: "8.4.1-8.4.3", Framework: PCI, Title: "MFA for all access into the cardholder data environment",
		Parley: "TOTP second factor, never accepted twice; the organisation's policy can require it for everyone.",
		Checks: []string{CheckMFA},
		Manual: []string{"Server shell and database access is protected by MFA outside Parley."}},
	{ID: "10.2.1-10.2.2", Framework: PCI, Title: "Audit logs record user activity with the required fields",
		Parley: "Every access, administrative action, denial and credential change is written to a hash-chained audit log with user, action, time, outcome, origin and target.",
		Checks: []string{CheckAuditChain}},
	{ID: "10.3.1-10.3.4", Framework: PCI, Title: "Audit logs are protected from modification and copied to a central store",
		Parley: "The chain is verified continuously and signed at checkpoints; events are forwarded to syslog or a file.",
		Checks: []string{CheckAuditChain, CheckAuditRetention}},
	{ID: "10.4.1", Framework: PCI, Title: "Security events are reviewed daily",
		Parley: "Audit search and alerts in the console; chain damage raises an alert.",
		Manual: []string{"Someone reviews the audit log and alerts at least daily."}},
	{ID: "10.5.1", Framework: PCI, Title: "Audit history is kept 12 months, 3 months immediately available",
		Parley: "Events stay online for the configured retention (at least 12 months) and are archived to signed bundles after it.",
		Checks: []string{CheckAuditRetention}},
	{ID: "10.6.1-10.6.3", Framework: PCI, Title: "Clocks are synchronised",
		Parley: "Every timestamp is written in UTC from the host clock.",
		Checks: []string{CheckTimeSource},
		Manual: []string{"Hosts synchronise with designated time servers."}},
	{ID: "10.7.2", Framework: PCI, Title: "Failures of critical security controls are detected and alerted",
		Parley: "Audit write failures refuse the action; chain damage and forwarding failures raise alerts in /readyz and the metrics.",
		Checks: []string{CheckAuditChain},
		Manual: []string{"Alerts from /readyz and /metrics reach an on-call person."}},

	// HIPAA Security Rule
	{ID: "164.312(a)(2)(i)", Framework: HIPAA, Title: "Unique user identification",
		Parley: "Every console user signs in with their own account; the audit log names them.",
		Checks: []string{CheckInactiveAccounts},
		Manual: []string{"No console account is shared between people."}},
	{ID: "164.312(a)(2)(ii)", Framework: HIPAA, Title: "Emergency access procedure",
		Parley: "Break-glass access (`parley allowlist disable`, `parley user unlock`) is time-limited and audited.",
		Manual: []string{"The emergency access procedure is documented and tested."}},
	{ID: "164.312(a)(2)(iii)", Framework: HIPAA, Title: "Automatic logoff",
		Parley: "Console sessions end after the idle timeout.",
		Checks: []string{CheckIdleTimeout}},
	{ID: "164.312(a)(2)(iv)", Framework: HIPAA, Title: "Encryption and decryption",
		Parley: "Transcripts are sealed at rest with keys held by Vault transit.",
		Checks: []string{CheckKeyProvider, CheckKeyRotation}},
	{ID: "164.312(b)", Framework: HIPAA, Title: "Audit controls",
		Parley: "A hash-chained, signed audit log records and lets auditors examine activity.",
		Checks: []string{CheckAuditChain, CheckAuditRetention}},
	{ID: "164.312(c)(1)-(c)(2)", Framework: HIPAA, Title: "Integrity; mechanism to authenticate ePHI",
		Parley: "Authenticated encryption bound to its context; the audit hash chain detects alteration.",
		Checks: []string{CheckAuditChain, CheckKeyProvider}},
	{ID: "164.312(d)", Framework: HIPAA, Title: "Person or entity authentication",
		Parley: "Passwords under a named policy, lockout, and TOTP MFA.",
		Checks: []string{CheckPasswordPolicy, CheckMFA, CheckLockout}},
	{ID: "164.312(e)(1)-(e)(2)", Framework: HIPAA, Title: "Transmission security",
		Parley: "TLS in transit; transcripts are not e-mailed.",
		Checks: []string{CheckTLS, CheckTranscriptEmail}},
	{ID: "164.308(a)(1)(ii)(D)", Framework: HIPAA, Title: "Information system activity review",
		Parley: "Audit search, access reviews and these evidence reports.",
		Checks: []string{CheckAccessReview, CheckAuditChain},
		Manual: []string{"Activity is reviewed on a documented schedule."}},
	{ID: "164.308(a)(5)(ii)(C)", Framework: HIPAA, Title: "Log-in monitoring",
		Parley: "Failed sign-ins are audited, lock the account and raise the CAPTCHA.",
		Checks: []string{CheckLockout}},
	{ID: "164.308(a)(5)(ii)(D)", Framework: HIPAA, Title: "Password management",
		Parley: "Named password profiles (pci-dss-4, nist-800-63b) with a blocklist and history.",
		Checks: []string{CheckPasswordPolicy}},
	{ID: "164.316(b)(2)", Framework: HIPAA, Title: "Documentation retained six years",
		Parley: "Evidence reports are signed bundles for the customer's document store; data retention periods are set per kind of data.",
		Checks: []string{CheckRetention},
		Manual: []string{"Evidence bundles are kept for six years from their creation."}},
}

// ControlsUsing returns the controls of a framework that an automated check supports, in the
// standard's order.
func ControlsUsing(f Framework, check string) []Control {
	var out []Control
	for _, c := range Catalogue(f) {
		for _, id := range c.Checks {
			if id == check {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// Ref names a control as an assessor writes it: "PCI DSS 8.3.4", "HIPAA 164.312(d)".
func (c Control) Ref() string {
	switch c.Framework {
	case PCI:
		return "PCI DSS " + c.ID
	case HIPAA:
		return "HIPAA " + c.ID
	}
	return c.ID
}
