package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/redaction"
	"github.com/parleyhq/parley/app/sanitize"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
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
	var started eventRow
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		if err := tx.Create(&participant{ConversationID: c.ID, TenantID: c.TenantID, Kind: SenderVisitor,
			ParticipantID: v.ID, JoinedAt: now}).Error; err != nil {
			return err
		}
		data := map[string]string{}
		if dept != "" {
			data["department_id"] = dept
		}
		started, err = s.appendEvent(ctx, tx, c.TenantID, c.ID, newEvent{Kind: KindSystem, SenderKind: SenderSystem, Event: EventStarted, Data: data}, nil)
		if err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, s.auditEvent(c.TenantID, visitorActor(v.ID), audit.ActionConversationStart, c.ID, o,
			map[string]string{"site": site.ID, "department": dept}))
	})
	if err != nil {
		return Conversation{}, false, err
	}
	c.LastSeq = started.Seq
	s.publish(wire(started, "", &protocol.Sender{Kind: SenderSystem}, nil))
	s.signal(queueSignal(c.TenantID, c.ID))
	return c, true, nil
}

// offlineReason says why no chat can start now in dept: "outside_hours", "no_agents" or "".
func (s *Service) offlineReason(ctx context.Context, tenantID string, set Settings, dept string) (string, error) {
	if !set.BusinessHours.OpenAt(s.now()) {
		return "outside_hours", nil
	}
	n, err := s.agentsOnline(ctx, tenantID, dept)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "no_agents", nil
	}
	return "", nil
}

// PostResult is the answer to a message.
type PostResult struct {
	ConversationID string
	Seq            int64
	// VisitorSeq is Seq in the visitor's view (0 for a whisper): what a visitor's ack carries.
	VisitorSeq int64
	Duplicate  bool
}

// Post stores a message of actor in a conversation and delivers it. A message whose key the
// sender already used is not stored again: its original seq comes back with Duplicate set. The
// duplicate check costs nothing on the hot path: the unique index on (conversation, sender, key)
// refuses the second insert, and only a failed write looks the key up.
func (s *Service) Post(ctx context.Context, tenantID, convID string, a Actor, key, text, ip string) (PostResult, error) {
	// Keys are stored in clear (the idempotency index): one that holds a card number, well-formed
	// or not, is refused as card_number_not_allowed before anything else looks at it, so it
	// reaches neither the database nor the split-number detector.
	if err := noCardNumber("key", key); err != nil {
		return PostResult{}, err
	}
	if !protocol.ValidKey(key) {
		return PostResult{}, invalid("key", "The message key must be 1 to 64 characters [A-Za-z0-9._:-].")
	}
	clean, err := sanitize.Text(text, sanitize.Message)
	switch {
	case errors.Is(err, sanitize.ErrEmpty):
		return s.duplicateOr(ctx, convID, a, key, ErrEmpty)
	case errors.Is(err, sanitize.ErrTooLong):
		return s.duplicateOr(ctx, convID, a, key, ErrTooLong)
	}
	switch a.Kind {
	case SenderVisitor:
		err = allow(s.visitorMsgs, s.ipMsgs, a.ID, ip)
	default:
		err = allow(s.agentMsgs, s.agentMsgs, a.ID, "")
	}
	if err != nil {
		return s.duplicateOr(ctx, convID, a, key, err)
	}
	masked, pol, previous, err := s.maskMessage(ctx, tenantID, convID, a.ID, key, clean)
	if err != nil {
		return PostResult{}, err
	}
	var row eventRow
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		row, err = s.appendEvent(ctx, tx, tenantID, convID, newEvent{Kind: KindMessage, SenderKind: a.Kind, SenderID: a.ID, Key: key, Text: masked, Audience: a.audience()},
			func(st seqState) error { return mayWrite(st, a) })
		return err
	})
	if err != nil {
		// A retry (same key) is refused by the unique index, or by the state the conversation
		// reached since (ended): either way the stored original answers.
		return s.duplicateOr(ctx, convID, a, key, err)
	}
	s.publish(wire(row, masked, &protocol.Sender{Kind: a.Kind, ID: a.ID, Name: a.Name}, nil))
	if len(previous) > 0 {
		if err := s.amend(ctx, pol, tenantID, convID, a, previous); err != nil {
			s.log.ErrorContext(ctx, "amend split card number", "conversation", convID, "error", err.Error())
		}
	}
	return PostResult{ConversationID: convID, Seq: row.Seq, VisitorSeq: row.visitorSeq()}, nil
}

