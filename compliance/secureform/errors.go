package secureform

import "errors"

// Sentinel errors. Their text never holds card data.
var (
	// ErrNotFound means no card is held under the key (never submitted, another conversation's,
	// or already purged).
	ErrNotFound = errors.New("secureform: not found")
	// ErrExpired means the form or the card it collected is past its time.
	ErrExpired = errors.New("secureform: expired")
	// ErrExists means a card is already held under the key: a form is submitted once.
	ErrExists = errors.New("secureform: already submitted")
	// ErrFull means the store holds MaxEntries cards.
	ErrFull = errors.New("secureform: store is full")
	// ErrInvalid means the submitted card data failed validation; a *FieldError names the field.
	ErrInvalid = errors.New("secureform: invalid card data")
	// ErrForbidden means the caller may not see the card (not the requesting agent).
	ErrForbidden = errors.New("secureform: not the requesting agent")
	// ErrTokenizer means the tokenization endpoint failed or answered something unusable.
	ErrTokenizer = errors.New("secureform: tokenization failed")
	// ErrConfig means a component was built with an unusable configuration.
	ErrConfig = errors.New("secureform: invalid configuration")
	// ErrPeerAuth means a node-to-node request failed authentication: bad or missing signature,
	// stale timestamp, replayed nonce or unknown key.
	ErrPeerAuth = errors.New("secureform: node request not authenticated")
	// ErrPeerReply means a node's answer could not be opened or read.
	ErrPeerReply = errors.New("secureform: node reply unreadable")
)

// FieldError is a validation failure of one form field. Field is "number", "expiry", "cvc",
// "name" or "body"; Message is safe to show the visitor and never quotes the input.
type FieldError struct {
	Field   string
	Message string
}

// Error returns the field and the message.
func (e *FieldError) Error() string { return "secureform: invalid " + e.Field + ": " + e.Message }

// Unwrap lets errors.Is match ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldErr(field, msg string) error { return &FieldError{Field: field, Message: msg} }
