package chat

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/redaction"
	"github.com/parleyhq/parley/app/sanitize"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// PostResult is the answer to a message.
type PostResult struct {
	ConversationID string
	Seq            int64
	// VisitorSeq is Seq in the visitor's view (0 for a whisper): what a visitor's ack carries.
	VisitorSeq int64
	Duplicate  bool
	// deliver hands the message's delivery to its conversation's queue; nil for a duplicate.
	deliver func()
}

// Deliver delivers the stored message: the fan-out of its event to every receiver and, when it
// completed a card number split over the sender's messages, the amend of the earlier ones. It
// hands them to the conversation's delivery queue and returns at once. The transport calls it
// exactly once, after it has written the sender's ack — or failed to, for the message is stored
// either way and must reach the others and be amended. A duplicate delivers nothing.
func (r PostResult) Deliver() {
	if r.deliver != nil {
		r.deliver()
	}
}

// Post stores a message of actor in a conversation and returns once the transaction that holds
// it committed (the group commit, store_batch.go), before anyone receives it: the caller acks,
// then calls the result's Deliver. A message whose key the sender already used is not stored
// again: its original seq comes back with Duplicate set. The duplicate check costs nothing on
// the hot path: the unique index on (conversation, sender, key) refuses the second insert, and
// only a refused write looks the key up.
func (s *Service) Post(ctx context.Context, tenantID, convID string, a Actor, key, text, ip string) (PostResult, error) {
	p, err := s.Submit(ctx, tenantID, convID, a, key, text, ip)
	if err != nil {
		return PostResult{}, err
	}
	return p.Wait()
}

// Pending is a message handed to the group commit: Wait returns what Post would have once its
// batch committed. A connection may read its sender's next frames meanwhile; its messages keep
// the order they were submitted in (batches commit one after another, and a batch appends in
// submission order), so their acks do too.
type Pending struct {
	s        *Service
	ctx      context.Context
	tenantID string
	convID   string
	a        Actor
	key      string
	masked   string
	pol      *redaction.Policy
	previous []pan.Fragment
	since    time.Time
	req      *appendReq
	// res and err answer a message decided without a batch (a duplicate found at once).
	res  PostResult
	err  error
	done bool
}

// closedChan is the Done of a Pending that never waited for a batch.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Done is closed once Wait would not block.
func (p *Pending) Done() <-chan struct{} {
	if p.req == nil {
		return closedChan
	}
	return p.req.done
}

// Wait returns the message's result once its batch committed. It is called once, by one
// goroutine.
func (p *Pending) Wait() (PostResult, error) {
	if p.done || p.req == nil {
		return p.res, p.err
	}
	<-p.req.done
	p.done = true
	s, r := p.s, p.req
	if r.err != nil {
		// A retry (same key) is refused by the unique index, or by the state the conversation
		// reached since (ended): either way the stored original answers.
		p.res, p.err = s.duplicateOr(p.ctx, p.convID, p.a, p.key, r.err)
		return p.res, p.err
	}
	ctx, tenantID, convID, a, pol, previous := p.ctx, p.tenantID, p.convID, p.a, p.pol, p.previous
	ev := wire(r.row, p.masked, &protocol.Sender{Kind: a.Kind, ID: a.ID, Name: a.Name}, nil)
	deliver := func() {
		s.later(ctx, convID, func(ctx context.Context) {
			s.publish(ev)
			if len(previous) == 0 {
				return
			}
			if err := s.amend(ctx, pol, tenantID, convID, a, previous); err != nil {
				s.log.ErrorContext(ctx, "amend split card number", "conversation", convID, "error", err.Error())
			}
		})
	}
	p.res = s.stored(a, p.since, PostResult{ConversationID: convID, Seq: r.row.Seq, VisitorSeq: r.row.visitorSeq(), deliver: deliver})
	return p.res, nil
}