// duplicateOr answers a refused message: when the sender's key is already stored the original
// seq is acked as a duplicate, otherwise the refusal stands.
func (s *Service) duplicateOr(ctx context.Context, convID string, a Actor, key string, refusal error) (PostResult, error) {
	prev, err := s.store.eventByKey(ctx, s.db, convID, a.ID, key)
	if err == nil && prev.Audience != a.audience() {
		return PostResult{}, invalid("key", "The key belongs to another message.")
	}
	if err == nil {
		return PostResult{ConversationID: convID, Seq: prev.Seq, VisitorSeq: prev.visitorSeq(), Duplicate: true}, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return PostResult{}, err
	}
	if migrations.IsUniqueViolation(refusal) {
		return PostResult{}, fmt.Errorf("chat: message key conflict: %w", refusal)
	}
	return PostResult{}, refusal
}

// mayWrite refuses writes into closed conversations and by agents not handling them (a
// supervisor who joined writes like the agent; a whisper goes into any open conversation), and
// a supervisor's write into a conversation that left the department they were checked in.
func mayWrite(st seqState, a Actor) error {
	if st.Status == StatusEnded || st.Status == StatusMissed {
		return ErrEnded
	}
	switch a.Kind {
	case SenderVisitor:
		if st.VisitorID != a.ID {
			return ErrNotFound
		}
	case SenderAgent:
		if (a.Whisper || a.Joined) && (a.Department == nil || deref(st.DepartmentID) != *a.Department) {
			return ErrForbidden // moved since the supervisor's permission was checked
		}
		if a.Whisper {
			return nil // any open conversation; chat.whisper was checked
		}
		if st.Status != StatusActive || (deref(st.AgentID) != a.ID && !a.Joined) {
			return ErrForbidden
		}
	}
	return nil
}

// amend masks the parts of earlier messages that turned out to be a card number split across
// messages: the stored copy is resealed and an amend event tells receivers.
func (s *Service) amend(ctx context.Context, pol *redaction.Policy, tenantID, convID string, a Actor, frags []pan.Fragment) error {
	byKey := map[string][]pan.Fragment{}
	var keys []string
	for _, f := range frags {
		if _, ok := byKey[f.MessageID]; !ok {
			keys = append(keys, f.MessageID)
		}
		byKey[f.MessageID] = append(byKey[f.MessageID], f)
	}
	sort.Strings(keys)
	for _, key := range keys {
		prev, err := s.store.eventByKey(ctx, s.db, convID, a.ID, key)
		if err != nil {
			return err
		}
		body, err := s.open(ctx, tenantID, convID, vault.FieldMessageBody, prev.Seq, prev.Body)
		if err != nil {
			return err
		}
		fixed := s.refit(pol, convID, a.ID, key, body, byKey[key])
		if fixed == body {
			continue
		}
		resealed, err := s.seal(ctx, tenantID, convID, vault.FieldMessageBody, prev.Seq, fixed)
		if err != nil {
			return err
		}
		var row eventRow
		err = s.tx(ctx, func(tx *gorm.DB) error {
			if err := tx.Model(&eventRow{}).Where("id = ?", prev.ID).Update("body", resealed).Error; err != nil {
				return err
			}
			var err error
			row, err = s.appendEvent(ctx, tx, tenantID, convID, newEvent{Kind: KindAmend, SenderKind: a.Kind, SenderID: a.ID,
				Text: fixed, TargetSeq: prev.Seq}, nil)
			return err
		})
		if err != nil {
			return err
		}
		s.publish(wire(row, fixed, &protocol.Sender{Kind: a.Kind, ID: a.ID, Name: a.Name}, nil))
	}
	return nil
}

// Typing relays a typing signal (not stored).
func (s *Service) Typing(ctx context.Context, convID, senderKind string, typing bool) {
	s.hub.Publish(hub.Signal{Topic: hub.ConversationTopic(convID), Kind: hub.KindTyping, Conversation: convID,
		SenderKind: senderKind, Typing: typing})
}

