package chat

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/sanitize"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// Agent-to-agent chat: direct threads between two console users of a tenant who hold
// chat.agent_chat. A team message follows the visitor message's path: sanitized to plain text,
// card numbers masked and the tenant's redaction rules applied, sealed under the thread's own
// data key bound to its seq (gapless per thread), idempotent per sender key, delivered live to
// both members' agent sockets (hub.TeamTopic). Reading a thread's history is audited.

// MaxTeamPage is the most messages one history read returns.
const MaxTeamPage = 200

// MaxTeamThreads is the most threads the thread list returns.
const MaxTeamThreads = 200

// TeamThread is a thread as its member sees it: the colleague at the other end and how far it
// goes.
type TeamThread struct {
	ID      string
	Peer    protocol.Sender
	LastSeq int64
	// UpdatedAt is when its last message was posted (or it was opened).
	UpdatedAt time.Time
}

// TeamPostResult is the answer to a team message: the stored event as the sender sees it and
// whether its key was used already (nothing stored again).
type TeamPostResult struct {
	Event     protocol.TeamEvent
	Duplicate bool
}

// mayTeamChat checks chat.agent_chat, organisation-wide.
func (s *Service) mayTeamChat(ctx context.Context, p *identity.Principal) error {
	if ok, err := s.authz.Allowed(ctx, p, permAgentChat, ""); err != nil || !ok {
		return ErrForbidden
	}
	return nil
}

// teamThreadFor resolves the thread a user names (ErrNotFound unless they are in it), or the
// direct thread with a colleague of the tenant who may chat too (opened on first use).
func (s *Service) teamThreadFor(ctx context.Context, p *identity.Principal, threadID, toUserID string) (teamThread, error) {
	if threadID != "" {
		t, err := s.store.teamThread(ctx, p.TenantID, threadID)
		if err != nil {
			return t, err
		}
		if !t.member(p.UserID) {
			return teamThread{}, ErrNotFound
		}
		return t, nil
	}
	if toUserID == p.UserID {
		return teamThread{}, invalid("to_user_id", "Choose a colleague, not yourself.")
	}
	// The colleague must be a user of this tenant who holds chat.agent_chat: anyone else is
	// answered as not found, so the frame reveals nothing about other tenants' users.
	if s.names == nil {
		return teamThread{}, ErrNotFound
	}
	if _, err := s.names.DisplayName(ctx, p.TenantID, toUserID); err != nil {
		return teamThread{}, ErrNotFound
	}
	if ok, err := s.authz.Allowed(ctx, &identity.Principal{TenantID: p.TenantID, UserID: toUserID}, permAgentChat, ""); err != nil || !ok {
		return teamThread{}, ErrNotFound
	}
	t, err := s.store.teamThreadBetween(ctx, p.TenantID, p.UserID, toUserID)
	if err != nil {
		return t, err
	}
	if t.LastSeq == 0 {
		// Fetch the new thread's data key now, not while the append holds the thread row locked.
		if _, err := s.sealer.SealString(ctx, vault.Binding{Tenant: p.TenantID, Scope: t.ID, Field: vault.FieldTeamMessage}, "open"); err != nil {
			return t, sealErr(err)
		}
	}
	return t, nil
}

