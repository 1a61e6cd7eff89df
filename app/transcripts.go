package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/transcript"
	"github.com/parleyhq/parley/migrations"
)

// transcriptFiles lets transcript readers download a conversation's files through the chat
// engine, which opens and audits them; the transcript service has already checked the reader's
// scope.
type transcriptFiles struct{ chat *chat.Service }

var _ transcript.Files = transcriptFiles{}

// ReaderFile implements transcript.Files.
func (f transcriptFiles) ReaderFile(ctx context.Context, p *identity.Principal, convID, fileID string, o transcript.Origin) (string, string, []byte, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	c, err := f.chat.Lookup(ctx, p.TenantID, convID)
	if err == nil {
		var d chat.Download
		d, err = f.chat.ReaderFile(ctx, c, p, fileID, chat.Origin{IP: o.IP, UserAgent: o.UserAgent, RequestID: o.RequestID})
		if err == nil {
			return d.Name, d.Type, d.Data, nil
		}
	}
	switch {
	case errors.Is(err, chat.ErrNotFound):
		return "", "", nil, transcript.ErrNotFound
	case errors.Is(err, chat.ErrUnavailable):
		return "", "", nil, fmt.Errorf("%w: %w", transcript.ErrUnavailable, err)
	}
	return "", "", nil, err
}
