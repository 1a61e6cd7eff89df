package rbac

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/compliance/pan"
)

// The default roles every tenant has. They are defined here, not stored, so their grants are
// the same everywhere, reviewed with the code and cannot be edited; a tenant that needs other
// grants builds custom roles from the catalogue.
const (
	RoleOwner      = "owner"
	RoleAdmin      = "admin"
	RoleSupervisor = "supervisor"
	RoleAgent      = "agent"
	RoleAuditor    = "auditor"
)

// Role is a named set of permissions of one tenant: a default role or a custom one.
type Role struct {
	Name        string
	Description string
	// Builtin marks the default roles, which cannot be changed or deleted.
	Builtin     bool
	Permissions []string
}

// Grants reports whether the role holds permission.
func (r Role) Grants(permission string) bool { return slices.Contains(r.Permissions, permission) }

var agentPermissions = []string{
	"chat.accept", "chat.refuse", "chat.transfer", "chat.end", "chat.request_card", "chat.agent_chat",
	"chat.invite", "visitor.view", "offline.view.department", "offline.reply", "canned.use",
	"transcript.view.own", "cobrowse.view",
}

var supervisorExtra = []string{
	"chat.join", "chat.monitor", "chat.whisper", "visitor.view_pii", "canned.manage",
	"transcript.view.department", "transcript.export", "report.view.department", "cobrowse.control",
}

var adminExtra = []string{
	"site.manage", "routing.manage", "ban.manage", "user.manage", "role.view", "role.manage",
	"security.view", "security.manage", "retention.manage", "keys.view", "keys.manage", "access_review.view",
	"report.view.all",
}

var auditorPermissions = []string{
	"audit.view", "audit.export", "audit.verify", "access_review.view", "access_review.perform",
	"evidence.view", "evidence.generate", "keys.view",
}

// DefaultRoles returns the default roles, most privileged first.
//
//   - owner holds every permission of the catalogue (and so can grant any of them);
//   - admin runs the organisation (users, roles, sites, routing, bans, security policy, retention,
//     keys) and can do everything a supervisor can, with the whole organisation's reports and its
//     departments' transcripts (but not transcript.view.all: no conversation of no department it
//     did not take part in), but reads no other conversation's files, sees no full card number
//     and has no access to the audit log, so the people it administers can be audited by someone
//     else;
//   - supervisor runs a department: everything an agent can, plus joining, monitoring and
//     whispering, visitors' personal data, the department's reports, and reading and exporting
//     the department's transcripts;
//   - agent takes chats and reads the transcripts of the chats it took part in;
//   - auditor reads and verifies the audit log (search, integrity: verification, checkpoints and
//     forwarding), reviews and signs off access, generates and downloads evidence reports and
//     sees the key status; it changes nothing, reads no chat content and sees no other console
//     page (no roles, no security settings).
//
// No role, not even owner, can alter or delete audit data: the catalogue has no such permission.
func DefaultRoles() []Role {
	supervisor := concat(agentPermissions, supervisorExtra)
	return []Role{
		{Name: RoleOwner, Builtin: true, Permissions: Names(),
			Description: "Holds every permission; the organisation's accountable owner. At least one user keeps this role."},
		{Name: RoleAdmin, Builtin: true, Permissions: concat(supervisor, adminExtra),
			Description: "Administers users, roles, sites, routing, security policy, retention and keys; no audit log or organisation-wide transcript access."},
		{Name: RoleSupervisor, Builtin: true, Permissions: supervisor,
			Description: "Leads a department: takes chats, joins, monitors and whispers, reads and exports the department's transcripts, sees its reports and visitors' personal data."},
		{Name: RoleAgent, Builtin: true, Permissions: slices.Clone(agentPermissions),
			Description: "Takes chats, reads the transcripts of their own chats and the offline messages of their departments."},
		{Name: RoleAuditor, Builtin: true, Permissions: slices.Clone(auditorPermissions),
			Description: "Reads and verifies the audit log, signs off access reviews, generates evidence reports and sees the key status; changes nothing and reads no chat content."},
	}
}

// DefaultRoleNames returns the names of the default roles, most privileged first.
func DefaultRoleNames() []string {
	return []string{RoleOwner, RoleAdmin, RoleSupervisor, RoleAgent, RoleAuditor}
}

// DefaultRole returns the default role called name.
func DefaultRole(name string) (Role, bool) {
	for _, r := range DefaultRoles() {
		if r.Name == name {
			return r, true
		}
	}
	return Role{}, false
}

// IsDefaultRole reports whether name is one of the default roles.
func IsDefaultRole(name string) bool { return slices.Contains(DefaultRoleNames(), name) }

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// Limits of custom role definitions.
const (
	MaxRoleNameLen    = 40
	MaxDescriptionLen = 300
)

var roleNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// reservedRoleNames may not be used by custom roles: the default roles and names that read as
// system roles in audit records and reports.
var reservedRoleNames = []string{"system", "root", "superuser", "everyone", "anonymous", "visitor"}

// CheckRoleName validates a custom role's name: 2–40 characters of lower-case ASCII letters,
// digits, '-' and '_', starting with a letter, neither a default role's nor a reserved name, and
// no card number in it (ErrRoleNameCardNumber: a4111111111111111 is a well-formed slug).
func CheckRoleName(name string) error {
	if pan.Contains(name) {
		return ErrRoleNameCardNumber
	}
	if n := len(name); n < 2 || n > MaxRoleNameLen || !roleNamePattern.MatchString(name) {
		return fmt.Errorf("%w: use 2 to %d lower-case letters, digits, '-' or '_', starting with a letter", ErrInvalidRoleName, MaxRoleNameLen)
	}
	if IsDefaultRole(name) || slices.Contains(reservedRoleNames, name) {
		return fmt.Errorf("%w: %q is reserved", ErrReservedRoleName, name)
	}
	return nil
}

// CleanDescription trims a role description and checks it: at most 300 characters, no control
// or bidirectional-override characters. A description is free text stored in clear: card numbers
// in it are masked to their last four digits (pan.MaskLast4), not refused.
func CleanDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if !utf8.ValidString(d) || utf8.RuneCountInString(d) > MaxDescriptionLen {
		return "", fmt.Errorf("%w: at most %d characters", ErrInvalidDescription, MaxDescriptionLen)
	}
	for _, r := range d {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return "", fmt.Errorf("%w: no control characters", ErrInvalidDescription)
		}
	}
	return pan.MaskLast4(d), nil
}

// CleanPermissions checks a custom role's permission list: at least one permission, every one in
// the catalogue. It returns the list sorted in catalogue order without repeats; unknown names are
// reported in an *UnknownPermissionsError.
func CleanPermissions(perms []string) ([]string, error) {
	if unknown := Unknown(perms); len(unknown) > 0 {
		return nil, &UnknownPermissionsError{Names: unknown}
	}
	if len(perms) == 0 {
		return nil, ErrNoPermissions
	}
	out := make([]string, 0, len(perms))
	for _, name := range Names() {
		if slices.Contains(perms, name) {
			out = append(out, name)
		}
	}
	return out, nil
}