// TeamPost stores a console user's message in a team thread (threadID) or in their direct
// thread with a colleague (toUserID), and publishes it to both members. A key the sender used
// already answers the stored original with Duplicate set.
func (s *Service) TeamPost(ctx context.Context, p *identity.Principal, threadID, toUserID, key, text string) (TeamPostResult, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if err := s.mayTeamChat(ctx, p); err != nil {
		return TeamPostResult{}, err
	}
	if err := noCardNumber("key", key); err != nil {
		return TeamPostResult{}, err
	}
	if !protocol.ValidKey(key) {
		return TeamPostResult{}, invalid("key", "The message key must be 1 to 64 characters [A-Za-z0-9._:-].")
	}
	t, err := s.teamThreadFor(ctx, p, threadID, toUserID)
	if err != nil {
		return TeamPostResult{}, err
	}
	// As for visitor messages, the duplicate check costs nothing on the hot path: the unique index
	// on (thread, sender, key) refuses a retry, and only a refused message looks its key up.
	clean, err := sanitize.Text(text, sanitize.Message)
	switch {
	case errors.Is(err, sanitize.ErrEmpty):
		return s.teamDuplicateOr(ctx, t, p.UserID, key, ErrEmpty)
	case errors.Is(err, sanitize.ErrTooLong):
		return s.teamDuplicateOr(ctx, t, p.UserID, key, ErrTooLong)
	}
	if err := s.allowMessage(ctx, p.TenantID, Actor{Kind: SenderAgent, ID: p.UserID}, ""); err != nil {
		return s.teamDuplicateOr(ctx, t, p.UserID, key, err)
	}
	masked, err := s.maskText(ctx, p.TenantID, clean)
	if err != nil {
		return TeamPostResult{}, err
	}
	row, err := s.store.teamAppend(ctx, t, p.UserID, key, func(seq int64) (string, error) {
		return s.seal(ctx, p.TenantID, t.ID, vault.FieldTeamMessage, seq, masked)
	})
	if err != nil {
		return s.teamDuplicateOr(ctx, t, p.UserID, key, err)
	}
	ev := s.teamWire(ctx, t, row, masked)
	for _, member := range []string{t.MemberA, t.MemberB} {
		s.hub.Publish(hub.Signal{Topic: hub.TeamTopic(member), Kind: hub.KindTeam, Conversation: t.ID, Seq: row.Seq, Local: ev})
	}
	return TeamPostResult{Event: ForTeamMember(ev, p.UserID, t.peer(p.UserID), s.teamName(ctx, p.TenantID, t.peer(p.UserID)))}, nil
}

// teamDuplicateOr answers a refused team message: when the sender's key is stored already, the
// original answers as a duplicate; otherwise the refusal stands.
func (s *Service) teamDuplicateOr(ctx context.Context, t teamThread, userID, key string, refusal error) (TeamPostResult, error) {
	prev, err := s.store.teamMessageByKey(ctx, t.TenantID, t.ID, userID, key)
	if errors.Is(err, ErrNotFound) {
		return TeamPostResult{}, refusal
	}
	if err != nil {
		return TeamPostResult{}, err
	}
	ev, err := s.teamEvent(ctx, t, prev, userID)
	return TeamPostResult{Event: ev, Duplicate: true}, err
}

// teamName is a console user's display name, "" when it cannot be read.
func (s *Service) teamName(ctx context.Context, tenantID, userID string) string {
	if s.names == nil {
		return ""
	}
	n, _ := s.names.DisplayName(ctx, tenantID, userID)
	return n
}

// teamWire renders a stored message with its opened text, for neither member in particular
// (ForTeamMember completes it).
func (s *Service) teamWire(ctx context.Context, t teamThread, row teamMessageRow, text string) protocol.TeamEvent {
	return protocol.TeamEvent{Type: protocol.TypeTeamEvent, ThreadID: t.ID, Seq: row.Seq, Text: text, At: row.CreatedAt.UTC(),
		Sender:    protocol.Sender{Kind: SenderAgent, ID: row.SenderID, Name: s.teamName(ctx, t.TenantID, row.SenderID)},
		SenderKey: row.IdempotencyKey}
}

// ForTeamMember completes a team event for one member of its thread: their own message keeps its
// idempotency key, and the peer names the colleague at the other end.
func ForTeamMember(ev protocol.TeamEvent, userID, peerID, peerName string) protocol.TeamEvent {
	ev.Key = ""
	if ev.Sender.ID == userID {
		ev.Key = ev.SenderKey
	}
	ev.Peer = &protocol.Sender{Kind: SenderAgent, ID: peerID, Name: peerName}
	return ev
}

// teamEvent opens a stored message for userID.
func (s *Service) teamEvent(ctx context.Context, t teamThread, row teamMessageRow, userID string) (protocol.TeamEvent, error) {
	text, err := s.open(ctx, t.TenantID, t.ID, vault.FieldTeamMessage, row.Seq, row.Body)
	if err != nil {
		return protocol.TeamEvent{}, err
	}
	peer := t.peer(userID)
	return ForTeamMember(s.teamWire(ctx, t, row, text), userID, peer, s.teamName(ctx, t.TenantID, peer)), nil
}

