package chat

import (
	"errors"
	"time"

	"github.com/parleyhq/parley/compliance/pan"
)

// Service errors. The transport answers each of them with one HTTP error and one error frame
// (chathttp's table of engine errors).
var (
	ErrNotFound    = errors.New("chat: not found")
	ErrEnded       = errors.New("chat: conversation has ended")
	ErrForbidden   = errors.New("chat: not allowed")
	ErrTaken       = errors.New("chat: conversation taken by another agent")
	ErrEmpty       = errors.New("chat: message is empty")
	ErrTooLong     = errors.New("chat: message is too long")
	ErrUnavailable = errors.New("chat: key provider unavailable")
	// ErrUnreadable means a stored ciphertext did not open under its binding: moved to another
	// row, field or tenant, altered, or its conversation crypto-shredded. It is audited.
	ErrUnreadable     = errors.New("chat: stored data cannot be read")
	ErrBanned         = errors.New("chat: visitor may not chat")
	ErrRateLimited    = errors.New("chat: rate limited")
	ErrSurveyDone     = errors.New("chat: survey already submitted")
	ErrStillOpen      = errors.New("chat: conversation has not ended")
	ErrInvalid        = errors.New("chat: invalid input")
	ErrFilesDisabled  = errors.New("chat: file transfer is disabled")
	ErrFileType       = errors.New("chat: file type not allowed")
	ErrFileTooLarge   = errors.New("chat: file too large")
	ErrFileInvalid    = errors.New("chat: file is invalid")
	ErrAgentNotOnline = errors.New("chat: target agent is not available")
	// ErrAgentAtCapacity: the agent a chat is transferred to holds as many chats as they may.
	ErrAgentAtCapacity = errors.New("chat: target agent is at capacity")
	// ErrDepartmentAtCapacity: every online agent of the department a chat is transferred to
	// holds as many chats as they may.
	ErrDepartmentAtCapacity = errors.New("chat: target department is at capacity")
)

// ErrNoAuditor means the engine was assembled without an audit log: every audited action
// (starting, accepting, transferring, ending a chat, downloading a file) is refused.
var ErrNoAuditor = errors.New("chat: no audit log configured")

// OfflineError means no chat can start now; Reason is "outside_hours" or "no_agents".
type OfflineError struct{ Reason string }

// Error implements error.
func (e *OfflineError) Error() string { return "chat: offline: " + e.Reason }

// InvalidError names the input field at fault.
type InvalidError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *InvalidError) Error() string { return "chat: invalid " + e.Field + ": " + e.Message }

// Unwrap lets errors.Is match ErrInvalid.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

func invalid(field, msg string) error { return &InvalidError{Field: field, Message: msg} }

// ErrCardNumber is wrapped by CardNumberError.
var ErrCardNumber = errors.New("chat: card number not allowed")

// CardNumberError means a field stored in clear (a message key, a ban value, a language tag, a
// setting's key or name) holds a card number: it is refused, never stored, and answered as
// card_number_not_allowed naming Field.
type CardNumberError struct{ Field string }

// Error implements error.
func (e *CardNumberError) Error() string { return "chat: card number in " + e.Field }

// Unwrap lets errors.Is match ErrCardNumber.
func (e *CardNumberError) Unwrap() error { return ErrCardNumber }

// noCardNumber returns a CardNumberError naming field when value holds a card number.
func noCardNumber(field, value string) error {
	if pan.Contains(value) {
		return &CardNumberError{Field: field}
	}
	return nil
}

// RateError means a token bucket is empty.
type RateError struct{ RetryAfter time.Duration }

// Error implements error.
func (e *RateError) Error() string { return "chat: rate limited" }

// Unwrap lets errors.Is match ErrRateLimited.
func (e *RateError) Unwrap() error { return ErrRateLimited }