// Read records how far a participant has read and relays the receipt. An agent's receipt (only
// the visitor is given those) is relayed only when it reaches an event the visitor sees: reading
// past whispers alone tells the visitor nothing.
func (s *Service) Read(ctx context.Context, tenantID, convID string, a Actor, seq int64) error {
	mine := s.db.WithContext(ctx).Model(&participant{}).
		Where("tenant_id = ? AND conversation_id = ? AND kind = ? AND participant_id = ?", tenantID, convID, a.Kind, a.ID)
	var before []int64
	if a.Kind != SenderVisitor {
		if err := mine.Session(&gorm.Session{}).Pluck("last_read_seq", &before).Error; err != nil {
			return err
		}
	}
	res := mine.Session(&gorm.Session{}).Where("last_read_seq < ?", seq).
		Where("? <= (SELECT last_seq FROM conversations WHERE id = ?)", seq, convID).
		Update("last_read_seq", seq)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return nil
	}
	if len(before) > 0 {
		was, err := s.store.visitorSeqAt(ctx, convID, before[0])
		if err != nil {
			return err
		}
		now, err := s.store.visitorSeqAt(ctx, convID, seq)
		if err != nil {
			return err
		}
		if now <= was {
			return nil
		}
	}
	s.hub.Publish(hub.Signal{Topic: hub.ConversationTopic(convID), Kind: hub.KindRead, Conversation: convID,
		SenderKind: a.Kind, Seq: seq})
	return nil
}

// Accept gives a queued conversation (or one offered to this agent) to the agent. The first agent
// wins; later ones get ErrTaken.
func (s *Service) Accept(ctx context.Context, p *api.Principal, name, convID string, o Origin) (Conversation, error) {
	c, err := s.store.conversation(ctx, s.db, p.TenantID, convID)
	if err != nil {
		return Conversation{}, err
	}
	if ok, err := s.authz.Allowed(ctx, p, permAccept, c.Department()); err != nil || !ok {
		return Conversation{}, ErrForbidden
	}
	if c.Status == StatusActive && deref(c.AgentID) == p.UserID {
		return c, nil
	}
	now := s.now().UTC()
	var joined eventRow
	err = s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Conversation{}).
			Where("tenant_id = ? AND id = ? AND (status = ? OR (status = ? AND offered_to = ?))", p.TenantID, convID, StatusQueued, StatusAssigned, p.UserID).
			Updates(map[string]any{"status": StatusActive, "agent_id": p.UserID, "offered_to": nil, "accepted_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			if c.Open() {
				return ErrTaken
			}
			return ErrEnded
		}
		if err := s.joinParticipant(ctx, tx, c, SenderAgent, p.UserID, name, now); err != nil {
			return err
		}
		var err error
		joined, err = s.appendEvent(ctx, tx, p.TenantID, convID, newEvent{Kind: KindSystem, SenderKind: SenderAgent, SenderID: p.UserID, Event: EventJoined}, nil)
		if err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionConversationAssign, convID, o,
			map[string]string{"department": c.Department()}))
	})
	if err != nil {
		return Conversation{}, err
	}
	s.publish(wire(joined, "", &protocol.Sender{Kind: SenderAgent, ID: p.UserID, Name: name}, nil))
	s.signal(queueSignal(p.TenantID, convID), userSignal(p.UserID, convID))
	return s.store.conversation(ctx, s.db, p.TenantID, convID)
}

func (s *Service) joinParticipant(ctx context.Context, tx *gorm.DB, c Conversation, kind, id, name string, now time.Time) error {
	res := tx.WithContext(ctx).Model(&participant{}).
		Where("conversation_id = ? AND kind = ? AND participant_id = ?", c.ID, kind, id).
		Updates(map[string]any{"left_at": nil, "display_name": name})
	if res.Error != nil || res.RowsAffected > 0 {
		return res.Error
	}
	return tx.WithContext(ctx).Create(&participant{ConversationID: c.ID, TenantID: c.TenantID, Kind: kind, ParticipantID: id,
		DisplayName: name, JoinedAt: now}).Error
}

