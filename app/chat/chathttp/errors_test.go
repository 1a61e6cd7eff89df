package chathttp

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/migrations"
)

// TestEngineErrorAnswers pins, for every engine error, the HTTP answer httpError gives and the
// error frame frameError gives: status, code, message, field, details, cause, the Retry-After
// header, the frame's key, retry_after_ms and whether the caller must log it.
func TestEngineErrorAnswers(t *testing.T) {
	const key, convID = "k-1", "conv-1"
	frame := func(code, msg string) protocol.Error {
		return protocol.Error{Type: protocol.TypeError, Key: key, ConversationID: convID, Code: code, Message: msg}
	}
	internal := frame("internal_error", "Something went wrong on our side; try again.")
	cardMsg := "A card number is not allowed in this field. Remove it and try again."
	storeErr := errors.New("storage: connection refused")

	type httpWant struct {
		status        int
		code, message string
		field         string
		details       any
		wrapped       bool   // the answer's cause is the engine error
		retryAfter    string // the Retry-After header
	}
	tests := []struct {
		name string
		err  error
		// http is the API error wanted; nil wants the engine error itself back (the renderer
		// classifies it).
		http    *httpWant
		frame   protocol.Error
		frameOK bool
	}{
		{
			name:    "card number in the key",
			err:     &chat.CardNumberError{Field: "key"},
			http:    &httpWant{status: 400, code: "card_number_not_allowed", message: cardMsg, field: "key"},
			frame:   protocol.Error{Type: protocol.TypeError, ConversationID: convID, Code: "card_number_not_allowed", Message: cardMsg, Field: "key"},
			frameOK: true,
		},
		{
			name:    "card number in a language tag",
			err:     fmt.Errorf("start: %w", &chat.CardNumberError{Field: "language"}),
			http:    &httpWant{status: 400, code: "card_number_not_allowed", message: cardMsg, field: "language"},
			frame:   protocol.Error{Type: protocol.TypeError, Key: key, ConversationID: convID, Code: "card_number_not_allowed", Message: cardMsg, Field: "language"},
			frameOK: true,
		},
		{
			name:    "invalid input",
			err:     &chat.InvalidError{Field: "rating", Message: "The rating must be 1 to 5."},
			http:    &httpWant{status: 400, code: "invalid_request", message: "The rating must be 1 to 5.", field: "rating"},
			frame:   frame("invalid_request", "The rating must be 1 to 5."),
			frameOK: true,
		},
		{
			name:  "offline",
			err:   &chat.OfflineError{Reason: "outside_hours"},
			http:  &httpWant{status: 409, code: "chat_offline", message: "No agent is available right now; please leave a message.", details: map[string]string{"reason": "outside_hours"}},
			frame: internal,
		},
		{
			name:    "rate limited for 1.5s",
			err:     &chat.RateError{RetryAfter: 1500 * time.Millisecond},
			http:    &httpWant{status: 429, code: "rate_limited", message: "Too many requests; try again shortly.", retryAfter: "2"},
			frame:   protocol.Error{Type: protocol.TypeError, Key: key, ConversationID: convID, Code: "rate_limited", Message: "You are sending messages too quickly.", RetryAfterMS: 1500},
			frameOK: true,
		},
		{
			name:    "rate limited for exactly 3s",
			err:     fmt.Errorf("send: %w", &chat.RateError{RetryAfter: 3 * time.Second}),
			http:    &httpWant{status: 429, code: "rate_limited", message: "Too many requests; try again shortly.", retryAfter: "3"},
			frame:   protocol.Error{Type: protocol.TypeError, Key: key, ConversationID: convID, Code: "rate_limited", Message: "You are sending messages too quickly.", RetryAfterMS: 3000},
			frameOK: true,
		},
		{
			name:    "rate limited with no wait",
			err:     &chat.RateError{},
			http:    &httpWant{status: 429, code: "rate_limited", message: "Too many requests; try again shortly.", retryAfter: "1"},
			frame:   protocol.Error{Type: protocol.TypeError, Key: key, ConversationID: convID, Code: "rate_limited", Message: "You are sending messages too quickly.", RetryAfterMS: 1},
			frameOK: true,
		},
		{
			name:  "visitor unauthenticated",
			err:   visitor.ErrUnauthenticated,
			http:  &httpWant{status: 401, code: "visitor_unauthenticated", message: "Your chat session is not valid; reload the page."},
			frame: internal,
		},
		{
			name:    "not found",
			err:     chat.ErrNotFound,
			http:    &httpWant{status: 404, code: "not_found", message: "Not found."},
			frame:   frame("not_found", "No such conversation."),
			frameOK: true,
		},
		{
			name:  "banned",
			err:   chat.ErrBanned,
			http:  &httpWant{status: 403, code: "chat_unavailable", message: "Sorry, chat is not available at the moment."},
			frame: internal,
		},
		{
			name:    "ended",
			err:     fmt.Errorf("send: %w", chat.ErrEnded),
			http:    &httpWant{status: 409, code: "conversation_ended", message: "This conversation has ended."},
			frame:   frame("conversation_ended", "This conversation has ended."),
			frameOK: true,
		},
		{
			name:  "still open",
			err:   chat.ErrStillOpen,
			http:  &httpWant{status: 409, code: "conversation_open", message: "The survey opens when the conversation has ended."},
			frame: internal,
		},
		{
			name:  "survey done",
			err:   chat.ErrSurveyDone,
			http:  &httpWant{status: 409, code: "survey_submitted", message: "Thank you, the survey was already answered."},
			frame: internal,
		},
		{
			name:    "forbidden",
			err:     chat.ErrForbidden,
			http:    &httpWant{status: 403, code: "forbidden", message: "You do not have permission to do that."},
			frame:   frame("forbidden", "You do not have permission to do that."),
			frameOK: true,
		},
		{
			name:    "taken",
			err:     chat.ErrTaken,
			http:    &httpWant{status: 409, code: "conflict", message: "Another agent has taken this chat."},
			frame:   frame("conflict", "Another agent has taken this chat."),
			frameOK: true,
		},
		{
			name:    "agent not online",
			err:     chat.ErrAgentNotOnline,
			http:    &httpWant{status: 409, code: "agent_offline", message: "That agent is not online to take the chat; the chat stays with you."},
			frame:   frame("agent_offline", "That agent is not online to take the chat; the chat stays with you."),
			frameOK: true,
		},
		{
			name:    "agent at capacity",
			err:     chat.ErrAgentAtCapacity,
			http:    &httpWant{status: 409, code: "agent_at_capacity", message: "That agent has as many chats as they can take; the chat stays with you."},
			frame:   frame("agent_at_capacity", "That agent has as many chats as they can take; the chat stays with you."),
			frameOK: true,
		},
		{
			name:    "department at capacity",
			err:     chat.ErrDepartmentAtCapacity,
			http:    &httpWant{status: 409, code: "department_at_capacity", message: "Every online agent of that department has as many chats as they can take; the chat stays with you."},
			frame:   frame("department_at_capacity", "Every online agent of that department has as many chats as they can take; the chat stays with you."),
			frameOK: true,
		},
		{
			name:    "empty",
			err:     chat.ErrEmpty,
			http:    &httpWant{status: 400, code: "empty_message", message: "The message is empty."},
			frame:   frame("empty_message", "The message is empty."),
			frameOK: true,
		},
		{
			name:    "too long",
			err:     chat.ErrTooLong,
			http:    &httpWant{status: 400, code: "message_too_long", message: "The message is longer than 4000 characters."},
			frame:   frame("message_too_long", "The message is longer than 4000 characters."),
			frameOK: true,
		},
		{
			name:  "files disabled",
			err:   chat.ErrFilesDisabled,
			http:  &httpWant{status: 403, code: "file_transfer_disabled", message: "Files cannot be sent in this chat."},
			frame: internal,
		},
		{
			name:  "file too large",
			err:   chat.ErrFileTooLarge,
			http:  &httpWant{status: 413, code: "file_too_large", message: "The file is larger than this chat allows."},
			frame: internal,
		},
		{
			name:  "file type",
			err:   chat.ErrFileType,
			http:  &httpWant{status: 415, code: "file_type_not_allowed", message: "Only images (PNG, JPEG, GIF), PDF and plain text files can be sent."},
			frame: internal,
		},
		{
			name:  "file invalid",
			err:   chat.ErrFileInvalid,
			http:  &httpWant{status: 400, code: "file_invalid", message: "The file could not be read."},
			frame: internal,
		},
		{
			name:  "ban exists",
			err:   chat.ErrBanExists,
			http:  &httpWant{status: 409, code: "conflict", message: "That ban already exists."},
			frame: internal,
		},
		{
			name:    "unavailable",
			err:     fmt.Errorf("%w: %w", chat.ErrUnavailable, storeErr),
			http:    &httpWant{status: 503, code: "unavailable", message: "The message could not be stored; retry shortly.", wrapped: true},
			frame:   protocol.Error{Type: protocol.TypeError, Key: key, ConversationID: convID, Code: "unavailable", Message: "The message could not be stored; retry shortly.", RetryAfterMS: 2000},
			frameOK: true,
		},
		{
			name:    "database away",
			err:     fmt.Errorf("append event: %w", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}),
			http:    &httpWant{status: 503, code: "unavailable", message: "The message could not be stored; retry shortly.", wrapped: true},
			frame:   protocol.Error{Type: protocol.TypeError, Key: key, ConversationID: convID, Code: "unavailable", Message: "The message could not be stored; retry shortly.", RetryAfterMS: 1000},
			frameOK: true,
		},
		{
			name:    "storage card guard sentinel",
			err:     migrations.ErrCardNumber,
			frame:   frame("card_number_not_allowed", cardMsg),
			frameOK: true,
		},
		{
			name:    "storage card guard refusal",
			err:     fmt.Errorf("insert: %w", &migrations.CardNumberError{Table: "chat_bans", Column: "value"}),
			frame:   frame("card_number_not_allowed", cardMsg),
			frameOK: true,
		},
		{name: "unreadable", err: chat.ErrUnreadable, frame: internal},
		{name: "bare rate limited", err: chat.ErrRateLimited, frame: internal},
		{name: "bare invalid", err: chat.ErrInvalid, frame: internal},
		{name: "bare card number", err: chat.ErrCardNumber, frame: internal},
		{name: "config", err: chat.ErrConfig, frame: internal},
		{name: "unknown", err: storeErr, frame: internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/", nil), rec)
			got := httpError(c, tt.err)
			if tt.http == nil {
				if got != tt.err {
					t.Errorf("httpError = %v, want the engine error itself", got)
				}
			} else {
				var e *api.Error
				if !errors.As(got, &e) {
					t.Fatalf("httpError = %#v, want an *api.Error", got)
				}
				w := tt.http
				if e.Status != w.status || e.Code != w.code || e.Message != w.message || e.Field != w.field {
					t.Errorf("httpError = %d %q %q field %q, want %d %q %q field %q", e.Status, e.Code, e.Message, e.Field, w.status, w.code, w.message, w.field)
				}
				if !reflect.DeepEqual(e.Details, w.details) {
					t.Errorf("details = %#v, want %#v", e.Details, w.details)
				}
				if w.wrapped && e.Err != tt.err {
					t.Errorf("cause = %v, want %v", e.Err, tt.err)
				}
				if !w.wrapped && e.Err != nil {
					t.Errorf("cause = %v, want none", e.Err)
				}
			}
			wantRetry := ""
			if tt.http != nil {
				wantRetry = tt.http.retryAfter
			}
			if h := rec.Header().Get("Retry-After"); h != wantRetry {
				t.Errorf("Retry-After = %q, want %q", h, wantRetry)
			}

			f, ok := frameError(tt.err, key, convID)
			if f != tt.frame || ok != tt.frameOK {
				t.Errorf("frameError = %+v, %v; want %+v, %v", f, ok, tt.frame, tt.frameOK)
			}
		})
	}

	t.Run("nil", func(t *testing.T) {
		c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/", nil), httptest.NewRecorder())
		if got := httpError(c, nil); got != nil {
			t.Errorf("httpError(nil) = %v, want nil", got)
		}
	})
}
