package retention

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
)

// HoldKind is what a legal hold covers.
type HoldKind string

// The kinds of legal hold.
const (
	// HoldConversation keeps one conversation (its transcript and files).
	HoldConversation HoldKind = "conversation"
	// HoldVisitor keeps everything of one visitor: conversations, offline messages, tracking data.
	HoldVisitor HoldKind = "visitor"
	// HoldOrganisation suspends every deletion of the organisation's data.
	HoldOrganisation HoldKind = "organisation"
)

// MaxReason is the longest reason a hold or its release takes, in characters.
const MaxReason = 500

// Hold is an active (or released) legal hold.
type Hold struct {
	ID            string
	Kind          HoldKind
	TargetID      string
	Reason        string
	PlacedBy      string
	PlacedAt      time.Time
	ReleasedBy    string
	ReleasedAt    *time.Time
	ReleaseReason string
}

func (r holdRow) hold() Hold {
	return Hold{ID: r.ID, Kind: HoldKind(r.Kind), TargetID: r.TargetID, Reason: r.Reason, PlacedBy: r.PlacedBy,
		PlacedAt: r.PlacedAt, ReleasedBy: r.ReleasedBy, ReleasedAt: r.ReleasedAt, ReleaseReason: r.ReleaseReason}
}

// Holds returns the organisation's active legal holds, newest first.
func (s *Service) Holds(ctx context.Context, tenantID string) ([]Hold, error) {
	rows, err := s.store.activeHolds(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]Hold, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.hold())
	}
	return out, nil
}

// HoldOn returns the active hold of the kind on target, or ErrNotFound.
func (s *Service) HoldOn(ctx context.Context, tenantID string, k HoldKind, targetID string) (Hold, error) {
	r, err := s.store.activeHold(ctx, tenantID, string(k), targetID)
	return r.hold(), err
}

// checkReason trims a reason and refuses an empty, overlong or card-bearing one.
func (s *Service) checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > MaxReason || !utf8.ValidString(reason) || strings.ContainsAny(reason, "\x00") {
		return "", ErrReason
	}
	if s.cfg.HasCard(reason) {
		return "", ErrCardNumber
	}
	return reason, nil
}

// validID accepts the ids Parley generates (UUIDs) and nothing longer than 64 characters.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// PlaceHold places a legal hold, audited as legal_hold.place with its reason. The target must
// be the organisation's: a conversation, a visitor it has or had, or (kind organisation) itself,
// whatever targetID says. A second active hold on the same target is ErrHoldExists.
func (s *Service) PlaceHold(ctx context.Context, a Actor, k HoldKind, targetID, reason string) (Hold, error) {
	targetID = strings.TrimSpace(targetID)
	switch k {
	case HoldOrganisation:
		targetID = a.TenantID
	case HoldConversation:
		if !validID(targetID) {
			return Hold{}, ErrNotFound
		}
		if _, err := s.store.conversation(ctx, a.TenantID, targetID); err != nil {
			return Hold{}, err
		}
	case HoldVisitor:
		if !validID(targetID) {
			return Hold{}, ErrNotFound
		}
		if ok, err := s.store.visitorKnown(ctx, a.TenantID, targetID); err != nil {
			return Hold{}, err
		} else if !ok {
			return Hold{}, ErrNotFound
		}
	default:
		return Hold{}, ErrHoldKind
	}
	reason, err := s.checkReason(reason)
	if err != nil {
		return Hold{}, err
	}
	if _, err := s.store.activeHold(ctx, a.TenantID, string(k), targetID); err == nil {
		return Hold{}, ErrHoldExists
	} else if !errors.Is(err, ErrNotFound) {
		return Hold{}, err
	}
	r := holdRow{ID: uuid.Must(uuid.NewV7()).String(), TenantID: a.TenantID, Kind: string(k), TargetID: targetID,
		Reason: reason, PlacedBy: a.UserID, PlacedAt: s.now()}
	err = s.tx(ctx, a.TenantID, func(tx *gorm.DB) error {
		if err := s.store.in(tx).addHold(ctx, r); err != nil {
			return err
		}
		ev := s.event(a, audit.ActionLegalHoldPlace, "legal_hold", r.ID, map[string]string{"kind": string(k), "target_id": targetID})
		ev.Reason = reason
		return s.cfg.Audit.Append(ctx, tx, ev)
	})
	if err != nil {
		// Two requests placing the same hold at once: the unique index keeps one.
		if _, e := s.store.activeHold(ctx, a.TenantID, string(k), targetID); e == nil {
			return Hold{}, ErrHoldExists
		}
		return Hold{}, err
	}
	return r.hold(), nil
}

// ReleaseHold lifts an active hold, audited as legal_hold.release with its reason. A hold that is
// not the organisation's, or no longer active, is ErrNotFound.
func (s *Service) ReleaseHold(ctx context.Context, a Actor, holdID, reason string) (Hold, error) {
	if !validID(holdID) {
		return Hold{}, ErrNotFound
	}
	r, err := s.store.hold(ctx, a.TenantID, holdID)
	if err != nil {
		return Hold{}, err
	}
	if r.ReleasedAt != nil {
		return Hold{}, ErrNotFound
	}
	if reason, err = s.checkReason(reason); err != nil {
		return Hold{}, err
	}
	now := s.now()
	r.ReleasedBy, r.ReleasedAt, r.ReleaseReason = a.UserID, &now, reason
	err = s.tx(ctx, a.TenantID, func(tx *gorm.DB) error {
		ok, err := s.store.in(tx).release(ctx, r)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		ev := s.event(a, audit.ActionLegalHoldRelease, "legal_hold", r.ID, map[string]string{"kind": r.Kind, "target_id": r.TargetID})
		ev.Reason = reason
		return s.cfg.Audit.Append(ctx, tx, ev)
	})
	if err != nil {
		return Hold{}, err
	}
	return r.hold(), nil
}

// ConversationHeld reports whether the conversation is under legal hold: its own, its visitor's
// or the organisation's. The transcript module takes it as its HoldChecker.
func (s *Service) ConversationHeld(ctx context.Context, tenantID, conversationID string) (bool, error) {
	c, err := s.store.conversation(ctx, tenantID, conversationID)
	if err != nil {
		return false, err
	}
	h, err := s.holdsOf(ctx, tenantID)
	if err != nil {
		return false, err
	}
	return h.org || h.conversations[c.ID] || h.visitors[c.VisitorID], nil
}

// heldSet is an organisation's active holds, by what they cover.
type heldSet struct {
	org           bool
	conversations map[string]bool
	visitors      map[string]bool
}

func (h heldSet) exclusions() exclusions {
	var ex exclusions
	for id := range h.conversations {
		ex.Conversations = append(ex.Conversations, id)
	}
	for id := range h.visitors {
		ex.Visitors = append(ex.Visitors, id)
	}
	return ex
}

func (s *Service) holdsOf(ctx context.Context, tenantID string) (heldSet, error) {
	rows, err := s.store.activeHolds(ctx, tenantID)
	if err != nil {
		return heldSet{}, err
	}
	h := heldSet{conversations: map[string]bool{}, visitors: map[string]bool{}}
	for _, r := range rows {
		switch HoldKind(r.Kind) {
		case HoldOrganisation:
			h.org = true
		case HoldConversation:
			h.conversations[r.TargetID] = true
		case HoldVisitor:
			h.visitors[r.TargetID] = true
		}
	}
	return h, nil
}
