package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/parleyhq/parley/app/api/strictjson"
	"github.com/parleyhq/parley/compliance/pan"
)

// ErrBadFrame is wrapped by every decoding error; the close reason is the error's Reason.
var ErrBadFrame = errors.New("bad frame")

// FrameError says why a frame was refused. Reason is short, ASCII and never holds the frame's
// content, so it can be sent as a close reason and logged.
type FrameError struct {
	Reason string
}

// Error returns the reason.
func (e *FrameError) Error() string { return "bad frame: " + e.Reason }

// Unwrap lets errors.Is match ErrBadFrame.
func (e *FrameError) Unwrap() error { return ErrBadFrame }

func bad(format string, args ...any) error {
	return &FrameError{Reason: fmt.Sprintf(format, args...)}
}

// The per-type wire forms; DisallowUnknownFields makes each type accept only its own fields.
type (
	visitorHello struct {
		Type           string `json:"type"`
		Token          string `json:"token"`
		ConversationID string `json:"conversation_id"`
		LastSeq        int64  `json:"last_seq"`
	}
	agentHello struct {
		Type          string           `json:"type"`
		Conversations map[string]int64 `json:"conversations"`
	}
	message struct {
		Type           string  `json:"type"`
		ConversationID string  `json:"conversation_id"`
		Key            *string `json:"key"`
		Text           *string `json:"text"`
	}
	typing struct {
		Type           string `json:"type"`
		ConversationID string `json:"conversation_id"`
		Typing         *bool  `json:"typing"`
	}
	read struct {
		Type           string `json:"type"`
		ConversationID string `json:"conversation_id"`
		Seq            *int64 `json:"seq"`
	}
	conversationOnly struct {
		Type           string `json:"type"`
		ConversationID string `json:"conversation_id"`
	}
	transfer struct {
		Type           string `json:"type"`
		ConversationID string `json:"conversation_id"`
		DepartmentID   string `json:"department_id"`
		AgentID        string `json:"agent_id"`
		Note           string `json:"note"`
	}
	status struct {
		Type   string `json:"type"`
		Status string `json:"status"`
	}
	typeOnly struct {
		Type string `json:"type"`
	}
	teamMessage struct {
		Type     string  `json:"type"`
		ThreadID string  `json:"thread_id"`
		ToUserID string  `json:"to_user_id"`
		Key      *string `json:"key"`
		Text     *string `json:"text"`
	}
	invite struct {
		Type      string  `json:"type"`
		VisitorID string  `json:"visitor_id"`
		Message   *string `json:"message"`
	}
	supervise struct {
		Type           string `json:"type"`
		ConversationID string `json:"conversation_id"`
		LastSeq        int64  `json:"last_seq"`
	}
)

