// Package protocol is Parley's chat wire format (docs/chat-protocol.md): the frames visitors and
// agents send, a strict size-limited decoder for them, the frames the server sends, and the
// WebSocket close codes. The WebSocket transport and the long-polling fallback share it.
package protocol

import "time"

// Version is the protocol version welcome frames announce.
const Version = 1

// Limits of the wire format.
const (
	// MaxFrameBytes is the largest frame a client may send.
	MaxFrameBytes = 32 << 10
	// MaxKeyLen is the longest idempotency key.
	MaxKeyLen = 64
	// MaxIDLen is the longest conversation, department or agent id.
	MaxIDLen = 64
	// MaxTokenLen is the longest visitor token.
	MaxTokenLen = 128
	// MaxResume is how many conversations an agent hello may name.
	MaxResume = 200
	// MaxNoteLen is the most characters of a transfer's note.
	MaxNoteLen = 1000
)

// Side is who speaks on a socket: the decoder accepts different frames from each.
type Side int

// The two sides of the chat protocol.
const (
	SideVisitor Side = iota + 1
	SideAgent
)

// Frame types clients send.
const (
	TypeHello    = "hello"
	TypeMessage  = "message"
	TypeTyping   = "typing"
	TypeRead     = "read"
	TypeEnd      = "end"
	TypePing     = "ping"
	TypeAccept   = "accept"
	TypeRefuse   = "refuse"
	TypeTransfer = "transfer"
	// Supervision (agent socket): watch a live chat unseen, stop watching, whisper to its agent,
	// join it as a participant, leave it.
	TypeMonitor   = "monitor"
	TypeUnmonitor = "unmonitor"
	TypeWhisper   = "whisper"
	TypeJoin      = "join"
	TypeLeave     = "leave"
	// TypeStatus sets the agent online or away (agent socket); the server sends it back as the
	// agent's status.
	TypeStatus = "status"
)

// Frame types the server sends (besides typing, read and the pong answer).
const (
	TypeWelcome        = "welcome"
	TypeAck            = "ack"
	TypeEvent          = "event"
	TypeOffer          = "offer"
	TypeOfferWithdrawn = "offer_withdrawn"
	TypeAssigned       = "assigned"
	TypeUnassigned     = "unassigned"
	TypeError          = "error"
	TypePong           = "pong"
	// TypeSupervising answers monitor and join: the socket now follows the conversation.
	TypeSupervising = "supervising"
	// TypeSupervisingEnded says the socket no longer follows a conversation it monitored or
	// joined (unmonitor, leave, or the conversation ended).
	TypeSupervisingEnded = "supervising_ended"
	// TypeQueue tells a waiting visitor their place in the queue and the estimated wait.
	TypeQueue = "queue"
)

// Supervision modes.
const (
	ModeMonitor = "monitor"
	ModeJoin    = "join"
)

// Inbound is a decoded, validated client frame. Only the fields of its Type are set.
type Inbound struct {
	Type           string
	Token          string
	ConversationID string
	LastSeq        int64
	// Conversations is an agent hello's resume map: conversation id → last seen seq.
	Conversations map[string]int64
	Key           string
	Text          string
	Typing        bool
	Seq           int64
	DepartmentID  string
	AgentID       string
	// Note is a transfer's note for agents; Status an agent's chosen status.
	Note   string
	Status string
	// ThreadID and UserID name a team_message's thread, or the colleague it opens a thread with.
	ThreadID string
	UserID   string
	// VisitorID is the visitor an invite names; Text holds its optional message.
	VisitorID string
}

// Sender names who sent an event.
type Sender struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// File describes a file event's attachment.
type File struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}

// Event is a stored event of a conversation's log, as delivered.
type Event struct {
	Type           string            `json:"type"`
	ConversationID string            `json:"conversation_id"`
	Seq            int64             `json:"seq"`
	Kind           string            `json:"kind"`
	At             time.Time         `json:"at"`
	Sender         *Sender           `json:"sender,omitempty"`
	Key            string            `json:"key,omitempty"`
	Text           string            `json:"text,omitempty"`
	Event          string            `json:"event,omitempty"`
	Data           map[string]string `json:"data,omitempty"`
	TargetSeq      int64             `json:"target_seq,omitempty"`
	File           *File             `json:"file,omitempty"`
	// Audience is "agents" on events the visitor never sees (whispers and their amends); it is
	// omitted on the others.
	Audience string `json:"audience,omitempty"`

	// VisitorSeq and TargetVisitorSeq are Seq and TargetSeq in the visitor's view (whose
	// numbering skips the events of audience "agents"), 0 when the visitor does not see the
	// event. They are server-internal and never sent.
	VisitorSeq       int64 `json:"-"`
	TargetVisitorSeq int64 `json:"-"`
}

// Conversation summarises a conversation in welcome, assigned and HTTP answers.
type Conversation struct {
	ConversationID string    `json:"conversation_id"`
	Status         string    `json:"status"`
	DepartmentID   string    `json:"department_id,omitempty"`
	LastSeq        int64     `json:"last_seq"`
	StartedAt      time.Time `json:"started_at"`
	Visitor        *Sender   `json:"visitor,omitempty"`
}