// TeamThreads lists the user's threads, most recent first (no content: nothing to audit).
func (s *Service) TeamThreads(ctx context.Context, p *identity.Principal) ([]TeamThread, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if err := s.mayTeamChat(ctx, p); err != nil {
		return nil, err
	}
	rows, err := s.store.teamThreadsOf(ctx, p.TenantID, p.UserID, MaxTeamThreads)
	if err != nil {
		return nil, err
	}
	out := make([]TeamThread, 0, len(rows))
	for _, t := range rows {
		peer := t.peer(p.UserID)
		out = append(out, TeamThread{ID: t.ID, LastSeq: t.LastSeq, UpdatedAt: t.UpdatedAt.UTC(),
			Peer: protocol.Sender{Kind: SenderAgent, ID: peer, Name: s.teamName(ctx, p.TenantID, peer)}})
	}
	return out, nil
}

// TeamHistory returns up to limit messages of a thread the user is in, above seq after, and
// audits the read (access to content). A thread the user is not in is ErrNotFound.
func (s *Service) TeamHistory(ctx context.Context, p *identity.Principal, threadID string, after int64, limit int, o Origin) ([]protocol.TeamEvent, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if err := s.mayTeamChat(ctx, p); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxTeamPage {
		limit = MaxTeamPage
	}
	t, err := s.teamThreadFor(ctx, p, threadID, "")
	if err != nil {
		return nil, err
	}
	evs, err := s.teamAfter(ctx, t, p.UserID, after, limit)
	if err != nil {
		return nil, err
	}
	ev := s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionTeamHistoryView, "", o,
		map[string]string{"after": strconv.FormatInt(after, 10), "messages": strconv.Itoa(len(evs))})
	ev.Target = audit.Target{Kind: "team_thread", ID: t.ID}
	if err := s.store.teamRecordRead(ctx, ev); err != nil {
		return nil, err
	}
	return evs, nil
}

func (s *Service) teamAfter(ctx context.Context, t teamThread, userID string, after int64, limit int) ([]protocol.TeamEvent, error) {
	rows, err := s.store.teamMessagesAfter(ctx, t.TenantID, t.ID, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]protocol.TeamEvent, 0, len(rows))
	for _, r := range rows {
		ev, err := s.teamEvent(ctx, t, r, userID)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// TeamDelivery returns the messages of a thread the user is in above seq after, for their live
// socket (the delivery of what they are sent, as a conversation's events are: not audited as a
// history read).
func (s *Service) TeamDelivery(ctx context.Context, p *identity.Principal, threadID string, after int64) ([]protocol.TeamEvent, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	t, err := s.teamThreadFor(ctx, p, threadID, "")
	if err != nil {
		return nil, err
	}
	return s.teamAfter(ctx, t, p.UserID, after, MaxTeamPage)
}

// TeamPeer returns the colleague at the other end of a thread the user is in.
func (s *Service) TeamPeer(ctx context.Context, p *identity.Principal, threadID string) (protocol.Sender, error) {
	t, err := s.teamThreadFor(migrations.WithTenant(ctx, p.TenantID), p, threadID, "")
	if err != nil {
		return protocol.Sender{}, err
	}
	peer := t.peer(p.UserID)
	return protocol.Sender{Kind: SenderAgent, ID: peer, Name: s.teamName(ctx, p.TenantID, peer)}, nil
}

// TeamStatus tells, for each of ids, whether that console user may chat with the team (holds
// chat.agent_chat) and, when they may, "online" (an agent socket is open) or "offline". Users who
// may not are left out. It needs chat.agent_chat itself.
func (s *Service) TeamStatus(ctx context.Context, p *identity.Principal, ids []string) (map[string]string, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if err := s.mayTeamChat(ctx, p); err != nil {
		return nil, err
	}
	online, err := s.store.usersOnline(ctx, p.TenantID, s.onlineSince())
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, id := range ids {
		if ok, err := s.authz.Allowed(ctx, &identity.Principal{TenantID: p.TenantID, UserID: id}, permAgentChat, ""); err != nil || !ok {
			continue
		}
		out[id] = "offline"
		if online[id] {
			out[id] = "online"
		}
	}
	return out, nil
}

// TeamLastSeqs returns the last seq of each of the user's threads (most recently active first,
// at most MaxTeamThreads): a socket compares its cursors with them when signals may have been
// lost.
func (s *Service) TeamLastSeqs(ctx context.Context, p *identity.Principal) (map[string]int64, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	rows, err := s.store.teamThreadsOf(ctx, p.TenantID, p.UserID, MaxTeamThreads)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, t := range rows {
		out[t.ID] = t.LastSeq
	}
	return out, nil
}
