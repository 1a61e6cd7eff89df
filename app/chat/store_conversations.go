package chat

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

type participant struct {
	ConversationID string `gorm:"primaryKey"`
	TenantID       string
	Kind           string `gorm:"primaryKey"`
	ParticipantID  string `gorm:"primaryKey"`
	DisplayName    string
	JoinedAt       time.Time
	LeftAt         *time.Time
	LastReadSeq    int64
}

func (participant) TableName() string { return "conversation_participants" }

type refusal struct {
	ConversationID string `gorm:"primaryKey"`
	TenantID       string
	UserID         string `gorm:"primaryKey"`
	RefusedAt      time.Time
}

func (refusal) TableName() string { return "conversation_refusals" }

// openStatuses are the states of a conversation that still takes messages.
var openStatuses = []string{StatusQueued, StatusAssigned, StatusActive}

// conversation loads a conversation of a tenant.
func (st *store) conversation(ctx context.Context, tenantID, id string) (Conversation, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var c Conversation
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Conversation{}, ErrNotFound
	}
	return c, err
}

func (st *store) participants(ctx context.Context, tenantID, convID string) ([]participant, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []participant
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ?", tenantID, convID).Find(&out).Error
	return out, err
}

// openForVisitor returns the visitor's open conversation on a site, if any.
func (st *store) openForVisitor(ctx context.Context, tenantID, siteID, visitorID string) (Conversation, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var c Conversation
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND site_id = ? AND visitor_id = ? AND status IN ?",
		tenantID, siteID, visitorID, openStatuses).
		Order("created_at DESC").Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Conversation{}, ErrNotFound
	}
	return c, err
}

// agentConversations lists the open conversations an agent is handling.
func (st *store) agentConversations(ctx context.Context, tenantID, userID string) ([]Conversation, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []Conversation
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND agent_id = ? AND status = ?", tenantID, userID, StatusActive).
		Order("queued_at").Find(&out).Error
	return out, err
}

// queue lists the tenant's conversations waiting for an agent (queued, or assigned to one agent).
func (st *store) queue(ctx context.Context, tenantID string) ([]Conversation, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []Conversation
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND status IN ?", tenantID, []string{StatusQueued, StatusAssigned}).
		Order("queued_at").Limit(500).Find(&out).Error
	return out, err
}

func (st *store) refusedBy(ctx context.Context, tenantID, userID string) (map[string]bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var ids []string
	err := st.db.WithContext(ctx).Model(&refusal{}).Where("tenant_id = ? AND user_id = ?", tenantID, userID).
		Pluck("conversation_id", &ids).Error
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}

// waiting lists up to 500 conversations of every tenant waiting for an agent since before
// queuedBefore (the queue sweep).
func (st *store) waiting(ctx context.Context, queuedBefore time.Time) ([]Conversation, error) {
	var out []Conversation
	err := st.db.WithContext(ctx).Where("status IN ? AND queued_at < ?", []string{StatusQueued, StatusAssigned}, queuedBefore).
		Limit(500).Find(&out).Error
	return out, err
}

// start inserts a new conversation with its visitor as participant, its started event and the
// audit record, in one transaction.
func (st *store) start(ctx context.Context, c Conversation, visitor participant, started newEvent, rec audit.Event) (eventRow, error) {
	var row eventRow
	err := st.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		if err := tx.Create(&visitor).Error; err != nil {
			return err
		}
		var err error
		if row, err = st.appendEvent(ctx, tx, c.TenantID, c.ID, started, nil, nil); err != nil {
			return err
		}
		return st.audit.Append(ctx, tx, rec)
	})
	return row, err
}

// errAlreadyClosed means close found the conversation closed already.
var errAlreadyClosed = errors.New("chat: already closed")

