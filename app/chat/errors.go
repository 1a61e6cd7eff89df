package chat

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
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
	errAgentNotOnline         = api.New(http.StatusConflict, "agent_unavailable", "That agent is not available to take the chat.")
	errEmpty                  = api.New(http.StatusBadRequest, "empty_message", "The message is empty.")
	errTooLong                = api.New(http.StatusBadRequest, "message_too_long", "The message is longer than 4000 characters.")
	errFileTooLarge           = api.New(http.StatusRequestEntityTooLarge, "file_too_large", "The file is larger than this chat allows.")
	errFileType               = api.New(http.StatusUnsupportedMediaType, "file_type_not_allowed", "Only images (PNG, JPEG, GIF), PDF and plain text files can be sent.")
	errFileInvalid            = api.New(http.StatusBadRequest, "file_invalid", "The file could not be read.")
	errBanExists              = api.New(http.StatusConflict, "conflict", "That ban already exists.")
	errUnavailable            = api.New(http.StatusServiceUnavailable, "unavailable", "The message could not be stored; retry shortly.")
)

// httpError maps a service error to the API error handlers return.
func httpError(c echo.Context, err error) error {
	var inv *InvalidError
	var off *OfflineError
	var rate *RateError
	var card *CardNumberError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &card):
		return api.ErrCardNumber.WithField(card.Field)
	case errors.As(err, &inv):
		return api.ErrInvalidRequest.WithField(inv.Field).WithMessage(inv.Message)
	case errors.As(err, &off):
		return errChatOffline.WithDetails(map[string]string{"reason": off.Reason})
	case errors.As(err, &rate):
		secs := int(rate.RetryAfter.Seconds() + 0.999)
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		return api.ErrRateLimited
	case errors.Is(err, visitor.ErrUnauthenticated):
		return errVisitorUnauthenticated
	case errors.Is(err, ErrNotFound):
		return api.ErrNotFound
	case errors.Is(err, ErrBanned):
		return errChatUnavailable
	case errors.Is(err, ErrEnded):
		return errEnded
	case errors.Is(err, ErrStillOpen):
		return errStillOpen
	case errors.Is(err, ErrSurveyDone):
		return errSurveyDone
	case errors.Is(err, ErrForbidden):
		return api.ErrForbidden
	case errors.Is(err, ErrTaken):
		return errTaken
	case errors.Is(err, ErrAgentNotOnline):
		return errAgentNotOnline
	case errors.Is(err, ErrEmpty):
		return errEmpty
	case errors.Is(err, ErrTooLong):
		return errTooLong
	case errors.Is(err, ErrFilesDisabled):
		return errFilesDisabled
	case errors.Is(err, ErrFileTooLarge):
		return errFileTooLarge
	case errors.Is(err, ErrFileType):
		return errFileType
	case errors.Is(err, ErrFileInvalid):
		return errFileInvalid
	case errors.Is(err, ErrBanExists):
		return errBanExists
	case errors.Is(err, ErrUnavailable):
		return errUnavailable.Wrap(err)
	}
	return err
}

// frameError maps a service error to an error frame (the socket stays open). ok is false for
// errors the caller must log: they are answered with internal_error, the socket stays open.
func frameError(err error, key, convID string) (protocol.Error, bool) {
	f := protocol.Error{Type: protocol.TypeError, Key: key, ConversationID: convID}
	var inv *InvalidError
	var rate *RateError
	var card *CardNumberError
	switch {
	case errors.As(err, &card):
		// The key is not echoed: it is the card number.
		f.Code, f.Message, f.Field = api.ErrCardNumber.Code, api.ErrCardNumber.Message, card.Field
		if card.Field == "key" {
			f.Key = ""
		}
	case errors.As(err, &rate):
		f.Code, f.Message, f.RetryAfterMS = "rate_limited", "You are sending messages too quickly.", max(rate.RetryAfter.Milliseconds(), 1)
	case errors.As(err, &inv):
		f.Code, f.Message = "invalid_request", inv.Message
	case errors.Is(err, ErrEmpty):
		f.Code, f.Message = "empty_message", "The message is empty."
	case errors.Is(err, ErrTooLong):
		f.Code, f.Message = "message_too_long", "The message is longer than 4000 characters."
	case errors.Is(err, ErrEnded):
		f.Code, f.Message = "conversation_ended", "This conversation has ended."
	case errors.Is(err, ErrUnavailable):
		f.Code, f.Message, f.RetryAfterMS = "unavailable", "The message could not be stored; retry shortly.", 2000
	case errors.Is(err, ErrForbidden):
		f.Code, f.Message = "forbidden", "You do not have permission to do that."
	case errors.Is(err, ErrTaken):
		f.Code, f.Message = "conflict", "Another agent has taken this chat."
	case errors.Is(err, ErrAgentNotOnline):
		f.Code, f.Message = "agent_unavailable", "That agent is not available to take the chat."
	case errors.Is(err, ErrNotFound):
		f.Code, f.Message = "not_found", "No such conversation."
	case errors.Is(err, migrations.ErrCardNumber):
		f.Code, f.Message = api.ErrCardNumber.Code, api.ErrCardNumber.Message
	default:
		f.Code, f.Message = "internal_error", "Something went wrong on our side; try again."
		return f, false
	}
	return f, true
}
