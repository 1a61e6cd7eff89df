package audit

import "slices"

// Action names an audited action. Every action comes from the closed catalogue below; Append
// refuses any other with ErrUnknownAction. Names are "area.verb" (at most 32 printable ASCII
// characters, so each fits an RFC 5424 MSGID).
type Action string

// Category groups actions on the console's search page and in evidence reports.
type Category string

// The categories of the catalogue.
const (
	CategoryAuthentication Category = "authentication"
	CategoryAccess         Category = "access control"
	CategoryAdministration Category = "administration"
	CategoryAudit          Category = "audit log"
	CategoryKeys           Category = "keys"
	CategoryCardholderData Category = "cardholder data"
	CategoryEPHI           Category = "transcripts (ePHI)"
	CategoryChat           Category = "chat"
	CategorySystem         Category = "system"
)

// ActionInfo describes one catalogue action and the requirements it helps meet.
type ActionInfo struct {
	Action      Action
	Category    Category
	Description string
	// PCI lists the PCI DSS v4.0.1 requirements the event supports ("10.2.1.4", …).
	PCI []string
	// HIPAA lists the HIPAA Security Rule sections it supports ("164.312(b)", …).
	HIPAA []string
}

// The catalogue of audited actions.
const (
	ActionSignInSuccess        Action = "auth.sign_in.success"
	ActionSignInFailure        Action = "auth.sign_in.failure"
	ActionSignOut              Action = "auth.sign_out"
	ActionCaptchaShown         Action = "auth.captcha.shown"
	ActionLockout              Action = "auth.lockout"
	ActionUnlock               Action = "auth.unlock"
	ActionMFAEnrol             Action = "auth.mfa.enrol"
	ActionMFAReset             Action = "auth.mfa.reset"
	ActionMFAFailure           Action = "auth.mfa.failure"
	ActionMFARecoveryUsed      Action = "auth.mfa.recovery_code_used"
	ActionPasswordChange       Action = "auth.password.change"
	ActionPasswordResetReq     Action = "auth.password.reset_request"
	ActionPasswordReset        Action = "auth.password.reset"
	ActionSessionRevoke        Action = "auth.session.revoke"
	ActionSessionExpired       Action = "auth.session.expired"
	ActionIPDenied             Action = "auth.ip_denied"
	ActionSetupCompleted       Action = "system.setup.completed"
	ActionEmergencyAccess      Action = "system.emergency_access"
	ActionAllowlistChange      Action = "security.allowlist.change"
	ActionSecurityPolicy       Action = "security.policy.change"
	ActionBanListChange        Action = "security.ban_list.change"
	ActionUserCreate           Action = "user.create"
	ActionUserUpdate           Action = "user.update"
	ActionUserDisable          Action = "user.disable"
	ActionUserEnable           Action = "user.enable"
	ActionUserDelete           Action = "user.delete"
	ActionRoleCreate           Action = "role.create"
	ActionRoleChange           Action = "role.change"
	ActionRoleDelete           Action = "role.delete"
	ActionRoleAssign           Action = "role.assign"
	ActionRoleUnassign         Action = "role.unassign"
	ActionAccessReview         Action = "access_review.sign_off"
	ActionPermissionDenied     Action = "access.denied"
	ActionEscalationAttempt    Action = "access.escalation_attempt"
	ActionAuditView            Action = "audit.view"
	ActionAuditSearch          Action = "audit.search"
	ActionAuditExport          Action = "audit.export"
	ActionAuditVerify          Action = "audit.verify"
	ActionAuditVerifyFailed    Action = "audit.verify.failure"
	ActionAuditStart           Action = "audit.start"
	ActionAuditStop            Action = "audit.stop"
	ActionAuditCheckpoint      Action = "audit.checkpoint"
	ActionAuditArchive         Action = "audit.archive"
	ActionAuditForwardFail     Action = "audit.forward.failure"
	ActionAuditConfig          Action = "audit.config.change"
	ActionKeyCreate            Action = "key.create"
	ActionKeyRotate            Action = "key.rotate"
	ActionKeyRewrap            Action = "key.rewrap"
	ActionKeyMinVersion        Action = "key.min_version"
	ActionKeyShred             Action = "key.shred"
	ActionDecryptFailure       Action = "key.decrypt.failure"
	ActionSiteCreate           Action = "site.create"
	ActionSiteUpdate           Action = "site.update"
	ActionSiteDelete           Action = "site.delete"
	ActionDepartmentCreate     Action = "department.create"
	ActionDepartmentUpdate     Action = "department.update"
	ActionDepartmentDelete     Action = "department.delete"
	ActionRetentionChange      Action = "retention.change"
	ActionRetentionPurge       Action = "retention.purge"
	ActionTranscriptView       Action = "transcript.view"
	ActionTranscriptExport     Action = "transcript.export"
	ActionTranscriptDelete     Action = "transcript.delete"
	ActionTranscriptSearch     Action = "transcript.search"
	ActionTranscriptNote       Action = "transcript.note"
	ActionTranscriptTag        Action = "transcript.tag"
	ActionTranscriptSettings   Action = "transcript.settings.change"
	ActionRetentionRun         Action = "retention.run"
	ActionLegalHoldPlace       Action = "legal_hold.place"
	ActionLegalHoldRelease     Action = "legal_hold.release"
	ActionCardFormRequest      Action = "card.form.request"
	ActionCardFormSubmit       Action = "card.form.submit"
	ActionCardView             Action = "card.view"
	ActionCardViewFull         Action = "card.view_full"
	ActionCardPurge            Action = "card.purge"
	ActionCardRefused          Action = "card.data.refused"
	ActionConversationStart    Action = "chat.start"
	ActionConversationJoin     Action = "chat.join"
	ActionConversationAssign   Action = "chat.assign"
	ActionConversationRefuse   Action = "chat.refuse"
	ActionConversationTransfer Action = "chat.transfer"
	ActionConversationEnd      Action = "chat.end"
	ActionConversationOffer    Action = "chat.offer"
	ActionOfferTimeout         Action = "chat.offer_timeout"
	ActionConversationRequeue  Action = "chat.requeue"
	ActionAgentStatus          Action = "agent.status"
	ActionRoutingUpdate        Action = "routing.update"
	ActionChatMonitor          Action = "chat.monitor"
	ActionTeamHistoryView      Action = "team.history.view"
	ActionInvitationSend       Action = "chat.invitation.send"
	ActionInvitationAccept     Action = "chat.invitation.accept"
	ActionInvitationDecline    Action = "chat.invitation.decline"
	ActionInvitationExpire     Action = "chat.invitation.expire"
	ActionCobrowseRequest      Action = "cobrowse.request"
	ActionCobrowseConsent      Action = "cobrowse.consent"
	ActionCobrowseStart        Action = "cobrowse.start"
	ActionCobrowseMode         Action = "cobrowse.mode"
	ActionCobrowseEnd          Action = "cobrowse.end"
	ActionCobrowseSettings     Action = "cobrowse.settings.change"
	ActionVisitorPIIView       Action = "visitor.view_pii"
	ActionFileDownload         Action = "file.download"
	ActionPANScanRun           Action = "compliance.pan_scan.run"
	ActionEvidenceGenerate     Action = "evidence.generate"
	ActionEvidenceDownload     Action = "evidence.download"
	ActionComplianceMode       Action = "compliance.mode.change"
	ActionComplianceRefused    Action = "compliance.mode.refusal"
	ActionEvidenceExpire       Action = "evidence.expire"
	ActionReportExport         Action = "report.export"
	ActionConfigChange         Action = "system.config.change"
	ActionCannedCreate         Action = "canned.create"
	ActionCannedChange         Action = "canned.change"
	ActionCannedDelete         Action = "canned.delete"
	ActionOfflineHandle        Action = "offline.handle"
)

