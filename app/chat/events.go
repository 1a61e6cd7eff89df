package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

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
	ctx = migrations.WithTenant(ctx, tenantID)
	if text == "" {
		return "", nil
	}
	ct, err := s.sealer.SealString(ctx, vault.Binding{Tenant: tenantID, Scope: scope, Field: field, Seq: seq}, text)
	return ct, sealErr(err)
}

// sealWith returns the seal callback of a text the store appends: the text sealed in field of the
// conversation, bound to the seq the store gives the event.
func (s *Service) sealWith(ctx context.Context, tenantID, convID, field, text string) sealFunc {
	ctx = migrations.WithTenant(ctx, tenantID)
	return func(seq int64) (string, error) { return s.seal(ctx, tenantID, convID, field, seq, text) }
}

func (s *Service) open(ctx context.Context, tenantID, scope, field string, seq int64, ct string) (string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
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
	ctx = migrations.WithTenant(ctx, tenantID)
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
	if err := s.store.recordNow(ctx, ev); err != nil {
		s.log.ErrorContext(ctx, "recording an unreadable ciphertext failed", "conversation", scope, "cause", err.Error())
	}
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