// Submit checks, sanitises and masks a message and hands it to the group commit without waiting
// for it (Post waits). A refusal known before the batch — a card number in the key, an invalid
// key, an empty or long text, a throttle — is the error; one decided in the batch comes from
// Wait.
func (s *Service) Submit(ctx context.Context, tenantID, convID string, a Actor, key, text, ip string) (*Pending, error) {
	since := s.now()
	ctx = migrations.WithTenant(ctx, tenantID)
	// Keys are stored in clear (the idempotency index): one that holds a card number, well-formed
	// or not, is refused as card_number_not_allowed before anything else looks at it, so it
	// reaches neither the database nor the split-number detector.
	if err := noCardNumber("key", key); err != nil {
		return nil, err
	}
	if !protocol.ValidKey(key) {
		return nil, invalid("key", "The message key must be 1 to 64 characters [A-Za-z0-9._:-].")
	}
	decided := func(res PostResult, err error) (*Pending, error) {
		if err != nil {
			return nil, err
		}
		return &Pending{res: res}, nil
	}
	clean, err := sanitize.Text(text, sanitize.Message)
	switch {
	case errors.Is(err, sanitize.ErrEmpty):
		return decided(s.duplicateOr(ctx, convID, a, key, ErrEmpty))
	case errors.Is(err, sanitize.ErrTooLong):
		return decided(s.duplicateOr(ctx, convID, a, key, ErrTooLong))
	}
	if err = s.allowMessage(ctx, tenantID, a, ip); err != nil {
		return decided(s.duplicateOr(ctx, convID, a, key, err))
	}
	masked, pol, previous, err := s.maskMessage(ctx, tenantID, convID, a.ID, key, clean)
	if err != nil {
		return nil, err
	}
	r := s.store.submitMessage(tenantID, convID,
		newEvent{Kind: KindMessage, SenderKind: a.Kind, SenderID: a.ID, Key: key, Audience: a.audience()},
		func(st seqState) error { return mayWrite(st, a) },
		s.sealWith(ctx, tenantID, convID, vault.FieldMessageBody, masked))
	return &Pending{s: s, ctx: ctx, tenantID: tenantID, convID: convID, a: a, key: key, masked: masked, pol: pol,
		previous: previous, since: since, req: r}, nil
}

// duplicateOr answers a refused message: when the sender's key is already stored the original
// seq is acked as a duplicate, otherwise the refusal stands.
func (s *Service) duplicateOr(ctx context.Context, convID string, a Actor, key string, refusal error) (PostResult, error) {
	prev, err := s.store.eventByKey(ctx, convID, a.ID, key)
	if err == nil && prev.Audience != a.audience() {
		return PostResult{}, invalid("key", "The key belongs to another message.")
	}
	if err == nil {
		return PostResult{ConversationID: convID, Seq: prev.Seq, VisitorSeq: prev.visitorSeq(), Duplicate: true}, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return PostResult{}, err
	}
	if migrations.IsUniqueViolation(refusal) || errors.Is(refusal, errKeyTaken) {
		return PostResult{}, fmt.Errorf("chat: message key conflict: %w", refusal)
	}
	return PostResult{}, refusal
}

// stillOpen refuses a write into a conversation that has ended or was missed (ErrEnded).
func stillOpen(st seqState) error {
	if st.Status == StatusEnded || st.Status == StatusMissed {
		return ErrEnded
	}
	return nil
}

// mayWrite refuses writes into closed conversations and by agents not handling them (a
// supervisor who joined writes like the agent; a whisper goes into any open conversation), and
// a supervisor's write into a conversation that left the department they were checked in.
func mayWrite(st seqState, a Actor) error {
	if err := stillOpen(st); err != nil {
		return err
	}
	switch a.Kind {
	case SenderVisitor:
		if st.VisitorID != a.ID {
			return ErrNotFound
		}
	case SenderAgent:
		if (a.Whisper || a.Joined) && (a.Department == nil || deref(st.DepartmentID) != *a.Department) {
			return ErrForbidden // moved since the supervisor's permission was checked
		}
		if a.Whisper {
			return nil // any open conversation; chat.whisper was checked
		}
		if st.Status != StatusActive || (deref(st.AgentID) != a.ID && !a.Joined) {
			return ErrForbidden
		}
	}
	return nil
}

