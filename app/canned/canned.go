// Package canned keeps the organisation's canned messages: prepared answers an agent puts into
// the composer with a shortcut ("/hello") or a search. A text is personal (its owner's own),
// a department's or shared by the whole organisation; it may hold the placeholders
// {visitor_name} and {agent_name}, filled in for the conversation it is used in.
//
// Canned texts are the organisation's wording, not visitor data: they are stored in clear, and
// a card number in any of their fields is refused (PCI DSS 3.5.1). Who may use and write which
// texts follows canned.use and canned.manage (Service); every change is audited.
package canned

import (
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/app/sanitize"
	"github.com/parleyhq/parley/compliance/pan"
)

// The scopes of a canned message.
const (
	ScopePersonal   = "personal"
	ScopeDepartment = "department"
	ScopeShared     = "shared"
)

// The permissions the service checks.
const (
	// PermUse lets a user use the shared texts and those of the departments where it is held,
	// and keep personal texts.
	PermUse = "canned.use"
	// PermManage lets a user write the texts of the departments where it is held; held
	// tenant-wide, the shared texts too.
	PermManage = "canned.manage"
)

// Limits of a canned message.
const (
	MaxBodyRunes  = 2000
	MaxTitleRunes = 100
	// MaxSuggestions is the most texts the composer search answers.
	MaxSuggestions = 20
	// MaxPerList is the most texts one list (a user's personal texts, a department's, the shared
	// ones) may hold.
	MaxPerList = 500
	// MaxQueryRunes bounds a search.
	MaxQueryRunes = 100
)

var (
	bodyLimits  = sanitize.Limits{MaxRunes: MaxBodyRunes, MultiLine: true}
	titleLimits = sanitize.Limits{MaxRunes: MaxTitleRunes}
	shortcutRE  = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
)

// Errors of the service. A *FieldError explains invalid input; a *CardNumberError a refused
// card number.
var (
	ErrNotFound  = errors.New("canned: message not found")
	ErrForbidden = errors.New("canned: not allowed")
	ErrExists    = errors.New("canned: the shortcut is taken in that list")
	ErrTooMany   = errors.New("canned: the list is full")
	ErrInvalid   = errors.New("canned: invalid message")
	// ErrCardNumber matches every CardNumberError.
	ErrCardNumber = errors.New("canned: a card number is not allowed")
	// ErrNoAuditor refuses changes when no audit log is configured (fail closed).
	ErrNoAuditor = errors.New("canned: no audit log configured")
)

// FieldError names the invalid field of an input and says, safely, what is wrong.
type FieldError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *FieldError) Error() string { return "canned: " + e.Field + ": " + e.Message }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// CardNumberError refuses a card number typed into a field; it names the field, never the value.
type CardNumberError struct{ Field string }

// Error implements error.
func (e *CardNumberError) Error() string { return "canned: card number refused in " + e.Field }

// Is makes errors.Is(err, ErrCardNumber) true.
func (e *CardNumberError) Is(target error) bool { return target == ErrCardNumber }

func invalid(field, msg string) error { return &FieldError{Field: field, Message: msg} }

// Message is a canned message.
type Message struct {
	ID    string `json:"id"`
	Scope string `json:"scope"`
	// DepartmentID is the department of a department text; OwnerID the owner of a personal one.
	DepartmentID string    `json:"department_id,omitempty"`
	OwnerID      string    `json:"owner_id,omitempty"`
	Shortcut     string    `json:"shortcut"`
	Title        string    `json:"title"`
	Body         string    `json:"body"`
	UpdatedBy    string    `json:"updated_by,omitempty"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Input is a new canned message, or the new wording of one (Update keeps its scope).
type Input struct {
	Scope        string `json:"scope"`
	DepartmentID string `json:"department_id"`
	Shortcut     string `json:"shortcut"`
	Title        string `json:"title"`
	Body         string `json:"body"`
}

// Text is a message's wording, checked: the shortcut without its slash, the title and body
// sanitised.
type Text struct {
	Shortcut, Title, Body string
}

// CleanShortcut returns a shortcut as stored: trimmed, without a leading "/", lowercase.
func CleanShortcut(s string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "/"))
}

// Validate checks and cleans a message's wording: a shortcut of 1 to 32 lowercase letters,
// digits, "_" or "-" (a leading "/" is dropped), a one-line title of at most 100 characters, a
// body of at most 2000 characters cleaned like chat text, only known placeholders, and no card
// number anywhere.
func Validate(shortcut, title, body string) (Text, error) {
	// Card numbers first, so the refusal names the field whatever else is wrong with it.
	for _, f := range [...]struct{ name, v string }{{"shortcut", shortcut}, {"title", title}, {"body", body}} {
		if pan.Contains(f.v) {
			return Text{}, &CardNumberError{Field: f.name}
		}
	}
	var t Text
	t.Shortcut = CleanShortcut(shortcut)
	if !shortcutRE.MatchString(t.Shortcut) {
		return Text{}, invalid("shortcut", "The shortcut is 1 to 32 lowercase letters, digits, hyphens or underscores, such as /hello.")
	}
	var err error
	if t.Title, err = sanitize.Text(title, titleLimits); err != nil {
		return Text{}, invalid("title", "Give the message a title of at most 100 characters.")
	}
	if t.Body, err = sanitize.Text(body, bodyLimits); err != nil {
		if utf8.RuneCountInString(body) == 0 || errors.Is(err, sanitize.ErrEmpty) {
			return Text{}, invalid("body", "Write the message.")
		}
		return Text{}, invalid("body", "The message is at most 2000 characters.")
	}
	if _, unknown := Placeholders(t.Body); unknown != "" {
		return Text{}, invalid("body", "Unknown placeholder {"+unknown+"}: use {visitor_name} or {agent_name}.")
	}
	// The cleaned text is what is stored: check it again (cleaning can join digits).
	if pan.Contains(t.Title) {
		return Text{}, &CardNumberError{Field: "title"}
	}
	if pan.Contains(t.Body) {
		return Text{}, &CardNumberError{Field: "body"}
	}
	return t, nil
}

// scopeKey names the list a shortcut is unique in.
func scopeKey(scope, ownerID, departmentID string) string {
	switch scope {
	case ScopePersonal:
		return "personal:" + ownerID
	case ScopeDepartment:
		return "department:" + departmentID
	}
	return ScopeShared
}

// Checks returns the permissions the service checks outside the route table (its routes declare
// canned.use; the service decides canned.manage text by text). The catalogue test in package
// app reads it.
func Checks() []string { return []string{PermUse, PermManage} }
