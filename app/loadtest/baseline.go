package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Baseline is the bare WebSocket fan-out server the load compares Parley with, in the same run:
// the same frames over the same sockets, and nothing else — no accounts, no sanitising, no
// masking, no encryption, no database. A visitor's message gets the conversation's next seq in
// memory, its ack, and is fanned out as an event to the conversation's agent and back to the
// visitor, each socket with a writer goroutine of its own as Parley's.
//
//	GET /baseline/agent    hello {conversations}; accept {conversation_id} → assigned
//	GET /baseline/visitor  hello {conversation_id} → welcome; message {key,text} → ack + event
type Baseline struct {
	mu    sync.Mutex
	convs map[string]*baselineConv
	// fault breaks the contract on purpose (tests of the checker): it may change an agent's
	// copy of event n (a conversation's message count) and returns the copies to send.
	fault func(n int64, ev []byte) [][]byte
}

type baselineConv struct {
	seq      int64
	agent    chan<- []byte
	pendings [][]byte // events before the agent accepted
}

// NewBaseline returns an empty baseline server.
func NewBaseline() *Baseline { return &Baseline{convs: map[string]*baselineConv{}} }

// ServeHTTP serves the two sockets.
func (b *Baseline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/baseline/agent", "/baseline/visitor":
	default:
		http.NotFound(w, r)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	ws.SetReadLimit(32 << 10)
	ctx := r.Context()
	out := make(chan []byte, 64)
	go func() {
		// After a failed write the writer keeps draining, so no sender ever blocks on it.
		failed := false
		for m := range out {
			if failed {
				continue
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			failed = ws.Write(wctx, websocket.MessageText, m) != nil
			cancel()
		}
	}()
	if r.URL.Path == "/baseline/agent" {
		b.agent(ctx, ws, out)
	} else {
		b.visitor(ctx, ws, out)
	}
	// Every send happens under b.mu, to a channel still attached: detached, it can close.
	b.mu.Lock()
	for _, c := range b.convs {
		if c.agent == out {
			c.agent = nil
		}
	}
	close(out)
	b.mu.Unlock()
	_ = ws.Close(websocket.StatusNormalClosure, "")
}

func marshal(v any) []byte {
	m, _ := json.Marshal(v)
	return m
}

func (b *Baseline) agent(ctx context.Context, ws *websocket.Conn, out chan<- []byte) {
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var f struct {
			Type           string `json:"type"`
			ConversationID string `json:"conversation_id"`
		}
		if json.Unmarshal(data, &f) != nil {
			return
		}
		switch f.Type {
		case "hello":
			out <- marshal(map[string]any{"type": "welcome", "protocol": 1})
		case "accept":
			b.mu.Lock()
			c := b.conv(f.ConversationID)
			c.agent = out
			pending := c.pendings
			c.pendings = nil
			out <- marshal(map[string]any{"type": "assigned", "conversation": map[string]any{"conversation_id": f.ConversationID}})
			for _, p := range pending {
				out <- p
			}
			b.mu.Unlock()
		}
	}
}

// conv returns the conversation id, made on first use (b.mu held).
func (b *Baseline) conv(id string) *baselineConv {
	c := b.convs[id]
	if c == nil {
		c = &baselineConv{}
		b.convs[id] = c
	}
	return c
}

func (b *Baseline) visitor(ctx context.Context, ws *websocket.Conn, out chan<- []byte) {
	var id string
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var f struct {
			Type           string `json:"type"`
			ConversationID string `json:"conversation_id"`
			Key            string `json:"key"`
			Text           string `json:"text"`
		}
		if json.Unmarshal(data, &f) != nil {
			return
		}
		switch f.Type {
		case "hello":
			id = f.ConversationID
			out <- marshal(map[string]any{"type": "welcome", "protocol": 1})
		case "message":
			if id == "" {
				return
			}
			b.mu.Lock()
			c := b.conv(id)
			c.seq++
			seq := c.seq
			ev := marshal(map[string]any{"type": "event", "conversation_id": id, "seq": seq, "kind": "message",
				"sender": map[string]string{"kind": "visitor"}, "text": f.Text})
			out <- marshal(map[string]any{"type": "ack", "conversation_id": id, "key": f.Key, "seq": seq})
			out <- ev
			copies := [][]byte{ev}
			if b.fault != nil {
				copies = b.fault(seq, ev)
			}
			for _, ev := range copies {
				if c.agent != nil {
					c.agent <- ev
				} else {
					c.pendings = append(c.pendings, ev)
				}
			}
			b.mu.Unlock()
		}
	}
}

// baselineTarget drives a Baseline.
type baselineTarget struct{ base string }

func (baselineTarget) name() string { return "baseline" }

func (t baselineTarget) agentSocket(context.Context, int, Account) (string, http.Header, error) {
	return wsURL(t.base, "/baseline/agent"), nil, nil
}

func (t baselineTarget) startChat(_ context.Context, i int) (string, string, http.Header, any, error) {
	id := fmt.Sprintf("baseline-%d", i)
	return id, wsURL(t.base, "/baseline/visitor"), nil, map[string]any{"type": "hello", "conversation_id": id}, nil
}
