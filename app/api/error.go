// Package api holds the conventions every Parley HTTP handler follows: the error type handlers
// return, the one renderer that turns any error into a stable code and a safe message, strict JSON
// binding, and the request id. A handler never writes an error body itself.
package api

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an error a handler returns. Code and Message are safe to show the client; Err is the
// cause and goes only to the log. Field names the request field at fault, when there is one.
type Error struct {
	Status  int
	Code    string
	Message string
	Field   string
	// Details carries safe, structured extras for the client (e.g. the list of password rules
	// broken). Never a cause, a secret or internal state.
	Details any
	Err     error
}

// Error returns the code, message and cause for logs; it is never shown to a client.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Wrap returns a copy of e with cause err.
func (e *Error) Wrap(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

// WithField returns a copy of e naming the request field at fault.
func (e *Error) WithField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// WithMessage returns a copy of e with another safe message.
func (e *Error) WithMessage(msg string) *Error {
	c := *e
	c.Message = msg
	return &c
}

// WithDetails returns a copy of e carrying safe details for the client.
func (e *Error) WithDetails(d any) *Error {
	c := *e
	c.Details = d
	return &c
}

// Is makes errors.Is match two *Error values with the same code.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Code == e.Code
	}
	return false
}

// New returns an error with a status, a stable code and a safe message.
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// The errors every part of the HTTP surface shares. Domain handlers declare their own codes
// (invalid_credentials, account_locked, …) next to the domain.
var (
	ErrInvalidJSON      = New(http.StatusBadRequest, "invalid_json", "The request body is not valid JSON.")
	ErrInvalidRequest   = New(http.StatusBadRequest, "invalid_request", "The request is not valid.")
	ErrUnauthenticated  = New(http.StatusUnauthorized, "unauthenticated", "Sign in to continue.")
	ErrForbidden        = New(http.StatusForbidden, "forbidden", "You do not have permission to do that.")
	ErrNotFound         = New(http.StatusNotFound, "not_found", "Not found.")
	ErrMethodNotAllowed = New(http.StatusMethodNotAllowed, "method_not_allowed", "That method is not allowed here.")
	ErrConflict         = New(http.StatusConflict, "conflict", "That conflicts with the current state.")
	ErrBodyTooLarge     = New(http.StatusRequestEntityTooLarge, "body_too_large", "The request body is too large.")
	ErrUnsupportedMedia = New(http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the body as application/json (charset utf-8, if named).")
	ErrRateLimited      = New(http.StatusTooManyRequests, "rate_limited", "Too many requests; try again shortly.")
	ErrCSRF             = New(http.StatusForbidden, "csrf_failed", "The request could not be verified; reload the page and try again.")
	ErrUnavailable      = New(http.StatusServiceUnavailable, "unavailable", "The service is temporarily unavailable; try again shortly.")
	ErrInternal         = New(http.StatusInternalServerError, "internal_error", "Something went wrong on our side. Quote the request id when you report it.")
	// ErrCardNumber refuses a card number typed into a field that is stored in clear (a name, a
	// key, a setting): Parley stores no cardholder data outside ciphertext. Field names the field.
	ErrCardNumber = New(http.StatusBadRequest, "card_number_not_allowed", "A card number is not allowed in this field. Remove it and try again.")
)
