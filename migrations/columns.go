package migrations

import (
	"fmt"
	"strings"
)

// Treatment is what the card guard (CardGuard) does with a text or binary column: no card number
// is ever stored in clear, whatever field a person types it into (PCI DSS 3.2.1, 3.3.1, 3.5.1).
type Treatment uint8

// The treatments. A write to a column the table below does not name is treated as Refuse.
const (
	// Refuse: identifiers, names, e-mail addresses, keys, patterns and structured settings. A
	// card number refuses the write (CardNumberError, rendered as 400 card_number_not_allowed).
	Refuse Treatment = iota + 1
	// Mask: free text a person may legitimately paste into (notes, descriptions, user agents,
	// site texts, page titles). Card numbers are masked to their last four digits before the
	// write, and the write goes ahead.
	Mask
	// Ciphertext: envelope ciphertext or a wrapped key; never plaintext, not inspected.
	Ciphertext
	// Generated: written only with values Parley itself generates (ids, hashes, tokens,
	// timestamps, keyed hashes) or checks against a closed set (statuses, kinds, catalogue
	// names, canonical IP addresses). Not inspected: a random id or hash can read as a card
	// number by chance, and no typed value reaches these columns.
	Generated
	// Audited: the audit log's columns, written by its own SQL after audit.Normalize has masked
	// every free-text field (reason, user agent, target, detail values) to the last four digits.
	Audited
	// Derived: copies or reports built from columns the guard already covers (the access review
	// report, signed by its digest; the PAN scan report, which masks its own samples and refuses
	// an unmasked one). Not inspected, so a digest stays valid.
	Derived
)

// String names the treatment.
func (t Treatment) String() string {
	switch t {
	case Refuse:
		return "refuse"
	case Mask:
		return "mask"
	case Ciphertext:
		return "ciphertext"
	case Generated:
		return "generated"
	case Audited:
		return "audited"
	case Derived:
		return "derived"
	}
	return "unknown"
}

// columnSpec lists, per table, its text and binary columns by treatment.
type columnSpec map[Treatment]string

