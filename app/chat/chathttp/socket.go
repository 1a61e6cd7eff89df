package chathttp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/protocol"
)

// writeTimeout bounds one frame write; a peer that does not read is disconnected.
const writeTimeout = 10 * time.Second

// outboxSize bounds the replies (acks, errors) waiting for the writer.
const outboxSize = 16

// upgrade turns the request into a WebSocket. The origin was checked by the caller. The server's
// read and write deadlines (meant for ordinary requests) are cleared first: a hijacked
// connection would otherwise be cut when they expire. Compression is off: it costs memory per
// socket and mixes secrets with attacker-chosen text. The socket keeps small buffers of its own
// (smallBuffers) instead of the HTTP server's 4 KiB ones.
func upgrade(c echo.Context) (*websocket.Conn, error) {
	rc := http.NewResponseController(c.Response())
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	conn, err := websocket.Accept(smallBuffers{c.Response()}, c.Request(), &websocket.AcceptOptions{
		InsecureSkipVerify: true, // the Origin was checked against the site's allowed origins before
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(protocol.MaxFrameBytes)
	return conn, nil
}

// socketBuffer is the size of a socket's read and write buffers. Chat frames are small; a
// larger one is read or written past the buffer, straight from or to the connection.
const socketBuffer = 512

// smallBuffers hands the WebSocket library buffers of socketBuffer bytes when it hijacks the
// connection, in place of the HTTP server's 4 KiB reader and writer, which an idle socket would
// otherwise hold for its whole life (most of its memory). Bytes the server's reader had already
// buffered are read first.
type smallBuffers struct{ *echo.Response }

// Hijack implements http.Hijacker.
func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.Response).Hijack()
	if err != nil {
		return nil, nil, err
	}
	n := brw.Reader.Buffered()
	if n == 0 {
		return conn, bufio.NewReadWriter(bufio.NewReaderSize(conn, socketBuffer), bufio.NewWriterSize(conn, socketBuffer)), nil
	}
	// The early bytes must sit in the new reader's buffer: the library takes what is buffered
	// and reads the rest from conn itself.
	early, _ := brw.Reader.Peek(n)
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn), max(socketBuffer, n))
	if _, err := br.Peek(n); err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, socketBuffer)), nil
}

// closeErr is how a session ends: the close code and reason sent to the peer.
type closeErr struct {
	code   websocket.StatusCode
	reason string
}

func (e *closeErr) Error() string { return "chat socket closed: " + e.reason }

func closeWith(code websocket.StatusCode, reason string) error {
	return &closeErr{code: code, reason: reason}
}

// socket is the writer half every session shares: one goroutine writes, in order, the replies
// the reader queues and the frames the session's feed produces.
type socket struct {
	conn *websocket.Conn
	log  *slog.Logger
	out  chan any
	// gone is closed once the writer stopped taking replies.
	gone chan struct{}
	// last is the latest message the reader submitted and may not be decided yet (post).
	last *chat.Pending
}

func newSocket(conn *websocket.Conn, log *slog.Logger) *socket {
	return &socket{conn: conn, log: log, out: make(chan any, outboxSize), gone: make(chan struct{})}
}

// reply queues a frame for the writer; it blocks while the outbox is full (back-pressure on a
// client that sends faster than it reads) and gives up when ctx ends or the writer is gone. An
// ack that cannot be queued still delivers its message.
func (sk *socket) reply(ctx context.Context, v any) {
	select {
	case sk.out <- v:
	case <-ctx.Done():
		settle(v)
	case <-sk.gone:
		settle(v)
	}
}

// acked is an ack frame with the delivery of its message: the writer calls deliver right after
// writing the ack, so the message's fan-out and the amends it causes — including those this
// socket receives — follow the ack on the wire. deliver runs whether or not the ack could be
// written (the message is stored either way).
type acked struct {
	ack     protocol.Ack
	deliver func()
}

// ack queues the ack of a stored message, followed by its delivery.
func (sk *socket) ack(ctx context.Context, convID, key string, seq int64, res chat.PostResult) {
	sk.reply(ctx, acked{ack: protocol.Ack{Type: protocol.TypeAck, ConversationID: convID, Key: key, Seq: seq, Duplicate: res.Duplicate},
		deliver: res.Deliver})
}

// posted is a message handed to the group commit, queued for the writer in the order its frame
// was read: the writer waits for its batch, then writes its ack followed by its delivery, or
// the error frame of its refusal. The reader goes on reading meanwhile (the outbox bounds how
// far ahead), so one socket's messages share batches instead of waiting a commit each.
type posted struct {
	p *chat.Pending
	// key and convID are the frame's; convID is empty on a visitor's socket (it serves one
	// conversation, and its acks name it from ackConv).
	key, convID, ackConv string
	// visitor acks carry the visitor's seq.
	visitor bool
}

// post queues a submitted message for the writer and remembers it: frames that act on the
// conversation wait for it (afterPosts).
func (sk *socket) post(ctx context.Context, p posted) {
	sk.last = p.p
	sk.reply(ctx, p)
}

// afterPosts waits until the socket's submitted messages are decided, so that a frame read after
// them (an end, a transfer, a read receipt) acts after them too. Only the reader calls it.
func (sk *socket) afterPosts(ctx context.Context) {
	if sk.last == nil {
		return
	}
	select {
	case <-sk.last.Done():
		sk.last = nil
	case <-ctx.Done():
	}
}

// refusal is the error frame answering err; an unexpected error is logged (its frame says only
// that something went wrong).
func (sk *socket) refusal(ctx context.Context, typ string, err error, key, convID string) protocol.Error {
	f, ok := frameError(err, key, convID)
	if !ok {
		sk.log.ErrorContext(ctx, "chat frame failed", "type", typ, "error", err.Error())
	}
	return f
}

