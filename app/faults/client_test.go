package faults_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// frame is a server frame, decoded loosely.
type frame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	Kind           string `json:"kind"`
	Key            string `json:"key"`
	Text           string `json:"text"`
	Code           string `json:"code"`
	RetryAfterMS   int64  `json:"retry_after_ms"`
	Duplicate      bool   `json:"duplicate"`
	Sender         *struct {
		Kind string `json:"kind"`
	} `json:"sender"`
	Offer *struct {
		ConversationID string `json:"conversation_id"`
	} `json:"offer"`
	Queue         []struct{ ConversationID string } `json:"queue"`
	Conversations []struct {
		ConversationID string `json:"conversation_id"`
		LastSeq        int64  `json:"last_seq"`
		Status         string `json:"status"`
	} `json:"conversations"`
}

// conn is one WebSocket with a reader goroutine; frames ends when the socket does, and closeCode
// then holds how it ended (1006 when no close frame came: the node vanished).
type conn struct {
	ws     *websocket.Conn
	frames chan frame
	mu     sync.Mutex
	code   int
}

// dialWS opens a socket; when the upgrade is refused the error is a *refusedError with the
// HTTP status.
func dialWS(ctx context.Context, url string, hdr http.Header) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, strings.Replace(url, "http://", "ws://", 1), &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		if resp != nil {
			return nil, &refusedError{status: resp.StatusCode}
		}
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	c := &conn{ws: ws, frames: make(chan frame, 256)}
	go func() {
		defer close(c.frames)
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				code := int(websocket.CloseStatus(err))
				if code == -1 {
					code = int(websocket.StatusAbnormalClosure)
				}
				c.mu.Lock()
				c.code = code
				c.mu.Unlock()
				return
			}
			var f frame
			if json.Unmarshal(b, &f) == nil {
				c.frames <- f
			}
		}
	}()
	return c, nil
}

func (c *conn) send(v any) error {
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, b)
}

func (c *conn) closeCode() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code
}

func (c *conn) close() { _ = c.ws.CloseNow() }

// refusedError is an upgrade the server answered with an HTTP status.
type refusedError struct{ status int }

func (e *refusedError) Error() string { return fmt.Sprintf("upgrade refused with %d", e.status) }

// noteDial records a failed connect: an upgrade refused with a status, or no connection at all.
func (l *ledger) noteDial(err error) {
	var r *refusedError
	l.add(func(l *ledger) {
		l.dialFailures++
		if errors.As(err, &r) {
			l.httpStatus[r.status]++
		}
	})
}

// ledger is what the clients saw: the retryable answers they got and how sockets ended.
type ledger struct {
	mu sync.Mutex
	// errors counts error frames by code; noRetryAfter counts retryable ones without a wait.
	errors       map[string]int
	noRetryAfter int
	// closes counts how sockets ended, by close code; dialFailures counts refused connections.
	closes       map[int]int
	dialFailures int
	// httpStatus counts the widget API's non-success answers by status.
	httpStatus map[int]int
	// problems are contract violations seen live (a gap or a repeat in a stream).
	problems []string
}

func newLedger() *ledger {
	return &ledger{errors: map[string]int{}, closes: map[int]int{}, httpStatus: map[int]int{}}
}

func (l *ledger) add(f func(l *ledger)) {
	l.mu.Lock()
	f(l)
	l.mu.Unlock()
}

func (l *ledger) problem(format string, a ...any) {
	l.add(func(l *ledger) { l.problems = append(l.problems, fmt.Sprintf(format, a...)) })
}

// retryable are the error codes a client retries after retry_after_ms; every other code seen
// during a fault is a defect.
var retryable = map[string]bool{"unavailable": true, "rate_limited": true}

// reconnectable are the close codes after which a client reconnects (docs/chat-protocol.md §4.6).
var reconnectable = map[int]bool{1001: true, 1006: true, 1011: true, 1012: true, 1013: true, 4429: true}

