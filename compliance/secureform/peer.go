package secureform

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/parleyhq/parley/compliance/nodeauth"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
)

// PeerKeys gives the secret the nodes of an installation share for a tenant: at least 32 bytes,
// the same on every node. app/cardform derives it from the key provider; co-browsing uses the
// same secret under its own labels (compliance/nodeauth).
type PeerKeys = nodeauth.Keys

// StaticPeerKeys derives each tenant's peer secret from one configured installation secret
// (HKDF-SHA-256, the tenant id as info), for installations that configure it rather than take it
// from the key provider.
type StaticPeerKeys struct {
	Secret []byte
}

var _ PeerKeys = StaticPeerKeys{}

// PeerKey implements PeerKeys.
func (s StaticPeerKeys) PeerKey(_ context.Context, tenantID string) ([]byte, error) {
	if len(s.Secret) < 32 {
		return nil, fmt.Errorf("%w: the peer secret must be at least 32 bytes", ErrConfig)
	}
	return hkdf.Key(sha256.New, s.Secret, nil, "parley/cardform/tenant/v1/"+tenantID, 32)
}

// Op is what a node asks another node to do with a card it holds.
type Op string

// The operations of the node-to-node call.
const (
	OpView   Op = "view"   // the masked card
	OpReveal Op = "reveal" // the full card (the asking node checked card.view_full)
	OpPurge  Op = "purge"  // wipe it (the agent marked it done)
)

// PeerRequest is a node-to-node request about one held card. It carries ids only.
type PeerRequest struct {
	Op           Op     `json:"op"`
	Tenant       string `json:"tenant"`
	Conversation string `json:"conversation"`
	Request      string `json:"request"`
	// Agent is the user the asking node acts for; the holding node checks it is the requester.
	Agent string `json:"agent"`
	// Mode is the masking mode of OpView ("bin_last4" or "last4").
	Mode string `json:"mode,omitempty"`
	// Node names the asking node, for the holder's audit and logs.
	Node string `json:"node"`
	// Time (Unix seconds) and Nonce (128 random bits, hex) make each request usable once.
	Time  int64  `json:"time"`
	Nonce string `json:"nonce"`
}

// Key returns the card's key.
func (r PeerRequest) Key() Key {
	return Key{Tenant: r.Tenant, Conversation: r.Conversation, Request: r.Request}
}

// SignatureHeader carries the request's signature; the value is "v1=" and 64 hex digits.
const SignatureHeader = "X-Parley-Peer-Signature"

// DefaultMaxSkew is how far a request's time may be from the receiver's clock.
const DefaultMaxSkew = nodeauth.DefaultMaxSkew

// peerDomain separates the card form's signatures from every other node-to-node call's.
const peerDomain = "parley/cardform/peer/v1"

// Peer signs, verifies and answers node-to-node requests for held cards. A request is an HMAC-
// SHA-256-signed JSON body (key derived from the tenant's peer secret); an answer is sealed
// with AES-256-GCM (key derived from the same secret, bound to the request's nonce and
// operation). A request older or newer than MaxSkew, or whose nonce was seen, is refused.
type Peer struct {
	Keys PeerKeys
	// Node names this node in the requests it signs.
	Node    string
	Now     func() time.Time
	Rand    io.Reader
	MaxSkew time.Duration

	replay nodeauth.Replay
}

func (p *Peer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Peer) rand() io.Reader {
	if p.Rand != nil {
		return p.Rand
	}
	return rand.Reader
}

// keys derives the MAC and reply keys of a tenant.
func (p *Peer) keys(ctx context.Context, tenantID string) (mac, reply []byte, err error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if mac, err = nodeauth.Derive(ctx, p.Keys, tenantID, "parley/cardform/peer/mac/v1"); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrPeerAuth, err)
	}
	if reply, err = nodeauth.Derive(ctx, p.Keys, tenantID, "parley/cardform/peer/reply/v1"); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrPeerAuth, err)
	}
	return mac, reply, nil
}

// Sign fills req's Node, Time and Nonce and returns its body and signature header value.
func (p *Peer) Sign(ctx context.Context, req PeerRequest) (PeerRequest, []byte, string, error) {
	mac, _, err := p.keys(ctx, req.Tenant)
	if err != nil {
		return req, nil, "", err
	}
	nonce, err := nodeauth.NewNonce(p.rand())
	if err != nil {
		return req, nil, "", err
	}
	req.Node, req.Time, req.Nonce = p.Node, p.now().Unix(), nonce
	body, err := json.Marshal(req)
	if err != nil {
		return req, nil, "", err
	}
	return req, body, nodeauth.Signature(mac, peerDomain, body), nil
}

// Verify authenticates a received request: its signature under the tenant's key, its time
// within MaxSkew and a nonce not seen before. Every failure wraps ErrPeerAuth.
func (p *Peer) Verify(ctx context.Context, body []byte, sig string) (PeerRequest, error) {
	var req PeerRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return PeerRequest{}, fmt.Errorf("%w: malformed request", ErrPeerAuth)
	}
	mac, _, err := p.keys(ctx, req.Tenant)
	if err != nil {
		return PeerRequest{}, err
	}
	if !nodeauth.Check(mac, peerDomain, body, sig) {
		return PeerRequest{}, fmt.Errorf("%w: bad signature", ErrPeerAuth)
	}
	switch req.Op {
	case OpView, OpReveal, OpPurge:
	default:
		return PeerRequest{}, fmt.Errorf("%w: unknown operation", ErrPeerAuth)
	}
	if err := p.replay.Admit(p.now(), p.MaxSkew, req.Time, req.Tenant, req.Nonce); err != nil {
		return PeerRequest{}, fmt.Errorf("%w: %w", ErrPeerAuth, err)
	}
	return req, nil
}

