package chat

import (
	"context"
	"errors"
	"net/mail"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/sanitize"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// OfflineInput is a message left while no agent is available.
type OfflineInput struct {
	Name         string `json:"name"`
	Email        string `json:"email"`
	DepartmentID string `json:"department_id"`
	Message      string `json:"message"`
	Consent      bool   `json:"consent"`
	// Language is as StartInput.Language: dropped for the site's default when it does not parse
	// or holds a card number.
	Language string `json:"language"`
}

// OfflineMessage is an offline message as the console shows it.
type OfflineMessage struct {
	ID           string    `json:"id"`
	SiteID       string    `json:"site_id"`
	DepartmentID string    `json:"department_id,omitempty"`
	VisitorID    string    `json:"visitor_id,omitempty"`
	Name         string    `json:"name"`
	Email        string    `json:"email"`
	Message      string    `json:"message"`
	Consent      bool      `json:"consent"`
	Language     string    `json:"language,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// LeaveOffline stores an offline message, sealed under its own data key, with card numbers masked.
func (s *Service) LeaveOffline(ctx context.Context, site tenant.Site, visitorID, ip string, in OfflineInput) (string, error) {
	if err := s.allowSite(ctx, site.TenantID, site.ID, visitorID, true); err != nil {
		return "", err
	}
	if err := allow(s.visitorStarts, s.ipStarts, visitorID, ip); err != nil {
		return "", err
	}
	if banned, err := s.Banned(ctx, site.TenantID, visitorID, ip); err != nil {
		return "", err
	} else if banned {
		return "", ErrBanned
	}
	name, err := sanitize.Optional(in.Name, sanitize.Name)
	if err != nil {
		return "", invalid("name", "The name is at most 100 characters.")
	}
	email, err := sanitize.Optional(in.Email, sanitize.Limits{MaxRunes: 254})
	if err != nil || email == "" {
		return "", invalid("email", "Enter your e-mail address so we can answer.")
	}
	if a, perr := mail.ParseAddress(email); perr != nil || a.Address != email {
		return "", invalid("email", "Enter a valid e-mail address.")
	}
	body, err := sanitize.Text(in.Message, sanitize.Message)
	if err != nil {
		return "", invalid("message", "Write a message of at most 4000 characters.")
	}
	set, err := s.store.settings(ctx, site.ID)
	if err != nil {
		return "", err
	}
	if set.Prechat.ConsentRequired && !in.Consent {
		return "", invalid("consent", "Please accept the privacy notice.")
	}
	if in.DepartmentID != "" {
		if _, err := s.tenants.Department(ctx, site.TenantID, in.DepartmentID); err != nil {
			return "", invalid("department_id", "Choose one of the site's departments.")
		}
	}
	row := offlineRow{ID: uuid.Must(uuid.NewV7()).String(), TenantID: site.TenantID, SiteID: site.ID, DepartmentID: ptr(in.DepartmentID),
		VisitorID: visitorID, Consent: in.Consent, Language: visitor.LanguageOr(in.Language, set.DefaultLanguage), CreatedAt: s.now().UTC(),
		Status: OfflineNew}
	pol, err := s.policy(ctx, row.TenantID)
	if err != nil {
		return "", err
	}
	if row.Name, err = s.seal(ctx, row.TenantID, row.ID, vault.FieldVisitorName, 0, pol.Apply(name)); err != nil {
		return "", err
	}
	if row.Email, err = s.seal(ctx, row.TenantID, row.ID, vault.FieldVisitorEmail, 0, pol.Apply(email)); err != nil {
		return "", err
	}
	if row.Body, err = s.seal(ctx, row.TenantID, row.ID, vault.FieldOfflineMessage, 0, pol.Apply(body)); err != nil {
		return "", err
	}
	if err := s.store.addOffline(ctx, row); err != nil {
		return "", err
	}
	return row.ID, nil
}

// OfflineMessages lists the tenant's offline messages the user may read, opened: all of them with
// offline.view.all, else those of departments where they hold offline.view.department. A list
// that opened any message is one visitor.view_pii audit event (how many, no content), recorded
// before anything is returned, so an unrecorded read is never answered.
func (s *Service) OfflineMessages(ctx context.Context, p *identity.Principal, limit int, o Origin) ([]OfflineMessage, error) {
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	all, err := s.authz.Allowed(ctx, p, permOfflineAll, "")
	if err != nil {
		all = false
	}
	var mine []string // nil: every department's
	if !all {
		depts, err := s.tenants.Departments(ctx, p.TenantID)
		if err != nil {
			return nil, err
		}
		for _, d := range depts {
			if ok, err := s.authz.Allowed(ctx, p, permOfflineDepartment, d.ID); err == nil && ok {
				mine = append(mine, d.ID)
			}
		}
		if len(mine) == 0 {
			return nil, ErrForbidden
		}
	}
	rows, err := s.store.offline(ctx, p.TenantID, mine, limit)
	if err != nil {
		return nil, err
	}
	out := make([]OfflineMessage, 0, len(rows))
	for _, r := range rows {
		m := OfflineMessage{ID: r.ID, SiteID: r.SiteID, DepartmentID: deref(r.DepartmentID), VisitorID: r.VisitorID,
			Consent: r.Consent, Language: r.Language, CreatedAt: r.CreatedAt}
		var err error
		if m.Name, err = s.open(ctx, r.TenantID, r.ID, vault.FieldVisitorName, 0, r.Name); err != nil {
			return nil, err
		}
		if m.Email, err = s.open(ctx, r.TenantID, r.ID, vault.FieldVisitorEmail, 0, r.Email); err != nil {
			return nil, err
		}
		if m.Message, err = s.open(ctx, r.TenantID, r.ID, vault.FieldOfflineMessage, 0, r.Body); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if len(out) > 0 {
		ev := s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionVisitorPIIView, "", o,
			map[string]string{"count": strconv.Itoa(len(out)), "fields": "name,email,message"})
		ev.Target.Kind = "offline_messages"
		if err := s.store.record(ctx, ev); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// permOfflineReply lets a user mark the offline messages of a department handled, with a note of
// the answer given (the inbox's route declares it too).
const permOfflineReply = "offline.reply"

// The states of an offline message in the inbox.
const (
	OfflineNew     = "new"
	OfflineHandled = "handled"
)

// MaxOfflineReplyRunes bounds the reply note of a handled offline message.
const MaxOfflineReplyRunes = 2000

// OfflineSummary is an offline message as the inbox lists it: no content is opened for a list.
type OfflineSummary struct {
	ID           string     `json:"id"`
	SiteID       string     `json:"site_id"`
	DepartmentID string     `json:"department_id,omitempty"`
	Status       string     `json:"status"`
	Consent      bool       `json:"consent"`
	Language     string     `json:"language,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	HandledBy    string     `json:"handled_by,omitempty"`
	HandledAt    *time.Time `json:"handled_at,omitempty"`
}

// OfflineDetail is one offline message opened: its content and inbox state, the reply note, and
// whether the user may mark it handled.
type OfflineDetail struct {
	OfflineMessage
	Status    string     `json:"status"`
	HandledBy string     `json:"handled_by,omitempty"`
	HandledAt *time.Time `json:"handled_at,omitempty"`
	ReplyNote string     `json:"reply_note,omitempty"`
	CanReply  bool       `json:"can_reply"`
}

// OfflineFilter narrows the inbox: by status ("" for both), at most Limit messages (1 to 500).
type OfflineFilter struct {
	Status string
	Limit  int
}

// offlineReach returns where p may read offline messages: all of them (offline.view.all, or
// offline.view.department granted tenant-wide, which reaches every department and the messages
// left for none) or the departments where they hold offline.view.department; ErrForbidden when
// nowhere.
func (s *Service) offlineReach(ctx context.Context, p *identity.Principal) (all bool, depts []string, err error) {
	for _, perm := range []string{permOfflineAll, permOfflineDepartment} {
		if ok, err := s.authz.Allowed(ctx, p, perm, ""); err == nil && ok {
			return true, nil, nil
		}
	}
	ds, err := s.tenants.Departments(ctx, p.TenantID)
	if err != nil {
		return false, nil, err
	}
	for _, d := range ds {
		if ok, err := s.authz.Allowed(ctx, p, permOfflineDepartment, d.ID); err == nil && ok {
			depts = append(depts, d.ID)
		}
	}
	if len(depts) == 0 {
		return false, nil, ErrForbidden
	}
	return false, depts, nil
}

// OfflineInbox lists the offline messages p may read (offlineReach), newest first, without
// opening any content. A message left for no department needs offline.view.all or
// offline.view.department granted tenant-wide.
func (s *Service) OfflineInbox(ctx context.Context, p *identity.Principal, f OfflineFilter) ([]OfflineSummary, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if f.Status != "" && f.Status != OfflineNew && f.Status != OfflineHandled {
		return nil, invalid("status", "The status is new or handled.")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 500
	}
	all, depts, err := s.offlineReach(ctx, p)
	if err != nil {
		return nil, err
	}
	if all {
		depts = nil
	}
	rows, err := s.store.offlineInbox(ctx, p.TenantID, depts, f.Status, f.Limit)
	if err != nil {
		return nil, err
	}
	out := make([]OfflineSummary, 0, len(rows))
	for _, r := range rows {
		out = append(out, OfflineSummary{ID: r.ID, SiteID: r.SiteID, DepartmentID: deref(r.DepartmentID), Status: r.Status,
			Consent: r.Consent, Language: r.Language, CreatedAt: r.CreatedAt, HandledBy: r.HandledBy, HandledAt: r.HandledAt})
	}
	return out, nil
}

// offlineFor finds offline message id of p's tenant when p may read it; any other is ErrNotFound.
func (s *Service) offlineFor(ctx context.Context, p *identity.Principal, id string) (offlineRow, error) {
	if !protocol.ValidID(id) {
		return offlineRow{}, ErrNotFound
	}
	r, err := s.store.offlineByID(ctx, p.TenantID, id)
	if err != nil {
		return r, err
	}
	all, depts, err := s.offlineReach(ctx, p)
	if errors.Is(err, ErrForbidden) || (err == nil && !all && !slices.Contains(depts, deref(r.DepartmentID))) {
		return offlineRow{}, ErrNotFound
	}
	return r, err
}

// mayReply reports whether p may mark r handled: offline.reply in its department (tenant-wide
// for a message left for no department).
func (s *Service) mayReply(ctx context.Context, p *identity.Principal, r offlineRow) bool {
	ok, err := s.authz.Allowed(ctx, p, permOfflineReply, deref(r.DepartmentID))
	return err == nil && ok
}

// OpenOffline opens one offline message p may read: the visitor's name, e-mail address and
// message and the reply note, decrypted. The view is audited as a view of the visitor's personal
// data before anything is shown; an audit failure refuses it.
func (s *Service) OpenOffline(ctx context.Context, p *identity.Principal, id string, o Origin) (OfflineDetail, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	r, err := s.offlineFor(ctx, p, id)
	if err != nil {
		return OfflineDetail{}, err
	}
	d := OfflineDetail{OfflineMessage: OfflineMessage{ID: r.ID, SiteID: r.SiteID, DepartmentID: deref(r.DepartmentID), VisitorID: r.VisitorID,
		Consent: r.Consent, Language: r.Language, CreatedAt: r.CreatedAt}, Status: r.Status, HandledBy: r.HandledBy, HandledAt: r.HandledAt}
	if d.Name, err = s.open(ctx, r.TenantID, r.ID, vault.FieldVisitorName, 0, r.Name); err != nil {
		return OfflineDetail{}, err
	}
	if d.Email, err = s.open(ctx, r.TenantID, r.ID, vault.FieldVisitorEmail, 0, r.Email); err != nil {
		return OfflineDetail{}, err
	}
	if d.Message, err = s.open(ctx, r.TenantID, r.ID, vault.FieldOfflineMessage, 0, r.Body); err != nil {
		return OfflineDetail{}, err
	}
	if d.ReplyNote, err = s.open(ctx, r.TenantID, r.ID, vault.FieldOfflineReply, 0, r.ReplyNote); err != nil {
		return OfflineDetail{}, err
	}
	d.CanReply = s.mayReply(ctx, p, r)
	ev := s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionVisitorPIIView, r.ID, o,
		map[string]string{"department_id": deref(r.DepartmentID), "site_id": r.SiteID, "fields": "name,email,message"})
	ev.Target.Kind = "offline_message"
	if err := s.store.record(ctx, ev); err != nil {
		return OfflineDetail{}, err
	}
	return d, nil
}

