package vault

import (
	"encoding/binary"
	"fmt"
)

// Fields of a conversation the envelope seals. A field name is part of the associated data, so a
// ciphertext copied from one field to another does not open.
const (
	FieldMessageBody    = "message.body"
	FieldVisitorName    = "visitor.name"
	FieldVisitorEmail   = "visitor.email"
	FieldPreChatAnswers = "prechat.answers"
	FieldOfflineMessage = "offline.message"
	FieldOfflineReply   = "offline.reply"
	FieldSurveyAnswers  = "survey.answers"
	// FieldTeamMessage is a message between console users (scope: the team thread).
	FieldTeamMessage = "team.message"
	// FieldInvitationMessage is an agent's note in a proactive invitation (scope: the invitation).
	FieldInvitationMessage = "invitation.message"
)

// Binding names the place a ciphertext belongs to: the tenant, the scope whose data key seals it
// (a conversation id, or an offline message id), the field and the sequence number of the row
// (a message's seq; 0 for fields that occur once per scope). It is authenticated as associated
// data: a ciphertext presented with any other binding fails with ErrMismatch.
type Binding struct {
	Tenant string
	Scope  string
	Field  string
	Seq    int64
}

func (b Binding) validate() error {
	if err := validTenantID(b.Tenant); err != nil {
		return err
	}
	if err := validScopeID(b.Scope); err != nil {
		return err
	}
	if b.Field == "" || len(b.Field) > 64 {
		return fmt.Errorf("%w: field name must be 1 to 64 characters", ErrInvalidID)
	}
	for i := 0; i < len(b.Field); i++ {
		if c := b.Field[i]; !isIDChar(c) && c != '.' {
			return fmt.Errorf("%w: field name may only hold letters, digits, '-', '_' and '.'", ErrInvalidID)
		}
	}
	if b.Seq < 0 {
		return fmt.Errorf("%w: sequence number must not be negative", ErrInvalidID)
	}
	return nil
}

// Ciphertext layout, format 1:
//
//	byte 0       format version (1)
//	bytes 1–12   random 96-bit GCM nonce
//	bytes 13–    AES-256-GCM ciphertext and 16-byte tag
//
// The data key is the scope's, found by the binding; data keys never change once created (rewrap
// changes only their wrapping), so no key version is carried per field.
const (
	formatV1       byte = 1
	nonceSize           = 12
	tagSize             = 16
	headerSize          = 1 + nonceSize
	minCiphertext       = headerSize + tagSize
	aadDomain           = "parley/field/v1"
	maxAADFixedLen      = len(aadDomain) + 1 + 3*2 + 8 + 1
)

// aad encodes the binding and the format byte, each string length-prefixed so no two bindings
// share an encoding.
func (b Binding) aad(format byte) []byte {
	out := make([]byte, 0, maxAADFixedLen+len(b.Tenant)+len(b.Scope)+len(b.Field))
	out = append(out, aadDomain...)
	out = append(out, 0)
	for _, s := range []string{b.Tenant, b.Scope, b.Field} {
		out = binary.BigEndian.AppendUint16(out, uint16(len(s))) // #nosec G115 -- validate bounds every string to 128 bytes
		out = append(out, s...)
	}
	out = binary.BigEndian.AppendUint64(out, uint64(b.Seq)) // #nosec G115 -- validate rejects negative sequence numbers
	return append(out, format)
}