// amend masks the parts of earlier messages that turned out to be a card number split across
// messages: the stored copy is resealed and an amend event tells receivers. It runs on the
// conversation's delivery queue, after the ack of the message that completed the number.
func (s *Service) amend(ctx context.Context, pol *redaction.Policy, tenantID, convID string, a Actor, frags []pan.Fragment) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	byKey := map[string][]pan.Fragment{}
	var keys []string
	for _, f := range frags {
		if _, ok := byKey[f.MessageID]; !ok {
			keys = append(keys, f.MessageID)
		}
		byKey[f.MessageID] = append(byKey[f.MessageID], f)
	}
	sort.Strings(keys)
	for _, key := range keys {
		prev, err := s.store.eventByKey(ctx, convID, a.ID, key)
		if err != nil {
			return err
		}
		body, err := s.open(ctx, tenantID, convID, vault.FieldMessageBody, prev.Seq, prev.Body)
		if err != nil {
			return err
		}
		fixed := s.refit(pol, convID, a.ID, key, body, byKey[key])
		if fixed == body {
			continue
		}
		resealed, err := s.seal(ctx, tenantID, convID, vault.FieldMessageBody, prev.Seq, fixed)
		if err != nil {
			return err
		}
		row, err := s.store.amend(ctx, tenantID, convID, prev.ID, resealed,
			newEvent{Kind: KindAmend, SenderKind: a.Kind, SenderID: a.ID, TargetSeq: prev.Seq},
			s.sealWith(ctx, tenantID, convID, vault.FieldMessageBody, fixed))
		if err != nil {
			return err
		}
		s.publish(wire(row, fixed, &protocol.Sender{Kind: a.Kind, ID: a.ID, Name: a.Name}, nil))
	}
	return nil
}

// Typing relays a typing signal (not stored).
func (s *Service) Typing(ctx context.Context, convID, senderKind string, typing bool) {
	s.hub.Publish(hub.Signal{Topic: hub.ConversationTopic(convID), Kind: hub.KindTyping, Conversation: convID,
		SenderKind: senderKind, Typing: typing})
}

// VisitorTyping relays a visitor's typing signal, within the visitor's message budget (a signal
// over it is dropped).
func (s *Service) VisitorTyping(ctx context.Context, visitorID, convID string, typing bool) {
	if ok, _ := s.visitorMsgs.Allow("typing:" + visitorID); ok {
		s.Typing(ctx, convID, SenderVisitor, typing)
	}
}

// Read records how far a participant has read and relays the receipt. An agent's receipt (only
// the visitor is given those) is relayed only when it reaches an event the visitor sees: reading
// past whispers alone tells the visitor nothing.
func (s *Service) Read(ctx context.Context, tenantID, convID string, a Actor, seq int64) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	moved, before, err := s.store.markRead(ctx, tenantID, convID, a.Kind, a.ID, seq, a.Kind != SenderVisitor)
	if err != nil || !moved {
		return err
	}
	if len(before) > 0 {
		was, err := s.store.visitorSeqAt(ctx, convID, before[0])
		if err != nil {
			return err
		}
		now, err := s.store.visitorSeqAt(ctx, convID, seq)
		if err != nil {
			return err
		}
		if now <= was {
			return nil
		}
	}
	s.hub.Publish(hub.Signal{Topic: hub.ConversationTopic(convID), Kind: hub.KindRead, Conversation: convID,
		SenderKind: a.Kind, Seq: seq})
	return nil
}

// VisitorRead records how far the visitor has read; vseq counts in the visitor's view.
func (s *Service) VisitorRead(ctx context.Context, tenantID, convID string, a Actor, vseq int64) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	if vseq == 0 {
		return nil
	}
	seq, err := s.store.seqOfVisitorSeq(ctx, convID, vseq)
	if err != nil || seq == 0 {
		return err // a seq beyond the log records nothing, as Read does
	}
	return s.Read(ctx, tenantID, convID, a, seq)
}

// Announce appends a system event to an open conversation and delivers it to the visitor and
// the agents like any other event. It fails with ErrEnded once the conversation has ended.
func (s *Service) Announce(ctx context.Context, tenantID, convID string, a Actor, event string, data map[string]string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	row, err := s.store.append(ctx, tenantID, convID, newEvent{Kind: KindSystem, SenderKind: a.Kind, SenderID: a.ID,
		Event: event, Data: data}, stillOpen, nil)
	if err != nil {
		return err
	}
	s.publish(wire(row, "", &protocol.Sender{Kind: a.Kind, ID: a.ID, Name: a.Name}, nil))
	return nil
}