// textColumns is every text (TEXT, VARCHAR, JSON) and binary column of Parley's schema with its
// treatment. TestColumnTreatments walks the migrated schema on both dialects and fails when a
// column is missing here or named here but absent.
var textColumns = map[string]columnSpec{
	"tenants":                   {Generated: "id", Refuse: "name slug"},
	"sites":                     {Generated: "id tenant_id site_key", Refuse: "name allowed_origins"},
	"departments":               {Generated: "id tenant_id", Refuse: "name business_hours"},
	"users":                     {Generated: "id tenant_id status password_hash last_login_ip previous_login_ip", Refuse: "email email_key display_name", Mask: "disabled_reason", Ciphertext: "mfa_secret mfa_pending"},
	"role_assignments":          {Generated: "id tenant_id user_id department_id granted_by", Refuse: "role"},
	"setup_tokens":              {Generated: "id token_hash"},
	"password_history":          {Generated: "id tenant_id user_id password_hash kind"},
	"sessions":                  {Generated: "id tenant_id user_id token_hash restriction client_ip", Mask: "user_agent"},
	"signin_attempts":           {Generated: "tenant_key email_key"},
	"signin_ip_failures":        {Generated: "ip"},
	"security_settings":         {Generated: "tenant_id updated_by", Refuse: "password_policy signin_policy session_policy mfa_policy"},
	"ip_allowlists":             {Generated: "tenant_id updated_by", Refuse: "role entries"},
	"invitations":               {Generated: "id tenant_id user_id token_hash created_by"},
	"recovery_codes":            {Generated: "id tenant_id user_id code_hash"},
	"captcha_challenges":        {Generated: "id"},
	"auth_keys":                 {Generated: "name key_bytes"},
	"audit_outbox":              {Audited: "tenant_id actor_id actor_role actor_kind client_ip user_agent node action target_kind target_id outcome reason request_id details"},
	"audit_chains":              {Generated: "tenant_id hash"},
	"audit_events":              {Audited: "tenant_id actor_id actor_role actor_kind client_ip user_agent node action target_kind target_id outcome reason request_id details", Generated: "prev_hash hash"},
	"audit_checkpoints":         {Generated: "tenant_id head_hash key_id signature"},
	"audit_archive_permits":     {Generated: "tenant_id"},
	"audit_forward_cursors":     {Generated: "sink tenant_id"},
	"audit_forward_leases":      {Generated: "sink owner"},
	"data_keys":                 {Generated: "tenant_id scope_id", Ciphertext: "wrapped_key"},
	"roles":                     {Generated: "tenant_id created_by updated_by", Refuse: "name", Mask: "description"},
	"role_permissions":          {Generated: "tenant_id permission", Refuse: "role"},
	"access_reviews":            {Generated: "id tenant_id reviewer_id report_digest", Refuse: "reviewer_email", Mask: "notes", Derived: "report"},
	"site_chat_settings":        {Generated: "site_id tenant_id cookie_mode default_department_id", Refuse: "default_language business_hours sensitive_params rate_limits", Mask: "texts appearance prechat"},
	"retention_periods":         {Generated: "tenant_id kind updated_by"},
	"retention_site_periods":    {Generated: "site_id tenant_id kind updated_by"},
	"legal_holds":               {Generated: "id tenant_id kind target_id placed_by released_by", Refuse: "reason release_reason"},
	"retention_runs":            {Generated: "id tenant_id node started_by status failure"},
	"job_leases":                {Generated: "name owner"},
	"visitors":                  {Generated: "id tenant_id site_id token_hash cookie_mode ip", Refuse: "language", Mask: "current_url current_title referrer browser os device"},
	"page_views":                {Generated: "id tenant_id visitor_id", Mask: "url title"},
	"conversations":             {Generated: "id tenant_id site_id department_id visitor_id status agent_id offered_to ended_by", Refuse: "language required_skills", Ciphertext: "visitor_name visitor_email prechat survey"},
	"routing_settings":          {Generated: "tenant_id"},
	"department_routing":        {Generated: "department_id tenant_id mode", Refuse: "required_skills skill_question"},
	"agent_routing":             {Generated: "tenant_id user_id status status_reason", Refuse: "skills"},
	"conversation_participants": {Generated: "conversation_id tenant_id kind participant_id", Refuse: "display_name"},
	"conversation_refusals":     {Generated: "conversation_id tenant_id user_id"},
	"conversation_events":       {Generated: "id tenant_id conversation_id kind sender_kind sender_id event data file_id audience", Refuse: "idempotency_key", Ciphertext: "body"},
	"transcript_settings":       {Generated: "tenant_id updated_by"},
	"transcript_notes":          {Generated: "id tenant_id conversation_id author_id", Ciphertext: "body"},
	"transcript_tags":           {Generated: "tenant_id conversation_id added_by", Refuse: "tag"},
	"chat_files":                {Generated: "id tenant_id conversation_id uploader_kind uploader_id content_type", Ciphertext: "name content"},
	"offline_messages":          {Generated: "id tenant_id site_id department_id visitor_id status handled_by", Refuse: "language", Ciphertext: "name email body reply_note"},
	"canned_messages":           {Generated: "id tenant_id scope scope_key owner_id department_id created_by updated_by", Refuse: "shortcut title body"},
	"visitor_bans":              {Generated: "id tenant_id kind created_by", Refuse: "value", Mask: "reason"},
	"agent_presence":            {Generated: "socket_id tenant_id user_id node_id departments"},
	"team_threads":              {Generated: "id tenant_id member_a member_b"},
	"team_messages":             {Generated: "id tenant_id thread_id sender_id", Refuse: "idempotency_key", Ciphertext: "body"},
	"chat_invitations":          {Generated: "id tenant_id site_id visitor_id agent_id status conversation_id", Ciphertext: "message"},
	"card_form_requests":        {Generated: "id tenant_id conversation_id requested_by status token_hash holder_node holder_url"},
	"card_peer_keys":            {Generated: "tenant_id", Ciphertext: "wrapped_key"},
	"tenant_card_settings":      {Generated: "tenant_id pan_mask_mode updated_by"},
	"redaction_rules":           {Generated: "id tenant_id validator updated_by", Refuse: "name name_key pattern replacement"},
	"pan_scan_runs":             {Generated: "id node actor outcome", Derived: "report"},
	"evidence_reports":          {Generated: "id tenant_id framework created_by sha256 status stage failure", Derived: "bundle"},
	"audit_verify_jobs":         {Generated: "id tenant_id status started_by node failure", Derived: "result"},
	"compliance_modes":          {Generated: "tenant_id updated_by", Mask: "reason"},
	"cobrowse_sessions":         {Generated: "id tenant_id conversation_id site_id agent_id status holder_node holder_url end_reason"},
	"site_cobrowse_settings":    {Generated: "site_id tenant_id updated_by", Refuse: "input_allowlist"},
	"security_versions":         {Generated: "tenant_id"},
	"installation_keys":         {Generated: "name", Ciphertext: "wrapped_key"},
}

// columnTreatments is textColumns by table and column.
var columnTreatments = func() map[string]map[string]Treatment {
	out := make(map[string]map[string]Treatment, len(textColumns))
	for table, spec := range textColumns {
		cols := map[string]Treatment{}
		for t, names := range spec {
			for _, c := range strings.Fields(names) {
				if _, dup := cols[c]; dup {
					panic(fmt.Sprintf("migrations: column %s.%s has two treatments", table, c))
				}
				cols[c] = t
			}
		}
		out[table] = cols
	}
	return out
}()

// ColumnTreatment returns the card guard's treatment of a column, and false when the column is
// not declared (the guard then refuses card numbers in it).
func ColumnTreatment(table, column string) (Treatment, bool) {
	t, ok := columnTreatments[table][column]
	return t, ok
}

// DeclaredColumns returns every declared column as "table.column" with its treatment.
func DeclaredColumns() map[string]Treatment {
	out := map[string]Treatment{}
	for table, cols := range columnTreatments {
		for c, t := range cols {
			out[table+"."+c] = t
		}
	}
	return out
}
