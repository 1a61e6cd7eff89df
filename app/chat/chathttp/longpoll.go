package chathttp

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/protocol"
)

// pollEvents is the long-polling fallback of the socket: the client's after is its cursor, events
// come from the database in seq order, and an empty answer waits up to wait seconds for the next
// event (returning the typing and read signals that arrived meanwhile).
func (m *Module) pollEvents(c echo.Context) error {
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
	longest := m.chat.Limits().LongPollWait
	wait := longest
	if w := c.QueryParam("wait"); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			return api.ErrInvalidRequest.WithField("wait").WithMessage("wait must be a number of seconds.")
		}
		wait = min(time.Duration(n)*time.Second, longest)
	}
	ctx := c.Request().Context()
	batch, err := m.chat.Poll(ctx, site, conv, v.ID, c.RealIP(), after, wait)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return nil // the client is gone
		}
		return httpError(c, err)
	}
	return c.JSON(http.StatusOK, batch)
}

type messageBody struct {
	Key  string `json:"key"`
	Text string `json:"text"`
}

// postMessage stores a visitor's message and answers with its ack; the message is delivered
// (fan-out, amends) once the ack is written.
func (m *Module) postMessage(c echo.Context) error {
	_, v, conv, err := m.visitorConversation(c)
	if err != nil {
		return err
	}
	var in messageBody
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	res, err := m.chat.Post(ctx, conv.TenantID, conv.ID, chat.Actor{Kind: chat.SenderVisitor, ID: v.ID, Name: m.chat.VisitorName(ctx, conv), SiteID: conv.SiteID},
		in.Key, in.Text, c.RealIP())
	if err != nil {
		return httpError(c, err)
	}
	err = c.JSON(http.StatusOK, protocol.Ack{Type: protocol.TypeAck, ConversationID: conv.ID, Key: in.Key, Seq: res.VisitorSeq, Duplicate: res.Duplicate})
	_ = http.NewResponseController(c.Response()).Flush()
	res.Deliver()
	return err
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
	m.chat.VisitorTyping(c.Request().Context(), v.ID, conv.ID, in.Typing)
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
	if err := m.chat.VisitorRead(c.Request().Context(), conv.TenantID, conv.ID, chat.Actor{Kind: chat.SenderVisitor, ID: v.ID}, in.Seq); err != nil {
		return httpError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
