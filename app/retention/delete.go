package retention

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
)

// Conversation is what retention shows of a conversation: ids and times, never content.
type Conversation struct {
	ID           string
	SiteID       string
	DepartmentID string
	VisitorID    string
	AgentID      string
	Status       string
	CreatedAt    time.Time
	EndedAt      *time.Time
}

// Conversation returns the conversation's ids and times, or ErrNotFound when it is not the
// tenant's (or was deleted).
func (s *Service) Conversation(ctx context.Context, tenantID, id string) (Conversation, error) {
	if !validID(id) {
		return Conversation{}, ErrNotFound
	}
	c, err := s.store.conversation(ctx, tenantID, id)
	if err != nil {
		return Conversation{}, err
	}
	out := Conversation{ID: c.ID, SiteID: c.SiteID, VisitorID: c.VisitorID, Status: c.Status, CreatedAt: c.CreatedAt, EndedAt: c.EndedAt}
	if c.DepartmentID != nil {
		out.DepartmentID = *c.DepartmentID
	}
	if c.AgentID != nil {
		out.AgentID = *c.AgentID
	}
	return out, nil
}

// Participated reports whether the user took part in the conversation (the transcript.view.own
// scope).
func (s *Service) Participated(ctx context.Context, tenantID, conversationID, userID string) (bool, error) {
	return s.store.participated(ctx, tenantID, conversationID, userID)
}

// DeleteConversation deletes a conversation before its retention ends, by crypto-shredding: in
// one transaction its data key is destroyed (a tombstone stays in data_keys, so the scope never
// gets a new key), its rows are removed — messages, files, participants, refusals, card form
// requests, the conversation itself — and transcript.delete is recorded with ids and times only.
// Every copy of its ciphertext, in backups too, is unreadable from then on. A conversation under
// legal hold is ErrHeld; one not yet ended is ErrLive; one not the tenant's is ErrNotFound. The
// caller checks the user may see the conversation.
func (s *Service) DeleteConversation(ctx context.Context, a Actor, conversationID string) error {
	c, err := s.Conversation(ctx, a.TenantID, conversationID)
	if err != nil {
		return err
	}
	if c.Status != "ended" && c.Status != "missed" {
		return ErrLive
	}
	err = s.tx(ctx, a.TenantID, func(tx *gorm.DB) error {
		// The hold check reads inside the transaction that deletes, so a hold committed first wins.
		held, err := s.heldIn(ctx, tx, a.TenantID, c)
		if err != nil {
			return err
		}
		if held {
			return ErrHeld
		}
		if err := s.shred(ctx, tx, a.TenantID, c.ID); err != nil {
			return err
		}
		d := map[string]string{"site_id": c.SiteID, "status": c.Status, "created_at": c.CreatedAt.UTC().Format(time.RFC3339)}
		if c.DepartmentID != "" {
			d["department_id"] = c.DepartmentID
		}
		return s.cfg.Audit.Append(ctx, tx, s.event(a, audit.ActionTranscriptDelete, "conversation", c.ID, d))
	})
	if err != nil {
		return err
	}
	s.cfg.Shredder.Forget(a.TenantID, c.ID)
	return nil
}

func (s *Service) heldIn(ctx context.Context, tx *gorm.DB, tenantID string, c Conversation) (bool, error) {
	rows, err := s.store.in(tx).activeHolds(ctx, tenantID)
	if err != nil {
		return false, err
	}
	for _, r := range rows {
		switch {
		case r.Kind == string(HoldOrganisation),
			r.Kind == string(HoldConversation) && r.TargetID == c.ID,
			r.Kind == string(HoldVisitor) && r.TargetID == c.VisitorID:
			return true, nil
		}
	}
	return false, nil
}

// shred destroys the conversation's data key and removes its rows inside tx.
func (s *Service) shred(ctx context.Context, tx *gorm.DB, tenantID, conversationID string) error {
	if err := s.cfg.Shredder.ShredIn(ctx, tx, tenantID, conversationID); err != nil {
		return err
	}
	return s.store.in(tx).removeConversation(ctx, tenantID, conversationID)
}
