package cardform

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/secureform"
	"github.com/parleyhq/parley/migrations"
)

// tokenPrefix marks a form token.
const tokenPrefix = "cf_"

// FormPath is the secure form page.
const FormPath = "/card-form/v1/form"

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// wellFormed reports whether s looks like a form token (so a malformed one costs no query).
func wellFormed(token string) bool {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) != len(tokenPrefix)+43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(token[len(tokenPrefix):])
	return err == nil
}

// Opened is the answer to a visitor opening a form: the page to show (the token is in its
// fragment, which browsers never send to a server) and until when it can be submitted.
type Opened struct {
	FormURL   string    `json:"form_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Open issues a single-use form token for a request of the visitor's open conversation; opening
// again replaces the token. The visitor is authenticated by the chat (site key and visitor
// token); a request of another conversation is ErrNotFound.
func (s *Service) Open(ctx context.Context, siteKey, visitorToken, convID, id string) (Opened, error) {
	site, c, err := s.chat.VisitorConversation(ctx, siteKey, visitorToken, convID)
	if errors.Is(err, chat.ErrNotFound) {
		return Opened{}, ErrNotFound
	}
	if err != nil {
		return Opened{}, err
	}
	ctx = migrations.WithTenant(ctx, site.TenantID)
	r, err := s.row(ctx, s.db, site.TenantID, c.ID, id)
	if err != nil {
		return Opened{}, err
	}
	if err := s.submittable(ctx, r, c); err != nil {
		return Opened{}, err
	}
	var raw [32]byte
	if _, err := io.ReadFull(s.rand, raw[:]); err != nil {
		return Opened{}, err
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	h := hashToken(token)
	res := s.db.WithContext(ctx).Model(&requestRow{}).Where("id = ? AND status = ?", r.ID, StatusRequested).Update("token_hash", h)
	if res.Error != nil {
		return Opened{}, res.Error
	}
	if res.RowsAffected == 0 {
		return Opened{}, ErrUsed
	}
	q := url.Values{"site": {site.SiteKey}, "c": {c.ID}, "r": {r.ID}}
	return Opened{FormURL: FormPath + "?" + q.Encode() + "#" + token, ExpiresAt: r.ExpiresAt.UTC()}, nil
}

// submittable checks that a request can still take a form.
func (s *Service) submittable(ctx context.Context, r requestRow, c chat.Conversation) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	switch {
	case r.Status == StatusRequested && !s.now().Before(r.ExpiresAt):
		_, _ = s.closeRow(context.WithoutCancel(ctx), s.db, r.ID, StatusExpired, StatusRequested)
		return ErrExpired
	case r.Status == StatusExpired:
		return ErrExpired
	case r.Status != StatusRequested:
		return ErrUsed
	case !c.Open():
		return ErrEnded
	}
	return nil
}

// Receipt is what the visitor sees after submitting: the brand and last four digits.
type Receipt struct {
	Status string `json:"status"`
	Brand  string `json:"brand"`
	Last4  string `json:"last4"`
}

// Submit takes a visitor's form: body is the form's JSON, token its form token. The card is
// validated, forwarded to the tokenization endpoint when one is configured, and held in this
// node's memory for the requesting agent; only the request's state changes in the database
// (audited card.form.submit without the data). The caller zeroes body afterwards.
func (s *Service) Submit(ctx context.Context, siteKey, convID, id, token string, body []byte, o Origin) (Receipt, error) {
	if !wellFormed(token) {
		return Receipt{}, ErrNotFound
	}
	r, err := s.rowByToken(ctx, hashToken(token))
	if err != nil {
		return Receipt{}, err
	}
	ctx = migrations.WithTenant(ctx, r.TenantID)
	if r.ConversationID != convID || r.ID != id {
		return Receipt{}, ErrNotFound
	}
	site, err := s.sites.SiteByKey(ctx, siteKey)
	if errors.Is(err, tenant.ErrNotFound) {
		return Receipt{}, ErrNotFound
	}
	if err != nil {
		return Receipt{}, err
	}
	c, err := s.conversation(ctx, r.TenantID, convID)
	if err != nil {
		return Receipt{}, err
	}
	if c.SiteID != site.ID || site.TenantID != r.TenantID {
		return Receipt{}, ErrNotFound
	}
	if err := s.submittable(ctx, r, c); err != nil {
		return Receipt{}, err
	}
	now := s.now()
	card, err := secureform.ParseSubmission(body, now)
	if err != nil {
		return Receipt{}, err
	}
	rec := Receipt{Status: StatusSubmitted, Brand: card.Brand().String(), Last4: card.Last4()}
	h, err := s.cards.Put(ctx, r.key(), r.RequestedBy, card)
	if err != nil {
		return Receipt{}, err
	}
	err = migrations.Transaction(s.db.WithContext(ctx), func(tx *gorm.DB) error {
		held := h.HeldUntil.UTC()
		res := tx.Model(&requestRow{}).Where("id = ? AND status = ? AND token_hash = ? AND expires_at > ?",
			r.ID, StatusRequested, hashToken(token), now.UTC()).
			Updates(map[string]any{"status": StatusSubmitted, "submitted_at": now.UTC(), "held_until": held,
				"holder_node": s.instance, "holder_url": s.nodeURL})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrUsed
		}
		// Whether the card went on to the payment service ("tokenized" is a word the audit log
		// refuses as a key).
		details := map[string]string{"request_id": r.ID, "brand": rec.Brand, "forwarded": "false"}
		if h.Tokenized {
			details["forwarded"] = "true"
		}
		return s.audit.Append(ctx, tx, s.event(r.TenantID, audit.Actor{ID: c.VisitorID, Kind: audit.ActorVisitor},
			audit.ActionCardFormSubmit, c.ID, o, details))
	})
	if err != nil {
		s.cards.Purge(r.key())
		return Receipt{}, err
	}
	if err := s.chat.Announce(ctx, r.TenantID, c.ID, chat.Actor{Kind: chat.SenderVisitor, ID: c.VisitorID},
		chat.EventCardFormSubmitted, map[string]string{"request_id": r.ID}); err != nil {
		s.log.WarnContext(ctx, "announce card form submission", "request_id", r.ID, "cause", err.Error())
	}
	return rec, nil
}
