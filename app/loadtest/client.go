package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/compliance/pan"
)

// frame is every frame the load reads, flattened: only the fields it looks at.
type frame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	Key            string `json:"key"`
	Seq            int64  `json:"seq"`
	Duplicate      bool   `json:"duplicate"`
	Kind           string `json:"kind"`
	Text           string `json:"text"`
	Sender         *struct {
		Kind string `json:"kind"`
	} `json:"sender"`
	Code         string `json:"code"`
	RetryAfterMS int64  `json:"retry_after_ms"`
	Conversation *struct {
		ConversationID string `json:"conversation_id"`
	} `json:"conversation"`
}

// msg is one message of a visitor and what became of it.
type msg struct {
	sentAt     time.Time
	tries      int
	ackSeq     int64
	agentSeq   int64
	deliveries int
	settled    bool
	card       bool
	clear      bool
	masked     bool
}

// conv is one visitor's conversation: its socket, its agent, its messages.
type conv struct {
	idx   int
	id    string
	agent *agent
	ws    *websocket.Conn
	// slots bounds the messages in flight; dead closes when the visitor's socket ended.
	slots chan struct{}
	dead  chan struct{}
	// assigned closes when the agent holds the conversation.
	assigned     chan struct{}
	assignedOnce sync.Once

	mu           sync.Mutex
	msgs         []msg
	lastAgentSeq int64
	closing      bool
	// hold is when the visitor may send again after a refusal.
	hold time.Time
}

func (c *conv) close() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	if c.ws != nil {
		_ = c.ws.Close(websocket.StatusNormalClosure, "load done")
	}
}

// agent is one signed-in agent's socket.
type agent struct {
	idx   int
	ws    *websocket.Conn
	convs sync.Map // conversation id → *conv
	mu    sync.Mutex
	dead  bool
}

func (a *agent) close() {
	if a.ws != nil {
		_ = a.ws.Close(websocket.StatusNormalClosure, "load done")
	}
}

// key is message n's idempotency key: letters around the numbers, so no key reads as a card
// number.
func key(conv, n int) string { return fmt.Sprintf("lt-c%dm%d", conv, n) }

func parseKey(k string) (int, bool) {
	var c, n int
	if _, err := fmt.Sscanf(k, "lt-c%dm%d", &c, &n); err != nil {
		return 0, false
	}
	return n, true
}

const filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "

// text is message n's text, size bytes: words around its numbers (the split card-number
// detector must not join them), the test card when card is set, then filler.
func text(conv, n, size int, card bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "load c%d m%d ", conv, n)
	if card {
		b.WriteString("card " + Card + " thanks ")
	}
	for b.Len() < size {
		b.WriteString(filler[:min(len(filler), size-b.Len())])
	}
	return strings.TrimSpace(b.String())
}

// parseText returns the message number a text carries.
func parseText(t string) (int, bool) {
	var c, n int
	if _, err := fmt.Sscanf(t, "load c%d m%d", &c, &n); err != nil {
		return 0, false
	}
	return n, true
}

func writeJSON(ctx context.Context, ws *websocket.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return ws.Write(wctx, websocket.MessageText, b)
}

func readFrame(ctx context.Context, ws *websocket.Conn) (frame, error) {
	_, b, err := ws.Read(ctx)
	if err != nil {
		return frame{}, err
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return frame{}, fmt.Errorf("loadtest: frame %q: %w", b, err)
	}
	return f, nil
}

// dial opens a WebSocket with header; a refusal before the upgrade is reported with its status
// and error code.
func dial(ctx context.Context, client *http.Client, url string, header http.Header) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, res, err := websocket.Dial(dctx, url, &websocket.DialOptions{HTTPClient: client, HTTPHeader: header})
	if err != nil {
		if res != nil {
			return nil, &httpError{status: res.StatusCode, code: errorCode(res.Body)}
		}
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	return ws, nil
}

