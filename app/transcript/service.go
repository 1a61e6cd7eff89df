package transcript

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// Auditor appends audit events inside the caller's transaction; *auditlog.Log satisfies it. An
// error fails the audited action.
type Auditor interface {
	Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error
}

// Directory names the tenant's sites and departments; *tenant.Store satisfies it.
type Directory interface {
	Sites(ctx context.Context, tenantID string) ([]tenant.Site, error)
	Departments(ctx context.Context, tenantID string) ([]tenant.Department, error)
}

// People names console users by id; *account.Store satisfies it.
type People interface {
	People(ctx context.Context, tenantID string, ids []string) (map[string]account.Person, error)
}

// Service reads, searches, exports and annotates transcripts. Every field but Holds, Files,
// MaxScan and Log is required.
type Service struct {
	DB          *gorm.DB
	Sealer      Sealer
	Audit       Auditor
	Authz       Decider
	Departments Directory
	People      People
	// Holds tells whether a conversation is under legal hold; nil means none is.
	Holds HoldChecker
	// Files opens the conversation's files for readers; nil serves none.
	Files Files
	Now   func() time.Time
	Node  string
	// MaxScan bounds the conversations one content search decrypts (DefaultMaxScan when 0).
	MaxScan int
	Log     *slog.Logger
}

func (s *Service) store() *store { return &store{db: s.DB} }

