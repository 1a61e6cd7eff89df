package chat

import (
	"context"
	"encoding/json"
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

// StartInput is a visitor's pre-chat survey.
type StartInput struct {
	DepartmentID string            `json:"department_id"`
	Name         string            `json:"name"`
	Email        string            `json:"email"`
	Answers      map[string]string `json:"answers"`
	Consent      bool              `json:"consent"`
	// Language is the browser's BCP 47 tag, stored canonical; one that does not parse or holds a
	// card number is dropped for the site's default language (visitor.LanguageOr).
	Language string `json:"language"`
}

func (s *Service) auditEvent(tenantID string, actor audit.Actor, action audit.Action, convID string, o Origin, details map[string]string) audit.Event {
	return audit.Event{
		Tenant: tenantID, Actor: actor, Origin: audit.Origin{IP: o.IP, UserAgent: o.UserAgent, Node: s.node},
		Action: action, Target: audit.Target{Kind: "conversation", ID: convID}, Outcome: audit.Success,
		RequestID: o.RequestID, Details: details,
	}
}

func visitorActor(id string) audit.Actor { return audit.Actor{ID: id, Kind: audit.ActorVisitor} }

// auditActor names a chat actor in the audit log: visitors as visitors, agents as users, the
// queue sweeper as the system.
func auditActor(a Actor) audit.Actor {
	switch a.Kind {
	case SenderVisitor:
		return visitorActor(a.ID)
	case SenderAgent:
		return userActor(a.ID)
	}
	return audit.Actor{ID: "chat-queue", Kind: audit.ActorSystem}
}
func userActor(id string) audit.Actor { return audit.Actor{ID: id, Kind: audit.ActorUser} }

// cleanPrechat validates the pre-chat answers against the form and applies the tenant's masking
// policy to them (card numbers, redaction rules).
func (s *Service) cleanPrechat(ctx context.Context, tenantID string, set Settings, in StartInput) (name, email string, answers map[string]string, err error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	pol, err := s.policy(ctx, tenantID)
	if err != nil {
		return "", "", nil, err
	}
	p := set.Prechat
	if p.AskName || in.Name != "" {
		if name, err = sanitize.Optional(in.Name, sanitize.Name); err != nil {
			return "", "", nil, invalid("name", "The name is at most 100 characters.")
		}
		name = pol.Apply(name)
	}
	if p.Enabled && p.RequireName && name == "" {
		return "", "", nil, invalid("name", "Please enter your name.")
	}
	if email, err = sanitize.Optional(in.Email, sanitize.Limits{MaxRunes: 254}); err != nil {
		return "", "", nil, invalid("email", "The e-mail address is too long.")
	}
	if email != "" {
		if a, perr := mail.ParseAddress(email); perr != nil || a.Address != email {
			return "", "", nil, invalid("email", "Enter a valid e-mail address.")
		}
	}
	if p.Enabled && p.RequireEmail && email == "" {
		return "", "", nil, invalid("email", "Please enter your e-mail address.")
	}
	// An address can be a card number ("4111111111111111@example.com"): masked like any text.
	email = pol.Apply(email)
	if p.Enabled && p.ConsentRequired && !in.Consent {
		return "", "", nil, invalid("consent", "Please accept the privacy notice to start the chat.")
	}
	answers = map[string]string{}
	known := map[string]Question{}
	for _, q := range p.Questions {
		known[q.ID] = q
	}
	for id, a := range in.Answers {
		q, ok := known[id]
		if !ok {
			return "", "", nil, invalid("answers", "Answer only the questions of the form.")
		}
		clean, err := sanitize.Optional(a, sanitize.Limits{MaxRunes: q.MaxLength, MultiLine: true})
		if err != nil {
			return "", "", nil, invalid("answers."+id, "The answer is too long.")
		}
		if clean != "" {
			answers[id] = pol.Apply(clean)
		}
	}
	for _, q := range p.Questions {
		if p.Enabled && q.Required && answers[q.ID] == "" {
			return "", "", nil, invalid("answers."+q.ID, "Please answer this question.")
		}
	}
	return name, email, answers, nil
}

// Start opens a conversation for a visitor after the pre-chat survey: the visitor must not be
// banned, the site must be within business hours with an agent online in the department; an
// open conversation of the visitor on the site is returned instead of a second one.
func (s *Service) Start(ctx context.Context, site tenant.Site, v visitor.Visitor, ip string, in StartInput, o Origin) (Conversation, bool, error) {
	if err := s.allowSite(ctx, site.TenantID, site.ID, v.ID, true); err != nil {
		return Conversation{}, false, err
	}
	if err := allow(s.visitorStarts, s.ipStarts, v.ID, ip); err != nil {
		return Conversation{}, false, err
	}
	if banned, err := s.Banned(ctx, site.TenantID, v.ID, ip); err != nil {
		return Conversation{}, false, err
	} else if banned {
		return Conversation{}, false, ErrBanned
	}
	if c, err := s.store.openForVisitor(ctx, site.TenantID, site.ID, v.ID); err == nil {
		return c, false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Conversation{}, false, err
	}
	set, err := s.store.settings(ctx, site.ID)
	if err != nil {
		return Conversation{}, false, err
	}
	name, email, answers, err := s.cleanPrechat(ctx, site.TenantID, set, in)
	if err != nil {
		return Conversation{}, false, err
	}
	dept := in.DepartmentID
	if dept == "" {
		dept = set.DefaultDepartmentID
	}
	if dept != "" {
		if _, err := s.tenants.Department(ctx, site.TenantID, dept); err != nil {
			return Conversation{}, false, invalid("department_id", "Choose one of the site's departments.")
		}
	}
	if reason, err := s.offlineReason(ctx, site.TenantID, set, dept); err != nil {
		return Conversation{}, false, err
	} else if reason != "" {
		return Conversation{}, false, &OfflineError{Reason: reason}
	}
	now := s.now().UTC()
	c := Conversation{
		ID: uuid.Must(uuid.NewV7()).String(), TenantID: site.TenantID, SiteID: site.ID, DepartmentID: ptr(dept),
		VisitorID: v.ID, Status: StatusQueued, Consent: in.Consent, Language: visitor.LanguageOr(in.Language, set.DefaultLanguage),
		QueuedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if dept != "" {
		// The department gives the chat its priority and required skills; its skill question's
		// answer may require one more. Only the skill's name is kept in clear, never the answer.
		dr, err := s.store.departmentRouting(ctx, site.TenantID, dept)
		if err != nil {
			return Conversation{}, false, err
		}
		need := slices.Clone(dr.RequiredSkills)
		if sk := prechatSkill(dr, answers); sk != "" {
			need = append(need, sk)
		}
		slices.Sort(need)
		c.Priority, c.RequiredSkills = dr.Priority, joinSkills(slices.Compact(need))
	}
	// Seal before the transaction: the first seal of a conversation fetches its data key from the
	// key provider, which must not happen while rows are locked.
	pre, _ := json.Marshal(answers)
	if c.Prechat, err = s.seal(ctx, c.TenantID, c.ID, vault.FieldPreChatAnswers, 0, string(pre)); err != nil {
		return Conversation{}, false, err
	}
	if c.VisitorName, err = s.seal(ctx, c.TenantID, c.ID, vault.FieldVisitorName, 0, name); err != nil {
		return Conversation{}, false, err
	}
	if c.VisitorEmail, err = s.seal(ctx, c.TenantID, c.ID, vault.FieldVisitorEmail, 0, email); err != nil {
		return Conversation{}, false, err
	}
	data := map[string]string{}
	if dept != "" {
		data["department_id"] = dept
	}
	started, err := s.store.start(ctx, c, participant{ConversationID: c.ID, TenantID: c.TenantID, Kind: SenderVisitor,
		ParticipantID: v.ID, JoinedAt: now},
		newEvent{Kind: KindSystem, SenderKind: SenderSystem, Event: EventStarted, Data: data},
		s.auditEvent(c.TenantID, visitorActor(v.ID), audit.ActionConversationStart, c.ID, o,
			map[string]string{"site": site.ID, "department": dept}))
	if err != nil {
		return Conversation{}, false, err
	}
	c.LastSeq = started.Seq
	s.publish(wire(started, "", &protocol.Sender{Kind: SenderSystem}, nil))
	s.signal(queueSignal(c.TenantID, c.ID))
	if dept != "" {
		s.routeLater(ctx, c.TenantID)
	}
	return c, true, nil
}

// offlineReason says why no chat can start now in dept: "outside_hours", "no_agents" or "". A
// department with its own weekly hours keeps them instead of the site's.
func (s *Service) offlineReason(ctx context.Context, tenantID string, set Settings, dept string) (string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	open := set.BusinessHours.OpenAt(s.now())
	if dept != "" {
		d, err := s.tenants.Department(ctx, tenantID, dept)
		switch {
		case err != nil && !errors.Is(err, tenant.ErrNotFound):
			return "", err
		case err == nil && d.Hours() != nil:
			open = d.Hours().OpenAt(s.now())
		}
	}
	if !open {
		return "outside_hours", nil
	}
	n, err := s.store.agentsOnline(ctx, tenantID, dept, s.onlineSince())
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "no_agents", nil
	}
	return "", nil
}

// SiteOffline says why a site's widget shows the offline form ("outside_hours", "no_agents" or
// ""): outside business hours (its default department's own, when it has them), or no agent
// online for its default department (any department when none is set).
func (s *Service) SiteOffline(ctx context.Context, tenantID string, set Settings) (string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if set.DefaultDepartmentID != "" {
		return s.offlineReason(ctx, tenantID, set, set.DefaultDepartmentID)
	}
	if !set.BusinessHours.OpenAt(s.now()) {
		return "outside_hours", nil
	}
	n, err := s.store.tenantAgentsOnline(ctx, tenantID, s.onlineSince())
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "no_agents", nil
	}
	return "", nil
}

