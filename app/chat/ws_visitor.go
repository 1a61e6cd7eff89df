package chat

import (
	"context"
	"errors"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/vault"
)

// visitorSocket serves GET /api/v1/widget/sites/:site/ws. Everything that can be refused is
// refused before the upgrade, as an ordinary HTTP error: an unknown site (404), a foreign or
// missing Origin (403), a banned address (403) or a connection flood (429).
func (m *Module) visitorSocket(c echo.Context) error {
	s := m.Service
	site, err := m.site(c)
	if err != nil {
		return err
	}
	if !originAllowed(c.Request().Header.Get(echo.HeaderOrigin), s.origin, site.Origins()) {
		return errOriginNotAllowed
	}
	ip := c.RealIP()
	ctx := c.Request().Context()
	if banned, err := s.Banned(ctx, site.TenantID, "", ip); err != nil {
		return err
	} else if banned {
		return errChatUnavailable
	}
	if ok, wait := s.ipConns.Allow(ip); !ok {
		return httpError(c, &RateError{RetryAfter: wait})
	}
	if s.base.Err() != nil {
		return api.ErrUnavailable
	}
	conn, err := upgrade(c)
	if err != nil {
		return nil // Accept has answered the client
	}
	o := Origin{IP: ip, UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)}
	s.detach(ctx, conn, func(ctx context.Context, en *ender) error { return s.runVisitor(ctx, en, site, ip, o) })
	return nil
}

// detach runs a socket's session in a goroutine of its own and lets the HTTP handler return: the
// server's request goroutine, whose stack grew deep through the middleware and the upgrade,
// exits, and an idle socket keeps only small stacks. The session no longer uses the request
// (Echo recycles it); its context keeps the request's values without its cancellation.
func (s *Service) detach(ctx context.Context, conn *websocket.Conn, run func(context.Context, *ender) error) {
	ctx = context.WithoutCancel(ctx)
	s.sockets.Add(1)
	go func() {
		defer s.sockets.Done()
		en := s.newEnder(ctx, conn)
		en.end(run(ctx, en))
	}()
}

// runVisitor is one visitor socket from hello to close.
func (s *Service) runVisitor(ctx context.Context, en *ender, site tenant.Site, ip string, o Origin) error {
	conn := en.conn
	defer context.AfterFunc(s.base, func() { en.end(closeWith(websocket.StatusGoingAway, protocol.ReasonShutdown)) })()
	hello, err := readHello(ctx, en, protocol.SideVisitor, s.limits.HelloTimeout)
	if err != nil {
		return err
	}
	v, err := s.visitors.Authenticate(ctx, site.ID, hello.Token)
	if errors.Is(err, visitor.ErrUnauthenticated) {
		return closeWith(protocol.CloseUnauthenticated, protocol.ReasonUnauthenticated)
	}
	if err != nil {
		return err
	}
	if ok, _ := s.visitorConns.Allow(v.ID); !ok {
		return closeWith(protocol.CloseRateLimited, protocol.ReasonRateLimited)
	}
	if banned, err := s.Banned(ctx, site.TenantID, v.ID, ip); err != nil {
		return err
	} else if banned {
		return closeWith(protocol.CloseUnavailable, protocol.ReasonUnavailable)
	}
	c, err := s.store.conversation(ctx, s.db, site.TenantID, hello.ConversationID)
	if err != nil || c.VisitorID != v.ID || c.SiteID != site.ID {
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return closeWith(protocol.CloseNotFound, protocol.ReasonNotFound)
	}
	_ = s.visitors.Seen(ctx, v.ID, ip)
	me := viewer{kind: SenderVisitor, id: v.ID}
	f := s.newFollower(me)
	defer f.close()
	replay, err := f.follow(ctx, c, hello.LastSeq)
	if err != nil {
		return err
	}
	name, _ := s.open(ctx, c.TenantID, c.ID, vault.FieldVisitorName, 0, c.VisitorName)
	sk := newSocket(conn)
	if err := sk.write(ctx, protocol.Welcome{Type: protocol.TypeWelcome, Protocol: protocol.Version,
		Conversation: summary(c, f.convs[c.ID].delivered), ServerTime: s.now().UTC()}); err != nil {
		return err
	}
	for _, ev := range replay {
		if err := sk.write(ctx, ev); err != nil {
			return err
		}
	}
	return s.serve(ctx, en, sk, f, nil, func(ctx context.Context) error {
		return s.visitorReads(ctx, sk, c, Actor{Kind: SenderVisitor, ID: v.ID, Name: name}, ip, o)
	})
}

