package chathttp

import (
	"context"
	"errors"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/protocol"
)

// agentSocket serves GET /api/v1/chat/agent/ws for a signed-in user holding chat.accept, or one
// of the supervision permissions (chat.monitor, chat.join, chat.whisper), tenant-wide or in a
// department. The Origin must be Parley's own: a page elsewhere cannot open a socket with the
// user's cookie.
func (m *Module) agentSocket(c echo.Context) error {
	p := api.PrincipalOf(c)
	if p == nil {
		return api.ErrUnauthenticated
	}
	origin := strings.ToLower(c.Request().Header.Get(echo.HeaderOrigin))
	if origin == "" || (origin != strings.ToLower(m.chat.PublicOrigin()) && origin != requestOrigin(c)) {
		return errOriginNotAllowed
	}
	if ok, err := m.chat.MayConnect(c.Request().Context(), p); err != nil {
		return err
	} else if !ok {
		return api.ErrForbidden
	}
	if m.base.Err() != nil {
		return api.ErrUnavailable
	}
	conn, err := upgrade(c)
	if err != nil {
		return nil
	}
	o := originOf(c)
	m.detach(c.Request().Context(), conn, m.counted(SocketAgent, func(ctx context.Context, en *ender) error { return m.runAgent(ctx, en, p, o) }))
	return nil
}

// runAgent is one agent socket from hello to close.
func (m *Module) runAgent(ctx context.Context, en *ender, p *api.Principal, o chat.Origin) error {
	hello, err := readHello(ctx, en, protocol.SideAgent, m.chat.Limits().HelloTimeout)
	if err != nil {
		return err
	}
	as, frames, err := m.chat.OpenAgent(ctx, p, hello.Conversations, o)
	if errors.Is(err, chat.ErrForbidden) {
		return closeWith(protocol.CloseUnavailable, "forbidden")
	}
	if err != nil {
		return err
	}
	defer as.Close(ctx)
	sk := newSocket(en.conn, m.log)
	kctx, kcancel := context.WithCancel(ctx)
	defer kcancel()
	// The team feed follows the user's team topic before the welcome goes out: a colleague's
	// message sent once the client holds the welcome reaches it.
	team := m.startTeam(kctx, sk, p)
	if err := sk.writeAll(ctx, frames); err != nil {
		return err
	}
	go as.Keep(kctx, func() { en.end(closeWith(protocol.CloseUnauthenticated, protocol.ReasonUnauthenticated)) })
	return m.serve(ctx, en, sk, as, protocol.SideAgent, func(ctx context.Context, sk *socket, in protocol.Inbound) error {
		if handled, err := m.teamFrame(ctx, team, in, o); handled {
			return err
		}
		return agentFrame(ctx, as, sk, in)
	})
}

// agentFrame handles an agent's frame.
func agentFrame(ctx context.Context, as *chat.AgentSession, sk *socket, in protocol.Inbound) error {
	if in.Type != protocol.TypePing {
		as.Activity(ctx)
	}
	switch in.Type {
	case protocol.TypeAccept:
		return as.Accept(ctx, in.ConversationID)
	case protocol.TypeRefuse:
		return as.Refuse(ctx, in.ConversationID)
	case protocol.TypeMessage:
		p, err := as.Submit(ctx, in.ConversationID, in.Key, in.Text)
		if err != nil {
			return err
		}
		sk.post(ctx, posted{p: p, key: in.Key, convID: in.ConversationID, ackConv: in.ConversationID})
	case protocol.TypeTyping:
		as.Typing(ctx, in.ConversationID, in.Typing)
	case protocol.TypeRead:
		return as.Read(ctx, in.ConversationID, in.Seq)
	case protocol.TypeTransfer:
		return as.Transfer(ctx, in.ConversationID, in.DepartmentID, in.AgentID, in.Note)
	case protocol.TypeStatus:
		return as.SetStatus(ctx, in.Status)
	case protocol.TypeEnd:
		return as.End(ctx, in.ConversationID)
	case protocol.TypeMonitor:
		step, err := as.Monitor(ctx, in.ConversationID, in.LastSeq)
		if err != nil {
			return err
		}
		sk.reply(ctx, task(step))
	case protocol.TypeUnmonitor:
		sk.reply(ctx, task(as.Unmonitor(in.ConversationID)))
	case protocol.TypeWhisper:
		res, err := as.Whisper(ctx, in.ConversationID, in.Key, in.Text)
		if err != nil {
			return err
		}
		sk.ack(ctx, in.ConversationID, in.Key, res.Seq, res)
	case protocol.TypeJoin:
		sk.reply(ctx, task(as.Join(in.ConversationID, in.LastSeq)))
	case protocol.TypeLeave:
		step, err := as.Leave(ctx, in.ConversationID)
		if err != nil {
			return err
		}
		sk.reply(ctx, task(step))
	}
	return nil
}