// Refuse hides a queued conversation from the agent, or hands one offered to them back to its
// department's queue.
func (s *Service) Refuse(ctx context.Context, p *api.Principal, convID string) error {
	c, err := s.store.conversation(ctx, s.db, p.TenantID, convID)
	if err != nil {
		return err
	}
	if ok, err := s.authz.Allowed(ctx, p, permRefuse, c.Department()); err != nil || !ok {
		return ErrForbidden
	}
	now := s.now().UTC()
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if c.Status == StatusAssigned && deref(c.OfferedTo) == p.UserID {
			if err := tx.Model(&Conversation{}).Where("id = ? AND status = ? AND offered_to = ?", convID, StatusAssigned, p.UserID).
				Updates(map[string]any{"status": StatusQueued, "offered_to": nil, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		if err := tx.Where("conversation_id = ? AND user_id = ?", convID, p.UserID).Delete(&refusal{}).Error; err != nil {
			return err
		}
		return tx.Create(&refusal{ConversationID: convID, TenantID: p.TenantID, UserID: p.UserID, RefusedAt: now}).Error
	})
	if err != nil {
		return err
	}
	s.signal(queueSignal(p.TenantID, convID), userSignal(p.UserID, convID))
	return nil
}

// Transfer moves an agent's conversation to another department's queue or offers it to another
// agent, who must be online with chat.accept in the conversation's department.
func (s *Service) Transfer(ctx context.Context, p *api.Principal, convID, toDept, toAgent string, o Origin) error {
	c, err := s.store.conversation(ctx, s.db, p.TenantID, convID)
	if err != nil {
		return err
	}
	if ok, err := s.authz.Allowed(ctx, p, permTransfer, c.Department()); err != nil || !ok {
		return ErrForbidden
	}
	if !c.Open() {
		return ErrEnded
	}
	if c.Status != StatusActive || deref(c.AgentID) != p.UserID {
		return ErrForbidden
	}
	data := map[string]string{"from_agent_id": p.UserID}
	update := map[string]any{"agent_id": nil, "offered_to": nil, "queued_at": s.now().UTC(), "updated_at": s.now().UTC()}
	dept := c.Department()
	switch {
	case toDept != "":
		if _, err := s.tenants.Department(ctx, p.TenantID, toDept); err != nil {
			return invalid("department_id", "No such department.")
		}
		update["status"], update["department_id"] = StatusQueued, toDept
		data["to_department_id"] = toDept
		dept = toDept
	case toAgent != "":
		if toAgent == p.UserID {
			return invalid("agent_id", "Choose another agent.")
		}
		target := &api.Principal{TenantID: p.TenantID, UserID: toAgent}
		if ok, err := s.authz.Allowed(ctx, target, permAccept, dept); err != nil || !ok {
			return ErrAgentNotOnline
		}
		if n, err := s.userOnline(ctx, p.TenantID, toAgent); err != nil {
			return err
		} else if n == 0 {
			return ErrAgentNotOnline
		}
		update["status"], update["offered_to"] = StatusAssigned, toAgent
		data["to_agent_id"] = toAgent
	default:
		return invalid("department_id", "Name a department or an agent.")
	}
	var leaving []string
	if toDept != "" {
		if leaving, err = s.supervisorsWithout(ctx, p.TenantID, convID, toDept); err != nil {
			return err
		}
	}
	now := s.now().UTC()
	var row eventRow
	var left []eventRow
	err = s.tx(ctx, func(tx *gorm.DB) error {
		left = nil
		res := tx.Model(&Conversation{}).Where("tenant_id = ? AND id = ? AND status = ? AND agent_id = ?", p.TenantID, convID, StatusActive, p.UserID).Updates(update)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrForbidden
		}
		if err := tx.Model(&participant{}).Where("conversation_id = ? AND kind = ? AND participant_id = ?", convID, SenderAgent, p.UserID).
			Update("left_at", now).Error; err != nil {
			return err
		}
		var err error
		row, err = s.appendEvent(ctx, tx, p.TenantID, convID, newEvent{Kind: KindSystem, SenderKind: SenderAgent, SenderID: p.UserID,
			Event: EventTransferred, Data: data}, nil)
		if err != nil {
			return err
		}
		// Supervisors who joined and may not join in the new department leave with it.
		for _, uid := range leaving {
			res := tx.Model(&participant{}).
				Where("conversation_id = ? AND kind = ? AND participant_id = ? AND left_at IS NULL", convID, ParticipantSupervisor, uid).
				Update("left_at", now)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				continue
			}
			l, err := s.appendEvent(ctx, tx, p.TenantID, convID, newEvent{Kind: KindSystem, SenderKind: SenderAgent, SenderID: uid,
				Event: EventLeft, Data: map[string]string{"role": ParticipantSupervisor}}, nil)
			if err != nil {
				return err
			}
			left = append(left, l)
		}
		return s.audit.Append(ctx, tx, s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionConversationTransfer, convID, o,
			map[string]string{"to_department": toDept, "to_agent": toAgent, "from_department": c.Department()}))
	})
	if err != nil {
		return err
	}
	s.publish(wire(row, "", &protocol.Sender{Kind: SenderAgent, ID: p.UserID}, nil))
	for _, l := range left {
		s.publish(wire(l, "", &protocol.Sender{Kind: SenderAgent, ID: l.SenderID}, nil))
	}
	s.signal(queueSignal(p.TenantID, convID), userSignal(p.UserID, convID))
	if toAgent != "" {
		s.signal(userSignal(toAgent, convID))
	}
	return nil
}

