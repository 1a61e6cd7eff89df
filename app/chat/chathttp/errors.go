package chathttp

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/migrations"
)

// The chat's own API errors (docs/chat-protocol.md §3.2).
var (
	errVisitorUnauthenticated = api.New(http.StatusUnauthorized, "visitor_unauthenticated", "Your chat session is not valid; reload the page.")
	errChatUnavailable        = api.New(http.StatusForbidden, "chat_unavailable", "Sorry, chat is not available at the moment.")
	errOriginNotAllowed       = api.New(http.StatusForbidden, "origin_not_allowed", "This page may not open the chat.")
	errFilesDisabled          = api.New(http.StatusForbidden, "file_transfer_disabled", "Files cannot be sent in this chat.")
	errChatOffline            = api.New(http.StatusConflict, "chat_offline", "No agent is available right now; please leave a message.")
	errEnded                  = api.New(http.StatusConflict, "conversation_ended", "This conversation has ended.")
	errStillOpen              = api.New(http.StatusConflict, "conversation_open", "The survey opens when the conversation has ended.")
	errSurveyDone             = api.New(http.StatusConflict, "survey_submitted", "Thank you, the survey was already answered.")
	errTaken                  = api.New(http.StatusConflict, "conflict", "Another agent has taken this chat.")
	errAgentNotOnline         = api.New(http.StatusConflict, "agent_offline", "That agent is not online to take the chat; the chat stays with you.")
	errAgentAtCapacity        = api.New(http.StatusConflict, "agent_at_capacity", "That agent has as many chats as they can take; the chat stays with you.")
	errDepartmentAtCapacity   = api.New(http.StatusConflict, "department_at_capacity", "Every online agent of that department has as many chats as they can take; the chat stays with you.")
	errEmpty                  = api.New(http.StatusBadRequest, "empty_message", "The message is empty.")
	errTooLong                = api.New(http.StatusBadRequest, "message_too_long", "The message is longer than 4000 characters.")
	errFileTooLarge           = api.New(http.StatusRequestEntityTooLarge, "file_too_large", "The file is larger than this chat allows.")
	errFileType               = api.New(http.StatusUnsupportedMediaType, "file_type_not_allowed", "Only images (PNG, JPEG, GIF), PDF and plain text files can be sent.")
	errFileInvalid            = api.New(http.StatusBadRequest, "file_invalid", "The file could not be read.")
	errBanExists              = api.New(http.StatusConflict, "conflict", "That ban already exists.")
	errUnavailable            = api.New(http.StatusServiceUnavailable, "unavailable", "The message could not be stored; retry shortly.")
)

// answer is how the chat answers one engine error: over HTTP (handlers) and in an error frame
// (sockets). Both paths read the same answer, so a code or message is written once.
type answer struct {
	// api is the HTTP answer; its code and message are also the frame's.
	api *api.Error
	// toRenderer makes httpError return the engine error itself, for api.Classify to answer.
	toRenderer bool
	// wrap makes the HTTP answer carry the engine error as its cause (for the log).
	wrap bool
	// noFrame answers a frame with internal_error: the caller logs the error.
	noFrame bool
	// frameMessage replaces api's message in the frame, where the two paths say it differently.
	frameMessage string
	// frameField names the frame field at fault; it is the card number's field only.
	frameField string
	// hideKey leaves the frame's key out: it is the card number.
	hideKey bool
	// retryAfter is a rate limit's wait: the Retry-After header in whole seconds and the frame's
	// retry_after_ms, each at least 1.
	retryAfter *time.Duration
	// frameRetryAfterMS is the frame's retry_after_ms when no wait is known.
	frameRetryAfterMS int64
}

// errorRow matches an engine error: a sentinel (is, through errors.Is) or a typed error (as,
// through errors.As, returning the answer built from the error's fields).
type errorRow struct {
	is     error
	as     func(error) (answer, bool)
	answer answer
}

