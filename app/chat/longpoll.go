package chat

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/vault"
)

// pollBatch is the most events one long poll returns.
const pollBatch = 100

// EventBatch answers a long poll (docs/chat-protocol.md §3.1).
type EventBatch struct {
	Events  []protocol.Event `json:"events"`
	Signals []any            `json:"signals"`
	LastSeq int64            `json:"last_seq"`
	Status  string           `json:"status"`
	More    bool             `json:"more"`
}

// pollEvents is the long-polling fallback of the socket: the client's after is its cursor, events
// come from the database in seq order, and an empty answer waits up to wait seconds for the next
// event (returning the typing and read signals that arrived meanwhile).
func (m *Module) pollEvents(c echo.Context) error {
	s := m.Service
	site, v, conv, err := m.visitorConversation(c)
	if err != nil {
		return err
	}
	after, err := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	if c.QueryParam("after") == "" {
		after, err = 0, nil
	}
	if err != nil || after < 0 {
		return api.ErrInvalidRequest.WithField("after").WithMessage("after must be a seq of 0 or more.")
	}
	wait := s.limits.LongPollWait
	if w := c.QueryParam("wait"); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			return api.ErrInvalidRequest.WithField("wait").WithMessage("wait must be a number of seconds.")
		}
		wait = min(time.Duration(n)*time.Second, s.limits.LongPollWait)
	}
	ip := c.RealIP()
	if err := allow(s.visitorPolls, s.ipConns, v.ID, ip); err != nil {
		return httpError(c, err)
	}
	ctx := c.Request().Context()
	if banned, err := s.Banned(ctx, site.TenantID, v.ID, ip); err != nil {
		return err
	} else if banned {
		return errChatUnavailable
	}
	_ = s.visitors.Seen(ctx, v.ID, ip)
	me := viewer{kind: SenderVisitor, id: v.ID}
	n := &names{conv: conv}
	evs, more, _, err := s.eventsAfter(ctx, n, me, after, pollBatch)
	if err != nil {
		return httpError(c, err)
	}
	signals := []any{}
	if len(evs) == 0 && wait > 0 {
		sub := s.hub.Subscribe(hub.ConversationTopic(conv.ID))
		defer sub.Close()
		// Read again now that the subscription is up, so an event committed in between is seen.
		if evs, more, _, err = s.eventsAfter(ctx, n, me, after, pollBatch); err != nil {
			return httpError(c, err)
		}
		timer := time.NewTimer(wait)
		defer timer.Stop()
		var read int64 // the last read receipt given: only a later one is given (see cursor.read)
	waiting:
		for len(evs) == 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-timer.C:
				break waiting
			case <-sub.C():
				sigs, overflow := sub.Drain()
				event := overflow
				for _, sig := range sigs {
					switch {
					case sig.Kind == hub.KindEvent && sig.Seq > after:
						event = true
					case sig.Kind == hub.KindTyping && sig.SenderKind != SenderVisitor:
						signals = append(signals, protocol.Typing{Type: protocol.TypeTyping, ConversationID: conv.ID, SenderKind: sig.SenderKind, Typing: sig.Typing})
					case sig.Kind == hub.KindRead && sig.SenderKind != SenderVisitor:
						// The receipt names a seq of the log; the visitor counts in its own view.
						seq, err := s.store.visitorSeqAt(ctx, conv.ID, sig.Seq)
						if err != nil {
							return httpError(c, err)
						}
						if seq <= read {
							continue
						}
						read = seq
						signals = append(signals, protocol.Read{Type: protocol.TypeRead, ConversationID: conv.ID, ReaderKind: sig.SenderKind, Seq: seq})
					}
				}
				if event {
					if evs, more, _, err = s.eventsAfter(ctx, n, me, after, pollBatch); err != nil {
						return httpError(c, err)
					}
				} else if len(signals) > 0 {
					break waiting
				}
			}
		}
	}
	last := after
	if len(evs) > 0 {
		last = evs[len(evs)-1].Seq
	}
	status := conv.Status
	if cur, err := s.store.conversation(ctx, s.db, conv.TenantID, conv.ID); err == nil {
		status = cur.Status
	}
	if evs == nil {
		evs = []protocol.Event{}
	}
	return c.JSON(http.StatusOK, EventBatch{Events: evs, Signals: signals, LastSeq: last, Status: status, More: more})
}

type messageBody struct {
	Key  string `json:"key"`
	Text string `json:"text"`
}

func (m *Module) postMessage(c echo.Context) error {
	_, v, conv, err := m.visitorConversation(c)
	if err != nil {
		return err
	}
	var in messageBody
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	name, _ := m.Service.open(c.Request().Context(), conv.TenantID, conv.ID, vault.FieldVisitorName, 0, conv.VisitorName)
	res, err := m.Service.Post(c.Request().Context(), conv.TenantID, conv.ID, Actor{Kind: SenderVisitor, ID: v.ID, Name: name}, in.Key, in.Text, c.RealIP())
	if err != nil {
		return httpError(c, err)
	}
	return c.JSON(http.StatusOK, protocol.Ack{Type: protocol.TypeAck, ConversationID: conv.ID, Key: in.Key, Seq: res.VisitorSeq, Duplicate: res.Duplicate})
}

type typingBody struct {
	Typing bool `json:"typing"`
}

func (m *Module) postTyping(c echo.Context) error {
	_, v, conv, err := m.visitorConversation(c)
	if err != nil {
		return err
	}
	var in typingBody
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	if ok, _ := m.Service.visitorMsgs.Allow("typing:" + v.ID); ok {
		m.Service.Typing(c.Request().Context(), conv.ID, SenderVisitor, in.Typing)
	}
	return c.NoContent(http.StatusNoContent)
}

type readBody struct {
	Seq int64 `json:"seq"`
}

func (m *Module) postRead(c echo.Context) error {
	_, v, conv, err := m.visitorConversation(c)
	if err != nil {
		return err
	}
	var in readBody
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	if in.Seq < 0 {
		return api.ErrInvalidRequest.WithField("seq")
	}
	if err := m.Service.visitorRead(c.Request().Context(), conv.TenantID, conv.ID, Actor{Kind: SenderVisitor, ID: v.ID}, in.Seq); err != nil {
		return httpError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