// Agent names the agent of an agent socket.
type Agent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Welcome answers hello.
type Welcome struct {
	Type          string         `json:"type"`
	Protocol      int            `json:"protocol"`
	Conversation  *Conversation  `json:"conversation,omitempty"`
	Agent         *Agent         `json:"agent,omitempty"`
	Departments   []string       `json:"departments,omitempty"`
	Conversations []Conversation `json:"conversations,omitempty"`
	Queue         []Offer        `json:"queue,omitempty"`
	ServerTime    time.Time      `json:"server_time"`
}

// Ack confirms that a message is stored with seq.
type Ack struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	Key            string `json:"key"`
	Seq            int64  `json:"seq"`
	Duplicate      bool   `json:"duplicate"`
}

// Typing is the ephemeral typing signal.
type Typing struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	SenderKind     string `json:"sender_kind"`
	Typing         bool   `json:"typing"`
}

// Read is the ephemeral read receipt.
type Read struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	ReaderKind     string `json:"reader_kind"`
	Seq            int64  `json:"seq"`
}

// Offer is a conversation an agent may accept.
type Offer struct {
	ConversationID  string    `json:"conversation_id"`
	DepartmentID    string    `json:"department_id,omitempty"`
	Status          string    `json:"status"`
	Visitor         Sender    `json:"visitor"`
	QueuedAt        time.Time `json:"queued_at"`
	TransferredToMe bool      `json:"transferred_to_me"`
	// ExpiresAt is when an automatic offer moves on to the next agent (offers to one agent only).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Priority orders the queue (0 to 9, higher first).
	Priority int `json:"priority"`
}

// OfferFrame carries one offer.
type OfferFrame struct {
	Type  string `json:"type"`
	Offer Offer  `json:"offer"`
}

// Withdrawn tells an agent an offer is gone, or (TypeUnassigned) that a conversation left them.
type Withdrawn struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	Reason         string `json:"reason"`
}

// Assigned tells an agent their socket now follows a conversation.
type Assigned struct {
	Type         string       `json:"type"`
	Conversation Conversation `json:"conversation"`
}

// Error reports a refused frame without closing the socket.
type Error struct {
	Type           string `json:"type"`
	Code           string `json:"code"`
	Message        string `json:"message"`
	Key            string `json:"key,omitempty"`
	ConversationID string `json:"conversation_id,omitempty"`
	RetryAfterMS   int64  `json:"retry_after_ms,omitempty"`
	// Field names the frame field at fault, for card_number_not_allowed ("key").
	Field string `json:"field,omitempty"`
}

// Supervising answers monitor and join: the socket follows the conversation from now on, its
// replay (events above the frame's last_seq) comes next. Mode is ModeMonitor or ModeJoin.
type Supervising struct {
	Type         string       `json:"type"`
	Mode         string       `json:"mode"`
	Conversation Conversation `json:"conversation"`
}

// SupervisingEnded says the socket stopped following a conversation it monitored or joined.
// Reason is "requested" (unmonitor), "left" (leave) or "ended" (the conversation closed).
type SupervisingEnded struct {
	Type           string `json:"type"`
	Mode           string `json:"mode"`
	ConversationID string `json:"conversation_id"`
	Reason         string `json:"reason"`
}

// Pong answers ping.
type Pong struct {
	Type string `json:"type"`
}

// Status is an agent's status: "online", "away" or "offline", and why ("manual" or "idle").
type Status struct {
	Type   string `json:"type"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// Queue tells a waiting visitor their position (1 = next) and the estimated wait in seconds.
type Queue struct {
	Type                 string `json:"type"`
	Position             int64  `json:"position"`
	EstimatedWaitSeconds int64  `json:"estimated_wait_seconds"`
}

// Agent-to-agent chat and proactive invitations (agent socket, docs/chat-protocol.md §4.4).
const (
	// TypeTeamMessage (client) posts a message into a team thread, or opens the direct thread
	// with a colleague (to_user_id) by posting its first message.
	TypeTeamMessage = "team_message"
	// TypeTeamEvent (server) delivers a stored team message to both members' sockets.
	TypeTeamEvent = "team_event"
	// TypeInvite (client) invites a live visitor to chat.
	TypeInvite = "invite"
	// TypeInviteResult (server) tells the inviting agent what became of an invitation.
	TypeInviteResult = "invite_result"
)

// Invitation statuses (invite_result and the widget's invitation poll).
const (
	InvitationPending  = "pending"
	InvitationAccepted = "accepted"
	InvitationDeclined = "declined"
	InvitationExpired  = "expired"
)

// TeamEvent is a stored message of a team thread, as delivered to one of its members. Key is
// set on the receiver's own messages only; Peer is the other member of the thread.
type TeamEvent struct {
	Type     string    `json:"type"`
	ThreadID string    `json:"thread_id"`
	Seq      int64     `json:"seq"`
	Sender   Sender    `json:"sender"`
	Peer     *Sender   `json:"peer,omitempty"`
	Key      string    `json:"key,omitempty"`
	Text     string    `json:"text"`
	At       time.Time `json:"at"`
	// SenderKey is the sender's idempotency key, server-internal: Key carries it to the sender.
	SenderKey string `json:"-"`
}

// InviteResult tells the inviting agent the state of an invitation: pending (sent), accepted
// (with the conversation now assigned to them), declined or expired.
type InviteResult struct {
	Type           string    `json:"type"`
	InvitationID   string    `json:"invitation_id"`
	VisitorID      string    `json:"visitor_id"`
	Status         string    `json:"status"`
	ConversationID string    `json:"conversation_id,omitempty"`
	ExpiresAt      time.Time `json:"expires_at"`
}
