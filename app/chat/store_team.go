package chat

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// teamThread is one row of team_threads: a direct thread between two console users (member_a
// sorts before member_b).
type teamThread struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	MemberA   string
	MemberB   string
	LastSeq   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (teamThread) TableName() string { return "team_threads" }

// member reports whether userID is in the thread.
func (t teamThread) member(userID string) bool { return t.MemberA == userID || t.MemberB == userID }

// peer returns the other member, seen from userID.
func (t teamThread) peer(userID string) string {
	if t.MemberA == userID {
		return t.MemberB
	}
	return t.MemberA
}

// teamMessageRow is one row of team_messages; Body is ciphertext bound to (thread, seq).
type teamMessageRow struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	ThreadID       string
	Seq            int64
	SenderID       string
	IdempotencyKey string
	Body           string
	CreatedAt      time.Time
}

func (teamMessageRow) TableName() string { return "team_messages" }

// teamThread returns a thread of the tenant (ErrNotFound for none, or another tenant's).
func (st *store) teamThread(ctx context.Context, tenantID, id string) (teamThread, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var t teamThread
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return t, ErrNotFound
	}
	return t, err
}

// teamThreadBetween returns the direct thread of two users, creating it when there is none (a
// concurrent creation is resolved by the unique index: the loser reads the winner's row).
func (st *store) teamThreadBetween(ctx context.Context, tenantID, a, b string) (teamThread, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if b < a {
		a, b = b, a
	}
	find := func() (teamThread, error) {
		var t teamThread
		err := st.db.WithContext(ctx).Where("tenant_id = ? AND member_a = ? AND member_b = ?", tenantID, a, b).Take(&t).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return t, ErrNotFound
		}
		return t, err
	}
	if t, err := find(); !errors.Is(err, ErrNotFound) {
		return t, err
	}
	now := st.now().UTC()
	t := teamThread{ID: uuid.Must(uuid.NewV7()).String(), TenantID: tenantID, MemberA: a, MemberB: b, CreatedAt: now, UpdatedAt: now}
	err := st.tx(ctx, func(tx *gorm.DB) error { return tx.Create(&t).Error })
	if migrations.IsUniqueViolation(err) {
		return find()
	}
	return t, err
}

// teamThreadsOf lists a user's threads, the most recently active first.
func (st *store) teamThreadsOf(ctx context.Context, tenantID, userID string, limit int) ([]teamThread, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []teamThread
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND (member_a = ? OR member_b = ?)", tenantID, userID, userID).
		Order("updated_at DESC, id").Limit(limit).Find(&out).Error
	return out, err
}

// teamAppend stores a message in a thread: one transaction takes the thread's next seq (the
// UPDATE locks the thread row), seals the body bound to it and inserts the row. A key the sender
// already used fails on the unique index (the caller looks the original up).
func (st *store) teamAppend(ctx context.Context, t teamThread, senderID, key string, seal sealFunc) (teamMessageRow, error) {
	ctx = migrations.WithTenant(ctx, t.TenantID)
	now := st.now().UTC()
	row := teamMessageRow{ID: uuid.Must(uuid.NewV7()).String(), TenantID: t.TenantID, ThreadID: t.ID, SenderID: senderID,
		IdempotencyKey: key, CreatedAt: now}
	err := st.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&teamThread{}).Where("tenant_id = ? AND id = ?", t.TenantID, t.ID).
			Updates(map[string]any{"last_seq": gorm.Expr("last_seq + 1"), "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		var cur teamThread
		if err := tx.Select("last_seq").Where("id = ?", t.ID).Take(&cur).Error; err != nil {
			return err
		}
		row.Seq = cur.LastSeq
		body, err := seal(row.Seq)
		if err != nil {
			return err
		}
		row.Body = body
		return tx.Create(&row).Error
	})
	return row, err
}

// teamMessageByKey finds a sender's message by its idempotency key.
func (st *store) teamMessageByKey(ctx context.Context, tenantID, threadID, senderID, key string) (teamMessageRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r teamMessageRow
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND thread_id = ? AND sender_id = ? AND idempotency_key = ?",
		tenantID, threadID, senderID, key).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrNotFound
	}
	return r, err
}

// teamMessagesAfter returns up to limit messages of a thread above seq, in seq order.
func (st *store) teamMessagesAfter(ctx context.Context, tenantID, threadID string, after int64, limit int) ([]teamMessageRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []teamMessageRow
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND thread_id = ? AND seq > ?", tenantID, threadID, after).
		Order("seq").Limit(limit).Find(&out).Error
	return out, err
}

// teamRecordRead appends the audit record of a history read.
func (st *store) teamRecordRead(ctx context.Context, ev audit.Event) error { return st.record(ctx, ev) }