// PCI DSS v4.0.1 requirement 10.2.1 sub-items, as catalogue references.
const (
	pciCHD      = "10.2.1.1" // individual access to cardholder data
	pciAdmin    = "10.2.1.2" // actions by anyone with administrative access
	pciAuditLog = "10.2.1.3" // access to audit logs
	pciInvalid  = "10.2.1.4" // invalid logical access attempts
	pciCreds    = "10.2.1.5" // changes to identification and authentication credentials
	pciStartStp = "10.2.1.6" // initialisation, stopping or pausing of the audit logs
	pciObjects  = "10.2.1.7" // creation and deletion of system-level objects
)

// HIPAA Security Rule references.
const (
	hipaaAudit     = "164.312(b)"           // audit controls
	hipaaLogin     = "164.308(a)(5)(ii)(C)" // log-in monitoring
	hipaaPassword  = "164.308(a)(5)(ii)(D)" // #nosec G101 -- password management: a HIPAA section number, not a credential
	hipaaAccess    = "164.312(a)(1)"        // access control
	hipaaEmergency = "164.312(a)(2)(ii)"    // emergency access procedure
	hipaaIntegrity = "164.312(c)(1)"        // integrity
	hipaaReview    = "164.308(a)(1)(ii)(D)" // information system activity review
	hipaaAuthn     = "164.312(d)"           // person or entity authentication
	hipaaWorkforce = "164.308(a)(4)(ii)(C)" // access establishment and modification
)

