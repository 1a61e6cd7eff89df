package chat

import (
	"context"
	"errors"

	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// VisitorSession is a visitor's live connection to one conversation (the visitor socket): it
// follows the conversation and takes the visitor's frames. Post, Typing, Read and End run on the
// connection's reader; Wake, Drain and Recheck on its writer, which owns the follower.
type VisitorSession struct {
	s      *Service
	conv   Conversation
	actor  Actor
	ip     string
	origin Origin
	f      *follower
}

// OpenVisitor opens the session a visitor socket's hello asks for: the visitor of token on site,
// its conversation convID, replayed above lastSeq (the visitor's numbering). It returns the
// frames that open the socket — the welcome, then the replay — and errors with:
// visitor.ErrUnauthenticated for a bad token, a RateError when the visitor connects too often,
// ErrBanned, and ErrNotFound when the conversation is not the visitor's on the site. Close the
// session when the connection ends.
func (s *Service) OpenVisitor(ctx context.Context, site tenant.Site, token, convID string, lastSeq int64, ip string, o Origin) (*VisitorSession, []any, error) {
	ctx = migrations.WithTenant(ctx, site.TenantID)
	v, err := s.visitors.Authenticate(ctx, site.ID, token)
	if err != nil {
		return nil, nil, err
	}
	if ok, wait := s.visitorConns.Allow(v.ID); !ok {
		return nil, nil, &RateError{RetryAfter: wait}
	}
	if banned, err := s.Banned(ctx, site.TenantID, v.ID, ip); err != nil {
		return nil, nil, err
	} else if banned {
		return nil, nil, ErrBanned
	}
	c, err := s.store.conversation(ctx, site.TenantID, convID)
	if err != nil || c.VisitorID != v.ID || c.SiteID != site.ID {
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
		return nil, nil, ErrNotFound
	}
	_ = s.visitors.Seen(ctx, v.ID, ip)
	f := s.newFollower(viewer{kind: SenderVisitor, id: v.ID})
	replay, err := f.follow(ctx, c, lastSeq)
	if err != nil {
		f.close()
		return nil, nil, err
	}
	name, _ := s.open(ctx, c.TenantID, c.ID, vault.FieldVisitorName, 0, c.VisitorName)
	vs := &VisitorSession{s: s, conv: c, actor: Actor{Kind: SenderVisitor, ID: v.ID, Name: name, SiteID: c.SiteID}, ip: ip, origin: o, f: f}
	frames := make([]any, 0, len(replay)+1)
	frames = append(frames, protocol.Welcome{Type: protocol.TypeWelcome, Protocol: protocol.Version,
		Conversation: c.Summary(f.convs[c.ID].delivered), ServerTime: s.now().UTC()})
	for _, ev := range replay {
		frames = append(frames, ev)
	}
	return vs, frames, nil
}

// Close lets go of the conversation.
func (v *VisitorSession) Close() { v.f.close() }

// ConversationID is the conversation the session follows.
func (v *VisitorSession) ConversationID() string { return v.conv.ID }

// Post stores the visitor's message (Service.Post); the ack carries the result's VisitorSeq.
func (v *VisitorSession) Post(ctx context.Context, key, text string) (PostResult, error) {
	return v.s.Post(ctx, v.conv.TenantID, v.conv.ID, v.actor, key, text, v.ip)
}

// Typing relays the visitor's typing signal.
func (v *VisitorSession) Typing(ctx context.Context, typing bool) {
	v.s.VisitorTyping(ctx, v.actor.ID, v.conv.ID, typing)
}

// Read records how far the visitor has read (vseq in the visitor's numbering).
func (v *VisitorSession) Read(ctx context.Context, vseq int64) error {
	return v.s.VisitorRead(ctx, v.conv.TenantID, v.conv.ID, v.actor, vseq)
}

// End ends the conversation on the visitor's behalf.
func (v *VisitorSession) End(ctx context.Context) error {
	return v.s.End(ctx, v.conv.TenantID, v.conv.ID, v.actor, nil, v.origin)
}

// Wake is signalled when the conversation has news for Drain.
func (v *VisitorSession) Wake() <-chan struct{} { return v.f.sub.C() }

// Drain returns the frames due to the visitor: the conversation's new events in order, and the
// agent's typing and read signals.
func (v *VisitorSession) Drain(ctx context.Context) ([]any, error) {
	p, err := v.f.drain(ctx)
	return p.frames, err
}

// Recheck compares the visitor's cursor with the database and returns what a lost signal
// skipped.
func (v *VisitorSession) Recheck(ctx context.Context) ([]any, error) {
	p, err := v.f.recheck(ctx)
	return p.frames, err
}