func (s *Service) maxScan() int {
	if s.MaxScan > 0 {
		return s.MaxScan
	}
	return DefaultMaxScan
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Scope returns p's transcript scope.
func (s *Service) Scope(ctx context.Context, p *identity.Principal) (Scope, error) {
	return s.scopeOf(ctx, p)
}

// DepartmentOf returns the department of a conversation of the tenant ("" when it has none), or
// ErrNotFound: the routes' guard checks the route's permission there, and the service then
// narrows to the user's scope (a conversation outside it is ErrNotFound too).
func (s *Service) DepartmentOf(ctx context.Context, tenantID, convID string) (string, error) {
	if !validID(convID) {
		return "", ErrNotFound
	}
	return s.store().department(ctx, tenantID, convID)
}

// Locate returns the department of a conversation p may read ("" when it has none), or
// ErrNotFound when it does not exist or is outside p's scope.
func (s *Service) Locate(ctx context.Context, p *identity.Principal, convID string) (string, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if !validID(convID) {
		return "", ErrNotFound
	}
	sc, err := s.scopeOf(ctx, p)
	if err != nil {
		return "", err
	}
	c, err := s.store().conversation(ctx, p.TenantID, sc, convID)
	if err != nil {
		return "", err
	}
	return deref(c.DepartmentID), nil
}

// CheckFilter validates a filter's fields; the tag and the query are normalised in place.
func CheckFilter(f *Filter) error {
	for field, v := range map[string]string{"site": f.SiteID, "department": f.DepartmentID, "agent": f.AgentID, "visitor": f.VisitorID} {
		if pan.Contains(v) {
			return cardRefused(field)
		}
		if v != "" && !validID(v) {
			return invalid(field, "Choose a "+field+" from the list.")
		}
	}
	if f.Status != "" && !contains(Statuses, f.Status) {
		return invalid("status", "Choose a status from the list.")
	}
	if f.Rating < 0 || f.Rating > 5 {
		return invalid("rating", "The rating is 1 to 5.")
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return invalid("to", "The end date is before the start date.")
	}
	if f.Page < 0 || f.Page > 10000 {
		return invalid("page", "The page is out of range.")
	}
	if f.Tag != "" {
		t, err := CleanTag(f.Tag)
		if err != nil {
			return err
		}
		f.Tag = t
	}
	if f.Query != "" {
		q, err := cleanQuery(f.Query)
		if err != nil {
			return err
		}
		f.Query = q
	}
	return nil
}

func cleanQuery(q string) (string, error) {
	if pan.Contains(q) {
		return "", cardRefused("q")
	}
	q = strings.Join(strings.Fields(q), " ")
	if n := len([]rune(q)); n < MinQueryLen || n > MaxQueryLen {
		return "", invalid("q", fmt.Sprintf("Search for %d to %d characters.", MinQueryLen, MaxQueryLen))
	}
	return q, nil
}

// List returns the page of conversations in p's scope matching f. With a query it searches the
// message bodies of the newest conversations matching the other filters, at most MaxScan of them,
// and audits the search (never its terms).
func (s *Service) List(ctx context.Context, p *identity.Principal, f Filter, o Origin) (List, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if err := CheckFilter(&f); err != nil {
		return List{}, err
	}
	sc, err := s.scopeOf(ctx, p)
	if err != nil {
		return List{}, err
	}
	st := s.store()
	if f.Query == "" {
		rows, err := st.list(ctx, p.TenantID, sc, f, PageSize+1, f.Page*PageSize)
		if err != nil {
			return List{}, err
		}
		more := len(rows) > PageSize
		if more {
			rows = rows[:PageSize]
		}
		items, err := s.summaries(ctx, p.TenantID, rows)
		return List{Items: items, More: more}, err
	}
	limit := s.maxScan()
	cands, err := st.list(ctx, p.TenantID, sc, f, limit+1, 0)
	if err != nil {
		return List{}, err
	}
	search := &Search{MaxScan: limit}
	if len(cands) > limit {
		cands, search.Limited = cands[:limit], true
	}
	var matched []string
	for _, c := range cands {
		ok, err := s.matches(ctx, c, f.Query)
		if err != nil {
			return List{}, err
		}
		search.Scanned++
		if ok {
			matched = append(matched, c.ID)
		}
	}
	ev := s.event(p, audit.ActionTranscriptSearch, "transcripts", p.TenantID, o, map[string]string{
		"scanned": strconv.Itoa(search.Scanned), "matched": strconv.Itoa(len(matched)), "limited": strconv.FormatBool(search.Limited),
	})
	ev.Target.Kind = "transcripts"
	if err := s.record(ctx, ev); err != nil {
		return List{}, err
	}
	more := len(matched) > PageSize
	if more {
		matched = matched[:PageSize]
	}
	rows, err := st.byIDs(ctx, p.TenantID, matched)
	if err != nil {
		return List{}, err
	}
	items, err := s.summaries(ctx, p.TenantID, rows)
	return List{Items: items, More: more, Search: search}, err
}

// matches opens the conversation's message bodies (whispers included), then its notes, and
// compares them with query, case-insensitively. A body that does not open does not match.
func (s *Service) matches(ctx context.Context, c convRow, query string) (bool, error) {
	st, needle := s.store(), strings.ToLower(query)
	rows, err := st.events(ctx, c.TenantID, c.ID, true)
	if err != nil {
		return false, err
	}
	if found, err := scan(ctx, s.Sealer, c.TenantID, c.ID, rows, needle); found || err != nil {
		return found, err
	}
	notes, err := st.notes(ctx, c.TenantID, c.ID)
	if err != nil || len(notes) == 0 {
		return false, err
	}
	for _, n := range notes {
		text, err := s.Sealer.OpenString(ctx, vault.Binding{Tenant: c.TenantID, Scope: c.ID, Field: FieldNote, Seq: int64(n.N)}, n.Body)
		if errors.Is(err, vault.ErrUnavailable) {
			return false, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if err == nil && containsFold(text, needle) {
			return true, nil
		}
	}
	return false, nil
}

// scan is the search's hot path: open each body in memory and look for needle (lower case).
func scan(ctx context.Context, sealer Sealer, tenantID, convID string, rows []eventRow, needle string) (bool, error) {
	for _, r := range rows {
		text, err := sealer.OpenString(ctx, vault.Binding{Tenant: tenantID, Scope: convID, Field: vault.FieldMessageBody, Seq: r.Seq}, r.Body)
		if errors.Is(err, vault.ErrUnavailable) {
			return false, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if err != nil {
			continue
		}
		if containsFold(text, needle) {
			return true, nil
		}
	}
	return false, nil
}

// containsFold reports whether s holds needle (already lower case), ignoring case.
func containsFold(s, needle string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return strings.Contains(strings.ToLower(s), needle)
		}
	}
	if len(needle) > len(s) {
		return false
	}
	for i := 0; i+len(needle) <= len(s); i++ {
		j := 0
		for ; j < len(needle); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				break
			}
		}
		if j == len(needle) {
			return true
		}
	}
	return false
}