// settle runs what a queued value promised without writing it: an ack's delivery.
func settle(v any) {
	switch v := v.(type) {
	case acked:
		v.deliver()
	case posted:
		if res, err := v.p.Wait(); err == nil {
			res.Deliver()
		}
	}
}

// task is a session's Step queued for the writer goroutine, which owns the session's follower:
// it runs in order with the replies queued before and after it, and its frames are sent at once.
// An error ends the socket, as a follower's does.
type task chat.Step

// send writes a queued value: a frame, an ack and then its delivery, or the frames of a task it
// runs.
func (sk *socket) send(ctx context.Context, v any) error {
	switch v := v.(type) {
	case task:
		frames, err := v(ctx)
		if werr := sk.writeAll(ctx, frames); werr != nil {
			return werr
		}
		return err
	case acked:
		err := sk.write(ctx, v.ack)
		v.deliver()
		return err
	case posted:
		res, err := v.p.Wait()
		if err != nil {
			return sk.write(ctx, sk.refusal(ctx, protocol.TypeMessage, err, v.key, v.convID))
		}
		seq := res.Seq
		if v.visitor {
			seq = res.VisitorSeq
		}
		return sk.send(ctx, acked{ack: protocol.Ack{Type: protocol.TypeAck, ConversationID: v.ackConv, Key: v.key, Seq: seq,
			Duplicate: res.Duplicate}, deliver: res.Deliver})
	}
	return sk.write(ctx, v)
}

// writeAll writes frames in order.
func (sk *socket) writeAll(ctx context.Context, frames []any) error {
	for _, fr := range frames {
		if err := sk.write(ctx, fr); err != nil {
			return err
		}
	}
	return nil
}

// write sends one frame now (only the writer goroutine, or before it starts). A session's
// Refusal goes out as the error frame of its engine error.
func (sk *socket) write(ctx context.Context, v any) error {
	if r, ok := v.(chat.Refusal); ok {
		f, known := frameError(r.Err, "", r.ConversationID)
		if !known {
			sk.log.ErrorContext(ctx, "chat request failed", "error", r.Err.Error())
		}
		v = f
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return sk.conn.Write(wctx, websocket.MessageText, b)
}

// ender closes a socket exactly once, with the code and reason of the first party that ends it:
// the reader, the writer, the keepalive, the hello timer or the node's shutdown. Closing (rather
// than cancelling a read) sends a close frame the client can act on.
type ender struct {
	once sync.Once
	log  *slog.Logger
	ctx  context.Context
	conn *websocket.Conn
}

func (en *ender) end(err error) {
	en.once.Do(func() { finish(en.ctx, en.log, en.conn, err) })
}

// errPeerGone means the peer stopped answering pings; the connection is dropped without a
// close handshake.
var errPeerGone = errors.New("chat: peer does not answer pings")

// readHello waits for the first frame, which must be a hello, for at most timeout.
func readHello(ctx context.Context, en *ender, side protocol.Side, timeout time.Duration) (protocol.Inbound, error) {
	timedOut := closeWith(protocol.CloseHelloTimeout, protocol.ReasonHelloTimeout)
	timer := time.AfterFunc(timeout, func() { en.end(timedOut) })
	typ, data, err := en.conn.Read(ctx)
	if !timer.Stop() {
		return protocol.Inbound{}, timedOut
	}
	if err != nil {
		return protocol.Inbound{}, err
	}
	in, err := decodeFrame(side, typ, data)
	if err != nil {
		return protocol.Inbound{}, err
	}
	if in.Type != protocol.TypeHello {
		return protocol.Inbound{}, closeWith(protocol.CloseHelloRequired, protocol.ReasonHelloRequired)
	}
	return in, nil
}

// decodeFrame refuses binary frames and malformed ones with the matching close.
func decodeFrame(side protocol.Side, typ websocket.MessageType, data []byte) (protocol.Inbound, error) {
	if typ != websocket.MessageText {
		return protocol.Inbound{}, closeWith(websocket.StatusUnsupportedData, protocol.ReasonBinary)
	}
	in, err := protocol.Decode(side, data)
	if err != nil {
		return protocol.Inbound{}, closeWith(protocol.CloseBadFrame, protocol.CloseReason(err))
	}
	return in, nil
}

// finish closes the socket with the code and reason err carries; errors of a connection that is
// already gone close nothing.
func finish(ctx context.Context, log *slog.Logger, conn *websocket.Conn, err error) {
	var ce *closeErr
	switch {
	case err == nil:
		_ = conn.Close(websocket.StatusNormalClosure, protocol.ReasonBye)
	case errors.As(err, &ce):
		_ = conn.Close(ce.code, ce.reason)
	case websocket.CloseStatus(err) != -1, errors.Is(err, context.Canceled), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.Is(err, errPeerGone):
		_ = conn.CloseNow()
	default:
		log.ErrorContext(ctx, "chat socket failed", "error", err.Error())
		_ = conn.Close(websocket.StatusInternalError, protocol.ReasonInternal)
	}
}

// originAllowed reports whether origin is Parley's own (the widget iframe) or one of the site's.
func originAllowed(origin, own string, site []string) bool {
	if origin == "" || origin == "null" {
		return false
	}
	o := strings.ToLower(strings.TrimRight(origin, "/"))
	if own != "" && o == strings.ToLower(own) {
		return true
	}
	for _, s := range site {
		if o == s {
			return true
		}
	}
	return false
}

// requestOrigin is the origin the request was addressed to.
func requestOrigin(c echo.Context) string {
	return strings.ToLower(c.Scheme() + "://" + c.Request().Host)
}
