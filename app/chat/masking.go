package chat

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parleyhq/parley/app/redaction"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
)

// Every free text a visitor or an agent gives the chat — messages in both directions, pre-chat
// and survey answers, offline messages, names, e-mail addresses, file names, ban reasons — goes
// through the tenant's policy before it is stored or delivered: card numbers masked in the
// tenant's mode (BIN and last four, or last four only), then the tenant's enabled redaction
// rules (US SSN, IBAN, custom patterns). Card numbers come first so that no rule can leave more
// of a card number readable than the mode allows.

// policy returns the tenant's text policy. A policy that cannot be read refuses the operation
// with the retryable ErrUnavailable: the chat never falls back to storing text unmasked.
func (s *Service) policy(ctx context.Context, tenantID string) (*redaction.Policy, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	p, err := s.policies.For(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("%w: masking policy: %w", ErrUnavailable, err)
	}
	if p == nil || p.Masker == nil || p.Engine == nil {
		return nil, fmt.Errorf("%w: masking policy of tenant %s is incomplete", ErrUnavailable, tenantID)
	}
	return p, nil
}

// maskText applies the tenant's policy to one text that stands alone (no split detection).
func (s *Service) maskText(ctx context.Context, tenantID, text string) (string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if text == "" {
		return "", nil
	}
	p, err := s.policy(ctx, tenantID)
	if err != nil {
		return "", err
	}
	return p.Apply(text), nil
}

// initMasking builds one split detector per masking mode.
func (s *Service) initMasking(o pan.SplitOptions) error {
	if o.Now == nil {
		o.Now = s.now
	}
	s.splits = map[pan.Mode]*pan.SplitDetector{}
	for _, mode := range []pan.Mode{pan.ModeBINLast4, pan.ModeLast4} {
		m, err := pan.NewMasker(pan.Options{Mode: mode})
		if err != nil {
			return err
		}
		d, err := pan.NewSplitDetector(m, o)
		if err != nil {
			return err
		}
		s.splits[mode] = d
	}
	window := o.Window
	if window <= 0 {
		window = pan.DefaultSplitWindow
	}
	s.redacted = &preRedaction{window: window, now: o.Now, max: 4096, items: map[string]preRedacted{}}
	return nil
}

// maskMessage masks one chat message of sender in conversation convID under the tenant's
// policy: card numbers, including one spread over the sender's recent messages, then the
// redaction rules. previous lists the parts of the sender's earlier messages that turned out to
// belong to a card number; amend masks their stored copies.
func (s *Service) maskMessage(ctx context.Context, tenantID, convID, senderID, key, text string) (masked string, p *redaction.Policy, previous []pan.Fragment, err error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	p, err = s.policy(ctx, tenantID)
	if err != nil {
		return "", nil, nil, err
	}
	split := s.splits[p.Mode]
	if split == nil {
		return "", nil, nil, fmt.Errorf("%w: masking mode %s", ErrUnavailable, p.Mode)
	}
	sender := splitSender(convID, senderID)
	cardMasked, res := split.Mask(sender, key, text)
	masked, _ = p.Engine.Apply(cardMasked)
	if masked != cardMasked {
		s.redacted.put(sender+"|"+key, cardMasked)
	}
	return masked, p, res.Previous, nil
}

// refit masks fragments of an earlier message whose stored text is body: the fragments' offsets
// refer to the text before the redaction rules ran, which is remembered when the rules changed
// it.
func (s *Service) refit(p *redaction.Policy, convID, senderID, key, body string, frags []pan.Fragment) string {
	id := splitSender(convID, senderID) + "|" + key
	if before, ok := s.redacted.get(id); ok {
		fixed := p.Masker.MaskFragments(before, frags)
		s.redacted.put(id, fixed)
		out, _ := p.Engine.Apply(fixed)
		return out
	}
	return p.Masker.MaskFragments(body, frags)
}

// forgetConversation drops what the split detectors remember of every sender in a conversation
// — visitor, agents, supervisors who joined or whispered — when it ends.
func (s *Service) forgetConversation(convID string) {
	prefix := convID + "|"
	for _, d := range s.splits {
		d.ForgetPrefix(prefix)
	}
	s.redacted.forget(prefix)
}

func splitSender(convID, senderID string) string { return convID + "|" + senderID }

// preRedaction remembers, for the split window, the text of recent messages as it read before
// the redaction rules changed it. It holds only text whose card numbers are already masked, and
// is bounded: beyond max entries the oldest are dropped.
type preRedaction struct {
	window time.Duration
	now    func() time.Time
	max    int

	mu    sync.Mutex
	items map[string]preRedacted
}

type preRedacted struct {
	text string
	at   time.Time
}

func (c *preRedaction) put(id, text string) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.items) >= c.max {
		c.expire(now)
	}
	if len(c.items) >= c.max {
		var oldest string
		var at time.Time
		for k, v := range c.items {
			if oldest == "" || v.at.Before(at) {
				oldest, at = k, v.at
			}
		}
		delete(c.items, oldest)
	}
	c.items[id] = preRedacted{text: text, at: now}
}

func (c *preRedaction) get(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.items[id]
	if !ok || c.now().Sub(v.at) > c.window {
		return "", false
	}
	return v.text, true
}

func (c *preRedaction) forget(prefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.items {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			delete(c.items, k)
		}
	}
}

// expire drops entries older than the window; the caller holds mu.
func (c *preRedaction) expire(now time.Time) {
	for k, v := range c.items {
		if now.Sub(v.at) > c.window {
			delete(c.items, k)
		}
	}
}
