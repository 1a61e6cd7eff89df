package canned

import (
	"context"
	"errors"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/migrations"
)

// ChatEngine is the part of the chat engine the placeholders need; *chat.Service satisfies it.
type ChatEngine interface {
	Lookup(ctx context.Context, tenantID, id string) (chat.Conversation, error)
	VisitorName(ctx context.Context, c chat.Conversation) string
	AgentName(ctx context.Context, p *identity.Principal) string
}

var _ ChatEngine = (*chat.Service)(nil)

// seeing are the permissions that let a user see a conversation of a department in the
// workspace: take it from the queue, join it or monitor it.
var seeing = []string{"chat.accept", "chat.join", "chat.monitor"}

// ChatConversations gives the placeholder values of a chat conversation: the name the visitor
// gave and the user's display name. The user sees the conversation when they are its agent or
// hold chat.accept, chat.join or chat.monitor in its department; any other is ErrNotFound.
type ChatConversations struct {
	Chat    ChatEngine
	Decider Decider
}

var _ Conversations = ChatConversations{}

// Values implements Conversations.
func (c ChatConversations) Values(ctx context.Context, p *identity.Principal, id string) (Values, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	conv, err := c.Chat.Lookup(ctx, p.TenantID, id)
	if errors.Is(err, chat.ErrNotFound) {
		return Values{}, ErrNotFound
	}
	if err != nil {
		return Values{}, err
	}
	if conv.TenantID != p.TenantID {
		return Values{}, ErrNotFound
	}
	sees := conv.AgentID != nil && *conv.AgentID == p.UserID
	for _, perm := range seeing {
		if sees {
			break
		}
		ok, err := c.Decider.Allowed(ctx, p.TenantID, p.UserID, conv.Department(), perm)
		sees = err == nil && ok
	}
	if !sees {
		return Values{}, ErrNotFound
	}
	return Values{VisitorName: c.Chat.VisitorName(ctx, conv), AgentName: c.Chat.AgentName(ctx, p)}, nil
}
