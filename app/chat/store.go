package chat

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
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

type participant struct {
	ConversationID string `gorm:"primaryKey"`
	TenantID       string
	Kind           string `gorm:"primaryKey"`
	ParticipantID  string `gorm:"primaryKey"`
	DisplayName    string
	JoinedAt       time.Time
	LeftAt         *time.Time
	LastReadSeq    int64
}

func (participant) TableName() string { return "conversation_participants" }

// eventRow is one row of conversation_events; Body is ciphertext. Seq numbers every event;
// VisitorSeq numbers the events the visitor sees (nil on the others), gapless as well.
type eventRow struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	ConversationID string
	Seq            int64
	Kind           string
	SenderKind     string
	SenderID       string
	IdempotencyKey *string
	Body           string
	Event          string
	Data           string
	TargetSeq      *int64
	FileID         *string
	Audience       string
	VisitorSeq     *int64
	CreatedAt      time.Time
	// targetVisitorSeq is an amend's target in the visitor's view (not stored; set by appendEvent).
	targetVisitorSeq int64 `gorm:"-"`
}

// visible reports whether the visitor sees the event.
func (r eventRow) visible() bool { return r.Audience != AudienceAgents && r.VisitorSeq != nil }

// visitorSeq returns the event's seq in the visitor's view, 0 when the visitor does not see it.
func (r eventRow) visitorSeq() int64 {
	if !r.visible() {
		return 0
	}
	return *r.VisitorSeq
}

func (eventRow) TableName() string { return "conversation_events" }

type refusal struct {
	ConversationID string `gorm:"primaryKey"`
	TenantID       string
	UserID         string `gorm:"primaryKey"`
	RefusedAt      time.Time
}

func (refusal) TableName() string { return "conversation_refusals" }

// store holds the chat's SQL.
type store struct {
	db      *gorm.DB
	dialect migrations.Dialect
}

// conversation loads a conversation of a tenant.
func (st *store) conversation(ctx context.Context, db *gorm.DB, tenantID, id string) (Conversation, error) {
	var c Conversation
	err := db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Conversation{}, ErrNotFound
	}
	return c, err
}

// eventByKey finds a sender's message by idempotency key.
func (st *store) eventByKey(ctx context.Context, db *gorm.DB, convID, senderID, key string) (eventRow, error) {
	var e eventRow
	err := db.WithContext(ctx).Where("conversation_id = ? AND sender_id = ? AND idempotency_key = ?", convID, senderID, key).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return eventRow{}, ErrNotFound
	}
	return e, err
}

// events returns the conversation's events with seq > after, in order, at most limit.
func (st *store) events(ctx context.Context, tenantID, convID string, after int64, limit int) ([]eventRow, error) {
	var out []eventRow
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ? AND seq > ?", tenantID, convID, after).
		Order("seq").Limit(limit).Find(&out).Error
	return out, err
}

// visitorEvents returns the events the visitor sees with visitor_seq > after, in that order, at
// most limit. Every read on behalf of a visitor (socket replay, long poll, exports) goes through
// it: events of audience AudienceAgents have no visitor_seq and never match.
func (st *store) visitorEvents(ctx context.Context, tenantID, convID string, after int64, limit int) ([]eventRow, error) {
	var out []eventRow
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ? AND visitor_seq > ? AND audience = ?", tenantID, convID, after, AudienceAll).
		Order("visitor_seq").Limit(limit).Find(&out).Error
	return out, err
}

// visitorSeqAt returns the visitor's view of a position in the log: the visitor_seq of the last
// event the visitor sees with seq <= at (0 when there is none).
func (st *store) visitorSeqAt(ctx context.Context, convID string, at int64) (int64, error) {
	var out []int64
	err := st.db.WithContext(ctx).Model(&eventRow{}).Where("conversation_id = ? AND seq <= ? AND visitor_seq IS NOT NULL", convID, at).
		Order("seq DESC").Limit(1).Pluck("visitor_seq", &out).Error
	if err != nil || len(out) == 0 {
		return 0, err
	}
	return out[0], nil
}

// seqOfVisitorSeq returns the seq of the event the visitor knows as vseq (0 when there is none).
func (st *store) seqOfVisitorSeq(ctx context.Context, convID string, vseq int64) (int64, error) {
	var out []int64
	err := st.db.WithContext(ctx).Model(&eventRow{}).Where("conversation_id = ? AND visitor_seq = ?", convID, vseq).
		Limit(1).Pluck("seq", &out).Error
	if err != nil || len(out) == 0 {
		return 0, err
	}
	return out[0], nil
}

func (st *store) participants(ctx context.Context, tenantID, convID string) ([]participant, error) {
	var out []participant
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ?", tenantID, convID).Find(&out).Error
	return out, err
}

// openForVisitor returns the visitor's open conversation on a site, if any.
func (st *store) openForVisitor(ctx context.Context, tenantID, siteID, visitorID string) (Conversation, error) {
	var c Conversation
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND site_id = ? AND visitor_id = ? AND status IN ?",
		tenantID, siteID, visitorID, []string{StatusQueued, StatusAssigned, StatusActive}).
		Order("created_at DESC").Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Conversation{}, ErrNotFound
	}
	return c, err
}

// agentConversations lists the open conversations an agent is handling.
func (st *store) agentConversations(ctx context.Context, tenantID, userID string) ([]Conversation, error) {
	var out []Conversation
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND agent_id = ? AND status = ?", tenantID, userID, StatusActive).
		Order("queued_at").Find(&out).Error
	return out, err
}

// queue lists the tenant's conversations waiting for an agent (queued, or assigned to one agent).
func (st *store) queue(ctx context.Context, tenantID string) ([]Conversation, error) {
	var out []Conversation
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND status IN ?", tenantID, []string{StatusQueued, StatusAssigned}).
		Order("queued_at").Limit(500).Find(&out).Error
	return out, err
}

func (st *store) refusedBy(ctx context.Context, tenantID, userID string) (map[string]bool, error) {
	var ids []string
	err := st.db.WithContext(ctx).Model(&refusal{}).Where("tenant_id = ? AND user_id = ?", tenantID, userID).
		Pluck("conversation_id", &ids).Error
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}

// tx runs fn in a transaction. On SQLite the node's writers take turns in Go first: SQLite
// allows one writer at a time, and waiting on a mutex is far cheaper than its busy handler's
// sleep-and-retry.
func (s *Service) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if s.dialect == migrations.SQLite {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
	}
	return migrations.Transaction(s.db.WithContext(ctx), fn)
}
