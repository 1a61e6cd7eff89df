package chat

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/app/chat/files"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/audit"
)

// Sealed fields of a file (bound to the seq of its file event).
const (
	fieldFileName    = "file.name"
	fieldFileContent = "file.content"
)

// Upload stores a file sent into a conversation — only when the site allows files, of an allowed
// type by content, within the size limit, re-encoded if it is an image, sealed like messages —
// and delivers a file event, which it returns in the uploader's view (the visitor's numbering
// for a visitor).
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
	if a.Kind == SenderVisitor {
		a.SiteID = c.SiteID
	}
	if err = s.allowMessage(ctx, c.TenantID, a, ip); err != nil {
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
	row, err := s.store.appendFile(ctx, c.TenantID, c.ID, newEvent{Kind: KindFile, SenderKind: a.Kind, SenderID: a.ID, FileID: fileID},
		func(st seqState) error { return mayWrite(st, a) },
		func(seq int64, at time.Time) (fileRow, error) {
			sealedName, err := s.seal(ctx, c.TenantID, c.ID, fieldFileName, seq, checked.Name)
			if err != nil {
				return fileRow{}, err
			}
			content, err := s.sealer.Seal(ctx, bindingFor(c.TenantID, c.ID, fieldFileContent, seq), checked.Data)
			if err != nil {
				return fileRow{}, sealErr(err)
			}
			return fileRow{ID: fileID, TenantID: c.TenantID, ConversationID: c.ID, UploaderKind: a.Kind, UploaderID: a.ID,
				Name: sealedName, ContentType: checked.Type, Size: int64(len(checked.Data)), Content: content, CreatedAt: at}, nil
		})
	if err != nil {
		return protocol.Event{}, err
	}
	ev := wire(row, "", &protocol.Sender{Kind: a.Kind, ID: a.ID, Name: a.Name},
		&protocol.File{ID: fileID, Name: checked.Name, Type: checked.Type, Size: int64(len(checked.Data))})
	s.publish(ev)
	if a.Kind == SenderVisitor {
		ev = visitorView(ev)
	}
	return ev, nil
}

// fileMeta returns the attachment description of a file event.
func (s *Service) fileMeta(ctx context.Context, r eventRow) (*protocol.File, error) {
	if r.FileID == nil {
		return nil, nil
	}
	f, found, err := s.store.fileHead(ctx, r.TenantID, r.ConversationID, *r.FileID)
	if err != nil || !found {
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
func (s *Service) DownloadFile(ctx context.Context, c Conversation, a Actor, p *identity.Principal, fileID string, o Origin) (Download, error) {
	switch a.Kind {
	case SenderVisitor:
		if c.VisitorID != a.ID {
			return Download{}, ErrNotFound
		}
	case SenderAgent:
		took, err := s.store.isParticipant(ctx, c.ID, SenderAgent, a.ID)
		if err != nil {
			return Download{}, err
		}
		if !took {
			ok, err := s.authz.Allowed(ctx, p, permFilesAll, "")
			if err != nil || !ok {
				return Download{}, ErrNotFound
			}
		}
	default:
		return Download{}, ErrForbidden
	}
	return s.openFile(ctx, c, a, fileID, o)
}

// ReaderFile opens a conversation's file for a console user whose reading of the whole
// conversation the caller has already authorised (a transcript reader within their scope, see
// app/transcript); the download is audited like every other.
func (s *Service) ReaderFile(ctx context.Context, c Conversation, p *identity.Principal, fileID string, o Origin) (Download, error) {
	if p == nil {
		return Download{}, ErrForbidden
	}
	return s.openFile(ctx, c, Actor{Kind: SenderAgent, ID: p.UserID}, fileID, o)
}

// openFile opens and audits a file of c for a.
func (s *Service) openFile(ctx context.Context, c Conversation, a Actor, fileID string, o Origin) (Download, error) {
	f, seq, err := s.store.file(ctx, c.TenantID, c.ID, fileID)
	if err != nil {
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
	ev := s.auditEvent(c.TenantID, auditActor(a), audit.ActionFileDownload, c.ID, o,
		map[string]string{"file": fileID, "type": f.ContentType, "size": strconv.FormatInt(f.Size, 10)})
	ev.Target = audit.Target{Kind: "chat_file", ID: fileID}
	if err := s.store.record(ctx, ev); err != nil {
		return Download{}, err
	}
	return Download{Name: name, Type: f.ContentType, Data: data}, nil
}
