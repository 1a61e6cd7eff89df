package audit

import (
	"encoding/hex"
	"fmt"
	"time"
)

// SystemTenant is the tenant id of the installation's own chain: audit start and stop, setup,
// emergency CLI access and every event that belongs to no single tenant. Real tenant ids are
// generated identifiers and never start with an underscore, so the two cannot collide. An
// event with an empty tenant is rejected rather than filed here, so a forgotten tenant id is
// a bug that surfaces, not an event in the wrong chain.
const SystemTenant = "_system"

// ActorKind says what kind of party performed an audited action.
type ActorKind string

// The kinds of actor.
const (
	// ActorUser is a signed-in console or API user (agent, supervisor, admin, auditor).
	ActorUser ActorKind = "user"
	// ActorVisitor is an anonymous website visitor, identified by a visitor id.
	ActorVisitor ActorKind = "visitor"
	// ActorSystem is Parley itself: a node, a background job or the CLI.
	ActorSystem ActorKind = "system"
)

// Outcome says whether an audited action succeeded.
type Outcome string

// The outcomes of an audited action.
const (
	Success Outcome = "success"
	Failure Outcome = "failure"
)

// Actor is who performed an action (PCI DSS 10.2.2 "user identification").
type Actor struct {
	// ID is the user id, visitor id or, for the system, the node or job name.
	ID string `json:"id"`
	// Role is the actor's role at the time of the action ("owner", "agent", …), if any.
	Role string `json:"role"`
	// Kind is user, visitor or system.
	Kind ActorKind `json:"kind"`
}

// Origin is where an action came from (PCI DSS 10.2.2 "origination of event").
type Origin struct {
	// IP is the client's address as Parley determined it (after trusted proxies).
	IP string `json:"ip"`
	// UserAgent is the client's User-Agent header, PAN-masked and truncated.
	UserAgent string `json:"user_agent"`
	// Node is the Parley node that handled the request.
	Node string `json:"node"`
}

// Target is the resource an action affected (PCI DSS 10.2.2 "identity or name of affected
// data, system component, resource, or service").
type Target struct {
	// Kind is the resource type ("user", "role", "conversation", …); PAN-masked.
	Kind string `json:"kind"`
	// ID is the resource's id or name (a role name, a user id); PAN-masked.
	ID string `json:"id"`
}

// Event is one audited action. Callers fill Tenant, Actor, Origin, Action, Target, Outcome,
// Reason, RequestID and Details; the log stamps Time from its clock (UTC, microseconds) and
// assigns Seq when it chains the event.
//
// Details carry structured context. Callers must pass data that is already masked: the log
// refuses keys named like secrets (password, token, secret, cvv, pan, …) with
// ErrSensitiveDetail, refuses detail keys that hold a card number, and runs every value, the
// Reason, the user agent and the actor, target and request ids through its Masker (a card
// number keeps its last four digits only). The tenant id is stored as given.
type Event struct {
	Tenant    string            `json:"tenant"`
	Seq       int64             `json:"seq"`
	Time      time.Time         `json:"time"`
	Actor     Actor             `json:"actor"`
	Origin    Origin            `json:"origin"`
	Action    Action            `json:"action"`
	Target    Target            `json:"target"`
	Outcome   Outcome           `json:"outcome"`
	Reason    string            `json:"reason"`
	RequestID string            `json:"request_id"`
	Details   map[string]string `json:"details"`
}

// Entry is an event as it sits in its tenant's chain: the event, the hash of the entry before
// it and its own hash, SHA-256(canonical(event) ‖ PrevHash).
type Entry struct {
	Event
	PrevHash Hash `json:"prev_hash"`
	Hash     Hash `json:"hash"`
}

// Hash is a SHA-256 digest of the chain. The zero Hash is the genesis: the PrevHash of every
// chain's first event (seq 1).
type Hash [32]byte

// String returns the hash as 64 lowercase hexadecimal digits.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is the genesis hash.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText encodes the hash as lowercase hexadecimal.
func (h Hash) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(h)))
	hex.Encode(out, h[:])
	return out, nil
}

// UnmarshalText decodes exactly 64 lowercase hexadecimal digits.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseHash decodes a hash written as 64 lowercase hexadecimal digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("hash must be %d hexadecimal digits", 2*len(h))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return h, fmt.Errorf("hash must be lowercase hexadecimal")
		}
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("hash: %w", err)
	}
	return h, nil
}