func ref(s ...string) []string { return s }

// catalogue is the closed table of audited actions. It is never modified after package
// initialisation; Catalogue hands out copies.
var catalogue = []ActionInfo{
	{ActionSignInSuccess, CategoryAuthentication, "A user signed in.", ref(pciCHD, pciAdmin), ref(hipaaLogin, hipaaAuthn, hipaaAudit)},
	{ActionSignInFailure, CategoryAuthentication, "A sign-in attempt failed (wrong password, unknown user, bad TOTP, locked account).", ref(pciInvalid), ref(hipaaLogin, hipaaAudit)},
	{ActionSignOut, CategoryAuthentication, "A user signed out.", ref(pciAdmin), ref(hipaaAudit)},
	{ActionCaptchaShown, CategoryAuthentication, "A CAPTCHA was required after repeated failures.", ref(pciInvalid), ref(hipaaLogin)},
	{ActionLockout, CategoryAuthentication, "An account or source address was locked after repeated failures.", ref(pciInvalid, "8.3.4"), ref(hipaaLogin)},
	{ActionUnlock, CategoryAuthentication, "A locked account was unlocked.", ref(pciAdmin, pciCreds), ref(hipaaLogin)},
	{ActionMFAEnrol, CategoryAuthentication, "A user enrolled a TOTP authenticator.", ref(pciCreds), ref(hipaaAuthn)},
	{ActionMFAReset, CategoryAuthentication, "An administrator reset a user's MFA.", ref(pciAdmin, pciCreds), ref(hipaaAuthn)},
	{ActionMFAFailure, CategoryAuthentication, "A TOTP or recovery code was rejected.", ref(pciInvalid), ref(hipaaLogin)},
	{ActionMFARecoveryUsed, CategoryAuthentication, "A recovery code was used in place of TOTP.", ref(pciCreds), ref(hipaaAuthn)},
	{ActionPasswordChange, CategoryAuthentication, "A user changed their password.", ref(pciCreds), ref(hipaaPassword)},
	{ActionPasswordResetReq, CategoryAuthentication, "A password reset was requested.", ref(pciCreds), ref(hipaaPassword)},
	{ActionPasswordReset, CategoryAuthentication, "A password was reset (by link or by an administrator).", ref(pciCreds, pciAdmin), ref(hipaaPassword)},
	{ActionSessionRevoke, CategoryAuthentication, "A session was revoked.", ref(pciCreds, pciAdmin), ref(hipaaAccess)},
	{ActionSessionExpired, CategoryAuthentication, "A session ended by idle or absolute timeout.", ref("8.2.8"), ref("164.312(a)(2)(iii)")},
	{ActionIPDenied, CategoryAccess, "A request came from an address outside the allowlist.", ref(pciInvalid), ref(hipaaAccess)},
	{ActionSetupCompleted, CategoryAdministration, "The one-time setup created the first owner.", ref(pciAdmin, pciObjects), ref(hipaaWorkforce)},
	{ActionEmergencyAccess, CategoryAdministration, "Break-glass access was used through the CLI.", ref(pciAdmin), ref(hipaaEmergency)},
	{ActionAllowlistChange, CategoryAdministration, "An IP allowlist was changed.", ref(pciAdmin), ref(hipaaAccess)},
	{ActionSecurityPolicy, CategoryAdministration, "A security policy (password, lockout, session, MFA) was changed.", ref(pciAdmin), ref(hipaaAccess)},
	{ActionBanListChange, CategoryAdministration, "The visitor ban list was changed.", ref(pciAdmin), nil},
	{ActionUserCreate, CategoryAdministration, "A user account was created.", ref(pciAdmin, pciObjects), ref(hipaaWorkforce)},
	{ActionUserUpdate, CategoryAdministration, "A user account was changed.", ref(pciAdmin), ref(hipaaWorkforce)},
	{ActionUserDisable, CategoryAdministration, "A user account was disabled.", ref(pciAdmin, pciCreds, "8.2.6"), ref(hipaaWorkforce)},
	{ActionUserEnable, CategoryAdministration, "A disabled user account was enabled.", ref(pciAdmin, pciCreds), ref(hipaaWorkforce)},
	{ActionUserDelete, CategoryAdministration, "A user account was deleted.", ref(pciAdmin, pciObjects), ref(hipaaWorkforce)},
	{ActionRoleCreate, CategoryAccess, "A role was created.", ref(pciAdmin, pciObjects), ref(hipaaWorkforce)},
	{ActionRoleChange, CategoryAccess, "A role's permissions were changed.", ref(pciAdmin, "7.2.2"), ref(hipaaWorkforce)},
	{ActionRoleDelete, CategoryAccess, "A role was deleted.", ref(pciAdmin, pciObjects), ref(hipaaWorkforce)},
	{ActionRoleAssign, CategoryAccess, "A role was granted to a user.", ref(pciAdmin, pciCreds, "7.2.3"), ref(hipaaWorkforce)},
	{ActionRoleUnassign, CategoryAccess, "A role was removed from a user.", ref(pciAdmin, pciCreds), ref(hipaaWorkforce)},
	{ActionAccessReview, CategoryAccess, "A manager signed off the periodic access review.", ref(pciAdmin, "7.2.4"), ref("164.308(a)(3)(ii)(B)")},
	{ActionPermissionDenied, CategoryAccess, "A request was refused for lack of permission.", ref(pciInvalid), ref(hipaaAccess)},
	{ActionEscalationAttempt, CategoryAccess, "A user tried to grant or use privileges beyond their own.", ref(pciInvalid, pciCreds), ref(hipaaAccess)},
	{ActionAuditView, CategoryAudit, "Audit events were read.", ref(pciAuditLog), ref(hipaaReview, hipaaAudit)},
	{ActionAuditSearch, CategoryAudit, "The audit log was searched.", ref(pciAuditLog), ref(hipaaReview, hipaaAudit)},
	{ActionAuditExport, CategoryAudit, "An audit export bundle was produced.", ref(pciAuditLog), ref(hipaaReview, hipaaAudit)},
	{ActionAuditVerify, CategoryAudit, "The audit chain was verified.", ref(pciAuditLog, "10.3.4"), ref(hipaaIntegrity)},
	{ActionAuditVerifyFailed, CategoryAudit, "Verification found the audit chain damaged.", ref("10.3.4", "10.7.2"), ref(hipaaIntegrity)},
	{ActionAuditStart, CategoryAudit, "Audit logging started on a node.", ref(pciStartStp), ref(hipaaAudit)},
	{ActionAuditStop, CategoryAudit, "Audit logging stopped on a node.", ref(pciStartStp), ref(hipaaAudit)},
	{ActionAuditCheckpoint, CategoryAudit, "A signed checkpoint was made on request or as an archive anchor.", ref("10.3.2"), ref(hipaaIntegrity)},
	{ActionAuditArchive, CategoryAudit, "Events older than the retention period were archived and removed.", ref(pciAuditLog, "10.5.1"), ref(hipaaAudit)},
	{ActionAuditForwardFail, CategoryAudit, "Forwarding audit events to a central store failed.", ref("10.3.3", "10.7.2"), ref(hipaaAudit)},
	{ActionAuditConfig, CategoryAudit, "Audit settings (sinks, intervals, retention) were changed.", ref(pciStartStp, pciAdmin), ref(hipaaAudit)},
	{ActionKeyCreate, CategoryKeys, "An encryption or signing key was created.", ref(pciObjects, "3.6.1"), ref("164.312(a)(2)(iv)")},
	{ActionKeyRotate, CategoryKeys, "A key was rotated.", ref(pciAdmin, "3.7.4"), ref("164.312(a)(2)(iv)")},
	{ActionKeyRewrap, CategoryKeys, "Stored data keys were rewrapped under the newest key version.", ref(pciAdmin, "3.7.4"), ref("164.312(a)(2)(iv)")},
	{ActionKeyMinVersion, CategoryKeys, "A key's minimum decryption version was raised.", ref(pciAdmin, "3.7.5"), ref("164.312(a)(2)(iv)")},
	{ActionKeyShred, CategoryKeys, "A key was destroyed, crypto-shredding the data it protected.", ref(pciObjects, "3.7.5"), ref("164.310(d)(2)(i)")},
	{ActionDecryptFailure, CategoryKeys, "A stored ciphertext did not open under its binding (moved between rows, fields or tenants, altered, or its key shredded).", ref("10.2.1.4", "3.5.1"), ref("164.312(c)(1)", hipaaAudit)},
	{ActionSiteCreate, CategoryAdministration, "A website was added.", ref(pciAdmin, pciObjects), nil},
	{ActionSiteUpdate, CategoryAdministration, "A website's settings were changed.", ref(pciAdmin), nil},
	{ActionSiteDelete, CategoryAdministration, "A website was removed.", ref(pciAdmin, pciObjects), nil},
	{ActionDepartmentCreate, CategoryAdministration, "A department was created.", ref(pciAdmin, pciObjects), nil},
	{ActionDepartmentUpdate, CategoryAdministration, "A department was changed.", ref(pciAdmin), nil},
	{ActionDepartmentDelete, CategoryAdministration, "A department was deleted.", ref(pciAdmin, pciObjects), nil},
	{ActionRetentionChange, CategoryAdministration, "A retention setting was changed.", ref(pciAdmin, "3.2.1"), ref("164.316(b)(2)")},
	{ActionRetentionPurge, CategoryAdministration, "Data past its retention period was purged.", ref(pciObjects, "3.2.1"), ref("164.310(d)(2)(i)")},
	{ActionTranscriptView, CategoryEPHI, "A chat transcript was opened.", ref(pciCHD), ref(hipaaAudit, hipaaAccess)},
	{ActionTranscriptExport, CategoryEPHI, "A chat transcript was exported.", ref(pciCHD), ref(hipaaAudit, hipaaAccess)},
	{ActionTranscriptSearch, CategoryEPHI, "Transcript contents were searched (decrypted and scanned within the user's scope; the search terms are not recorded).", ref(pciCHD), ref(hipaaAudit, hipaaAccess)},
	{ActionTranscriptNote, CategoryEPHI, "A note was added to a conversation's transcript.", ref(pciCHD), ref(hipaaAudit, hipaaIntegrity)},
	{ActionTranscriptTag, CategoryEPHI, "A tag was added to or removed from a conversation's transcript.", ref(pciCHD), ref(hipaaAudit)},
	{ActionTranscriptSettings, CategoryAdministration, "The transcript policy (reason required to open a transcript) was changed.", ref(pciAdmin), ref(hipaaAudit)},
	{ActionTranscriptDelete, CategoryEPHI, "A chat transcript was deleted: its data key destroyed (crypto-shredded) and its rows removed.", ref(pciObjects, "3.2.1"), ref(hipaaAudit, hipaaIntegrity, "164.310(d)(2)(i)")},
	{ActionRetentionRun, CategoryAdministration, "The retention job ran for an organisation: what it removed per kind, counts only.", ref(pciObjects, "3.2.1"), ref("164.310(d)(2)(i)", "164.316(b)(2)")},
	{ActionLegalHoldPlace, CategoryAdministration, "A legal hold was placed on a conversation, a visitor or the organisation, suspending deletion.", ref(pciAdmin, "3.2.1"), ref(hipaaIntegrity, "164.316(b)(2)")},
	{ActionLegalHoldRelease, CategoryAdministration, "A legal hold was lifted; deletion by retention resumes.", ref(pciAdmin, "3.2.1"), ref(hipaaIntegrity, "164.316(b)(2)")},
	{ActionCardFormRequest, CategoryCardholderData, "An agent asked a visitor for card data through the secure form.", ref(pciCHD), nil},
	{ActionCardFormSubmit, CategoryCardholderData, "A visitor submitted the secure card form.", ref(pciCHD), nil},
	{ActionCardView, CategoryCardholderData, "Masked card data from a secure form was viewed.", ref(pciCHD), nil},
	{ActionCardViewFull, CategoryCardholderData, "Unmasked card data was viewed under card.view_full.", ref(pciCHD, "3.4.1"), nil},
	{ActionCardPurge, CategoryCardholderData, "Card data held in memory was purged.", ref(pciCHD, "3.2.1"), nil},
	{ActionCardRefused, CategoryCardholderData, "A card number typed into a field stored in clear was refused; the field is named, the value is not kept.", ref(pciCHD, "3.2.1"), nil},
	{ActionConversationStart, CategoryChat, "A conversation started.", nil, ref(hipaaAudit)},
	{ActionConversationJoin, CategoryChat, "A user joined a conversation.", nil, ref(hipaaAudit, hipaaAccess)},
	{ActionConversationAssign, CategoryChat, "A conversation was assigned to an agent.", nil, ref(hipaaAudit)},
	{ActionConversationRefuse, CategoryChat, "An agent refused a conversation offered to them.", nil, ref(hipaaAudit)},
	{ActionConversationTransfer, CategoryChat, "A conversation was transferred.", nil, ref(hipaaAudit)},
	{ActionConversationEnd, CategoryChat, "A conversation ended.", nil, ref(hipaaAudit)},
	{ActionConversationOffer, CategoryChat, "Automatic routing offered a queued conversation to one agent.", nil, ref(hipaaAudit)},
	{ActionOfferTimeout, CategoryChat, "An agent did not answer an automatic offer in time; the conversation moved on.", nil, ref(hipaaAudit)},
	{ActionConversationRequeue, CategoryChat, "A conversation went back to its queue because its agent went offline, signed out or was disabled.", nil, ref(hipaaAudit)},
	{ActionAgentStatus, CategoryChat, "An agent's status changed (online or away, by choice or after inactivity).", nil, ref(hipaaAudit)},
	{ActionRoutingUpdate, CategoryAdministration, "Routing was changed: a department's mode, capacity, offer timeout, priority or skills, an agent's capacity or skills, or the tenant's routing settings.", ref(pciAdmin), nil},
	{ActionChatMonitor, CategoryEPHI, "A supervisor monitored or whispered in a live conversation.", ref(pciCHD), ref(hipaaAudit, hipaaAccess)},
	{ActionCobrowseRequest, CategoryEPHI, "An agent asked a visitor to share their page (co-browsing).", ref(pciCHD), ref(hipaaAudit, hipaaAccess)},
	{ActionCobrowseConsent, CategoryEPHI, "A visitor answered a co-browsing request: consent to view or to control their page, or a refusal (outcome failure).", ref(pciCHD), ref(hipaaAudit, hipaaAccess)},
	{ActionCobrowseStart, CategoryEPHI, "A co-browsing session started: the visitor's page is relayed, sanitised, to the agent (never stored).", ref(pciCHD), ref(hipaaAudit, hipaaAccess)},
	{ActionCobrowseMode, CategoryEPHI, "A co-browsing session changed mode (view only or control), naming who changed it.", ref(pciCHD), ref(hipaaAudit, hipaaAccess)},
	{ActionCobrowseEnd, CategoryEPHI, "A co-browsing session ended, with its reason (visitor stopped, agent ended or idle, chat ended, page left).", ref(pciCHD), ref(hipaaAudit, hipaaAccess)},
	{ActionCobrowseSettings, CategoryAdministration, "A site's co-browsing settings were changed (enabled, input allowlist, agent idle limit).", ref(pciAdmin), nil},
	{ActionTeamHistoryView, CategoryEPHI, "A console user read the history of an agent-to-agent thread they are in.", ref(pciCHD), ref(hipaaAudit, hipaaAccess)},
	{ActionInvitationSend, CategoryChat, "An agent invited a live visitor to chat.", nil, ref(hipaaAudit)},
	{ActionInvitationAccept, CategoryChat, "A visitor accepted an invitation; the conversation started assigned to the inviting agent.", nil, ref(hipaaAudit)},
	{ActionInvitationDecline, CategoryChat, "A visitor declined an invitation to chat.", nil, ref(hipaaAudit)},
	{ActionInvitationExpire, CategoryChat, "An invitation to chat expired unanswered.", nil, ref(hipaaAudit)},
	{ActionVisitorPIIView, CategoryEPHI, "A visitor's personal details were viewed.", nil, ref(hipaaAudit, hipaaAccess)},
	{ActionFileDownload, CategoryEPHI, "A file shared in a conversation was downloaded.", ref(pciCHD), ref(hipaaAudit, hipaaAccess)},
	{ActionPANScanRun, CategorySystem, "A PAN discovery scan ran over stored data.", ref(pciAdmin, "12.5.2"), nil},
	{ActionEvidenceGenerate, CategorySystem, "A compliance evidence report was generated.", ref(pciAdmin), ref(hipaaReview)},
	{ActionEvidenceDownload, CategorySystem, "A compliance evidence report's signed bundle was downloaded.", ref(pciAuditLog), ref(hipaaReview)},
	{ActionComplianceMode, CategoryAdministration, "The organisation's compliance mode (PCI DSS, HIPAA) was turned on or off; turning off carries a reason.", ref(pciAdmin, "10.7.2"), ref(hipaaReview)},
	{ActionComplianceRefused, CategoryAdministration, "A setting change was refused because it would break a control of the compliance mode.", ref(pciAdmin, pciInvalid), ref(hipaaReview)},
	{ActionEvidenceExpire, CategorySystem, "The six-year sweep deleted an organisation's evidence reports whose retention ended: counts only.", ref(pciObjects, "3.2.1"), ref("164.316(b)(2)")},
	{ActionReportExport, CategoryChat, "A chat report (figures only, no content) was exported as CSV.", nil, ref(hipaaReview)},
	{ActionCannedCreate, CategoryAdministration, "A canned message (personal, department or shared) was created.", ref(pciAdmin, pciObjects), nil},
	{ActionCannedChange, CategoryAdministration, "A canned message was changed.", ref(pciAdmin), nil},
	{ActionCannedDelete, CategoryAdministration, "A canned message was deleted.", ref(pciAdmin, pciObjects), nil},
	{ActionOfflineHandle, CategoryChat, "An offline message was marked handled, with or without a reply note.", nil, ref(hipaaAudit)},
	{ActionConfigChange, CategorySystem, "An installation-level setting was changed.", ref(pciAdmin), ref(hipaaAccess)},
}

// catalogueIndex maps each action to its catalogue entry; built once, never modified.
var catalogueIndex = func() map[Action]int {
	m := make(map[Action]int, len(catalogue))
	for i, a := range catalogue {
		m[a.Action] = i
	}
	return m
}()

// Catalogue returns a copy of every audited action, in catalogue order.
func Catalogue() []ActionInfo {
	out := make([]ActionInfo, len(catalogue))
	for i, a := range catalogue {
		a.PCI = slices.Clone(a.PCI)
		a.HIPAA = slices.Clone(a.HIPAA)
		out[i] = a
	}
	return out
}

// LookupAction returns the catalogue entry of a, and false when a is not audited.
func LookupAction(a Action) (ActionInfo, bool) {
	i, ok := catalogueIndex[a]
	if !ok {
		return ActionInfo{}, false
	}
	info := catalogue[i]
	info.PCI = slices.Clone(info.PCI)
	info.HIPAA = slices.Clone(info.HIPAA)
	return info, true
}

// Valid reports whether a is in the catalogue.
func (a Action) Valid() bool {
	_, ok := catalogueIndex[a]
	return ok
}
