package chat

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/parleyhq/parley/migrations"
	"gorm.io/gorm"
)

// eventRow is one row of conversation_events; Body is ciphertext. Seq numbers every event;
// VisitorSeq numbers the events the visitor sees (nil on the others), gapless as well.
type eventRow struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	ConversationID string
	Seq            int64
	Kind           string
	SenderKind     string
	SenderID       string
	IdempotencyKey *string
	Body           string
	Event          string
	Data           string
	TargetSeq      *int64
	FileID         *string
	Audience       string
	VisitorSeq     *int64
	CreatedAt      time.Time
	// targetVisitorSeq is an amend's target in the visitor's view (not stored; set by appendEvent).
	targetVisitorSeq int64 `gorm:"-"`
}

// visible reports whether the visitor sees the event.
func (r eventRow) visible() bool { return r.Audience != AudienceAgents && r.VisitorSeq != nil }

// visitorSeq returns the event's seq in the visitor's view, 0 when the visitor does not see it.
func (r eventRow) visitorSeq() int64 {
	if !r.visible() {
		return 0
	}
	return *r.VisitorSeq
}

func (eventRow) TableName() string { return "conversation_events" }

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
	Event                      string
	Data                       map[string]string
	TargetSeq                  int64
	FileID                     string
	// Audience is AudienceAll (the default) or AudienceAgents. An amend always has its target's.
	Audience string
}

// sealFunc seals an event's text bound to the seq the event was given; the store calls it inside
// the transaction, with the conversation row locked, so the binding and the row agree.
type sealFunc func(seq int64) (string, error)

// checkFunc refuses a write given the conversation's state as its seq was taken.
type checkFunc func(seqState) error

// appendEvent stores ev as the conversation's next event inside tx: it takes the next seq
// (locking the conversation row), lets check refuse the write given the conversation's state,
// calls seal (when the event has a text) with that seq and inserts the row. The caller publishes
// the event after commit.
//
// An event the visitor sees (audience AudienceAll) also takes the next visitor_seq, the
// numbering of the visitor's view; a whisper (AudienceAgents) takes none.
func (st *store) appendEvent(ctx context.Context, tx *gorm.DB, tenantID, convID string, ev newEvent, check checkFunc, seal sealFunc) (eventRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	now := st.now().UTC()
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
	var state seqState
	res := tx.WithContext(ctx).Raw(next, now, tenantID, convID).Scan(&state)
	if res.Error != nil {
		return eventRow{}, res.Error
	}
	if state.Seq == 0 {
		return eventRow{}, ErrNotFound
	}
	if check != nil {
		if err := check(state); err != nil {
			return eventRow{}, err
		}
	}
	var body string
	if seal != nil {
		var err error
		if body, err = seal(state.Seq); err != nil {
			return eventRow{}, err
		}
	}
	row, err := newRow(tenantID, convID, ev, state, body, now)
	if err != nil {
		return eventRow{}, err
	}
	row.targetVisitorSeq = targetVisitorSeq
	if err := tx.WithContext(ctx).Create(&row).Error; err != nil {
		return eventRow{}, err
	}
	return row, nil
}

