package rbac

import (
	"slices"
	"strings"
	"sync"
)

// Kind says what holding a permission lets a user do, so separation of duties can be checked
// mechanically: an auditor holds only Read and Attest permissions.
type Kind string

// The kinds of permission.
const (
	// KindRead shows data or configuration and changes nothing.
	KindRead Kind = "read"
	// KindOperate takes part in live chat work (accept, transfer, whisper, …).
	KindOperate Kind = "operate"
	// KindAdminister changes configuration, users, roles, keys or stored data.
	KindAdminister Kind = "administer"
	// KindAttest records an attestation (an evidence report, an access-review sign-off): it adds
	// a record and changes no configuration or existing data.
	KindAttest Kind = "attest"
)

// Permission is one entry of the permission catalogue: a named right a role grants.
type Permission struct {
	// Name is "area.action[.scope]", e.g. "transcript.view.department".
	Name string
	// Description says in one sentence what the permission allows.
	Description string
	// Kind classifies the permission for separation-of-duties checks.
	Kind Kind
	// Departmental permissions take effect in a department when a role is granted there; the
	// others only count when granted tenant-wide.
	Departmental bool
	// Sensitive permissions reach cardholder data or ePHI content (transcripts, full card
	// numbers, visitor personal data); the access review and evidence report list who holds them.
	Sensitive bool
	// PCI lists the PCI DSS v4.0.1 requirements the permission helps meet.
	PCI []string
	// HIPAA lists the HIPAA Security Rule sections it helps meet.
	HIPAA []string
}

// Area returns the part of the name before the first dot ("transcript").
func (p Permission) Area() string {
	area, _, _ := strings.Cut(p.Name, ".")
	return area
}

// Requirement references shared by many catalogue entries.
const (
	pciJobFunction   = "7.2.1" // access model by job function
	pciLeastPriv     = "7.2.2" // least privilege
	pciApproved      = "7.2.3" // privileges approved by authorised personnel
	pciReview        = "7.2.4" // six-monthly review of accounts and privileges
	pciSystemAccess  = "7.3.1" // access control system restricts by need to know
	pciMaskPAN       = "3.4.1" // PAN masked when displayed
	pciPANMessaging  = "4.2.2" // PAN over end-user messaging secured
	pciRetention     = "3.2.1" // data retention and disposal
	pciKeys          = "3.6.1" // key management procedures
	pciKeyLifecycle  = "3.7.1" // key generation, distribution, rotation
	pciCHDAccess     = "10.2.1.1"
	pciAuditRead     = "10.3.1" // read access to audit logs limited
	pciAuditProtect  = "10.3.2" // audit logs protected from modification
	pciAuditReview   = "10.4.1" // audit logs reviewed
	pciChangeDetect  = "10.3.4" // change detection on audit logs
	pciUserMgmt      = "8.2.4"  // additions, deletions, modifications of IDs controlled
	pciInactive      = "8.2.6"  // inactive accounts removed within 90 days
	pciAuthPolicy    = "8.3.1"  // authentication factors
	pciMFA           = "8.4.2"  // MFA for access into the CDE
	pciLockout       = "8.3.4"  // invalid attempts lockout
	pciSessionIdle   = "8.2.8"  // idle sessions re-authenticate
	pciSecureConfig  = "2.2.1"  // configuration standards
	pciScope         = "12.5.2" // PCI DSS scope confirmed
	pciEvidence      = "12.4.1" // executive responsibility for compliance
	pciInventory     = "12.5.1" // inventory of system components
	pciTargetedRisk  = "12.3.1" // targeted risk analysis
	pciMaliciousSite = "6.4.3"  // scripts on payment pages managed
	pciNetworkCtrls  = "1.2.1"  // network security controls configured
)