// close moves an open conversation to status (ended or missed, by whom) with its system event
// and the audit record rec builds from that event, in one transaction; errAlreadyClosed when it
// was not open.
func (st *store) close(ctx context.Context, c Conversation, status, by string, ev newEvent, rec func(eventRow) audit.Event) (eventRow, error) {
	now := st.now().UTC()
	var row eventRow
	err := st.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Conversation{}).Where("tenant_id = ? AND id = ? AND status IN ?", c.TenantID, c.ID, openStatuses).
			Updates(map[string]any{"status": status, "ended_at": now, "ended_by": by, "offered_to": nil, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errAlreadyClosed
		}
		var err error
		if row, err = st.appendEvent(ctx, tx, c.TenantID, c.ID, ev, nil, nil); err != nil {
			return err
		}
		return st.audit.Append(ctx, tx, rec(row))
	})
	return row, err
}

// saveSurvey stores a conversation's sealed survey and its rating unless one is stored already
// (false then).
func (st *store) saveSurvey(ctx context.Context, tenantID, convID, sealed string, rating int) (bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	res := st.db.WithContext(ctx).Model(&Conversation{}).Where("tenant_id = ? AND id = ? AND survey = ''", tenantID, convID).
		Updates(map[string]any{"survey": sealed, "rating": rating, "updated_at": st.now().UTC()})
	return res.RowsAffected > 0, res.Error
}

// accept gives c to the agent userID when it is queued or offered to them, joins them as a
// participant under name, appends the joined event and the audit record, in one transaction.
// Taken by someone else it is ErrTaken, closed meanwhile ErrEnded (as c said).
func (st *store) accept(ctx context.Context, c Conversation, userID, name string, joined newEvent, rec audit.Event) (eventRow, error) {
	now := st.now().UTC()
	var row eventRow
	err := st.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Conversation{}).
			Where("tenant_id = ? AND id = ? AND (status = ? OR (status = ? AND offered_to = ?))", c.TenantID, c.ID, StatusQueued, StatusAssigned, userID).
			Updates(map[string]any{"status": StatusActive, "agent_id": userID, "offered_to": nil, "accepted_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			if c.Open() {
				return ErrTaken
			}
			return ErrEnded
		}
		if err := joinParticipant(ctx, tx, c, SenderAgent, userID, name, now); err != nil {
			return err
		}
		var err error
		if row, err = st.appendEvent(ctx, tx, c.TenantID, c.ID, joined, nil, nil); err != nil {
			return err
		}
		return st.audit.Append(ctx, tx, rec)
	})
	return row, err
}

func joinParticipant(ctx context.Context, tx *gorm.DB, c Conversation, kind, id, name string, now time.Time) error {
	res := tx.WithContext(ctx).Model(&participant{}).
		Where("conversation_id = ? AND kind = ? AND participant_id = ?", c.ID, kind, id).
		Updates(map[string]any{"left_at": nil, "display_name": name})
	if res.Error != nil || res.RowsAffected > 0 {
		return res.Error
	}
	return tx.WithContext(ctx).Create(&participant{ConversationID: c.ID, TenantID: c.TenantID, Kind: kind, ParticipantID: id,
		DisplayName: name, JoinedAt: now}).Error
}

