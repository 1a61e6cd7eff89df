package chat

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/sanitize"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// Proactive invitations: an agent holding chat.invite invites a live visitor of one of the
// tenant's sites, with an optional short message (sanitized, card numbers masked, sealed under
// the invitation's own data key). The visitor's widget finds the invitation by polling
// (GET …/invitation, see docs/chat-protocol.md §3.4); accepting starts a conversation already
// active with the inviting agent, declining or letting it expire (InvitationTTL) closes it. The
// agent is told of every outcome by an invite_result frame. Sending, accepting, declining and
// expiring are audited.

// InvitationTTL is how long a visitor has to answer an invitation.
const InvitationTTL = 2 * time.Minute

// MaxInvitationMessage is the longest invitation message, in characters.
const MaxInvitationMessage = 500

// ErrInvitationClosed means an invitation was answered already or has expired.
var ErrInvitationClosed = errors.New("chat: invitation no longer open")

// Invitation is a pending invitation as the visitor's widget shows it.
type Invitation struct {
	ID        string    `json:"id"`
	AgentName string    `json:"agent_name"`
	Message   string    `json:"message"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Service) inviteAudit(r invitationRow, actor audit.Actor, action audit.Action, o Origin, details map[string]string) audit.Event {
	ev := s.auditEvent(r.TenantID, actor, action, "", o, details)
	ev.Target = audit.Target{Kind: "invitation", ID: r.ID}
	return ev
}

func inviteResult(r invitationRow) protocol.InviteResult {
	return protocol.InviteResult{Type: protocol.TypeInviteResult, InvitationID: r.ID, VisitorID: r.VisitorID, Status: r.Status,
		ConversationID: deref(r.ConversationID), ExpiresAt: r.ExpiresAt.UTC()}
}

// Invite invites a live visitor of the tenant to chat with the agent. A visitor of another
// tenant, or none, is ErrNotFound; a visitor already chatting, already invited or banned is
// refused (invalid visitor_id).
func (s *Service) Invite(ctx context.Context, p *identity.Principal, visitorID, message string, o Origin) (protocol.InviteResult, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if ok, err := s.authz.Allowed(ctx, p, permInvite, ""); err != nil || !ok {
		return protocol.InviteResult{}, ErrForbidden
	}
	// An invitation takes a token of the agent's message budget: it reaches a visitor's screen.
	if err := s.allowMessage(ctx, p.TenantID, Actor{Kind: SenderAgent, ID: p.UserID}, ""); err != nil {
		return protocol.InviteResult{}, err
	}
	v, err := s.visitors.Get(ctx, p.TenantID, visitorID)
	if errors.Is(err, visitor.ErrNotFound) {
		return protocol.InviteResult{}, ErrNotFound
	}
	if err != nil {
		return protocol.InviteResult{}, err
	}
	clean, err := sanitize.Optional(message, sanitize.Limits{MaxRunes: MaxInvitationMessage})
	if err != nil {
		return protocol.InviteResult{}, invalid("message", "The invitation message is at most 500 characters.")
	}
	if banned, err := s.Banned(ctx, p.TenantID, v.ID, ""); err != nil {
		return protocol.InviteResult{}, err
	} else if banned {
		return protocol.InviteResult{}, invalid("visitor_id", "This visitor may not chat.")
	}
	if _, err := s.store.openForVisitor(ctx, p.TenantID, v.SiteID, v.ID); err == nil {
		return protocol.InviteResult{}, invalid("visitor_id", "The visitor is already in a chat.")
	} else if !errors.Is(err, ErrNotFound) {
		return protocol.InviteResult{}, err
	}
	now := s.now().UTC()
	if _, err := s.store.pendingInvitation(ctx, p.TenantID, v.SiteID, v.ID, now); err == nil {
		return protocol.InviteResult{}, invalid("visitor_id", "The visitor has an invitation waiting already.")
	} else if !errors.Is(err, ErrNotFound) {
		return protocol.InviteResult{}, err
	}
	masked, err := s.maskText(ctx, p.TenantID, clean)
	if err != nil {
		return protocol.InviteResult{}, err
	}
	r := invitationRow{ID: uuid.Must(uuid.NewV7()).String(), TenantID: p.TenantID, SiteID: v.SiteID, VisitorID: v.ID,
		AgentID: p.UserID, Status: protocol.InvitationPending, CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
	if r.Message, err = s.seal(ctx, p.TenantID, r.ID, vault.FieldInvitationMessage, 0, masked); err != nil {
		return protocol.InviteResult{}, err
	}
	if err := s.store.createInvitation(ctx, r, s.inviteAudit(r, userActor(p.UserID), audit.ActionInvitationSend, o,
		map[string]string{"visitor": v.ID, "site": v.SiteID})); err != nil {
		return protocol.InviteResult{}, err
	}
	return inviteResult(r), nil
}

// InvitationResult returns the state of an invitation the user sent (ErrNotFound for another's).
func (s *Service) InvitationResult(ctx context.Context, p *identity.Principal, id string) (protocol.InviteResult, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	r, err := s.store.invitation(ctx, p.TenantID, id)
	if err != nil {
		return protocol.InviteResult{}, err
	}
	if r.AgentID != p.UserID {
		return protocol.InviteResult{}, ErrNotFound
	}
	return inviteResult(r), nil
}

// PendingInvitation returns the visitor's open invitation on the site (ErrNotFound for none),
// within the visitor's long-poll budget (a RateError beyond it).
func (s *Service) PendingInvitation(ctx context.Context, site tenant.Site, v visitor.Visitor, ip string) (Invitation, error) {
	ctx = migrations.WithTenant(ctx, site.TenantID)
	// The widget polls: each poll takes a token of the visitor's long-poll budget.
	if err := allow(s.visitorPolls, s.ipConns, v.ID, ip); err != nil {
		return Invitation{}, err
	}
	r, err := s.store.pendingInvitation(ctx, site.TenantID, site.ID, v.ID, s.now().UTC())
	if err != nil {
		return Invitation{}, err
	}
	msg, err := s.open(ctx, site.TenantID, r.ID, vault.FieldInvitationMessage, 0, r.Message)
	if err != nil {
		return Invitation{}, err
	}
	return Invitation{ID: r.ID, AgentName: s.teamName(ctx, site.TenantID, r.AgentID), Message: msg, ExpiresAt: r.ExpiresAt.UTC()}, nil
}

// visitorInvitation resolves an invitation for its visitor: another visitor's or site's is
// ErrNotFound, one no longer pending is ErrInvitationClosed, and one past its expiry is expired
// now (audited, the agent told) and ErrInvitationClosed.
func (s *Service) visitorInvitation(ctx context.Context, site tenant.Site, v visitor.Visitor, id string) (invitationRow, error) {
	r, err := s.store.invitation(ctx, site.TenantID, id)
	if err != nil {
		return r, err
	}
	if r.SiteID != site.ID || r.VisitorID != v.ID {
		return invitationRow{}, ErrNotFound
	}
	if r.Status != protocol.InvitationPending {
		return r, ErrInvitationClosed
	}
	if !s.now().Before(r.ExpiresAt) {
		if err := s.expireInvitation(ctx, r); err != nil {
			return r, err
		}
		return r, ErrInvitationClosed
	}
	return r, nil
}

// DeclineInvitation closes the visitor's invitation as declined and tells the agent.
func (s *Service) DeclineInvitation(ctx context.Context, site tenant.Site, v visitor.Visitor, id string, o Origin) error {
	ctx = migrations.WithTenant(ctx, site.TenantID)
	r, err := s.visitorInvitation(ctx, site, v, id)
	if err != nil {
		return err
	}
	err = s.store.decideInvitation(ctx, r, protocol.InvitationDeclined, s.inviteAudit(r, visitorActor(v.ID), audit.ActionInvitationDecline, o,
		map[string]string{"agent": r.AgentID}))
	if errors.Is(err, errInvitationTaken) {
		return ErrInvitationClosed
	}
	if err != nil {
		return err
	}
	s.signal(inviteSignal(r))
	return nil
}

// AcceptInvitation accepts the visitor's invitation: a conversation starts on the site, already
// active with the inviting agent (who gets it as an assigned conversation), in the site's default
// department. A banned visitor, or one already chatting, cannot accept; nor can anyone once the
// agent has gone offline (the invitation expires then).
func (s *Service) AcceptInvitation(ctx context.Context, site tenant.Site, v visitor.Visitor, id, ip string, o Origin) (Conversation, error) {
	ctx = migrations.WithTenant(ctx, site.TenantID)
	if err := s.allowSite(ctx, site.TenantID, site.ID, v.ID, true); err != nil {
		return Conversation{}, err
	}
	if err := allow(s.visitorStarts, s.ipStarts, v.ID, ip); err != nil {
		return Conversation{}, err
	}
	r, err := s.visitorInvitation(ctx, site, v, id)
	if err != nil {
		return Conversation{}, err
	}
	if banned, err := s.Banned(ctx, site.TenantID, v.ID, ip); err != nil {
		return Conversation{}, err
	} else if banned {
		return Conversation{}, ErrBanned
	}
	if _, err := s.store.openForVisitor(ctx, site.TenantID, site.ID, v.ID); err == nil {
		return Conversation{}, ErrInvitationClosed
	} else if !errors.Is(err, ErrNotFound) {
		return Conversation{}, err
	}
	// An agent who has gone offline since cannot take the chat: the invitation closes as expired
	// (the visitor may start a chat the usual way).
	if n, err := s.store.userOnline(ctx, site.TenantID, r.AgentID, s.onlineSince()); err != nil {
		return Conversation{}, err
	} else if n == 0 {
		if err := s.expireInvitation(ctx, r); err != nil {
			return Conversation{}, err
		}
		return Conversation{}, ErrInvitationClosed
	}
	set, err := s.store.settings(ctx, site.ID)
	if err != nil {
		return Conversation{}, err
	}
	now := s.now().UTC()
	agent := r.AgentID
	c := Conversation{
		ID: uuid.Must(uuid.NewV7()).String(), TenantID: site.TenantID, SiteID: site.ID, DepartmentID: ptr(set.DefaultDepartmentID),
		VisitorID: v.ID, Status: StatusActive, AgentID: &agent, Language: visitor.LanguageOr("", set.DefaultLanguage),
		QueuedAt: now, AcceptedAt: &now, CreatedAt: now, UpdatedAt: now,
	}
	// Seal before the transaction (the conversation's data key is fetched now, not under locks).
	if c.Prechat, err = s.seal(ctx, c.TenantID, c.ID, vault.FieldPreChatAnswers, 0, "{}"); err != nil {
		return Conversation{}, err
	}
	name := s.teamName(ctx, site.TenantID, agent)
	if name == "" {
		name = "Agent"
	}
	data := map[string]string{"invitation_id": r.ID}
	if set.DefaultDepartmentID != "" {
		data["department_id"] = set.DefaultDepartmentID
	}
	rows, err := s.store.acceptInvitation(ctx, r, c, name,
		newEvent{Kind: KindSystem, SenderKind: SenderSystem, Event: EventStarted, Data: data},
		newEvent{Kind: KindSystem, SenderKind: SenderAgent, SenderID: agent, Event: EventJoined},
		[]audit.Event{
			s.auditEvent(c.TenantID, visitorActor(v.ID), audit.ActionConversationStart, c.ID, o,
				map[string]string{"site": site.ID, "department": set.DefaultDepartmentID, "invitation": r.ID}),
			s.auditEvent(c.TenantID, userActor(agent), audit.ActionConversationAssign, c.ID, o,
				map[string]string{"department": set.DefaultDepartmentID, "invitation": r.ID}),
			s.inviteAudit(r, visitorActor(v.ID), audit.ActionInvitationAccept, o, map[string]string{"agent": agent, "conversation": c.ID}),
		})
	if errors.Is(err, errInvitationTaken) {
		return Conversation{}, ErrInvitationClosed
	}
	if err != nil {
		return Conversation{}, err
	}
	c.LastSeq = rows[len(rows)-1].Seq
	s.publish(wire(rows[0], "", &protocol.Sender{Kind: SenderSystem}, nil))
	s.publish(wire(rows[1], "", &protocol.Sender{Kind: SenderAgent, ID: agent, Name: name}, nil))
	r.Status, r.ConversationID = protocol.InvitationAccepted, &c.ID
	s.signal(userSignal(agent, c.ID), inviteSignal(r))
	return s.store.conversation(ctx, c.TenantID, c.ID)
}

// expireInvitation closes a pending invitation past its expiry (audited as the system) and tells
// the agent; one answered meanwhile is left as it is.
func (s *Service) expireInvitation(ctx context.Context, r invitationRow) error {
	err := s.store.decideInvitation(ctx, r, protocol.InvitationExpired,
		s.inviteAudit(r, audit.Actor{ID: "chat-invitations", Kind: audit.ActorSystem}, audit.ActionInvitationExpire, Origin{},
			map[string]string{"agent": r.AgentID, "visitor": r.VisitorID}))
	if errors.Is(err, errInvitationTaken) {
		return nil
	}
	if err != nil {
		return err
	}
	s.signal(inviteSignal(r))
	return nil
}

// SweepInvitations expires the pending invitations whose time ran out, in every tenant.
func (s *Service) SweepInvitations(ctx context.Context) (int, error) {
	ctx = migrations.AcrossTenants(ctx) // housekeeping spans tenants (SECURITY.md)
	rows, err := s.store.expiredInvitations(ctx, s.now().UTC(), 500)
	if err != nil {
		return 0, err
	}
	for i, r := range rows {
		if err := s.expireInvitation(migrations.WithTenant(ctx, r.TenantID), r); err != nil {
			return i, err
		}
	}
	return len(rows), nil
}

func inviteSignal(r invitationRow) hub.Signal {
	return hub.Signal{Topic: hub.TeamTopic(r.AgentID), Kind: hub.KindInvite, Conversation: r.ID}
}
