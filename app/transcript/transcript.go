// Package transcript is the reading side of finished (and running) chats: the list of
// conversations a console user may read, filtered and searched within their scope, the transcript
// itself decrypted through the envelope (vault/), its exports (JSON, HTML, PDF), and the notes and
// tags agents add to a conversation. Every opening, export, search, note and tag is audited as
// access to ePHI.
//
// Scope: transcript.view.own reaches the conversations a user took part in (as agent or joined
// supervisor) in the departments where they hold it; transcript.view.department every
// conversation of the departments where they hold it; transcript.view.all (tenant-wide only)
// every conversation. A conversation outside the scope does not exist for the user (ErrNotFound).
//
// Search decrypts and scans: the message bodies and notes of at most Service.MaxScan
// conversations (the newest matching the filters, within the scope) are opened in memory and
// compared with the terms; nothing derived from content is stored (SECURITY.md, "Transcript
// search").
package transcript

import (
	"context"
	"errors"
	"time"

	"github.com/parleyhq/parley/vault"
)

// The permissions of transcripts.
const (
	PermViewOwn        = "transcript.view.own"
	PermViewDepartment = "transcript.view.department"
	PermViewAll        = "transcript.view.all"
	PermExport         = "transcript.export"
	// permViewPII unmasks the visitor's details in a conversation's department.
	permViewPII = "visitor.view_pii"
)

// Checks returns the permissions the service checks itself, beside those its routes declare:
// the scope of a list or a transcript (own, department, all) and unmasking the visitor.
func Checks() []string {
	return []string{PermViewOwn, PermViewDepartment, PermViewAll, permViewPII}
}

// Sealed fields of a conversation this package reads or writes, beside vault's.
const (
	// FieldNote is a note's body, bound to the note's number in the conversation.
	FieldNote      = "transcript.note"
	fieldFileName  = "file.name"
	statusQueued   = "queued"
	statusAssigned = "assigned"
	statusActive   = "active"
	statusEnded    = "ended"
	statusMissed   = "missed"
)

// Statuses lists the conversation statuses a list can be filtered by, in the filter's order.
var Statuses = []string{statusEnded, statusMissed, statusActive, statusAssigned, statusQueued}

// Limits of the inputs.
const (
	MaxReasonLen   = 500
	MaxNoteLen     = 2000
	MaxNotes       = 100
	MaxTagLen      = 32
	MaxTags        = 12
	MaxQueryLen    = 100
	MinQueryLen    = 2
	PageSize       = 50
	DefaultMaxScan = 200
	maxIDLen       = 64
	maxVocabulary  = 200
)

// Sentinel errors.
var (
	// ErrNotFound: no such conversation, or one outside the user's scope.
	ErrNotFound = errors.New("transcript: not found")
	// ErrReasonRequired: the tenant requires a reason to open a transcript and none was given.
	ErrReasonRequired = errors.New("transcript: a reason is required to open a transcript")
	// ErrUnavailable: the key provider or the audit log cannot be reached; nothing is shown.
	ErrUnavailable = errors.New("transcript: unavailable")
	// ErrTooMany: a conversation already holds the most notes or tags allowed.
	ErrTooMany = errors.New("transcript: limit reached")
)

// InputError refuses an input: the field at fault and a message safe to show. CardNumber marks a
// card number typed into a field (card_number_not_allowed).
type InputError struct {
	Field, Message string
	CardNumber     bool
}

func (e *InputError) Error() string { return "transcript: invalid " + e.Field + ": " + e.Message }

func invalid(field, msg string) error { return &InputError{Field: field, Message: msg} }

func cardRefused(field string) error {
	return &InputError{Field: field, Message: "A card number is not allowed in this field. Remove it and try again.", CardNumber: true}
}

// Sealer opens and seals a conversation's fields; *vault.Envelope satisfies it.
type Sealer interface {
	SealString(ctx context.Context, b vault.Binding, plaintext string) (string, error)
	OpenString(ctx context.Context, b vault.Binding, ciphertext string) (string, error)
}

var _ Sealer = (*vault.Envelope)(nil)

// Decider is the RBAC policy's question; *rbac.Enforcer satisfies it. An error means deny.
type Decider interface {
	Allowed(ctx context.Context, tenantID, userID, departmentID, permission string) (bool, error)
}