// HIPAA Security Rule references.
const (
	hipaaAccessCtl   = "164.312(a)(1)"        // access control
	hipaaAuthz       = "164.308(a)(4)(ii)(B)" // access authorization
	hipaaEstablish   = "164.308(a)(4)(ii)(C)" // access establishment and modification
	hipaaAudit       = "164.312(b)"           // audit controls
	hipaaReview      = "164.308(a)(1)(ii)(D)" // information system activity review
	hipaaIntegrity   = "164.312(c)(1)"        // integrity
	hipaaEncrypt     = "164.312(a)(2)(iv)"    // encryption and decryption
	hipaaTransmit    = "164.312(e)(1)"        // transmission security
	hipaaPasswords   = "164.308(a)(5)(ii)(D)" // #nosec G101 -- password management: a HIPAA section number, not a credential
	hipaaLoginMon    = "164.308(a)(5)(ii)(C)" // log-in monitoring
	hipaaPersonAuth  = "164.312(d)"           // person or entity authentication
	hipaaAutoLogoff  = "164.312(a)(2)(iii)"   // automatic logoff
	hipaaEvaluation  = "164.308(a)(8)"        // evaluation
	hipaaDocs        = "164.316(b)(2)"        // documentation retention
	hipaaDisposal    = "164.310(d)(2)(i)"     // disposal
	hipaaMinimum     = "164.502(b)"           // minimum necessary (Privacy Rule)
	hipaaWorkforce   = "164.308(a)(3)(ii)(B)" // workforce clearance
	hipaaTermination = "164.308(a)(3)(ii)(C)" // termination procedures
)

func refs(r ...string) []string { return r }