// replyAAD binds a reply to its request.
func replyAAD(req PeerRequest) []byte {
	return []byte("parley/cardform/reply/v1\x00" + string(req.Op) + "\x00" + req.Tenant + "\x00" + req.Request + "\x00" + req.Nonce)
}

// Answer runs a verified request against s and returns the sealed reply: the Masked card for
// OpView, the full card for OpReveal, nothing for OpPurge. Store errors (ErrNotFound,
// ErrExpired, ErrForbidden) are returned as they are, for the transport to map.
func (p *Peer) Answer(ctx context.Context, s *Store, req PeerRequest) ([]byte, error) {
	_, key, err := p.keys(ctx, req.Tenant)
	if err != nil {
		return nil, err
	}
	var arr [512]byte
	var plain []byte
	switch req.Op {
	case OpView:
		mode, err := pan.ParseMode(req.Mode)
		if err != nil {
			return nil, fmt.Errorf("%w: unknown masking mode", ErrPeerAuth)
		}
		m, h, err := s.View(req.Key(), req.Agent, mode)
		if err != nil {
			return nil, err
		}
		if plain, err = json.Marshal(peerView{Card: m, HeldUntil: h.HeldUntil.Unix()}); err != nil {
			return nil, err
		}
	case OpReveal:
		r, _, err := s.Reveal(req.Key(), req.Agent)
		if err != nil {
			return nil, err
		}
		plain = r.d.appendJSON(arr[:0])
		r.Wipe()
	case OpPurge:
		if h, ok := s.Holding(req.Key()); ok && h.Agent != req.Agent {
			return nil, ErrForbidden
		}
		if !s.Purge(req.Key()) {
			return nil, ErrNotFound
		}
		plain = []byte("{}")
	}
	defer func() { clear(plain); clear(arr[:]) }()
	return p.seal(key, replyAAD(req), plain)
}

// peerView is the plaintext of an OpView reply.
type peerView struct {
	Card      Masked `json:"card"`
	HeldUntil int64  `json:"held_until"`
}

func (p *Peer) seal(key, aad, plain []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plain)+gcm.Overhead())
	if _, err := io.ReadFull(p.rand(), out); err != nil {
		return nil, err
	}
	return gcm.Seal(out, out, plain, aad), nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// open decrypts a reply to req into a buffer the caller zeroes.
func (p *Peer) open(ctx context.Context, req PeerRequest, reply []byte) ([]byte, error) {
	_, key, err := p.keys(ctx, req.Tenant)
	if err != nil {
		return nil, err
	}
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(reply) < gcm.NonceSize()+gcm.Overhead() {
		return nil, ErrPeerReply
	}
	plain, err := gcm.Open(nil, reply[:gcm.NonceSize()], reply[gcm.NonceSize():], replyAAD(req))
	if err != nil {
		return nil, ErrPeerReply
	}
	return plain, nil
}

// OpenView reads the reply to an OpView request.
func (p *Peer) OpenView(ctx context.Context, req PeerRequest, reply []byte) (Masked, time.Time, error) {
	plain, err := p.open(ctx, req, reply)
	if err != nil {
		return Masked{}, time.Time{}, err
	}
	var v peerView
	if err := json.Unmarshal(plain, &v); err != nil {
		return Masked{}, time.Time{}, ErrPeerReply
	}
	return v.Card, time.Unix(v.HeldUntil, 0).UTC(), nil
}

// OpenReveal reads the reply to an OpReveal request into a Reveal the caller wipes.
func (p *Peer) OpenReveal(ctx context.Context, req PeerRequest, reply []byte) (*Reveal, error) {
	plain, err := p.open(ctx, req, reply)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	r := &Reveal{}
	if err := decode(plain, &r.d, true); err != nil {
		r.Wipe()
		return nil, ErrPeerReply
	}
	if b, ok := brandOf(r.d.number[:r.d.nlen]); ok {
		r.d.brand = b
	}
	return r, nil
}

// OpenPurge reads the reply to an OpPurge request.
func (p *Peer) OpenPurge(ctx context.Context, req PeerRequest, reply []byte) error {
	plain, err := p.open(ctx, req, reply)
	if err != nil {
		return err
	}
	if string(plain) != "{}" {
		return ErrPeerReply
	}
	return nil
}

// PeerError maps a store error to the status word a transport sends back, and back again; a
// transport need not know the sentinels.
func PeerError(err error) string {
	switch {
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case errors.Is(err, ErrPeerAuth):
		return "unauthenticated"
	}
	return "failed"
}

// PeerErrorOf is PeerError's inverse.
func PeerErrorOf(word string) error {
	switch word {
	case "not_found":
		return ErrNotFound
	case "expired":
		return ErrExpired
	case "forbidden":
		return ErrForbidden
	case "unauthenticated":
		return ErrPeerAuth
	}
	return ErrPeerReply
}