// engineErrors is the one table of the engine's errors (package chat) and their answers, matched
// in order: an error that wraps several of them is answered by the first row it matches. Every
// HTTP error (httpError) and every error frame (frameError) of the chat derives from it.
var engineErrors = []errorRow{
	{as: func(err error) (answer, bool) {
		var card *chat.CardNumberError
		if !errors.As(err, &card) {
			return answer{}, false
		}
		return answer{api: api.ErrCardNumber.WithField(card.Field), frameField: card.Field, hideKey: card.Field == "key"}, true
	}},
	{as: func(err error) (answer, bool) {
		var inv *chat.InvalidError
		if !errors.As(err, &inv) {
			return answer{}, false
		}
		return answer{api: api.ErrInvalidRequest.WithField(inv.Field).WithMessage(inv.Message)}, true
	}},
	{as: func(err error) (answer, bool) {
		var off *chat.OfflineError
		if !errors.As(err, &off) {
			return answer{}, false
		}
		return answer{api: errChatOffline.WithDetails(map[string]string{"reason": off.Reason}), noFrame: true}, true
	}},
	{as: func(err error) (answer, bool) {
		var rate *chat.RateError
		if !errors.As(err, &rate) {
			return answer{}, false
		}
		wait := rate.RetryAfter
		return answer{api: api.ErrRateLimited, frameMessage: "You are sending messages too quickly.", retryAfter: &wait}, true
	}},
	{is: visitor.ErrUnauthenticated, answer: answer{api: errVisitorUnauthenticated, noFrame: true}},
	{is: chat.ErrNotFound, answer: answer{api: api.ErrNotFound, frameMessage: "No such conversation."}},
	{is: chat.ErrBanned, answer: answer{api: errChatUnavailable, noFrame: true}},
	{is: chat.ErrEnded, answer: answer{api: errEnded}},
	{is: chat.ErrStillOpen, answer: answer{api: errStillOpen, noFrame: true}},
	{is: chat.ErrSurveyDone, answer: answer{api: errSurveyDone, noFrame: true}},
	{is: chat.ErrForbidden, answer: answer{api: api.ErrForbidden}},
	{is: chat.ErrTaken, answer: answer{api: errTaken}},
	{is: chat.ErrAgentNotOnline, answer: answer{api: errAgentNotOnline}},
	{is: chat.ErrAgentAtCapacity, answer: answer{api: errAgentAtCapacity}},
	{is: chat.ErrDepartmentAtCapacity, answer: answer{api: errDepartmentAtCapacity}},
	{is: chat.ErrInvitationClosed, answer: answer{api: errInvitationClosed}},
	{is: chat.ErrEmpty, answer: answer{api: errEmpty}},
	{is: chat.ErrTooLong, answer: answer{api: errTooLong}},
	{is: chat.ErrFilesDisabled, answer: answer{api: errFilesDisabled, noFrame: true}},
	{is: chat.ErrFileTooLarge, answer: answer{api: errFileTooLarge, noFrame: true}},
	{is: chat.ErrFileType, answer: answer{api: errFileType, noFrame: true}},
	{is: chat.ErrFileInvalid, answer: answer{api: errFileInvalid, noFrame: true}},
	{is: chat.ErrBanExists, answer: answer{api: errBanExists, noFrame: true}},
	{is: chat.ErrUnavailable, answer: answer{api: errUnavailable, wrap: true, frameRetryAfterMS: 2000}},
	// The database is away (restarted, failing over): nothing was stored; the client retries.
	{as: func(err error) (answer, bool) {
		return answer{api: errUnavailable, wrap: true, frameRetryAfterMS: 1000}, migrations.IsUnavailable(err)
	}},
	// The storage guard's refusal: api.Classify answers it over HTTP, naming the column.
	{is: migrations.ErrCardNumber, answer: answer{api: api.ErrCardNumber, toRenderer: true}},
}

// lookup returns the answer of the first row err matches.
func lookup(err error) (answer, bool) {
	if err == nil {
		return answer{}, false
	}
	for _, r := range engineErrors {
		if r.as != nil {
			if a, ok := r.as(err); ok {
				return a, true
			}
			continue
		}
		if errors.Is(err, r.is) {
			return r.answer, true
		}
	}
	return answer{}, false
}

// httpError maps a service error to the API error handlers return.
func httpError(c echo.Context, err error) error {
	a, ok := lookup(err)
	if !ok || a.toRenderer {
		return err
	}
	if a.retryAfter != nil {
		secs := int(a.retryAfter.Seconds() + 0.999)
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	if a.wrap {
		return a.api.Wrap(err)
	}
	return a.api
}

// frameError maps a service error to an error frame (the socket stays open). ok is false for
// errors the caller must log: they are answered with internal_error, the socket stays open.
func frameError(err error, key, convID string) (protocol.Error, bool) {
	f := protocol.Error{Type: protocol.TypeError, Key: key, ConversationID: convID}
	a, ok := lookup(err)
	if !ok || a.noFrame {
		f.Code, f.Message = "internal_error", "Something went wrong on our side; try again."
		return f, false
	}
	f.Code, f.Message, f.Field = a.api.Code, a.api.Message, a.frameField
	if a.frameMessage != "" {
		f.Message = a.frameMessage
	}
	if a.hideKey {
		f.Key = ""
	}
	f.RetryAfterMS = a.frameRetryAfterMS
	if a.retryAfter != nil {
		f.RetryAfterMS = max(a.retryAfter.Milliseconds(), 1)
	}
	return f, true
}
