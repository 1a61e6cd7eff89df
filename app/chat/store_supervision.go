package chat

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// join makes userID a supervisor participant of c under name — back again after leaving, or new
// — appends the joined event (check may refuse it) and the audit record, in one transaction.
// joined is false, and nothing is written, when userID takes part already.
func (st *store) join(ctx context.Context, c Conversation, userID, name string, ev newEvent, check checkFunc, rec audit.Event) (row eventRow, joined bool, err error) {
	now := st.now().UTC()
	err = st.tx(ctx, func(tx *gorm.DB) error {
		back := tx.Model(&participant{}).
			Where("conversation_id = ? AND kind = ? AND participant_id = ? AND left_at IS NOT NULL", c.ID, ParticipantSupervisor, userID).
			Updates(map[string]any{"left_at": nil, "display_name": name, "joined_at": now})
		if back.Error != nil {
			return back.Error
		}
		if back.RowsAffected == 0 {
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&participant{ConversationID: c.ID, TenantID: c.TenantID,
				Kind: ParticipantSupervisor, ParticipantID: userID, DisplayName: name, JoinedAt: now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return nil // joined already
			}
		}
		var err error
		if row, err = st.appendEvent(ctx, tx, c.TenantID, c.ID, ev, check, nil); err != nil {
			return err
		}
		joined = true
		return st.audit.Append(ctx, tx, rec)
	})
	return row, joined, err
}

// endParticipation ends a supervisor's participation in a conversation they joined;
// errNotJoined when they take no part in it.
func endParticipation(tx *gorm.DB, convID, userID string, now time.Time) error {
	res := tx.Model(&participant{}).
		Where("conversation_id = ? AND kind = ? AND participant_id = ? AND left_at IS NULL", convID, ParticipantSupervisor, userID).
		Update("left_at", now)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errNotJoined
	}
	return nil
}

// leave ends userID's participation in c as a supervisor and appends the left event (check may
// refuse it), in one transaction.
func (st *store) leave(ctx context.Context, c Conversation, userID string, ev newEvent, check checkFunc) (eventRow, error) {
	now := st.now().UTC()
	var row eventRow
	err := st.tx(ctx, func(tx *gorm.DB) error {
		if err := endParticipation(tx, c.ID, userID, now); err != nil {
			return err
		}
		var err error
		row, err = st.appendEvent(ctx, tx, c.TenantID, c.ID, ev, check, nil)
		return err
	})
	return row, err
}

// leaveQuietly ends userID's participation in c as a supervisor without an event.
func (st *store) leaveQuietly(ctx context.Context, c Conversation, userID string) error {
	now := st.now().UTC()
	return st.tx(ctx, func(tx *gorm.DB) error { return endParticipation(tx, c.ID, userID, now) })
}

// joinedConversations lists the active conversations a user has joined as a supervisor and not
// left.
func (st *store) joinedConversations(ctx context.Context, tenantID, userID string) ([]Conversation, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []Conversation
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND status = ? AND id IN (?)", tenantID, StatusActive,
		st.db.Model(&participant{}).Select("conversation_id").
			Where("tenant_id = ? AND kind = ? AND participant_id = ? AND left_at IS NULL", tenantID, ParticipantSupervisor, userID)).
		Order("queued_at").Limit(maxWatched).Find(&out).Error
	return out, err
}

// isJoined reports whether a user takes part in a conversation as a supervisor who joined it.
func (st *store) isJoined(ctx context.Context, tenantID, convID, userID string) (bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var n int64
	err := st.db.WithContext(ctx).Model(&participant{}).
		Where("tenant_id = ? AND conversation_id = ? AND kind = ? AND participant_id = ? AND left_at IS NULL", tenantID, convID, ParticipantSupervisor, userID).
		Count(&n).Error
	return n > 0, err
}

// isParticipant reports whether id ever took part in a conversation as kind.
func (st *store) isParticipant(ctx context.Context, convID, kind, id string) (bool, error) {
	var n int64
	err := st.db.WithContext(ctx).Model(&participant{}).Where("conversation_id = ? AND kind = ? AND participant_id = ?",
		convID, kind, id).Count(&n).Error
	return n > 0, err
}