// httpError is a refused request: its status and Parley's error code.
type httpError struct {
	status int
	code   string
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d %s", e.status, e.code) }

// codeOf names an error for the error counts.
func codeOf(err error) string {
	var he *httpError
	switch {
	case errors.As(err, &he):
		if he.code != "" {
			return he.code
		}
		return fmt.Sprintf("http_%d", he.status)
	case errors.Is(err, context.DeadlineExceeded):
		return "client_timeout"
	case websocket.CloseStatus(err) != -1:
		return fmt.Sprintf("socket_closed_%d", websocket.CloseStatus(err))
	}
	return "client_error"
}

func errorCode(body io.Reader) string {
	if body == nil {
		return ""
	}
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(body, 1<<16))
	_ = json.Unmarshal(b, &e)
	return e.Error.Code
}

// request sends a JSON request from address addr (X-Forwarded-For) and decodes a JSON answer
// into out; a status of 300 or more is an httpError.
func request(ctx context.Context, client *http.Client, method, url, addr string, header http.Header, in, out any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Forwarded-For", addr)
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode >= 300 {
		return res, &httpError{status: res.StatusCode, code: errorCode(res.Body)}
	}
	if out != nil {
		if err := json.NewDecoder(io.LimitReader(res.Body, 4<<20)).Decode(out); err != nil {
			return res, err
		}
	}
	return res, nil
}

// readAgent reads an agent's socket until it ends: assignments, and the events of the
// conversations it holds, checked against the contract as they come.
func (r *run) readAgent(ctx context.Context, a *agent) {
	for {
		f, err := readFrame(ctx, a.ws)
		if err != nil {
			a.mu.Lock()
			a.dead = true
			a.mu.Unlock()
			if ctx.Err() == nil && websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				r.errs.add("agent_" + codeOf(err))
			}
			return
		}
		switch f.Type {
		case "assigned":
			if f.Conversation != nil {
				if c, ok := a.convs.Load(f.Conversation.ConversationID); ok {
					c := c.(*conv)
					c.assignedOnce.Do(func() { close(c.assigned) })
				}
			}
		case "event":
			if c, ok := a.convs.Load(f.ConversationID); ok {
				r.agentEvent(c.(*conv), f)
			}
		case "error":
			r.errs.add(f.Code)
		}
	}
}

// agentEvent checks one event the agent received: the conversation's seq goes up by one each
// time; a visitor message is delivered once, at the seq of its ack, and its card masked.
func (r *run) agentEvent(c *conv, f frame) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.Seq != c.lastAgentSeq+1 {
		r.order.Add(1)
		r.violation("conversation %d: the agent received seq %d after seq %d", c.idx, f.Seq, c.lastAgentSeq)
	}
	c.lastAgentSeq = max(c.lastAgentSeq, f.Seq)
	if f.Kind != "message" || f.Sender == nil || f.Sender.Kind != "visitor" {
		return
	}
	n, ok := parseText(f.Text)
	if !ok || n < 0 || n >= len(c.msgs) {
		r.violation("conversation %d: the agent received a message it cannot place: %.40q", c.idx, f.Text)
		return
	}
	m := &c.msgs[n]
	m.deliveries++
	m.agentSeq = f.Seq
	if m.deliveries == 1 {
		r.delivered.Add(1)
		if !m.sentAt.IsZero() && !r.start.IsZero() {
			r.deliv.add(now.Sub(r.start), now.Sub(m.sentAt))
		}
	}
	if m.card {
		m.clear = strings.Contains(f.Text, Card) || pan.Contains(f.Text)
		m.masked = !m.clear && strings.Contains(f.Text, "1111") && strings.Contains(f.Text, "•")
	}
}

// readVisitor reads a visitor's socket until it ends: acks settle messages, refusals are
// retried when the server says when.
func (r *run) readVisitor(ctx context.Context, c *conv) {
	defer close(c.dead)
	for {
		f, err := readFrame(ctx, c.ws)
		if err != nil {
			c.mu.Lock()
			closing := c.closing
			c.mu.Unlock()
			if !closing && ctx.Err() == nil {
				r.errs.add("visitor_" + codeOf(err))
			}
			return
		}
		switch f.Type {
		case "ack":
			r.visitorAck(c, f)
		case "error":
			r.errs.add(f.Code)
			r.visitorRefused(ctx, c, f)
		case "event":
			if f.Kind == "system" && f.Seq > 0 {
				// the agent joined: the visitor's own view confirms the assignment
				continue
			}
		}
	}
}