// visitor is one visitor chatting through the fault: one message in flight, retried with the
// same key after retryable errors and after reconnecting, possibly to another node.
type visitor struct {
	c     *cluster
	l     *ledger
	id    int
	token string
	conv  string
	// acked maps each acknowledged key to its seq; order is the keys in sending order.
	acked map[string]int64
	order []string
	// seen holds the seq of every event the visitor received, across sockets.
	lastSeq int64
	sock    *conn
	node    int
	// onAck is called for each newly acked message.
	onAck func()
}

// backoff is the pause before reconnect attempt n: 50 ms doubling to 1 s, with jitter.
func backoff(n int) time.Duration {
	d := 50 * time.Millisecond << min(n, 5)
	d = min(d, time.Second)
	return d/2 + rand.N(d/2+1) // #nosec G404 -- jitter only
}

// newVisitor records a page view and starts a chat, on whichever node answers.
func (c *cluster) newVisitor(l *ledger, id int) *visitor {
	c.t.Helper()
	v := &visitor{c: c, l: l, id: id, acked: map[string]int64{}, node: id}
	n := c.live()[id%len(c.live())]
	var ident struct {
		Token string `json:"visitor_token"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	hdr := http.Header{"Origin": {publicURL}} // the widget's frame is on Parley's origin
	if code, err := httpDo(http.MethodPost, c.widget(n, "/pageviews"), hdr, map[string]any{"url": siteOrigin + "/cards", "title": "Cards"}, &ident); err != nil || code != http.StatusOK {
		c.t.Fatalf("page view: %d %v %s", code, err, ident.Error.Code)
	}
	v.token = ident.Token
	var conv struct {
		ID string `json:"conversation_id"`
	}
	hdr.Set("Authorization", "Bearer "+v.token)
	if code, err := httpDo(http.MethodPost, c.widget(n, "/chats"), hdr, map[string]any{"department_id": c.dept.ID, "name": fmt.Sprintf("Visitor %d", id)}, &conv); err != nil || code != http.StatusCreated {
		c.t.Fatalf("start chat: %d %v", code, err)
	}
	v.conv = conv.ID
	return v
}

// connect opens the visitor's socket on the next live node that accepts it and says hello with
// the last seq seen.
func (v *visitor) connect(ctx context.Context) error {
	for attempt := 0; ctx.Err() == nil; attempt++ {
		nodes := v.c.live()
		if len(nodes) == 0 {
			return errors.New("no node left")
		}
		n := nodes[(v.node+attempt)%len(nodes)]
		s, err := dialWS(ctx, v.c.widget(n, "/ws"), http.Header{"Origin": {siteOrigin}})
		if err == nil {
			if err = s.send(map[string]any{"type": "hello", "token": v.token, "conversation_id": v.conv, "last_seq": v.lastSeq}); err == nil {
				select {
				case f, ok := <-s.frames:
					if ok && f.Type == "welcome" {
						v.sock, v.node = s, v.node+attempt
						return nil
					}
					if !ok {
						v.l.add(func(l *ledger) { l.closes[s.closeCode()]++ })
					}
				case <-time.After(10 * time.Second):
				}
			}
			s.close()
		} else {
			v.l.noteDial(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff(attempt)):
		}
	}
	return ctx.Err()
}

// event checks that the visitor's stream is gapless and repeats nothing.
func (v *visitor) event(f frame) {
	if f.Seq != v.lastSeq+1 {
		v.l.problem("visitor %d: event seq %d after %d", v.id, f.Seq, v.lastSeq)
	}
	if f.Seq > v.lastSeq {
		v.lastSeq = f.Seq
	}
}

// sendOne sends one message and returns once it is acked, retrying as the protocol says, or
// with ctx's error when the deadline passes first.
func (v *visitor) sendOne(ctx context.Context, key string) error {
	text := fmt.Sprintf("visitor %d message %s", v.id, key)
	for ctx.Err() == nil {
		if v.sock == nil {
			if err := v.connect(ctx); err != nil {
				return err
			}
		}
		if err := v.sock.send(map[string]any{"type": "message", "key": key, "text": text}); err != nil {
			v.drop()
			continue
		}
		wait := time.Duration(0)
	read:
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(15 * time.Second):
				v.l.problem("visitor %d: no answer to %s within 15s", v.id, key)
				v.drop()
				break read
			case f, ok := <-v.sock.frames:
				if !ok {
					v.drop()
					break read
				}
				switch {
				case f.Type == "event":
					v.event(f)
				case f.Type == "ack" && f.Key == key:
					if _, again := v.acked[key]; !again {
						v.order = append(v.order, key)
						if v.onAck != nil {
							v.onAck()
						}
					}
					v.acked[key] = f.Seq
					return nil
				case f.Type == "error" && f.Key == key:
					code, after := f.Code, f.RetryAfterMS
					v.l.add(func(l *ledger) {
						l.errors[code]++
						if retryable[code] && after <= 0 {
							l.noRetryAfter++
						}
					})
					wait = time.Duration(max(after, 100)) * time.Millisecond
					break read
				}
			}
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
	}
	return ctx.Err()
}

// drop forgets a socket that ended, counting how.
func (v *visitor) drop() {
	if v.sock == nil {
		return
	}
	s := v.sock
	v.sock = nil
	s.close()
	for range s.frames { //nolint:revive // drain until the reader ends
	}
	v.l.add(func(l *ledger) { l.closes[s.closeCode()]++ })
}

// run sends messages until stop closes, then finishes the one in flight (within finish).
func (v *visitor) run(stop <-chan struct{}, finish time.Duration, pace time.Duration) error {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return nil
		default:
		}
		key := fmt.Sprintf("v%d-%s", v.id, randomKey())
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-stop:
				t := time.NewTimer(finish)
				defer t.Stop()
				select {
				case <-t.C:
					cancel()
				case <-ctx.Done():
				}
			case <-ctx.Done():
			}
		}()
		err := v.sendOne(ctx, key)
		cancel()
		if err != nil {
			return fmt.Errorf("visitor %d: message %s not acked: %w", v.id, key, err)
		}
		select {
		case <-stop:
			return nil
		case <-time.After(pace):
		}
	}
}

// keyOf returns the idempotency key a visitor's message text names (receivers are not shown the
// sender's key).
func keyOf(text string) string {
	_, key, _ := strings.Cut(text, " message ")
	return key
}

// randomKey is 20 random lower-case letters: an idempotency key that never reads as a card number.
func randomKey() string {
	var b [20]byte
	for i := range b {
		b[i] = byte('a' + rand.IntN(26)) // #nosec G404 -- a test key, not a secret
	}
	return string(b[:])
}

// agent is one console user following their chats through the fault: it accepts the offers it
// is told to, and reconnects to another node with its cursors when its socket ends.
type agent struct {
	c      *cluster
	l      *ledger
	cookie string
	name   string
	mu     sync.Mutex
	// cursor is the last seq per conversation; keys the message keys received per conversation.
	cursor map[string]int64
	keys   map[string]map[string]int
	node   int
	// up is true while a socket is open (after its welcome).
	up bool
}

func (c *cluster) newAgent(l *ledger, i int) *agent {
	n := c.live()[i%len(c.live())]
	return &agent{c: c, l: l, cookie: c.login(n, c.agents[i]), name: c.agents[i].Email, node: i,
		cursor: map[string]int64{}, keys: map[string]map[string]int{}}
}

// dial opens an agent socket on a live node and says hello with the cursors.
func (a *agent) dial(ctx context.Context, node int, resume map[string]int64) (*conn, frame, error) {
	nodes := a.c.live()
	if len(nodes) == 0 {
		return nil, frame{}, errors.New("no node left")
	}
	n := nodes[node%len(nodes)]
	s, err := dialWS(ctx, n.URL()+"/api/v1/chat/agent/ws", http.Header{"Origin": {publicURL}, "Cookie": {a.cookie}})
	if err != nil {
		return nil, frame{}, err
	}
	if err := s.send(map[string]any{"type": "hello", "conversations": resume}); err != nil {
		s.close()
		return nil, frame{}, err
	}
	select {
	case f, ok := <-s.frames:
		if ok && f.Type == "welcome" {
			return s, f, nil
		}
		s.close()
		return nil, frame{}, fmt.Errorf("agent hello answered %+v (close %d)", f, s.closeCode())
	case <-time.After(10 * time.Second):
		s.close()
		return nil, frame{}, errors.New("no welcome")
	}
}

// run follows the agent's chats until ctx ends.
func (a *agent) run(ctx context.Context) {
	for attempt := 0; ctx.Err() == nil; {
		a.mu.Lock()
		resume := map[string]int64{}
		for k, v := range a.cursor {
			resume[k] = v
		}
		a.mu.Unlock()
		s, welcome, err := a.dial(ctx, a.node+attempt, resume)
		if err != nil {
			a.l.noteDial(err)
			attempt++
			select {
			case <-ctx.Done():
			case <-time.After(backoff(attempt)):
			}
			continue
		}
		a.node += attempt
		attempt = 0
		a.setUp(true)
		for _, q := range welcome.Queue {
			a.accept(s, q.ConversationID)
		}
		a.follow(ctx, s)
		a.setUp(false)
		s.close()
		for range s.frames { //nolint:revive // drain until the reader ends
		}
		if ctx.Err() == nil {
			a.l.add(func(l *ledger) { l.closes[s.closeCode()]++ })
		}
	}
}

func (a *agent) setUp(up bool) {
	a.mu.Lock()
	a.up = up
	a.mu.Unlock()
}

// accept takes an offered chat; when another agent was first the answer is a conflict error.
func (a *agent) accept(s *conn, conv string) {
	_ = s.send(map[string]any{"type": "accept", "conversation_id": conv})
}

func (a *agent) follow(ctx context.Context, s *conn) {
	for {
		select {
		case <-ctx.Done():
			return
		case f, ok := <-s.frames:
			if !ok {
				return
			}
			switch f.Type {
			case "offer":
				if f.Offer != nil {
					a.accept(s, f.Offer.ConversationID)
				}
			case "event":
				a.record(f)
			case "error":
				code := f.Code
				a.l.add(func(l *ledger) { l.errors["agent:"+code]++ })
			}
		}
	}
}

// record checks the agent's stream of a conversation is gapless and repeats nothing, and notes
// the visitor messages' keys.
func (a *agent) record(f frame) {
	a.mu.Lock()
	defer a.mu.Unlock()
	last := a.cursor[f.ConversationID]
	if f.Seq != last+1 {
		a.l.problem("%s: conversation %s event seq %d after %d", a.name, f.ConversationID, f.Seq, last)
	}
	if f.Seq > last {
		a.cursor[f.ConversationID] = f.Seq
	}
	if f.Kind == "message" && f.Sender != nil && f.Sender.Kind == "visitor" {
		if a.keys[f.ConversationID] == nil {
			a.keys[f.ConversationID] = map[string]int{}
		}
		a.keys[f.ConversationID][keyOf(f.Text)]++
	}
}

// transcript reads every conversation the agent holds from the start, on a fresh socket (the
// database's record), and returns the visitor message keys of each with how often they appear.
func (a *agent) transcript(t *testing.T) map[string]map[string]int {
	t.Helper()
	s, welcome, err := a.dial(context.Background(), a.node, map[string]int64{})
	if err != nil {
		t.Fatalf("final read: %v", err)
	}
	defer s.close()
	want := map[string]int64{}
	for _, c := range welcome.Conversations {
		want[c.ConversationID] = c.LastSeq
	}
	got := map[string]int64{}
	keys := map[string]map[string]int{}
	deadline := time.After(30 * time.Second)
	done := func() bool {
		for c, n := range want {
			if got[c] < n {
				return false
			}
		}
		return true
	}
	for !done() {
		select {
		case f, ok := <-s.frames:
			if !ok {
				t.Fatalf("final read: socket closed (%d)", s.closeCode())
			}
			if f.Type != "event" {
				continue
			}
			if f.Seq != got[f.ConversationID]+1 {
				t.Errorf("final read of %s: seq %d after %d", f.ConversationID, f.Seq, got[f.ConversationID])
			}
			got[f.ConversationID] = f.Seq
			if f.Kind == "message" && f.Sender != nil && f.Sender.Kind == "visitor" {
				if keys[f.ConversationID] == nil {
					keys[f.ConversationID] = map[string]int{}
				}
				keys[f.ConversationID][keyOf(f.Text)]++
			}
		case <-deadline:
			t.Fatalf("final read incomplete: got %v, want %v", got, want)
		}
	}
	return keys
}