// HandleOffline marks an offline message handled by p, with an optional note of the answer given
// (Parley sends no e-mail: the note records a reply made through another channel). The note is
// cleaned like chat text, masked by the tenant's policy and sealed under the message's data key.
// p needs offline.reply in the message's department; a handled message stays as it is.
func (s *Service) HandleOffline(ctx context.Context, p *identity.Principal, id, note string, o Origin) error {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	r, err := s.offlineFor(ctx, p, id)
	if err != nil {
		return err
	}
	if !s.mayReply(ctx, p, r) {
		return ErrForbidden
	}
	if r.Status == OfflineHandled {
		return invalid("status", "This message is already marked handled.")
	}
	note, err = sanitize.Optional(note, sanitize.Limits{MaxRunes: MaxOfflineReplyRunes, MultiLine: true})
	if err != nil {
		return invalid("note", "The note is at most 2000 characters.")
	}
	pol, err := s.policy(ctx, r.TenantID)
	if err != nil {
		return err
	}
	sealed, err := s.seal(ctx, r.TenantID, r.ID, vault.FieldOfflineReply, 0, pol.Apply(note))
	if err != nil {
		return err
	}
	now := s.now().UTC()
	ev := s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionOfflineHandle, r.ID, o,
		map[string]string{"department_id": deref(r.DepartmentID), "note": strconv.FormatBool(note != "")})
	ev.Target.Kind = "offline_message"
	return s.store.handleOffline(ctx, r.TenantID, r.ID, p.UserID, sealed, now, ev)
}
