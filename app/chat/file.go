package chat

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat/files"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/audit"
)

// Sealed fields of a file (bound to the seq of its file event).
const (
	fieldFileName    = "file.name"
	fieldFileContent = "file.content"
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

// Upload stores a file sent into a conversation — only when the site allows files, of an allowed
// type by content, within the size limit, re-encoded if it is an image, sealed like messages —
// and delivers a file event.
func (s *Service) Upload(ctx context.Context, c Conversation, a Actor, ip, name string, data []byte) (protocol.Event, error) {
	set, err := s.store.settings(ctx, c.SiteID)
	if err != nil {
		return protocol.Event{}, err
	}
	if !set.FileTransfer {
		return protocol.Event{}, ErrFilesDisabled
	}
	if int64(len(data)) > set.FileMaxBytes {
		return protocol.Event{}, ErrFileTooLarge
	}
	switch a.Kind {
	case SenderVisitor:
		err = allow(s.visitorMsgs, s.ipMsgs, a.ID, ip)
	default:
		err = allow(s.agentMsgs, s.agentMsgs, a.ID, "")
	}
	if err != nil {
		return protocol.Event{}, err
	}
	pol, err := s.policy(ctx, c.TenantID)
	if err != nil {
		return protocol.Event{}, err
	}
	checked, err := files.Check(name, data, pol.Apply)
	switch {
	case errors.Is(err, files.ErrType):
		return protocol.Event{}, ErrFileType
	case err != nil:
		return protocol.Event{}, ErrFileInvalid
	}
	fileID := uuid.Must(uuid.NewV7()).String()
	var row eventRow
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		row, err = s.appendEvent(ctx, tx, c.TenantID, c.ID, newEvent{Kind: KindFile, SenderKind: a.Kind, SenderID: a.ID, FileID: fileID},
			func(st seqState) error { return mayWrite(st, a) })
		if err != nil {
			return err
		}
		sealedName, err := s.seal(ctx, c.TenantID, c.ID, fieldFileName, row.Seq, checked.Name)
		if err != nil {
			return err
		}
		content, err := s.sealer.Seal(ctx, bindingFor(c.TenantID, c.ID, fieldFileContent, row.Seq), checked.Data)
		if err != nil {
			return sealErr(err)
		}
		return tx.Create(&fileRow{ID: fileID, TenantID: c.TenantID, ConversationID: c.ID, UploaderKind: a.Kind, UploaderID: a.ID,
			Name: sealedName, ContentType: checked.Type, Size: int64(len(checked.Data)), Content: content, CreatedAt: row.CreatedAt}).Error
	})
	if err != nil {
		return protocol.Event{}, err
	}
	ev := wire(row, "", &protocol.Sender{Kind: a.Kind, ID: a.ID, Name: a.Name},
		&protocol.File{ID: fileID, Name: checked.Name, Type: checked.Type, Size: int64(len(checked.Data))})
	s.publish(ev)
	return ev, nil
}

// fileMeta returns the attachment description of a file event.
func (s *Service) fileMeta(ctx context.Context, r eventRow) (*protocol.File, error) {
	if r.FileID == nil {
		return nil, nil
	}
	var f fileRow
	err := s.db.WithContext(ctx).Select("id", "name", "content_type", "size").
		Where("tenant_id = ? AND conversation_id = ? AND id = ?", r.TenantID, r.ConversationID, *r.FileID).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	name, err := s.open(ctx, r.TenantID, r.ConversationID, fieldFileName, r.Seq, f.Name)
	if err != nil {
		return nil, err
	}
	return &protocol.File{ID: f.ID, Name: name, Type: f.ContentType, Size: f.Size}, nil
}

// Download is a file ready to send.
type Download struct {
	Name, Type string
	Data       []byte
}

// DownloadFile opens a conversation's file for the visitor of the conversation or an agent who
// handles (or handled) it, or holds transcript.view.all; every download is audited.
func (s *Service) DownloadFile(ctx context.Context, c Conversation, a Actor, p *api.Principal, fileID string, o Origin) (Download, error) {
	switch a.Kind {
	case SenderVisitor:
		if c.VisitorID != a.ID {
			return Download{}, ErrNotFound
		}
	case SenderAgent:
		var n int64
		if err := s.db.WithContext(ctx).Model(&participant{}).Where("conversation_id = ? AND kind = ? AND participant_id = ?",
			c.ID, SenderAgent, a.ID).Count(&n).Error; err != nil {
			return Download{}, err
		}
		if n == 0 {
			ok, err := s.authz.Allowed(ctx, p, permFilesAll, "")
			if err != nil || !ok {
				return Download{}, ErrNotFound
			}
		}
	default:
		return Download{}, ErrForbidden
	}
	var f fileRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ? AND id = ?", c.TenantID, c.ID, fileID).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Download{}, ErrNotFound
	}
	if err != nil {
		return Download{}, err
	}
	var seq int64
	if err := s.db.WithContext(ctx).Model(&eventRow{}).Where("conversation_id = ? AND file_id = ?", c.ID, fileID).
		Pluck("seq", &seq).Error; err != nil {
		return Download{}, err
	}
	name, err := s.open(ctx, c.TenantID, c.ID, fieldFileName, seq, f.Name)
	if err != nil {
		return Download{}, err
	}
	data, err := s.sealer.Open(ctx, bindingFor(c.TenantID, c.ID, fieldFileContent, seq), f.Content)
	if err != nil {
		return Download{}, sealErr(err)
	}
	actor := auditActor(a)
	err = s.tx(ctx, func(tx *gorm.DB) error {
		ev := s.auditEvent(c.TenantID, actor, audit.ActionFileDownload, c.ID, o,
			map[string]string{"file": fileID, "type": f.ContentType, "size": strconv.FormatInt(f.Size, 10)})
		ev.Target = audit.Target{Kind: "chat_file", ID: fileID}
		return s.audit.Append(ctx, tx, ev)
	})
	if err != nil {
		return Download{}, err
	}
	return Download{Name: name, Type: f.ContentType, Data: data}, nil
}