// catalogue is the permission catalogue. Order is the order the role editor shows.
//
// The catalogue holds only permissions that guard something: a route's Permission, or a check
// the chat engine or the visitor handlers make (chat.Checks, visitorhttp.Checks);
// TestCataloguePermissionsGuardSomething in package app fails on any other. Visitors belong to
// sites, not departments, and are seen before any chat routes them to one, so visitor.view is
// checked tenant-wide and is not departmental.
//
// The permissions still planned are in planned.
//
// A custom role that stored a planned permission (an earlier catalogue held them) keeps the row;
// it grants nothing until the permission returns (see Known).
var catalogue = []Permission{
	// Live chat.
	{Name: "chat.accept", Kind: KindOperate, Departmental: true, Description: "Accept chats offered from the queue.", PCI: refs(pciJobFunction, pciLeastPriv), HIPAA: refs(hipaaAuthz)},
	{Name: "chat.refuse", Kind: KindOperate, Departmental: true, Description: "Refuse a chat offered from the queue so it is routed to another agent.", PCI: refs(pciJobFunction), HIPAA: refs(hipaaAuthz)},
	{Name: "chat.join", Kind: KindOperate, Departmental: true, Sensitive: true, Description: "Join another agent's ongoing chat, seeing its history.", PCI: refs(pciLeastPriv, pciSystemAccess), HIPAA: refs(hipaaAccessCtl, hipaaMinimum)},
	{Name: "chat.transfer", Kind: KindOperate, Departmental: true, Description: "Transfer a chat to another agent or department.", PCI: refs(pciJobFunction), HIPAA: refs(hipaaAuthz)},
	{Name: "chat.monitor", Kind: KindOperate, Departmental: true, Sensitive: true, Description: "Watch live chats without the visitor seeing it.", PCI: refs(pciLeastPriv, pciSystemAccess), HIPAA: refs(hipaaAccessCtl, hipaaMinimum)},
	{Name: "chat.whisper", Kind: KindOperate, Departmental: true, Description: "Send the agent of a live chat a message the visitor does not see.", PCI: refs(pciJobFunction), HIPAA: refs(hipaaAuthz)},
	{Name: "chat.end", Kind: KindOperate, Departmental: true, Description: "End a chat.", PCI: refs(pciJobFunction), HIPAA: refs(hipaaAuthz)},
	{Name: "chat.request_card", Kind: KindOperate, Departmental: true, Description: "Send the visitor the secure card form instead of letting a card number be typed into the chat.", PCI: refs(pciPANMessaging, pciMaskPAN), HIPAA: refs(hipaaTransmit)},
	{Name: "chat.agent_chat", Kind: KindOperate, Description: "Chat with the organisation's other console users (agent-to-agent chat); reading a thread's history is audited.", PCI: refs(pciJobFunction), HIPAA: refs(hipaaAuthz)},
	{Name: "chat.invite", Kind: KindOperate, Description: "Invite a visitor on the sites to chat (proactive invitation); the accepted chat starts assigned to the inviting agent.", PCI: refs(pciJobFunction), HIPAA: refs(hipaaAuthz)},
	{Name: "card.view_full", Kind: KindRead, Departmental: true, Sensitive: true, Description: "See the full card number a visitor submitted through the secure form, while the chat lasts; everyone else sees it masked.", PCI: refs(pciMaskPAN, pciLeastPriv, pciCHDAccess), HIPAA: refs(hipaaMinimum)},
	// Visitors.
	{Name: "cobrowse.view", Kind: KindOperate, Departmental: true, Sensitive: true, Description: "Ask the visitor of one's chat to share their page and see it live (view only; the visitor consents, private fields never leave the page).", PCI: refs(pciLeastPriv, pciSystemAccess), HIPAA: refs(hipaaAccessCtl, hipaaMinimum)},
	{Name: "cobrowse.control", Kind: KindOperate, Departmental: true, Sensitive: true, Description: "In a co-browsing session, ask to guide the visitor's page (clicks, scrolling, typing into fields that are not private), after the visitor's second consent.", PCI: refs(pciLeastPriv, pciSystemAccess), HIPAA: refs(hipaaAccessCtl, hipaaMinimum)},
	{Name: "visitor.view", Kind: KindRead, Description: "See the visitors on the sites, their pages and chat status, with personal data masked.", PCI: refs(pciLeastPriv), HIPAA: refs(hipaaMinimum)},
	{Name: "visitor.view_pii", Kind: KindRead, Departmental: true, Sensitive: true, Description: "See visitors' personal data unmasked (name, e-mail, phone, IP address).", PCI: refs(pciLeastPriv, pciSystemAccess), HIPAA: refs(hipaaMinimum, hipaaAccessCtl)},
	// Transcripts and offline messages.
	{Name: "transcript.view.own", Kind: KindRead, Departmental: true, Sensitive: true, Description: "Read, annotate and tag the transcripts of chats one took part in, in the departments where the role is granted; the transcript pages need it.", PCI: refs(pciLeastPriv, pciJobFunction), HIPAA: refs(hipaaAccessCtl, hipaaMinimum)},
	{Name: "transcript.view.department", Kind: KindRead, Departmental: true, Sensitive: true, Description: "Read, annotate and tag every transcript of the departments where the role is granted.", PCI: refs(pciLeastPriv, pciSystemAccess), HIPAA: refs(hipaaAccessCtl, hipaaMinimum)},
	{Name: "transcript.view.all", Kind: KindRead, Sensitive: true, Description: "Read every transcript of the organisation, in any department.", PCI: refs(pciLeastPriv, pciSystemAccess), HIPAA: refs(hipaaAccessCtl, hipaaMinimum)},
	{Name: "transcript.export", Kind: KindRead, Departmental: true, Sensitive: true, Description: "Export a transcript one may read as JSON, HTML or PDF (card numbers masked; each copy names its exporter).", PCI: refs(pciLeastPriv, pciCHDAccess), HIPAA: refs(hipaaAccessCtl, hipaaMinimum)},
	{Name: "transcript.delete", Kind: KindAdminister, Sensitive: true, Description: "Delete a transcript one may see before its retention ends, by crypto-shredding, and set the organisation's minimum retention periods; never what a legal hold covers.", PCI: refs(pciRetention, pciLeastPriv), HIPAA: refs(hipaaDisposal, hipaaIntegrity)},
	{Name: "offline.view.department", Kind: KindRead, Departmental: true, Sensitive: true, Description: "Read offline messages left for the departments where the role is granted.", PCI: refs(pciLeastPriv), HIPAA: refs(hipaaAccessCtl, hipaaMinimum)},
	{Name: "offline.reply", Kind: KindOperate, Departmental: true, Description: "Mark offline messages of the departments where the role is granted as handled, with a note of the answer given.", PCI: refs(pciJobFunction), HIPAA: refs(hipaaAuthz)},
	{Name: "offline.view.all", Kind: KindRead, Sensitive: true, Description: "Read every offline message of the organisation.", PCI: refs(pciLeastPriv, pciSystemAccess), HIPAA: refs(hipaaAccessCtl, hipaaMinimum)},
	// Reports: figures only (counts, times, ratings), never chat content.
	{Name: "report.view.department", Kind: KindRead, Departmental: true, Description: "See chat reports (volumes, wait, response and handle times, satisfaction) of the departments where the role is granted, and export them as CSV.", PCI: refs(pciLeastPriv), HIPAA: refs(hipaaReview, hipaaMinimum)},
	{Name: "report.view.all", Kind: KindRead, Description: "With report.view.department in any department: see chat reports of the whole organisation, including chats in no department (report.view.department granted tenant-wide already does).", PCI: refs(pciLeastPriv), HIPAA: refs(hipaaReview, hipaaMinimum)},
	// Content and engagement.
	{Name: "canned.use", Kind: KindOperate, Departmental: true, Description: "Use the shared canned messages and those of the departments where the role is granted, and keep personal ones.", PCI: refs(pciJobFunction), HIPAA: refs(hipaaAuthz)},
	{Name: "canned.manage", Kind: KindAdminister, Departmental: true, Description: "Write the canned messages of the departments where the role is granted; granted tenant-wide, the organisation's shared ones too.", PCI: refs(pciJobFunction), HIPAA: refs(hipaaAuthz)},
	// Organisation.
	{Name: "site.manage", Kind: KindAdminister, Description: "Add, change and remove websites, their site keys and allowed origins.", PCI: refs(pciMaliciousSite, pciInventory), HIPAA: refs(hipaaTransmit)},
	{Name: "routing.manage", Kind: KindAdminister, Description: "Set how chats are routed: each department's mode (manual pick or automatic), capacity, offer timeout, priority and required skills, and each agent's capacity and skills.", PCI: refs(pciJobFunction), HIPAA: refs(hipaaAuthz)},
	{Name: "ban.manage", Kind: KindAdminister, Description: "Manage the visitor ban list (IP ranges, visitor ids).", PCI: refs(pciNetworkCtrls), HIPAA: refs(hipaaAccessCtl)},
	// Users, roles and security.
	{Name: "user.manage", Kind: KindAdminister, Description: "Invite, change, disable, enable and delete users.", PCI: refs(pciUserMgmt, pciInactive, pciApproved), HIPAA: refs(hipaaEstablish, hipaaTermination, hipaaWorkforce)},
	{Name: "role.view", Kind: KindRead, Description: "See roles, their permissions, assignments and any user's effective permissions.", PCI: refs(pciJobFunction, pciReview), HIPAA: refs(hipaaAuthz)},
	{Name: "role.manage", Kind: KindAdminister, Description: "Create, change and delete custom roles and assign roles, within the permissions the user holds.", PCI: refs(pciJobFunction, pciLeastPriv, pciApproved), HIPAA: refs(hipaaAuthz, hipaaEstablish)},
	{Name: "security.view", Kind: KindRead, Description: "See the security settings: password, lockout, MFA and session policy, IP allowlists.", PCI: refs(pciSecureConfig, pciTargetedRisk), HIPAA: refs(hipaaEvaluation)},
	{Name: "security.manage", Kind: KindAdminister, Description: "Change the security settings: password, lockout, MFA and session policy, IP allowlists.", PCI: refs(pciAuthPolicy, pciLockout, pciMFA, pciSessionIdle), HIPAA: refs(hipaaPasswords, hipaaLoginMon, hipaaPersonAuth)},
	{Name: "retention.manage", Kind: KindAdminister, Description: "Set how long transcripts, offline messages and visitor data are kept.", PCI: refs(pciRetention), HIPAA: refs(hipaaDisposal, hipaaDocs)},
	{Name: "keys.view", Kind: KindRead, Description: "See the organisation's encryption key status: provider, key versions, minimum decryption version, age since the last rotation and the rotation due date.", PCI: refs(pciKeys, pciKeyLifecycle), HIPAA: refs(hipaaEncrypt)},
	{Name: "keys.manage", Kind: KindAdminister, Description: "Rotate the organisation's encryption key and rewrap stored data keys.", PCI: refs(pciKeys, pciKeyLifecycle), HIPAA: refs(hipaaEncrypt)},
	// Audit, evidence and reviews. The catalogue has no permission that alters or deletes audit
	// data: the log is append-only for everyone (PCI DSS 10.3.2).
	{Name: "audit.view", Kind: KindRead, Description: "Search and read the audit log (each search is itself audited).", PCI: refs(pciAuditRead, pciAuditReview), HIPAA: refs(hipaaAudit, hipaaReview)},
	{Name: "audit.export", Kind: KindRead, Description: "Export a signed audit bundle that can be verified offline.", PCI: refs(pciAuditRead, pciAuditProtect), HIPAA: refs(hipaaAudit, hipaaIntegrity)},
	{Name: "audit.verify", Kind: KindRead, Description: "Verify the audit log's hash chain and signed checkpoints.", PCI: refs(pciAuditProtect, pciChangeDetect), HIPAA: refs(hipaaAudit, hipaaIntegrity)},
	{Name: "access_review.view", Kind: KindRead, Description: "See the access review report: every user with roles, scope, last sign-in, MFA and inactivity.", PCI: refs(pciReview, pciInactive), HIPAA: refs(hipaaEstablish, hipaaReview)},
	{Name: "evidence.view", Kind: KindRead, Description: "See the organisation's compliance evidence reports and download their signed bundles (each download is audited).", PCI: refs(pciEvidence, pciAuditReview), HIPAA: refs(hipaaReview, hipaaDocs)},
	{Name: "evidence.generate", Kind: KindAttest, Description: "Generate a PCI DSS or HIPAA evidence report of the organisation's controls for a period, signed and kept six years.", PCI: refs(pciEvidence, pciAuditReview), HIPAA: refs(hipaaReview, hipaaDocs)},
	{Name: "access_review.perform", Kind: KindAttest, Description: "Sign off an access review of all user accounts and privileges.", PCI: refs(pciReview), HIPAA: refs(hipaaEstablish, hipaaReview)},
}