// summaries names the rows' sites, departments and agents and adds their tags.
func (s *Service) summaries(ctx context.Context, tenantID string, rows []convRow) ([]Summary, error) {
	out := make([]Summary, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	sites, depts, err := s.names(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(rows))
	var agents []string
	for _, r := range rows {
		ids = append(ids, r.ID)
		if r.AgentID != nil {
			agents = append(agents, *r.AgentID)
		}
	}
	tags, err := s.store().tags(ctx, tenantID, ids)
	if err != nil {
		return nil, err
	}
	people, err := s.people(ctx, tenantID, agents)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		sum := Summary{ID: r.ID, SiteID: r.SiteID, SiteName: sites[r.SiteID], DepartmentID: deref(r.DepartmentID),
			DepartmentName: depts[deref(r.DepartmentID)], AgentID: deref(r.AgentID), VisitorID: r.VisitorID, Status: r.Status,
			Rating: r.Rating, Tags: tags[r.ID], Messages: r.Messages, StartedAt: r.QueuedAt.UTC(), EndedAt: utc(r.EndedAt)}
		if sum.AgentID != "" {
			sum.AgentName = personName(people, sum.AgentID)
		}
		if sum.Tags == nil {
			sum.Tags = []string{}
		}
		out = append(out, sum)
	}
	return out, nil
}

func (s *Service) names(ctx context.Context, tenantID string) (sites, depts map[string]string, err error) {
	return tenant.Names(ctx, s.Departments, tenantID)
}

func (s *Service) people(ctx context.Context, tenantID string, ids []string) (map[string]account.Person, error) {
	if len(ids) == 0 || s.People == nil {
		return map[string]account.Person{}, nil
	}
	sort.Strings(ids)
	ids = compact(ids)
	if len(ids) > account.MaxPeople {
		ids = ids[:account.MaxPeople]
	}
	return s.People.People(ctx, tenantID, ids)
}

func personName(people map[string]account.Person, id string) string {
	p, ok := people[id]
	switch {
	case !ok:
		return "Former user"
	case p.DisplayName != "":
		return p.DisplayName
	default:
		return p.Email
	}
}

// Filters returns what the list's filters offer: the tenant's sites, departments and the tags
// in use.
func (s *Service) Filters(ctx context.Context, tenantID string) ([]tenant.Site, []tenant.Department, []string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	sites, err := s.Departments.Sites(ctx, tenantID)
	if err != nil {
		return nil, nil, nil, err
	}
	depts, err := s.Departments.Departments(ctx, tenantID)
	if err != nil {
		return nil, nil, nil, err
	}
	tags, err := s.store().vocabulary(ctx, tenantID)
	return sites, depts, tags, err
}

// Settings returns the tenant's transcript policy.
func (s *Service) Settings(ctx context.Context, tenantID string) (Settings, error) {
	return s.store().settings(ctx, tenantID)
}

// SetSettings changes the tenant's transcript policy with its audit record; changed is false
// when it already was so (nothing is recorded).
func (s *Service) SetSettings(ctx context.Context, p *identity.Principal, in Settings, o Origin) (changed bool, err error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	st := s.store()
	cur, err := st.settings(ctx, p.TenantID)
	if err != nil {
		return false, err
	}
	if cur == in {
		return false, nil
	}
	ev := s.event(p, audit.ActionTranscriptSettings, "transcript_settings", p.TenantID, o,
		map[string]string{"require_reason": strconv.FormatBool(in.RequireReason)})
	err = migrations.Transaction(s.DB.WithContext(ctx), func(tx *gorm.DB) error {
		if err := st.saveSettings(ctx, tx, settingsRow{TenantID: p.TenantID, RequireReason: in.RequireReason,
			UpdatedBy: p.UserID, UpdatedAt: s.Now().UTC()}); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, ev)
	})
	return err == nil, err
}