// CurrentConversation returns the visitor's open conversation on a site (ErrNotFound when there
// is none).
func (s *Service) CurrentConversation(ctx context.Context, site tenant.Site, visitorID string) (Conversation, error) {
	return s.store.openForVisitor(ctx, site.TenantID, site.ID, visitorID)
}

// End closes a conversation on behalf of its visitor or its agent.
func (s *Service) End(ctx context.Context, tenantID, convID string, a Actor, p *identity.Principal, o Origin) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	c, err := s.store.conversation(ctx, tenantID, convID)
	if err != nil {
		return err
	}
	switch a.Kind {
	case SenderVisitor:
		if c.VisitorID != a.ID {
			return ErrNotFound
		}
	case SenderAgent:
		if ok, err := s.authz.Allowed(ctx, p, permEnd, c.Department()); err != nil || !ok {
			return ErrForbidden
		}
		if deref(c.AgentID) != a.ID {
			return ErrForbidden
		}
	}
	if !c.Open() {
		return nil
	}
	return s.close(ctx, c, StatusEnded, EventEnded, a, o)
}

// close moves an open conversation to ended or missed with its system event and audit record.
// The split detectors forget the conversation's senders once the deliveries handed over before
// are done (an amend they run still needs what the detectors remember).
func (s *Service) close(ctx context.Context, c Conversation, status, event string, a Actor, o Origin) error {
	by := a.Kind
	row, err := s.store.close(ctx, c, status, by, newEvent{Kind: KindSystem, SenderKind: a.Kind, SenderID: a.ID,
		Event: event, Data: map[string]string{"by": by}}, func(row eventRow) audit.Event {
		return s.auditEvent(c.TenantID, auditActor(a), audit.ActionConversationEnd, c.ID, o,
			map[string]string{"status": status, "by": by, "messages": strconv.FormatInt(row.Seq, 10)})
	})
	if errors.Is(err, errAlreadyClosed) {
		return nil
	}
	if err != nil {
		return err
	}
	s.publish(wire(row, "", &protocol.Sender{Kind: a.Kind, ID: a.ID, Name: a.Name}, nil))
	s.signal(queueSignal(c.TenantID, c.ID))
	if c.AgentID != nil {
		s.signal(userSignal(*c.AgentID, c.ID))
	}
	s.later(ctx, c.ID, func(context.Context) { s.forgetConversation(c.ID) })
	if c.AgentID != nil || c.OfferedTo != nil {
		// The agent has room for another chat.
		s.routeLater(ctx, c.TenantID)
	}
	if s.closed != nil {
		s.closed(c.TenantID, c.ID)
	}
	return nil
}