// HoldChecker tells whether a conversation is under legal hold (the retention service). Nil
// means no conversation is held.
type HoldChecker interface {
	ConversationHeld(ctx context.Context, tenantID, conversationID string) (bool, error)
}

// Origin is where a request came from, for audit records.
type Origin struct {
	IP, UserAgent, RequestID string
}

// Summary is a conversation as the list shows it: nothing in it needs decrypting.
type Summary struct {
	ID             string     `json:"id"`
	SiteID         string     `json:"site_id"`
	SiteName       string     `json:"site_name"`
	DepartmentID   string     `json:"department_id"`
	DepartmentName string     `json:"department_name"`
	AgentID        string     `json:"agent_id"`
	AgentName      string     `json:"agent_name"`
	VisitorID      string     `json:"visitor_id"`
	Status         string     `json:"status"`
	Rating         *int       `json:"rating"`
	Tags           []string   `json:"tags"`
	Messages       int64      `json:"messages"`
	StartedAt      time.Time  `json:"started_at"`
	EndedAt        *time.Time `json:"ended_at"`
}

// Filter narrows the list. Zero values do not filter.
type Filter struct {
	From, To     time.Time // days, inclusive (To is the last day)
	SiteID       string
	DepartmentID string
	AgentID      string
	Status       string
	Rating       int
	Tag          string
	VisitorID    string
	// Query searches the message bodies (decrypt and scan, at most MaxScan conversations).
	Query string
	// Page counts from 0 (the list without a query).
	Page int
}

// Search says what a content search covered.
type Search struct {
	// Scanned conversations were decrypted and searched; Limited is set when more conversations
	// matched the filters than one search scans (the oldest were not searched).
	Scanned int  `json:"scanned"`
	Limited bool `json:"limited"`
	MaxScan int  `json:"max_scan"`
}

// List is one page of the list.
type List struct {
	Items  []Summary `json:"items"`
	More   bool      `json:"more"`
	Search *Search   `json:"search,omitempty"`
}

// Event is one event of a transcript.
type Event struct {
	Seq int64     `json:"seq"`
	At  time.Time `json:"at"`
	// Kind is message, whisper, system or file.
	Kind       string `json:"kind"`
	SenderKind string `json:"sender_kind"`
	SenderID   string `json:"sender_id,omitempty"`
	Sender     string `json:"sender"`
	Text       string `json:"text,omitempty"`
	// Event names a system event (started, joined, transferred, ended, missed, left).
	Event string `json:"event,omitempty"`
	File  *File  `json:"file,omitempty"`
	// AgentOnly marks a whisper: the visitor never saw it.
	AgentOnly bool `json:"agent_only"`
	// Unreadable marks a body that did not open (its key destroyed or the record altered).
	Unreadable bool `json:"unreadable,omitempty"`
}

// File is a file sent in a conversation, by name (the content is downloaded separately).
type File struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}

// Answer is one pre-chat answer.
type Answer struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// Survey is the visitor's post-chat survey.
type Survey struct {
	Rating  int    `json:"rating"`
	Comment string `json:"comment"`
}

// Visitor is the visitor as the transcript shows them: masked unless the reader holds
// visitor.view_pii in the conversation's department (Unmasked).
type Visitor struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	IP       string `json:"ip"`
	Browser  string `json:"browser"`
	OS       string `json:"os"`
	Language string `json:"language"`
	Unmasked bool   `json:"unmasked"`
}

// Note is a note an agent added.
type Note struct {
	N          int       `json:"n"`
	AuthorID   string    `json:"author_id"`
	AuthorName string    `json:"author_name"`
	Body       string    `json:"body"`
	At         time.Time `json:"at"`
}

// Transcript is a conversation opened for reading.
type Transcript struct {
	Summary
	Visitor Visitor  `json:"visitor"`
	Prechat []Answer `json:"prechat"`
	Survey  *Survey  `json:"survey"`
	Events  []Event  `json:"events"`
	Notes   []Note   `json:"notes"`
	// Held is set when the conversation is under legal hold.
	Held bool `json:"held"`
}

// Settings are a tenant's transcript policy.
type Settings struct {
	// RequireReason asks a reason before any transcript is opened or exported.
	RequireReason bool `json:"require_reason"`
}