// visitorReads handles the frames of a visitor until the socket ends.
func (s *Service) visitorReads(ctx context.Context, sk *socket, c Conversation, a Actor, ip string, o Origin) error {
	strikes := 0
	for {
		typ, data, err := sk.conn.Read(ctx)
		if err != nil {
			return err
		}
		in, err := decodeFrame(protocol.SideVisitor, typ, data)
		if err != nil {
			return err
		}
		var ferr error
		switch in.Type {
		case protocol.TypeHello:
			return closeWith(protocol.CloseHelloRequired, protocol.ReasonHelloRequired)
		case protocol.TypePing:
			sk.reply(ctx, protocol.Pong{Type: protocol.TypePong})
		case protocol.TypeMessage:
			res, err := s.Post(ctx, c.TenantID, c.ID, a, in.Key, in.Text, ip)
			if err != nil {
				ferr = err
				break
			}
			sk.reply(ctx, protocol.Ack{Type: protocol.TypeAck, ConversationID: c.ID, Key: in.Key, Seq: res.VisitorSeq, Duplicate: res.Duplicate})
		case protocol.TypeTyping:
			if ok, _ := s.visitorMsgs.Allow("typing:" + a.ID); ok {
				s.Typing(ctx, c.ID, SenderVisitor, in.Typing)
			}
		case protocol.TypeRead:
			ferr = s.visitorRead(ctx, c.TenantID, c.ID, a, in.Seq)
		case protocol.TypeEnd:
			ferr = s.End(ctx, c.TenantID, c.ID, a, nil, o)
		}
		if ferr == nil {
			continue
		}
		f, ok := frameError(ferr, in.Key, "")
		if !ok {
			s.log.ErrorContext(ctx, "chat frame failed", "type", in.Type, "error", ferr.Error())
		}
		if f.Code == "rate_limited" {
			strikes++
			if strikes > s.limits.ThrottleStrikes {
				return closeWith(protocol.CloseRateLimited, protocol.ReasonRateLimited)
			}
		}
		sk.reply(ctx, f)
	}
}

// serve runs a socket after its welcome: the writer in its own goroutine, the reader in this
// one. Whoever fails first ends the socket with its close code.
func (s *Service) serve(ctx context.Context, en *ender, sk *socket, f *follower,
	onDrain func(context.Context, pending) ([]any, error), read func(context.Context) error) error {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.writeLoop(ctx, stop, en, sk, f, onDrain); err != nil {
			en.end(err)
		}
	}()
	err := read(ctx)
	close(stop)
	<-done
	return err
}

// ping checks that the peer still answers: a ping waits for its pong in a short-lived
// goroutine (an idle socket keeps no goroutine for it) and drops a peer that does not answer
// within the interval.
func (s *Service) ping(ctx context.Context, en *ender, sk *socket) {
	go func() {
		pctx, cancel := context.WithTimeout(ctx, s.limits.Ping)
		defer cancel()
		if err := sk.conn.Ping(pctx); err != nil && ctx.Err() == nil {
			en.end(errPeerGone)
		}
	}()
}

// writeLoop is a socket's writer: replies and followed events, in order, and the keepalive
// pings. onDrain (agents) turns the drained frames, with queue and user signals, into the frames
// sent.
//
// When stop closes (the reader ended) the writer sends the replies still queued — the throttle
// errors before a 4429, say — so they reach the client ahead of the close frame.
func (s *Service) writeLoop(ctx context.Context, stop <-chan struct{}, en *ender, sk *socket, f *follower, onDrain func(context.Context, pending) ([]any, error)) error {
	keepalive := time.NewTicker(s.limits.Ping)
	defer keepalive.Stop()
	// With other nodes, a signal can be lost; the socket re-checks the database now and then.
	var recheck <-chan time.Time
	if s.hub.HasRemote() {
		t := time.NewTicker(s.limits.Recheck)
		defer t.Stop()
		recheck = t.C
	}
	deliver := func(p pending, err error) error {
		frames := p.frames
		if err == nil && onDrain != nil {
			frames, err = onDrain(ctx, p)
		}
		for _, fr := range frames {
			if werr := sk.write(ctx, fr); werr != nil {
				return werr
			}
		}
		return err
	}
	for {
		select {
		case <-keepalive.C:
			s.ping(ctx, en, sk)
		case <-recheck:
			if err := deliver(f.recheck(ctx)); err != nil {
				return err
			}
		case <-ctx.Done():
			return nil
		case <-stop:
			for {
				select {
				case v := <-sk.out:
					if _, ok := v.(task); ok {
						continue // the socket is closing: nothing more to follow
					}
					if err := sk.write(ctx, v); err != nil {
						return nil
					}
				default:
					return nil
				}
			}
		case v := <-sk.out:
			if err := sk.send(ctx, v); err != nil {
				return err
			}
		case <-f.sub.C():
			if err := deliver(f.drain(ctx)); err != nil {
				return err
			}
		}
	}
}

// summary describes a conversation for welcome and HTTP answers.
func summary(c Conversation, lastSeq int64) *protocol.Conversation {
	return &protocol.Conversation{ConversationID: c.ID, Status: c.Status, DepartmentID: c.Department(),
		LastSeq: lastSeq, StartedAt: c.CreatedAt.UTC()}
}