// Decode parses one client frame from side and validates it: one JSON object of at most
// MaxFrameBytes, a known type for that side, only that type's fields with the right JSON types,
// and well-formed ids, keys and sequence numbers. Text is returned as sent; the chat service
// sanitizes it. Every error wraps ErrBadFrame.
func Decode(side Side, data []byte) (Inbound, error) {
	if len(data) > MaxFrameBytes {
		return Inbound{}, bad("frame larger than %d bytes", MaxFrameBytes)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return Inbound{}, bad("frame must be a JSON object")
	}
	var head frameHead
	// A key given twice anywhere, or "type" in another letter case, is refused before the type
	// is read (strict checks the other fields' case once the type is known).
	if err := keysError(strictjson.Check(data, frameHeadType)); err != nil {
		return Inbound{}, err
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&head); err != nil {
		return Inbound{}, bad("invalid JSON")
	}
	var typ string
	if len(head.Type) == 0 || json.Unmarshal(head.Type, &typ) != nil || typ == "" {
		return Inbound{}, bad("missing or invalid type")
	}
	agent := side == SideAgent
	switch typ {
	case TypeHello:
		if agent {
			var f agentHello
			if err := strict(data, &f); err != nil {
				return Inbound{}, err
			}
			return f.inbound()
		}
		var f visitorHello
		if err := strict(data, &f); err != nil {
			return Inbound{}, err
		}
		return f.inbound()
	case TypeMessage:
		var f message
		if err := strict(data, &f); err != nil {
			return Inbound{}, err
		}
		return f.inbound(TypeMessage, agent)
	case TypeTyping:
		var f typing
		if err := strict(data, &f); err != nil {
			return Inbound{}, err
		}
		if f.Typing == nil {
			return Inbound{}, bad("typing needs \"typing\"")
		}
		return withConversation(Inbound{Type: TypeTyping, Typing: *f.Typing}, f.ConversationID, agent)
	case TypeRead:
		var f read
		if err := strict(data, &f); err != nil {
			return Inbound{}, err
		}
		if f.Seq == nil || *f.Seq < 0 {
			return Inbound{}, bad("read needs a seq of 0 or more")
		}
		return withConversation(Inbound{Type: TypeRead, Seq: *f.Seq}, f.ConversationID, agent)
	case TypeEnd:
		var f conversationOnly
		if err := strict(data, &f); err != nil {
			return Inbound{}, err
		}
		return withConversation(Inbound{Type: TypeEnd}, f.ConversationID, agent)
	case TypePing:
		var f typeOnly
		if err := strict(data, &f); err != nil {
			return Inbound{}, err
		}
		return Inbound{Type: TypePing}, nil
	case TypeAccept, TypeRefuse:
		if !agent {
			break
		}
		var f conversationOnly
		if err := strict(data, &f); err != nil {
			return Inbound{}, err
		}
		return withConversation(Inbound{Type: typ}, f.ConversationID, true)
	case TypeTransfer:
		if !agent {
			break
		}
		var f transfer
		if err := strict(data, &f); err != nil {
			return Inbound{}, err
		}
		return f.inbound()
	case TypeMonitor, TypeJoin:
		if !agent {
			break
		}
		var f supervise
		if err := strict(data, &f); err != nil {
			return Inbound{}, err
		}
		if f.LastSeq < 0 {
			return Inbound{}, bad("last_seq must be 0 or more")
		}
		return withConversation(Inbound{Type: typ, LastSeq: f.LastSeq}, f.ConversationID, true)
	case TypeUnmonitor, TypeLeave:
		if !agent {
			break
		}
		var f conversationOnly
		if err := strict(data, &f); err != nil {
			return Inbound{}, err
		}
		return withConversation(Inbound{Type: typ}, f.ConversationID, true)
	case TypeWhisper:
		if !agent {
			break
		}
		var f message
		if err := strict(data, &f); err != nil {
			return Inbound{}, err
		}
		return f.inbound(TypeWhisper, true)
	case TypeStatus:
		if !agent {
			break
		}
		var f status
		if err := strict(data, &f); err != nil {
			return Inbound{}, err
		}
		if f.Status != "online" && f.Status != "away" {
			return Inbound{}, bad("status must be online or away")
		}
		return Inbound{Type: TypeStatus, Status: f.Status}, nil
	case TypeTeamMessage:
		if !agent {
			break
		}
		var f teamMessage
		if err := strict(data, &f); err != nil {
			return Inbound{}, err
		}
		return f.inbound()
	case TypeInvite:
		if !agent {
			break
		}
		var f invite
		if err := strict(data, &f); err != nil {
			return Inbound{}, err
		}
		if !ValidID(f.VisitorID) {
			return Inbound{}, bad("invite needs a visitor_id")
		}
		in := Inbound{Type: TypeInvite, VisitorID: f.VisitorID}
		if f.Message != nil {
			in.Text = *f.Message
		}
		return in, nil
	}
	return Inbound{}, bad("unknown type %s", safeName(typ))
}

// frameHead is the part of a frame read first: its type.
type frameHead struct {
	Type json.RawMessage `json:"type"`
}

var frameHeadType = reflect.TypeFor[frameHead]()

// keysError turns a key strictjson refused into a bad frame naming the key when it is safe to.
func keysError(err error) error {
	var ke *strictjson.KeyError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ke) && ke.Field != "":
		return bad("key %s must be written %s", safeName(ke.Key), safeName(ke.Field))
	case errors.As(err, &ke):
		return bad("key %s given twice", safeName(ke.Key))
	}
	return bad("invalid JSON")
}

// strict decodes data into v refusing keys given twice or matching a field only in another
// letter case, unknown fields and trailing data.
func strict(data []byte, v any) error {
	if err := keysError(strictjson.Check(data, reflect.TypeOf(v))); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr):
			return bad("field %s has the wrong type", safeName(typeErr.Field))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return bad("unknown field %s", safeName(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)))
		default:
			return bad("invalid JSON")
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bad("trailing data after the JSON object")
	}
	return nil
}

// safeName quotes a client-chosen name for a reason only when it is a short lower-case
// identifier without digits, so a reason never echoes arbitrary (possibly sensitive) client text.
func safeName(s string) string {
	if s == "" || len(s) > 32 {
		return "(unnamed)"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && c != '_' && c != '.' {
			return "(unnamed)"
		}
	}
	return `"` + s + `"`
}