// planned holds the permissions of DESIGN.md's catalogue that guard nothing yet, each with the
// capability that will check it; a permission moves to catalogue when its capability lands.
var planned = map[string]string{
	"campaign.manage":   "campaigns and the widget's look",
	"survey.manage":     "pre- and post-chat surveys",
	"department.view":   "departments in the console",
	"department.manage": "departments in the console",
	"site.view":         "sites in the console (site.manage guards their settings today)",
	"user.view":         "a read-only user list (user.manage guards it today)",
	"user.reset_mfa":    "a separate MFA reset right (user.manage covers it today)",
	"session.revoke":    "a separate session revocation right (user.manage covers it today)",
	"pan_scan.run":      "the card-number scan in the console (`parley scan` runs it from the shell today)",
}

// catalogueIndex maps each permission name to its position in catalogue; computed once, never
// changed.
var catalogueIndex = sync.OnceValue(func() map[string]int {
	m := make(map[string]int, len(catalogue))
	for i, p := range catalogue {
		m[p.Name] = i
	}
	return m
})

// Catalogue returns a copy of the permission catalogue, in display order.
func Catalogue() []Permission {
	out := make([]Permission, len(catalogue))
	for i, p := range catalogue {
		p.PCI = slices.Clone(p.PCI)
		p.HIPAA = slices.Clone(p.HIPAA)
		out[i] = p
	}
	return out
}

// Lookup returns the catalogue entry of a permission name.
func Lookup(name string) (Permission, bool) {
	i, ok := catalogueIndex()[name]
	if !ok {
		return Permission{}, false
	}
	return catalogue[i], true
}

// Known reports whether name is in the catalogue.
func Known(name string) bool {
	_, ok := catalogueIndex()[name]
	return ok
}

// Unknown returns the names that are not in the catalogue, in the order given, without repeats.
func Unknown(names []string) []string {
	var out []string
	for _, n := range names {
		if !Known(n) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// Names returns every permission name, in display order.
func Names() []string {
	out := make([]string, len(catalogue))
	for i, p := range catalogue {
		out[i] = p.Name
	}
	return out
}
