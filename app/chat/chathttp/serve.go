package chathttp

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/app/chat/protocol"
)

// feed is what a socket's writer delivers besides the replies: an engine session's followed
// events and signals (chat.VisitorSession, chat.AgentSession).
type feed interface {
	// Wake is signalled when Drain has something.
	Wake() <-chan struct{}
	// Drain returns the frames due now.
	Drain(ctx context.Context) ([]any, error)
	// Recheck returns what signals lost between nodes skipped.
	Recheck(ctx context.Context) ([]any, error)
}

// detach runs a socket's session in a goroutine of its own and lets the HTTP handler return: the
// server's request goroutine, whose stack grew deep through the middleware and the upgrade,
// exits, and an idle socket keeps only small stacks. The session no longer uses the request
// (Echo recycles it); its context keeps the request's values without its cancellation. The
// socket closes with 1001 when the node shuts down.
func (m *Module) detach(ctx context.Context, conn *websocket.Conn, run func(context.Context, *ender) error) {
	ctx = context.WithoutCancel(ctx)
	m.sockets.Add(1)
	go func() {
		defer m.sockets.Done()
		en := &ender{log: m.log, ctx: ctx, conn: conn}
		defer context.AfterFunc(m.base, func() { en.end(closeWith(websocket.StatusGoingAway, protocol.ReasonShutdown)) })()
		en.end(run(ctx, en))
	}()
}

// frameHandler handles one inbound frame of a socket (neither hello nor ping); an error is
// answered with an error frame and the socket stays open.
type frameHandler func(ctx context.Context, sk *socket, in protocol.Inbound) error

// readFrames is the reading half of every socket, the visitor's and the agent's alike: it reads
// and decodes frames of side until the socket ends, answers ping, closes on a second hello,
// hands every other frame to handle and answers a refusal with an error frame — closing the
// socket (4429) once the client holds more than ThrottleStrikes strikes (see strikes). A
// visitor's error frames name no conversation (the visitor socket serves one).
func (m *Module) readFrames(ctx context.Context, sk *socket, side protocol.Side, handle frameHandler) error {
	st := &strikes{}
	st.max, st.decay = m.chat.Strikes()
	for {
		typ, data, err := sk.conn.Read(ctx)
		if err != nil {
			return err
		}
		if err := m.readFrame(ctx, sk, side, handle, st, typ, data); err != nil {
			return err
		}
	}
}

// readFrame handles one frame read by readFrames; an error ends the socket. It is a function of
// its own so that the loop parked in the read keeps a small frame (see serve).
func (m *Module) readFrame(ctx context.Context, sk *socket, side protocol.Side, handle frameHandler, st *strikes, typ websocket.MessageType, data []byte) error {
	in, err := decodeFrame(side, typ, data)
	if err != nil {
		return err
	}
	var ferr error
	switch in.Type {
	case protocol.TypeHello:
		return closeWith(protocol.CloseHelloRequired, protocol.ReasonHelloRequired)
	case protocol.TypePing:
		sk.reply(ctx, protocol.Pong{Type: protocol.TypePong})
	case protocol.TypeMessage, protocol.TypeTyping:
		ferr = handle(ctx, sk, in)
	default:
		sk.afterPosts(ctx)
		ferr = handle(ctx, sk, in)
	}
	if ferr == nil {
		return nil
	}
	convID := in.ConversationID
	if side == protocol.SideVisitor {
		convID = ""
	}
	f := sk.refusal(ctx, in.Type, ferr, in.Key, convID)
	if f.Code == "rate_limited" && st.strike(m.chat.Now()) {
		return closeWith(protocol.CloseRateLimited, protocol.ReasonRateLimited)
	}
	sk.reply(ctx, f)
	return nil
}

// serve runs a socket after its opening frames: the reader (readFrames with handle) in a
// goroutine of its own, the writer in this one. Whoever fails first ends the socket with its
// close code.
//
// The split keeps an idle socket small. The runtime shrinks a parked goroutine's stack only while
// its frames (plus a fixed reserve) use under a quarter of it, and the reader parks under the
// WebSocket and network read frames. Started fresh, it parks under those alone (about 1.9 KB);
// under the session's opening frames it parked at 4.5 KB and kept twice the stack. An idle
// socket's two stacks take 12 KB where they took 20 (BenchmarkIdleSockets).
func (m *Module) serve(ctx context.Context, en *ender, sk *socket, f feed, side protocol.Side, handle frameHandler) error {
	stop := make(chan struct{})
	read := make(chan error, 1)
	go func() {
		err := m.readFrames(ctx, sk, side, handle)
		close(stop)
		read <- err
	}()
	if err := m.writeLoop(ctx, stop, en, sk, f); err != nil {
		en.end(err) // closing the connection ends the reader's read
	}
	close(sk.gone)
	err := <-read
	// Acks the writer never took still deliver their messages.
	for {
		select {
		case v := <-sk.out:
			settle(v)
		default:
			return err
		}
	}
}

// ping checks that the peer still answers: a ping waits for its pong in a short-lived
// goroutine (an idle socket keeps no goroutine for it) and drops a peer that does not answer
// within the interval.
func (m *Module) ping(ctx context.Context, en *ender, sk *socket) {
	go func() {
		pctx, cancel := context.WithTimeout(ctx, m.chat.Limits().Ping)
		defer cancel()
		if err := sk.conn.Ping(pctx); err != nil && ctx.Err() == nil {
			en.end(errPeerGone)
		}
	}()
}

// writeLoop is a socket's writer: replies and the feed's frames, in order, and the keepalive
// pings.
//
// When stop closes (the reader ended) the writer sends the replies still queued — the throttle
// errors before a 4429, say — so they reach the client ahead of the close frame.
func (m *Module) writeLoop(ctx context.Context, stop <-chan struct{}, en *ender, sk *socket, f feed) error {
	keepalive := time.NewTicker(m.chat.Limits().Ping)
	defer keepalive.Stop()
	// With other nodes, a signal can be lost; the socket re-checks the database now and then.
	var recheck <-chan time.Time
	if m.chat.Hub().HasRemote() {
		t := time.NewTicker(m.chat.Limits().Recheck)
		defer t.Stop()
		recheck = t.C
	}
	deliver := func(frames []any, err error) error {
		if werr := sk.writeAll(ctx, frames); werr != nil {
			return werr
		}
		return err
	}
	for {
		select {
		case <-keepalive.C:
			m.ping(ctx, en, sk)
		case <-recheck:
			if err := deliver(f.Recheck(ctx)); err != nil {
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
					if err := sk.send(ctx, v); err != nil {
						// The peer is gone: what is left is settled without writing.
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
		case <-f.Wake():
			if err := deliver(f.Drain(ctx)); err != nil {
				return err
			}
		}
	}
}