func (f visitorHello) inbound() (Inbound, error) {
	if f.Token == "" || len(f.Token) > MaxTokenLen || !printableASCII(f.Token) {
		return Inbound{}, bad("hello needs a token")
	}
	if !ValidID(f.ConversationID) {
		return Inbound{}, bad("hello needs a conversation_id")
	}
	if f.LastSeq < 0 {
		return Inbound{}, bad("last_seq must be 0 or more")
	}
	return Inbound{Type: TypeHello, Token: f.Token, ConversationID: f.ConversationID, LastSeq: f.LastSeq}, nil
}

func (f agentHello) inbound() (Inbound, error) {
	if len(f.Conversations) > MaxResume {
		return Inbound{}, bad("hello names more than %d conversations", MaxResume)
	}
	out := make(map[string]int64, len(f.Conversations))
	for id, seq := range f.Conversations {
		if !ValidID(id) || seq < 0 {
			return Inbound{}, bad("hello conversations must map ids to seq 0 or more")
		}
		out[id] = seq
	}
	return Inbound{Type: TypeHello, Conversations: out}, nil
}

func (f message) inbound(typ string, agent bool) (Inbound, error) {
	// A key that holds a card number passes here even when malformed: the chat service answers
	// it with a card_number_not_allowed error frame (field "key") and the socket stays open.
	if f.Key == nil || (!ValidKey(*f.Key) && !pan.Contains(*f.Key)) {
		return Inbound{}, bad("%s needs a key of 1 to %d characters [A-Za-z0-9._:-]", typ, MaxKeyLen)
	}
	if f.Text == nil {
		return Inbound{}, bad("%s needs a text", typ)
	}
	return withConversation(Inbound{Type: typ, Key: *f.Key, Text: *f.Text}, f.ConversationID, agent)
}

func (f teamMessage) inbound() (Inbound, error) {
	if (f.ThreadID == "") == (f.ToUserID == "") {
		return Inbound{}, bad("team_message needs either thread_id or to_user_id")
	}
	if (f.ThreadID != "" && !ValidID(f.ThreadID)) || (f.ToUserID != "" && !ValidID(f.ToUserID)) {
		return Inbound{}, bad("team_message target is not a valid id")
	}
	// As in message: a key holding a card number reaches the service, which refuses it by name.
	if f.Key == nil || (!ValidKey(*f.Key) && !pan.Contains(*f.Key)) {
		return Inbound{}, bad("team_message needs a key of 1 to %d characters [A-Za-z0-9._:-]", MaxKeyLen)
	}
	if f.Text == nil {
		return Inbound{}, bad("team_message needs a text")
	}
	return Inbound{Type: TypeTeamMessage, ThreadID: f.ThreadID, UserID: f.ToUserID, Key: *f.Key, Text: *f.Text}, nil
}

func (f transfer) inbound() (Inbound, error) {
	if (f.DepartmentID == "") == (f.AgentID == "") {
		return Inbound{}, bad("transfer needs either department_id or agent_id")
	}
	if (f.DepartmentID != "" && !ValidID(f.DepartmentID)) || (f.AgentID != "" && !ValidID(f.AgentID)) {
		return Inbound{}, bad("transfer target is not a valid id")
	}
	// The note's length is checked in characters by the chat service; here only its bytes.
	if len(f.Note) > 4*MaxNoteLen {
		return Inbound{}, bad("transfer note longer than %d characters", MaxNoteLen)
	}
	return withConversation(Inbound{Type: TypeTransfer, DepartmentID: f.DepartmentID, AgentID: f.AgentID, Note: f.Note}, f.ConversationID, true)
}

// withConversation checks the conversation id: agents must name one, visitors must not (their
// socket serves the conversation of its hello).
func withConversation(in Inbound, id string, agent bool) (Inbound, error) {
	switch {
	case agent && !ValidID(id):
		return Inbound{}, bad("%s needs a conversation_id", in.Type)
	case !agent && id != "":
		return Inbound{}, bad("unknown field \"conversation_id\"")
	}
	in.ConversationID = id
	return in, nil
}

// ValidID reports whether s can be a conversation, department, user or file id: 1 to MaxIDLen
// characters from [A-Za-z0-9_-].
func ValidID(s string) bool {
	if s == "" || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// ValidKey reports whether s is a well-formed idempotency key: 1 to MaxKeyLen characters from
// [A-Za-z0-9._:-].
func ValidKey(s string) bool {
	if s == "" || len(s) > MaxKeyLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' && c != ':' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