// CleanReason checks the reason given to open a transcript: required when the tenant says so,
// at most MaxReasonLen characters, plain text, no card number.
func CleanReason(set Settings, reason string) (string, error) {
	if pan.Contains(reason) {
		return "", cardRefused("reason")
	}
	reason = strings.Join(strings.Fields(reason), " ")
	if len([]rune(reason)) > MaxReasonLen {
		return "", invalid("reason", fmt.Sprintf("The reason is at most %d characters.", MaxReasonLen))
	}
	for _, r := range reason {
		if r < 0x20 || r == 0x7f {
			return "", invalid("reason", "The reason is plain text.")
		}
	}
	if set.RequireReason && reason == "" {
		return "", ErrReasonRequired
	}
	return reason, nil
}

// Open decrypts the conversation for p and records the opening (with the reason when given);
// the transcript is returned only once the audit log holds the record.
func (s *Service) Open(ctx context.Context, p *identity.Principal, convID, reason string, o Origin) (Transcript, error) {
	t, reason, err := s.read(ctx, p, convID, reason)
	if err != nil {
		return Transcript{}, err
	}
	details := map[string]string{"visitor_pii": strconv.FormatBool(t.Visitor.Unmasked), "events": strconv.Itoa(len(t.Events))}
	if reason != "" {
		details["reason"] = reason
	}
	if t.DepartmentID != "" {
		details["department"] = t.DepartmentID
	}
	if err := s.record(ctx, s.event(p, audit.ActionTranscriptView, "conversation", convID, o, details)); err != nil {
		return Transcript{}, err
	}
	return t, nil
}

// read checks the reason and decrypts the conversation p may read.
func (s *Service) read(ctx context.Context, p *identity.Principal, convID, reason string) (Transcript, string, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if !validID(convID) {
		return Transcript{}, "", ErrNotFound
	}
	sc, err := s.scopeOf(ctx, p)
	if err != nil {
		return Transcript{}, "", err
	}
	st := s.store()
	c, err := st.conversation(ctx, p.TenantID, sc, convID)
	if err != nil {
		return Transcript{}, "", err
	}
	set, err := st.settings(ctx, p.TenantID)
	if err != nil {
		return Transcript{}, "", err
	}
	if reason, err = CleanReason(set, reason); err != nil {
		return Transcript{}, "", err
	}
	t, err := s.decrypt(ctx, p, c)
	return t, reason, err
}

// Settings of the visitor's details: unmasked only with visitor.view_pii in the department.
func (s *Service) piiAllowed(ctx context.Context, p *identity.Principal, dept string) bool {
	ok, err := s.Authz.Allowed(ctx, p.TenantID, p.UserID, dept, permViewPII)
	return err == nil && ok
}