func (r *run) visitorAck(c *conv, f frame) {
	n, ok := parseKey(f.Key)
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !ok || n < 0 || n >= len(c.msgs) {
		r.violation("conversation %d: an ack for a key never sent: %q", c.idx, f.Key)
		return
	}
	m := &c.msgs[n]
	if m.settled {
		return
	}
	m.settled, m.ackSeq = true, f.Seq
	r.acked.Add(1)
	if f.Duplicate {
		r.dups.Add(1)
	}
	r.ack.add(now.Sub(r.start), now.Sub(m.sentAt))
	r.done.Add(1)
	release(c)
}

// release frees one in-flight slot of c.
func release(c *conv) {
	select {
	case <-c.slots:
	default:
	}
}

// maxTries bounds the re-sends of one message.
const maxTries = 50

// visitorRefused retries a refused message after retry_after_ms when the refusal is retryable,
// and gives it up otherwise.
func (r *run) visitorRefused(ctx context.Context, c *conv, f frame) {
	n, ok := parseKey(f.Key)
	if !ok {
		return
	}
	c.mu.Lock()
	if n < 0 || n >= len(c.msgs) || c.msgs[n].settled {
		c.mu.Unlock()
		return
	}
	m := &c.msgs[n]
	retry := (f.Code == "rate_limited" || f.Code == "unavailable") && m.tries < maxTries
	if !retry {
		m.settled = true
		c.mu.Unlock()
		r.failed.Add(1)
		r.done.Add(1)
		release(c)
		return
	}
	m.tries++
	card := m.card
	// The visitor holds back: its refused messages go again one retry_after_ms apart, and no
	// new one goes before them, so waiting as told is never refused again for the same wait.
	wait := time.Duration(max(f.RetryAfterMS, 50)) * time.Millisecond
	at := time.Now().Add(wait)
	if c.hold.After(at) {
		at = c.hold
	}
	c.hold = at.Add(wait)
	c.mu.Unlock()
	time.AfterFunc(time.Until(at), func() {
		if err := writeJSON(ctx, c.ws, map[string]string{"type": "message", "key": key(c.idx, n), "text": text(c.idx, n, r.cfg.Size, card)}); err != nil && ctx.Err() == nil {
			r.errs.add("visitor_write_failed")
		}
	})
}

// send is one visitor's message phase: Messages messages, paced by Rate, at most InFlight
// unacked; it returns once every message is settled or the socket ended.
func (r *run) send(ctx context.Context, c *conv) {
	var interval time.Duration
	if r.cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) / r.cfg.Rate)
	}
	next := time.Now()
	for n := range r.cfg.Messages {
		select {
		case c.slots <- struct{}{}:
		case <-c.dead:
			r.abandon(c)
			return
		case <-ctx.Done():
			return
		}
		if interval > 0 {
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
			next = next.Add(interval)
		}
		c.mu.Lock()
		hold := time.Until(c.hold)
		c.mu.Unlock()
		if hold > 0 {
			time.Sleep(hold)
		}
		card := r.cfg.CardEvery > 0 && n%r.cfg.CardEvery == r.cfg.CardEvery-1
		c.mu.Lock()
		c.msgs[n].sentAt, c.msgs[n].card = time.Now(), card
		c.mu.Unlock()
		r.sent.Add(1)
		if err := writeJSON(ctx, c.ws, map[string]string{"type": "message", "key": key(c.idx, n), "text": text(c.idx, n, r.cfg.Size, card)}); err != nil {
			if ctx.Err() == nil {
				r.errs.add("visitor_write_failed")
			}
			r.abandon(c)
			return
		}
	}
	// Wait for the last acks: every slot free again.
	for range cap(c.slots) {
		select {
		case c.slots <- struct{}{}:
		case <-c.dead:
			r.abandon(c)
			return
		case <-ctx.Done():
			return
		}
	}
}

// abandon settles every message of a visitor whose socket ended as failed.
func (r *run) abandon(c *conv) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.msgs {
		if !c.msgs[i].settled {
			c.msgs[i].settled = true
			r.failed.Add(1)
			r.done.Add(1)
		}
	}
}