// newRow builds the row of ev, given the conversation's state with the event's seq taken and
// the event's sealed body.
func newRow(tenantID, convID string, ev newEvent, state seqState, body string, now time.Time) (eventRow, error) {
	row := eventRow{
		ID: uuid.Must(uuid.NewV7()).String(), TenantID: tenantID, ConversationID: convID, Seq: state.Seq,
		Kind: ev.Kind, SenderKind: ev.SenderKind, SenderID: ev.SenderID, Body: body, Event: ev.Event, CreatedAt: now,
		Audience: ev.Audience,
	}
	if ev.Audience == AudienceAll {
		row.VisitorSeq = &state.VisitorSeq
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
	return row, nil
}

// append stores one event in a transaction of its own (announcements; messages go through the
// group commit, appendMessage).
func (st *store) append(ctx context.Context, tenantID, convID string, ev newEvent, check checkFunc, seal sealFunc) (eventRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var row eventRow
	err := st.tx(ctx, func(tx *gorm.DB) error {
		var err error
		row, err = st.appendEvent(ctx, tx, tenantID, convID, ev, check, seal)
		return err
	})
	return row, err
}

// amend replaces the body of an earlier event (eventID) with resealed and appends the amend event
// that tells receivers, in one transaction.
func (st *store) amend(ctx context.Context, tenantID, convID, eventID, resealed string, ev newEvent, seal sealFunc) (eventRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var row eventRow
	err := st.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&eventRow{}).Where("id = ?", eventID).Update("body", resealed).Error; err != nil {
			return err
		}
		var err error
		row, err = st.appendEvent(ctx, tx, tenantID, convID, ev, nil, seal)
		return err
	})
	return row, err
}

// eventByKey finds a sender's message by idempotency key.
func (st *store) eventByKey(ctx context.Context, convID, senderID, key string) (eventRow, error) {
	var e eventRow
	err := st.db.WithContext(ctx).Where("conversation_id = ? AND sender_id = ? AND idempotency_key = ?", convID, senderID, key).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return eventRow{}, ErrNotFound
	}
	return e, err
}

// events returns the conversation's events with seq > after, in order, at most limit.
func (st *store) events(ctx context.Context, tenantID, convID string, after int64, limit int) ([]eventRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []eventRow
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ? AND seq > ?", tenantID, convID, after).
		Order("seq").Limit(limit).Find(&out).Error
	return out, err
}

// visitorEvents returns the events the visitor sees with visitor_seq > after, in that order, at
// most limit. Every read on behalf of a visitor (socket replay, long poll, exports) goes through
// it: events of audience AudienceAgents have no visitor_seq and never match.
func (st *store) visitorEvents(ctx context.Context, tenantID, convID string, after int64, limit int) ([]eventRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []eventRow
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ? AND visitor_seq > ? AND audience = ?", tenantID, convID, after, AudienceAll).
		Order("visitor_seq").Limit(limit).Find(&out).Error
	return out, err
}

// visitorSeqAt returns the visitor's view of a position in the log: the visitor_seq of the last
// event the visitor sees with seq <= at (0 when there is none).
func (st *store) visitorSeqAt(ctx context.Context, convID string, at int64) (int64, error) {
	var out []int64
	err := st.db.WithContext(ctx).Model(&eventRow{}).Where("conversation_id = ? AND seq <= ? AND visitor_seq IS NOT NULL", convID, at).
		Order("seq DESC").Limit(1).Pluck("visitor_seq", &out).Error
	if err != nil || len(out) == 0 {
		return 0, err
	}
	return out[0], nil
}

// seqOfVisitorSeq returns the seq of the event the visitor knows as vseq (0 when there is none).
func (st *store) seqOfVisitorSeq(ctx context.Context, convID string, vseq int64) (int64, error) {
	var out []int64
	err := st.db.WithContext(ctx).Model(&eventRow{}).Where("conversation_id = ? AND visitor_seq = ?", convID, vseq).
		Limit(1).Pluck("seq", &out).Error
	if err != nil || len(out) == 0 {
		return 0, err
	}
	return out[0], nil
}

// cursorRow is a conversation's last seq in both numberings.
type cursorRow struct {
	ID             string
	LastSeq        int64
	VisitorLastSeq int64
}

// cursors returns the last seqs of the conversations ids (a follower's recheck).
func (st *store) cursors(ctx context.Context, ids []string) ([]cursorRow, error) {
	var rows []cursorRow
	err := st.db.WithContext(ctx).Model(&Conversation{}).Select("id", "last_seq", "visitor_last_seq").Where("id IN ?", ids).Scan(&rows).Error
	return rows, err
}