// supervisorsWithout lists the supervisors taking part in a conversation (joined, not left) who
// may not join in dept.
func (s *Service) supervisorsWithout(ctx context.Context, tenantID, convID, dept string) ([]string, error) {
	ps, err := s.store.participants(ctx, tenantID, convID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, pt := range ps {
		if pt.Kind != ParticipantSupervisor || pt.LeftAt != nil {
			continue
		}
		if ok, err := s.authz.Allowed(ctx, &api.Principal{TenantID: tenantID, UserID: pt.ParticipantID}, permJoin, dept); err != nil || !ok {
			out = append(out, pt.ParticipantID)
		}
	}
	return out, nil
}

// End closes a conversation on behalf of its visitor or its agent.
func (s *Service) End(ctx context.Context, tenantID, convID string, a Actor, p *api.Principal, o Origin) error {
	c, err := s.store.conversation(ctx, s.db, tenantID, convID)
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
func (s *Service) close(ctx context.Context, c Conversation, status, event string, a Actor, o Origin) error {
	now := s.now().UTC()
	by := a.Kind
	var row eventRow
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Conversation{}).Where("tenant_id = ? AND id = ? AND status IN ?", c.TenantID, c.ID,
			[]string{StatusQueued, StatusAssigned, StatusActive}).
			Updates(map[string]any{"status": status, "ended_at": now, "ended_by": by, "offered_to": nil, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errAlreadyClosed
		}
		var err error
		row, err = s.appendEvent(ctx, tx, c.TenantID, c.ID, newEvent{Kind: KindSystem, SenderKind: a.Kind, SenderID: a.ID,
			Event: event, Data: map[string]string{"by": by}}, nil)
		if err != nil {
			return err
		}
		actor := auditActor(a)
		return s.audit.Append(ctx, tx, s.auditEvent(c.TenantID, actor, audit.ActionConversationEnd, c.ID, o,
			map[string]string{"status": status, "by": by, "messages": strconv.FormatInt(row.Seq, 10)}))
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
	s.forgetConversation(c.ID)
	if s.closed != nil {
		s.closed(c.TenantID, c.ID)
	}
	return nil
}

var errAlreadyClosed = errors.New("chat: already closed")

// SurveyInput is a post-chat survey answer.
type SurveyInput struct {
	Rating  int    `json:"rating"`
	Comment string `json:"comment"`
}

// Survey stores the visitor's post-chat survey, once, after the conversation ended.
func (s *Service) Survey(ctx context.Context, tenantID, convID, visitorID string, in SurveyInput) error {
	c, err := s.store.conversation(ctx, s.db, tenantID, convID)
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
	res := s.db.WithContext(ctx).Model(&Conversation{}).Where("tenant_id = ? AND id = ? AND survey = ''", tenantID, convID).
		Updates(map[string]any{"survey": sealed, "rating": in.Rating, "updated_at": s.now().UTC()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrSurveyDone
	}
	return nil
}

// SweepMissed marks conversations nobody accepted within their site's queue timeout as missed.
func (s *Service) SweepMissed(ctx context.Context) (int, error) {
	var waiting []Conversation
	now := s.now().UTC()
	if err := s.db.WithContext(ctx).Where("status IN ? AND queued_at < ?", []string{StatusQueued, StatusAssigned}, now.Add(-30*time.Second)).
		Limit(500).Find(&waiting).Error; err != nil {
		return 0, err
	}
	timeouts := map[string]time.Duration{}
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