// SurveyInput is a post-chat survey answer.
type SurveyInput struct {
	Rating  int    `json:"rating"`
	Comment string `json:"comment"`
}

// Survey stores the visitor's post-chat survey, once, after the conversation ended.
func (s *Service) Survey(ctx context.Context, tenantID, convID, visitorID string, in SurveyInput) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	c, err := s.store.conversation(ctx, tenantID, convID)
	if err != nil {
		return err
	}
	if c.VisitorID != visitorID {
		return ErrNotFound
	}
	if c.Open() {
		return ErrStillOpen
	}
	if c.Survey != "" {
		return ErrSurveyDone
	}
	if in.Rating < 1 || in.Rating > 5 {
		return invalid("rating", "The rating is 1 to 5.")
	}
	comment, err := sanitize.Optional(in.Comment, sanitize.Answer)
	if err != nil {
		return invalid("comment", "The comment is at most 1000 characters.")
	}
	if comment, err = s.maskText(ctx, tenantID, comment); err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{"rating": in.Rating, "comment": comment})
	sealed, err := s.seal(ctx, tenantID, convID, vault.FieldSurveyAnswers, 0, string(body))
	if err != nil {
		return err
	}
	saved, err := s.store.saveSurvey(ctx, tenantID, convID, sealed, in.Rating)
	if err != nil {
		return err
	}
	if !saved {
		return ErrSurveyDone
	}
	return nil
}

