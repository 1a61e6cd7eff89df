package chat

import (
	"time"

	"github.com/parleyhq/parley/app/chat/protocol"
)

// Conversation states.
const (
	StatusQueued   = "queued"
	StatusAssigned = "assigned"
	StatusActive   = "active"
	StatusEnded    = "ended"
	StatusMissed   = "missed"
)

// Event kinds and sender kinds.
const (
	KindMessage = "message"
	KindSystem  = "system"
	KindFile    = "file"
	KindAmend   = "amend"

	SenderVisitor = "visitor"
	SenderAgent   = "agent"
	SenderSystem  = "system"
)

// System events.
const (
	EventStarted     = "started"
	EventJoined      = "joined"
	EventTransferred = "transferred"
	EventEnded       = "ended"
	EventMissed      = "missed"
	// EventLeft: a supervisor who had joined the conversation left it.
	EventLeft = "left"
)

// Audiences of an event: who sees it.
const (
	// AudienceAll events are seen by everyone in the conversation, the visitor included.
	AudienceAll = "all"
	// AudienceAgents events (whispers) are seen by agents and supervisors only: they never reach
	// the visitor and have no visitor_seq.
	AudienceAgents = "agents"
)

// KindWhisper is the kind a whisper is delivered with to agents and supervisors (it is stored as
// a message of audience AudienceAgents).
const KindWhisper = "whisper"

// ParticipantSupervisor is the participant kind of a supervisor who joined a conversation.
const ParticipantSupervisor = "supervisor"

// Conversation is one row of conversations. Name, email, prechat and survey hold ciphertext.
type Conversation struct {
	ID           string `gorm:"primaryKey"`
	TenantID     string
	SiteID       string
	DepartmentID *string
	VisitorID    string
	Status       string
	AgentID      *string
	OfferedTo    *string
	LastSeq      int64
	VisitorName  string
	VisitorEmail string
	Prechat      string
	Consent      bool
	Language     string
	Survey       string
	Rating       *int
	QueuedAt     time.Time
	AcceptedAt   *time.Time
	EndedAt      *time.Time
	EndedBy      string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// VisitorLastSeq is the last seq of the visitor's view (the events of audience AudienceAll).
	VisitorLastSeq int64
	// Priority orders the queue (higher first, then longest waiting); it is the department's.
	Priority int
	// RequiredSkills are the skills (space-separated) an agent needs to be offered the chat
	// automatically: the department's, and the one a pre-chat answer names.
	RequiredSkills string
	// OfferExpiresAt is when an automatic offer to OfferedTo moves on; nil for a transfer's offer.
	OfferExpiresAt *time.Time
}

// TableName is the conversations table.
func (Conversation) TableName() string { return "conversations" }

// Open reports whether the conversation still takes messages.
func (c Conversation) Open() bool { return c.Status != StatusEnded && c.Status != StatusMissed }

// Department returns the department id or "".
func (c Conversation) Department() string { return deref(c.DepartmentID) }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Origin is where a request came from, for audit records.
type Origin struct {
	IP, UserAgent, RequestID string
}

// Actor is who acts on a conversation.
type Actor struct {
	// Kind is SenderVisitor or SenderAgent.
	Kind string
	// ID is the visitor id or the user id.
	ID string
	// Name is the display name (agents) shown with their events.
	Name string
	// SiteID is, for a visitor, the site the transport serves it on: its messages are also
	// throttled by the site's own rate limits (RateLimits), without a database read per message.
	SiteID string
	// Whisper makes the actor's message a whisper: of audience AudienceAgents, never seen by the
	// visitor. The caller has checked chat.whisper.
	Whisper bool
	// Joined lets a supervisor who joined the conversation (not its agent) write into it. The
	// caller has checked the participation.
	Joined bool
	// Department is, for a whisper or a joined supervisor's message, the department the
	// supervisor's permission was checked in: a conversation in another department by the time
	// the message is stored refuses it (ErrForbidden).
	Department *string
}

// audience is the audience of the actor's messages.
func (a Actor) audience() string {
	if a.Whisper {
		return AudienceAgents
	}
	return AudienceAll
}

// Summary describes the conversation for welcome, assigned and HTTP answers, with lastSeq the
// last seq its reader has (in the reader's numbering).
func (c Conversation) Summary(lastSeq int64) *protocol.Conversation {
	return &protocol.Conversation{ConversationID: c.ID, Status: c.Status, DepartmentID: c.Department(),
		LastSeq: lastSeq, StartedAt: c.CreatedAt.UTC()}
}
