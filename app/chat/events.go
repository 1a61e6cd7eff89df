package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/vault"
)

// Origin is where a request came from, for audit records.
type Origin struct {
	IP, UserAgent, RequestID string
}

// Actor is who acts on a conversation.
type Actor struct {
	// Kind is SenderVisitor or SenderAgent.
	Kind string
	// ID is the visitor id or the user id.
	ID string
	// Name is the display name (agents) shown with their events.
	Name string
	// Whisper makes the actor's message a whisper: of audience AudienceAgents, never seen by the
	// visitor. The caller has checked chat.whisper.
	Whisper bool
	// Joined lets a supervisor who joined the conversation (not its agent) write into it. The
	// caller has checked the participation.
	Joined bool
	// Department is, for a whisper or a joined supervisor's message, the department the
	// supervisor's permission was checked in: a conversation in another department by the time
	// the message is stored refuses it (ErrForbidden).
	Department *string
}

// audience is the audience of the actor's messages.
func (a Actor) audience() string {
	if a.Whisper {
		return AudienceAgents
	}
	return AudienceAll
}

// sealErr maps a key provider failure to ErrUnavailable; other failures stay as they are.
func sealErr(err error) error {
	if errors.Is(err, vault.ErrUnavailable) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

func bindingFor(tenantID, scope, field string, seq int64) vault.Binding {
	return vault.Binding{Tenant: tenantID, Scope: scope, Field: field, Seq: seq}
}

func (s *Service) seal(ctx context.Context, tenantID, scope, field string, seq int64, text string) (string, error) {
	if text == "" {
		return "", nil
	}
	ct, err := s.sealer.SealString(ctx, vault.Binding{Tenant: tenantID, Scope: scope, Field: field, Seq: seq}, text)
	return ct, sealErr(err)
}

func (s *Service) open(ctx context.Context, tenantID, scope, field string, seq int64, ct string) (string, error) {
	if ct == "" {
		return "", nil
	}
	pt, err := s.sealer.OpenString(ctx, vault.Binding{Tenant: tenantID, Scope: scope, Field: field, Seq: seq}, ct)
	if errors.Is(err, vault.ErrMismatch) || errors.Is(err, vault.ErrMalformed) || errors.Is(err, vault.ErrUnreadable) {
		s.auditUnreadable(ctx, tenantID, scope, field, seq, err)
		return "", fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	return pt, sealErr(err)
}

// auditUnreadable records a ciphertext that did not open (PCI DSS 10.2.1.4; HIPAA integrity): the
// field and row, never the ciphertext. The read fails whether or not the record is written.
func (s *Service) auditUnreadable(ctx context.Context, tenantID, scope, field string, seq int64, cause error) {
	reason := "mismatch"
	switch {
	case errors.Is(cause, vault.ErrShredded):
		reason = "shredded"
	case errors.Is(cause, vault.ErrUnreadable):
		reason = "unreadable"
	case errors.Is(cause, vault.ErrMalformed):
		reason = "malformed"
	}
	ev := audit.Event{
		Tenant: tenantID, Actor: audit.Actor{ID: "chat", Kind: audit.ActorSystem}, Origin: audit.Origin{Node: s.node},
		Action: audit.ActionDecryptFailure, Target: audit.Target{Kind: "conversation", ID: scope},
		Outcome: audit.Failure, Reason: reason, Details: map[string]string{"field": field, "seq": strconv.FormatInt(seq, 10)},
	}
	if err := s.audit.Append(ctx, s.db.WithContext(ctx), ev); err != nil {
		s.log.ErrorContext(ctx, "recording an unreadable ciphertext failed", "conversation", scope, "cause", err.Error())
	}
}

// seqState is a conversation as its seq was taken.
type seqState struct {
	Seq          int64
	VisitorSeq   int64
	Status       string
	AgentID      *string
	VisitorID    string
	DepartmentID *string
}

// newEvent is an event to append.
type newEvent struct {
	Kind, SenderKind, SenderID string
	Key                        string
	Text                       string
	Event                      string
	Data                       map[string]string
	TargetSeq                  int64
	FileID                     string
	// Audience is AudienceAll (the default) or AudienceAgents. An amend always has its target's.
	Audience string
}

// appendEvent stores ev as the conversation's next event inside tx: it takes the next seq
// (locking the conversation row), lets check refuse the write given the conversation's state,
// seals the text bound to that seq and inserts the row. The caller publishes it after commit.
//
// An event the visitor sees (audience AudienceAll) also takes the next visitor_seq, the
// numbering of the visitor's view; a whisper (AudienceAgents) takes none.
func (s *Service) appendEvent(ctx context.Context, tx *gorm.DB, tenantID, convID string, ev newEvent, check func(seqState) error) (eventRow, error) {
	now := s.now().UTC()
	var targetVisitorSeq int64
	if ev.Kind == KindAmend && ev.TargetSeq > 0 {
		var target eventRow
		if err := tx.WithContext(ctx).Select("audience", "visitor_seq").
			Where("tenant_id = ? AND conversation_id = ? AND seq = ?", tenantID, convID, ev.TargetSeq).Take(&target).Error; err != nil {
			return eventRow{}, err
		}
		ev.Audience = target.Audience
		targetVisitorSeq = target.visitorSeq()
	}
	if ev.Audience == "" {
		ev.Audience = AudienceAll
	}
	next := "UPDATE conversations SET last_seq = last_seq + 1, visitor_last_seq = visitor_last_seq + 1, updated_at = ? WHERE tenant_id = ? AND id = ? " +
		"RETURNING last_seq AS seq, visitor_last_seq AS visitor_seq, status, agent_id, visitor_id, department_id"
	if ev.Audience == AudienceAgents {
		next = "UPDATE conversations SET last_seq = last_seq + 1, updated_at = ? WHERE tenant_id = ? AND id = ? " +
			"RETURNING last_seq AS seq, visitor_last_seq AS visitor_seq, status, agent_id, visitor_id, department_id"
	}
	var st seqState
	res := tx.WithContext(ctx).Raw(next, now, tenantID, convID).Scan(&st)
	if res.Error != nil {
		return eventRow{}, res.Error
	}
	if st.Seq == 0 {
		return eventRow{}, ErrNotFound
	}
	if check != nil {
		if err := check(st); err != nil {
			return eventRow{}, err
		}
	}
	body, err := s.seal(ctx, tenantID, convID, vault.FieldMessageBody, st.Seq, ev.Text)
	if err != nil {
		return eventRow{}, err
	}
	row := eventRow{
		ID: uuid.Must(uuid.NewV7()).String(), TenantID: tenantID, ConversationID: convID, Seq: st.Seq,
		Kind: ev.Kind, SenderKind: ev.SenderKind, SenderID: ev.SenderID, Body: body, Event: ev.Event, CreatedAt: now,
		Audience: ev.Audience, targetVisitorSeq: targetVisitorSeq,
	}
	if ev.Audience == AudienceAll {
		row.VisitorSeq = &st.VisitorSeq
	}
	if ev.Key != "" {
		row.IdempotencyKey = &ev.Key
	}
	if len(ev.Data) > 0 {
		b, err := json.Marshal(ev.Data)
		if err != nil {
			return eventRow{}, err
		}
		row.Data = string(b)
	}
	if ev.TargetSeq > 0 {
		row.TargetSeq = &ev.TargetSeq
	}
	if ev.FileID != "" {
		row.FileID = &ev.FileID
	}
	if err := tx.WithContext(ctx).Create(&row).Error; err != nil {
		return eventRow{}, err
	}
	return row, nil
}

// wire builds the delivered form of a stored event; text is its opened body and file its
// attachment, if any.
func wire(row eventRow, text string, sender *protocol.Sender, file *protocol.File) protocol.Event {
	ev := protocol.Event{
		Type: protocol.TypeEvent, ConversationID: row.ConversationID, Seq: row.Seq, Kind: row.Kind,
		At: row.CreatedAt.UTC(), Sender: sender, Text: text, Event: row.Event, File: file,
	}
	if row.IdempotencyKey != nil {
		ev.Key = *row.IdempotencyKey
	}
	if row.TargetSeq != nil {
		ev.TargetSeq = *row.TargetSeq
	}
	if row.visible() {
		ev.VisitorSeq, ev.TargetVisitorSeq = *row.VisitorSeq, row.targetVisitorSeq
	} else {
		ev.Audience = AudienceAgents
		if row.Kind == KindMessage {
			ev.Kind = KindWhisper
		}
	}
	if row.Data != "" {
		var d map[string]string
		if json.Unmarshal([]byte(row.Data), &d) == nil {
			ev.Data = d
		}
	}
	return ev
}

// publish delivers a committed event to this node's followers (with the decoded event, so they
// need not read it back) and signals the other nodes (ids only; they read it from the database).
func (s *Service) publish(ev protocol.Event) {
	s.hub.Publish(hub.Signal{Topic: hub.ConversationTopic(ev.ConversationID), Kind: hub.KindEvent,
		Conversation: ev.ConversationID, Seq: ev.Seq, Local: ev})
}

// signal publishes queue and user changes after their transaction committed.
func (s *Service) signal(sigs ...hub.Signal) {
	for _, sig := range sigs {
		s.hub.Publish(sig)
	}
}

func queueSignal(tenantID, convID string) hub.Signal {
	return hub.Signal{Topic: hub.QueueTopic(tenantID), Kind: hub.KindQueue, Conversation: convID}
}

func userSignal(userID, convID string) hub.Signal {
	return hub.Signal{Topic: hub.UserTopic(userID), Kind: hub.KindUser, Conversation: convID}
}