// decrypt builds the transcript of c.
func (s *Service) decrypt(ctx context.Context, p *identity.Principal, c convRow) (Transcript, error) {
	st := s.store()
	sums, err := s.summaries(ctx, p.TenantID, []convRow{c})
	if err != nil {
		return Transcript{}, err
	}
	t := Transcript{Summary: sums[0], Events: []Event{}, Notes: []Note{}, Prechat: []Answer{}}
	open := func(field string, seq int64, ct string) (string, bool, error) {
		if ct == "" {
			return "", true, nil
		}
		pt, err := s.Sealer.OpenString(ctx, vault.Binding{Tenant: c.TenantID, Scope: c.ID, Field: field, Seq: seq}, ct)
		if errors.Is(err, vault.ErrUnavailable) {
			return "", false, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if err != nil {
			s.unreadable(ctx, c.TenantID, c.ID, field, seq, err)
			return "", false, nil
		}
		return pan.MaskLast4(pt), true, nil
	}
	// The visitor.
	t.Visitor = Visitor{ID: c.VisitorID, Unmasked: s.piiAllowed(ctx, p, deref(c.DepartmentID))}
	name, _, err := open(vault.FieldVisitorName, 0, c.VisitorName)
	if err != nil {
		return Transcript{}, err
	}
	email, _, err := open(vault.FieldVisitorEmail, 0, c.VisitorEmail)
	if err != nil {
		return Transcript{}, err
	}
	v, _, err := st.visitor(ctx, c.TenantID, c.VisitorID)
	if err != nil {
		return Transcript{}, err
	}
	t.Visitor.Browser, t.Visitor.OS, t.Visitor.Language = v.Browser, v.OS, v.Language
	if t.Visitor.Unmasked {
		t.Visitor.Name, t.Visitor.Email, t.Visitor.IP = name, email, v.IP
	} else {
		t.Visitor.Name, t.Visitor.Email, t.Visitor.IP = maskName(name), maskEmail(email), maskIP(v.IP)
	}
	// Pre-chat answers and survey.
	if pre, _, err := open(vault.FieldPreChatAnswers, 0, c.Prechat); err != nil {
		return Transcript{}, err
	} else if pre != "" {
		var answers map[string]string
		if json.Unmarshal([]byte(pre), &answers) == nil {
			keys := make([]string, 0, len(answers))
			for k := range answers {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				t.Prechat = append(t.Prechat, Answer{Question: pan.MaskLast4(k), Answer: answers[k]})
			}
		}
	}
	if sv, _, err := open(vault.FieldSurveyAnswers, 0, c.Survey); err != nil {
		return Transcript{}, err
	} else if sv != "" {
		var survey Survey
		if json.Unmarshal([]byte(sv), &survey) == nil {
			t.Survey = &survey
		}
	}
	// Events.
	rows, err := st.events(ctx, c.TenantID, c.ID, false)
	if err != nil {
		return Transcript{}, err
	}
	files, err := st.files(ctx, c.TenantID, c.ID)
	if err != nil {
		return Transcript{}, err
	}
	joined, err := st.participantNames(ctx, c.TenantID, c.ID)
	if err != nil {
		return Transcript{}, err
	}
	var senders []string
	for _, r := range rows {
		if r.SenderKind == "agent" && r.SenderID != "" {
			senders = append(senders, r.SenderID)
		}
	}
	people, err := s.people(ctx, c.TenantID, senders)
	if err != nil {
		return Transcript{}, err
	}
	for _, r := range rows {
		if r.Kind == "amend" { // the amended body was resealed in place
			continue
		}
		ev := Event{Seq: r.Seq, At: r.CreatedAt.UTC(), Kind: r.Kind, SenderKind: r.SenderKind, SenderID: r.SenderID,
			Event: r.Event, AgentOnly: r.Audience == "agents"}
		switch r.SenderKind {
		case "visitor":
			ev.Sender = "Visitor"
			if t.Visitor.Unmasked && name != "" {
				ev.Sender = name
			}
		case "agent":
			if n := joined[r.SenderID]; n != "" {
				ev.Sender = n
			} else {
				ev.Sender = personName(people, r.SenderID)
			}
		default:
			ev.Sender = "System"
		}
		if ev.AgentOnly && r.Kind == "message" {
			ev.Kind = "whisper"
		}
		text, ok, err := open(vault.FieldMessageBody, r.Seq, r.Body)
		if err != nil {
			return Transcript{}, err
		}
		ev.Text, ev.Unreadable = text, !ok
		if r.Kind == "file" && r.FileID != nil {
			f := files[*r.FileID]
			fname, _, err := open(fieldFileName, r.Seq, f.Name)
			if err != nil {
				return Transcript{}, err
			}
			ev.File = &File{ID: f.ID, Name: fname, Type: f.ContentType, Size: f.Size}
		}
		if r.Kind == "system" && ev.Text == "" {
			ev.Text = systemText(r.Event)
		}
		t.Events = append(t.Events, ev)
	}
	// Notes.
	notes, err := st.notes(ctx, c.TenantID, c.ID)
	if err != nil {
		return Transcript{}, err
	}
	var authors []string
	for _, n := range notes {
		authors = append(authors, n.AuthorID)
	}
	if people, err = s.people(ctx, c.TenantID, authors); err != nil {
		return Transcript{}, err
	}
	for _, n := range notes {
		body, ok, err := open(FieldNote, int64(n.N), n.Body)
		if err != nil {
			return Transcript{}, err
		}
		if !ok {
			body = "This note cannot be read."
		}
		t.Notes = append(t.Notes, Note{N: n.N, AuthorID: n.AuthorID, AuthorName: personName(people, n.AuthorID), Body: body, At: n.CreatedAt.UTC()})
	}
	if s.Holds != nil {
		if t.Held, err = s.Holds.ConversationHeld(ctx, c.TenantID, c.ID); err != nil {
			return Transcript{}, err
		}
	}
	return t, nil
}

func systemText(event string) string {
	switch event {
	case "started":
		return "The visitor started the chat."
	case "joined":
		return "An agent joined."
	case "transferred":
		return "The chat was transferred."
	case "ended":
		return "The chat ended."
	case "missed":
		return "Nobody answered: the chat was missed."
	case "left":
		return "A supervisor left."
	}
	return event
}

// unreadable records a ciphertext that did not open (PCI DSS 10.2.1.4; HIPAA integrity). The
// read goes on with the field marked unreadable.
func (s *Service) unreadable(ctx context.Context, tenantID, convID, field string, seq int64, cause error) {
	reason := "mismatch"
	switch {
	case errors.Is(cause, vault.ErrShredded):
		reason = "shredded"
	case errors.Is(cause, vault.ErrUnreadable):
		reason = "unreadable"
	case errors.Is(cause, vault.ErrMalformed):
		reason = "malformed"
	}
	ev := audit.Event{Tenant: tenantID, Actor: audit.Actor{ID: "transcripts", Kind: audit.ActorSystem}, Origin: audit.Origin{Node: s.Node},
		Action: audit.ActionDecryptFailure, Target: audit.Target{Kind: "conversation", ID: convID}, Outcome: audit.Failure,
		Reason: reason, Details: map[string]string{"field": field, "seq": strconv.FormatInt(seq, 10)}}
	if err := s.record(ctx, ev); err != nil {
		s.log().ErrorContext(ctx, "recording an unreadable ciphertext failed", "conversation", convID, "cause", err.Error())
	}
}

// AddNote adds a note to a conversation p may read: plain text up to MaxNoteLen characters, card
// numbers masked, sealed in the conversation's scope bound to the note's number.
func (s *Service) AddNote(ctx context.Context, p *identity.Principal, convID, body string, o Origin) (Note, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	if body == "" {
		return Note{}, invalid("body", "Write the note.")
	}
	if len([]rune(body)) > MaxNoteLen {
		return Note{}, invalid("body", fmt.Sprintf("A note is at most %d characters.", MaxNoteLen))
	}
	for _, r := range body {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f {
			return Note{}, invalid("body", "A note is plain text.")
		}
	}
	body = pan.MaskLast4(body)
	if _, err := s.Locate(ctx, p, convID); err != nil {
		return Note{}, err
	}
	st := s.store()
	for attempt := 0; ; attempt++ {
		n, err := st.nextNote(ctx, p.TenantID, convID)
		if err != nil {
			return Note{}, err
		}
		if n > MaxNotes {
			return Note{}, ErrTooMany
		}
		// Seal before the transaction: the key provider is never called with rows locked.
		sealed, err := s.Sealer.SealString(ctx, vault.Binding{Tenant: p.TenantID, Scope: convID, Field: FieldNote, Seq: int64(n)}, body)
		if err != nil {
			if errors.Is(err, vault.ErrUnavailable) {
				return Note{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
			return Note{}, err
		}
		row := noteRow{ID: uuid.Must(uuid.NewV7()).String(), TenantID: p.TenantID, ConversationID: convID, N: n,
			AuthorID: p.UserID, Body: sealed, CreatedAt: s.Now().UTC()}
		ev := s.event(p, audit.ActionTranscriptNote, "conversation", convID, o, map[string]string{"note": strconv.Itoa(n)})
		err = migrations.Transaction(s.DB.WithContext(ctx), func(tx *gorm.DB) error {
			if err := tx.WithContext(ctx).Create(&row).Error; err != nil {
				return err
			}
			return s.appendAudit(ctx, tx, ev)
		})
		if err != nil && attempt < 2 && migrations.IsUniqueViolation(err) {
			continue
		}
		if err != nil {
			return Note{}, err
		}
		return Note{N: n, AuthorID: p.UserID, Body: body, At: row.CreatedAt}, nil
	}
}

// CleanTag normalises a tag — lower case, single spaces — and checks it: 1 to MaxTagLen
// letters, digits, spaces, '-' or '_', and no card number (tags are stored in clear).
func CleanTag(tag string) (string, error) {
	if pan.Contains(tag) {
		return "", cardRefused("tag")
	}
	tag = strings.ToLower(strings.Join(strings.Fields(tag), " "))
	if n := len([]rune(tag)); n == 0 || n > MaxTagLen {
		return "", invalid("tag", fmt.Sprintf("A tag is 1 to %d characters.", MaxTagLen))
	}
	for _, r := range tag {
		if !(r == ' ' || r == '-' || r == '_' || isLetterOrDigit(r)) {
			return "", invalid("tag", "A tag holds letters, digits, spaces, '-' and '_'.")
		}
	}
	return tag, nil
}

// AddTag labels a conversation p may read; added is false when it already had the tag.
func (s *Service) AddTag(ctx context.Context, p *identity.Principal, convID, tag string, o Origin) (added bool, err error) {
	return s.changeTag(ctx, p, convID, tag, true, o)
}

// RemoveTag removes a label; removed is false when the conversation did not have it.
func (s *Service) RemoveTag(ctx context.Context, p *identity.Principal, convID, tag string, o Origin) (removed bool, err error) {
	return s.changeTag(ctx, p, convID, tag, false, o)
}

func (s *Service) changeTag(ctx context.Context, p *identity.Principal, convID, tag string, add bool, o Origin) (bool, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	tag, err := CleanTag(tag)
	if err != nil {
		return false, err
	}
	if _, err := s.Locate(ctx, p, convID); err != nil {
		return false, err
	}
	st := s.store()
	op := "removed"
	if add {
		op = "added"
	}
	ev := s.event(p, audit.ActionTranscriptTag, "conversation", convID, o, map[string]string{"tag": tag, "change": op})
	var changed bool
	err = migrations.Transaction(s.DB.WithContext(ctx), func(tx *gorm.DB) error {
		var err error
		if add {
			changed, err = st.addTag(ctx, tx, tagRow{TenantID: p.TenantID, ConversationID: convID, Tag: tag, AddedBy: p.UserID, CreatedAt: s.Now().UTC()})
		} else {
			changed, err = st.removeTag(ctx, tx, p.TenantID, convID, tag)
		}
		if err != nil || !changed {
			return err
		}
		return s.appendAudit(ctx, tx, ev)
	})
	return changed, err
}

// Tags returns the tags of a conversation (for the API's answer).
func (s *Service) Tags(ctx context.Context, tenantID, convID string) ([]string, error) {
	m, err := s.store().tags(ctx, tenantID, []string{convID})
	if err != nil {
		return nil, err
	}
	if m[convID] == nil {
		return []string{}, nil
	}
	return m[convID], nil
}

// event builds an audit event of p's action on a target.
func (s *Service) event(p *identity.Principal, action audit.Action, kind, id string, o Origin, details map[string]string) audit.Event {
	return audit.Event{Tenant: p.TenantID, Actor: audit.Actor{ID: p.UserID, Kind: audit.ActorUser},
		Origin: audit.Origin{IP: o.IP, UserAgent: o.UserAgent, Node: s.Node}, Action: action,
		Target: audit.Target{Kind: kind, ID: id}, Outcome: audit.Success, RequestID: o.RequestID, Details: details}
}

// record appends ev in a transaction of its own; a failure is ErrUnavailable (fail closed).
func (s *Service) record(ctx context.Context, ev audit.Event) error {
	ctx = migrations.WithTenant(ctx, ev.Tenant)
	return migrations.Transaction(s.DB.WithContext(ctx), func(tx *gorm.DB) error { return s.appendAudit(ctx, tx, ev) })
}

func (s *Service) appendAudit(ctx context.Context, tx *gorm.DB, ev audit.Event) error {
	if s.Audit == nil {
		return fmt.Errorf("%w: no audit log wired", ErrUnavailable)
	}
	if err := s.Audit.Append(ctx, tx, ev); err != nil {
		return fmt.Errorf("%w: audit: %w", ErrUnavailable, err)
	}
	return nil
}

// Person is a console user as the list's agent filter offers them.
type Person struct {
	ID, Name string
}

// Agents returns the agents of the conversations in p's scope, by name.
func (s *Service) Agents(ctx context.Context, p *identity.Principal) ([]Person, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	sc, err := s.scopeOf(ctx, p)
	if err != nil {
		return nil, err
	}
	ids, err := s.store().agents(ctx, p.TenantID, sc)
	if err != nil {
		return nil, err
	}
	people, err := s.people(ctx, p.TenantID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Person, 0, len(ids))
	for _, id := range ids {
		out = append(out, Person{ID: id, Name: personName(people, id)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// EntryDepartment returns a department where p may read some transcripts (transcript.view.own,
// .department or .all), for the list's route guard: "" when p holds one tenant-wide, or nowhere
// (so the guard refuses).
func (s *Service) EntryDepartment(ctx context.Context, p *identity.Principal) (string, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	reads := func(dept string) bool {
		for _, perm := range []string{PermViewOwn, PermViewDepartment, PermViewAll} {
			if ok, err := s.Authz.Allowed(ctx, p.TenantID, p.UserID, dept, perm); err == nil && ok {
				return true
			}
		}
		return false
	}
	if reads("") {
		return "", nil
	}
	depts, err := s.Departments.Departments(ctx, p.TenantID)
	if err != nil {
		return "", err
	}
	for _, d := range depts {
		if reads(d.ID) {
			return d.ID, nil
		}
	}
	return "", nil
}

// IsDepartment reports whether id is one of the tenant's departments (errors count as no).
func (s *Service) IsDepartment(ctx context.Context, tenantID, id string) bool {
	depts, err := s.Departments.Departments(migrations.WithTenant(ctx, tenantID), tenantID)
	if err != nil {
		return false
	}
	for _, d := range depts {
		if d.ID == id {
			return true
		}
	}
	return false
}

// Files opens a conversation's file for a reader the service has authorised, and audits the
// download; the app adapts the chat engine (chat.Service.ReaderFile). ErrNotFound when the file
// is not the conversation's.
type Files interface {
	ReaderFile(ctx context.Context, p *identity.Principal, convID, fileID string, o Origin) (name, contentType string, data []byte, err error)
}

// File opens a file of a conversation p may read (ErrNotFound outside p's scope).
func (s *Service) File(ctx context.Context, p *identity.Principal, convID, fileID string, o Origin) (name, contentType string, data []byte, err error) {
	if !validID(fileID) || s.Files == nil {
		return "", "", nil, ErrNotFound
	}
	if _, err := s.Locate(ctx, p, convID); err != nil {
		return "", "", nil, err
	}
	return s.Files.ReaderFile(migrations.WithTenant(ctx, p.TenantID), p, convID, fileID, o)
}