// SweepMissed marks conversations nobody accepted within their site's queue timeout as missed.
func (s *Service) SweepMissed(ctx context.Context) (int, error) {
	ctx = migrations.AcrossTenants(ctx) // housekeeping spans tenants (SECURITY.md)
	now := s.now().UTC()
	waiting, err := s.store.waiting(ctx, now.Add(-30*time.Second))
	if err != nil {
		return 0, err
	}
	timeouts := map[string]time.Duration{}
	departmentTimeouts := map[string]time.Duration{}
	n := 0
	for _, c := range waiting {
		to, ok := timeouts[c.SiteID]
		if !ok {
			set, err := s.store.settings(ctx, c.SiteID)
			if err != nil {
				return n, err
			}
			to = time.Duration(set.QueueTimeoutSeconds) * time.Second
			timeouts[c.SiteID] = to
		}
		// A department's own queue timeout overrides its sites'.
		if c.DepartmentID != nil && *c.DepartmentID != "" {
			dto, ok := departmentTimeouts[*c.DepartmentID]
			if !ok {
				d, err := s.tenants.Department(ctx, c.TenantID, *c.DepartmentID)
				if err != nil && !errors.Is(err, tenant.ErrNotFound) {
					return n, err
				}
				dto = time.Duration(d.QueueTimeoutSeconds) * time.Second
				departmentTimeouts[*c.DepartmentID] = dto
			}
			if dto > 0 {
				to = dto
			}
		}
		if now.Sub(c.QueuedAt) < to {
			continue
		}
		if err := s.close(ctx, c, StatusMissed, EventMissed, Actor{Kind: SenderSystem, ID: ""}, Origin{}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
