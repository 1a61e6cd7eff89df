package chathttp

import (
	"context"
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
)

// visitorSocket serves GET /api/v1/widget/sites/:site/ws. Everything that can be refused is
// refused before the upgrade, as an ordinary HTTP error: an unknown site (404), a foreign or
// missing Origin (403), a banned address (403) or a connection flood (429).
func (m *Module) visitorSocket(c echo.Context) error {
	site, err := m.site(c)
	if err != nil {
		return err
	}
	if !originAllowed(c.Request().Header.Get(echo.HeaderOrigin), m.chat.PublicOrigin(), site.Origins()) {
		return errOriginNotAllowed
	}
	ip := c.RealIP()
	ctx := c.Request().Context()
	if banned, err := m.chat.Banned(ctx, site.TenantID, "", ip); err != nil {
		return err
	} else if banned {
		return errChatUnavailable
	}
	if err := m.chat.AllowConnect(ip); err != nil {
		return httpError(c, err)
	}
	if m.base.Err() != nil {
		return api.ErrUnavailable
	}
	conn, err := upgrade(c)
	if err != nil {
		return nil // Accept has answered the client
	}
	o := originOf(c)
	m.detach(ctx, conn, m.counted(SocketVisitor, func(ctx context.Context, en *ender) error { return m.runVisitor(ctx, en, site, ip, o) }))
	return nil
}

// runVisitor is one visitor socket from hello to close. The opening (hello, replay) is a
// function of its own: its frames are gone from the stack the socket's writer parks on (serve).
func (m *Module) runVisitor(ctx context.Context, en *ender, site tenant.Site, ip string, o chat.Origin) error {
	vs, sk, err := m.openVisitor(ctx, en, site, ip, o)
	if err != nil {
		return err
	}
	defer vs.Close()
	return m.serve(ctx, en, sk, vs, protocol.SideVisitor, func(ctx context.Context, sk *socket, in protocol.Inbound) error {
		return visitorFrame(ctx, vs, sk, in)
	})
}

// openVisitor reads the visitor's hello, opens the session and writes its opening frames; a
// refusal is the close code the socket ends with.
func (m *Module) openVisitor(ctx context.Context, en *ender, site tenant.Site, ip string, o chat.Origin) (*chat.VisitorSession, *socket, error) {
	hello, err := readHello(ctx, en, protocol.SideVisitor, m.chat.Limits().HelloTimeout)
	if err != nil {
		return nil, nil, err
	}
	vs, frames, err := m.chat.OpenVisitor(ctx, site, hello.Token, hello.ConversationID, hello.LastSeq, ip, o)
	switch {
	case errors.Is(err, visitor.ErrUnauthenticated):
		return nil, nil, closeWith(protocol.CloseUnauthenticated, protocol.ReasonUnauthenticated)
	case errors.Is(err, chat.ErrRateLimited):
		return nil, nil, closeWith(protocol.CloseRateLimited, protocol.ReasonRateLimited)
	case errors.Is(err, chat.ErrBanned):
		return nil, nil, closeWith(protocol.CloseUnavailable, protocol.ReasonUnavailable)
	case errors.Is(err, chat.ErrNotFound):
		return nil, nil, closeWith(protocol.CloseNotFound, protocol.ReasonNotFound)
	case err != nil:
		return nil, nil, err
	}
	sk := newSocket(en.conn, m.log)
	if err := sk.writeAll(ctx, frames); err != nil {
		vs.Close()
		return nil, nil, err
	}
	return vs, sk, nil
}

// visitorFrame handles a visitor's frame.
func visitorFrame(ctx context.Context, vs *chat.VisitorSession, sk *socket, in protocol.Inbound) error {
	switch in.Type {
	case protocol.TypeMessage:
		p, err := vs.Submit(ctx, in.Key, in.Text)
		if err != nil {
			return err
		}
		sk.post(ctx, posted{p: p, key: in.Key, ackConv: vs.ConversationID(), visitor: true})
	case protocol.TypeTyping:
		vs.Typing(ctx, in.Typing)
	case protocol.TypeRead:
		return vs.Read(ctx, in.Seq)
	case protocol.TypeEnd:
		return vs.End(ctx)
	}
	return nil
}