// refuse records that userID refused c, hands c back to its department's queue when it was
// offered to them, and appends the audit record, in one transaction.
func (st *store) refuse(ctx context.Context, c Conversation, userID string, rec audit.Event) error {
	now := st.now().UTC()
	return st.tx(ctx, func(tx *gorm.DB) error {
		if c.Status == StatusAssigned && deref(c.OfferedTo) == userID {
			if err := tx.Model(&Conversation{}).Where("id = ? AND status = ? AND offered_to = ?", c.ID, StatusAssigned, userID).
				Updates(map[string]any{"status": StatusQueued, "offered_to": nil, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		if err := tx.Where("conversation_id = ? AND user_id = ?", c.ID, userID).Delete(&refusal{}).Error; err != nil {
			return err
		}
		if err := tx.Create(&refusal{ConversationID: c.ID, TenantID: c.TenantID, UserID: userID, RefusedAt: now}).Error; err != nil {
			return err
		}
		return st.audit.Append(ctx, tx, rec)
	})
}

// transferTarget is where a transfer sends a conversation: a department's queue, or an offer to
// one agent.
type transferTarget struct {
	Department, Agent string
	// Priority and Skills are the target department's, for a transfer to a department.
	Priority *int
	Skills   string
}

// transfer moves the conversation the agent from handles to a department's queue or offers it
// to another agent (ErrForbidden when from no longer handles it): from leaves it, the transferred
// event is appended, the supervisors in leaving leave it with a left event each, and the audit
// record is appended, in one transaction.
func (st *store) transfer(ctx context.Context, c Conversation, from string, to transferTarget, transferred newEvent, seal sealFunc,
	leaving []string, rec audit.Event) (eventRow, []eventRow, error) {
	now := st.now().UTC()
	update := map[string]any{"agent_id": nil, "offered_to": nil, "offer_expires_at": nil, "queued_at": now, "updated_at": now}
	if to.Department != "" {
		update["status"], update["department_id"] = StatusQueued, to.Department
		if to.Priority != nil {
			update["priority"], update["required_skills"] = *to.Priority, to.Skills
		}
	} else {
		update["status"], update["offered_to"] = StatusAssigned, to.Agent
	}
	var row eventRow
	var left []eventRow
	err := st.tx(ctx, func(tx *gorm.DB) error {
		left = nil
		res := tx.Model(&Conversation{}).Where("tenant_id = ? AND id = ? AND status = ? AND agent_id = ?", c.TenantID, c.ID, StatusActive, from).Updates(update)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrForbidden
		}
		if err := tx.Model(&participant{}).Where("conversation_id = ? AND kind = ? AND participant_id = ?", c.ID, SenderAgent, from).
			Update("left_at", now).Error; err != nil {
			return err
		}
		var err error
		if row, err = st.appendEvent(ctx, tx, c.TenantID, c.ID, transferred, nil, seal); err != nil {
			return err
		}
		for _, uid := range leaving {
			res := tx.Model(&participant{}).
				Where("conversation_id = ? AND kind = ? AND participant_id = ? AND left_at IS NULL", c.ID, ParticipantSupervisor, uid).
				Update("left_at", now)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				continue
			}
			l, err := st.appendEvent(ctx, tx, c.TenantID, c.ID, newEvent{Kind: KindSystem, SenderKind: SenderAgent, SenderID: uid,
				Event: EventLeft, Data: map[string]string{"role": ParticipantSupervisor}}, nil, nil)
			if err != nil {
				return err
			}
			left = append(left, l)
		}
		return st.audit.Append(ctx, tx, rec)
	})
	return row, left, err
}

// markRead moves a participant's read position forward to seq, as far as the log reaches. moved
// reports whether it moved; before is the position it had (read first, for agents only).
func (st *store) markRead(ctx context.Context, tenantID, convID, kind, id string, seq int64, withBefore bool) (moved bool, before []int64, err error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	mine := st.db.WithContext(ctx).Model(&participant{}).
		Where("tenant_id = ? AND conversation_id = ? AND kind = ? AND participant_id = ?", tenantID, convID, kind, id)
	if withBefore {
		if err := mine.Session(&gorm.Session{}).Pluck("last_read_seq", &before).Error; err != nil {
			return false, nil, err
		}
	}
	res := mine.Session(&gorm.Session{}).Where("last_read_seq < ?", seq).
		Where("? <= (SELECT last_seq FROM conversations WHERE id = ?)", seq, convID).
		Update("last_read_seq", seq)
	return res.RowsAffected > 0, before, res.Error
}

// live lists a tenant's open conversations, oldest first: all of them, or those of depts only.
func (st *store) live(ctx context.Context, tenantID string, all bool, depts []string, limit int) ([]Conversation, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	q := st.db.WithContext(ctx).Where("tenant_id = ? AND status IN ?", tenantID, openStatuses)
	if !all {
		q = q.Where("department_id IN ?", depts)
	}
	var out []Conversation
	err := q.Order("queued_at, id").Limit(limit).Find(&out).Error
	return out, err
}
