package chat

import (
	"context"
	"errors"
	"time"

	"github.com/parleyhq/parley/migrations"
	"gorm.io/gorm"
)

type fileRow struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	ConversationID string
	UploaderKind   string
	UploaderID     string
	Name           string
	ContentType    string
	Size           int64
	Content        []byte
	CreatedAt      time.Time
}

func (fileRow) TableName() string { return "chat_files" }

// appendFile appends a file event (check may refuse it) and stores the file that file builds
// for the event's seq and time — its name and content sealed bound to that seq — in one
// transaction.
func (st *store) appendFile(ctx context.Context, tenantID, convID string, ev newEvent, check checkFunc, file func(seq int64, at time.Time) (fileRow, error)) (eventRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var row eventRow
	err := st.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if row, err = st.appendEvent(ctx, tx, tenantID, convID, ev, check, nil); err != nil {
			return err
		}
		f, err := file(row.Seq, row.CreatedAt)
		if err != nil {
			return err
		}
		return tx.Create(&f).Error
	})
	return row, err
}

// fileHead returns a conversation's file without its content; found is false when there is none.
func (st *store) fileHead(ctx context.Context, tenantID, convID, fileID string) (f fileRow, found bool, err error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	err = st.db.WithContext(ctx).Select("id", "name", "content_type", "size").
		Where("tenant_id = ? AND conversation_id = ? AND id = ?", tenantID, convID, fileID).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fileRow{}, false, nil
	}
	return f, err == nil, err
}

// file returns a conversation's file with its content and the seq of its file event (the seq
// its name and content are sealed bound to).
func (st *store) file(ctx context.Context, tenantID, convID, fileID string) (fileRow, int64, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var f fileRow
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ? AND id = ?", tenantID, convID, fileID).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fileRow{}, 0, ErrNotFound
	}
	if err != nil {
		return fileRow{}, 0, err
	}
	var seq int64
	if err := st.db.WithContext(ctx).Model(&eventRow{}).Where("conversation_id = ? AND file_id = ?", convID, fileID).
		Pluck("seq", &seq).Error; err != nil {
		return fileRow{}, 0, err
	}
	return f, seq, nil
}
