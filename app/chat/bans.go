package chat

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/sanitize"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
)

// Ban kinds.
const (
	BanIP      = "ip"
	BanCIDR    = "cidr"
	BanVisitor = "visitor"
)

// Ban is one entry of a tenant's visitor ban list.
type Ban struct {
	ID        string     `gorm:"primaryKey" json:"id"`
	TenantID  string     `json:"-"`
	Kind      string     `json:"kind"`
	Value     string     `json:"value"`
	Reason    string     `json:"reason"`
	ExpiresAt *time.Time `json:"expires_at"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
}

// TableName is the visitor_bans table.
func (Ban) TableName() string { return "visitor_bans" }

// BanInput is a new ban.
type BanInput struct {
	// Kind is BanIP, BanCIDR or BanVisitor.
	Kind string `json:"kind"`
	// Value is an IP address, a network prefix or a visitor id (ParseBanValue); stored in clear,
	// so one that holds a card number is refused, not masked.
	Value string `json:"value"`
	// Reason is free text: card numbers in it are masked to their last four digits.
	Reason    string     `json:"reason"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// ErrBanExists means the tenant already bans that value.
var ErrBanExists = errors.New("chat: ban already exists")

// maxBanValue bounds a ban value before it is parsed (the longest IPv6 prefix is 43 bytes).
const maxBanValue = 64

// ParseBanValue checks a ban value of kind and returns its canonical form: for BanIP an IP
// address without zone (IPv4-mapped IPv6 unmapped), for BanCIDR a network prefix without zone,
// its host bits cleared, for BanVisitor a visitor id (a UUID, see visitor.ParseID). A value that
// holds a card number is refused with a CardNumberError for field "value", anything else that
// does not parse with an InvalidError for "value" (or "kind" for an unknown kind). The value is
// stored in clear, so nothing else is accepted.
func ParseBanValue(kind, value string) (string, error) {
	if err := noCardNumber("value", value); err != nil {
		return "", err
	}
	if len(value) > maxBanValue {
		value = "" // refused below with the kind's message
	}
	switch kind {
	case BanIP:
		a, err := netip.ParseAddr(value)
		if err != nil || a.Zone() != "" {
			return "", invalid("value", "Enter an IP address.")
		}
		return a.Unmap().String(), nil
	case BanCIDR:
		p, err := netip.ParsePrefix(value)
		if err != nil || p.Addr().Zone() != "" {
			return "", invalid("value", "Enter a network such as 203.0.113.0/24.")
		}
		return p.Masked().String(), nil
	case BanVisitor:
		id, err := visitor.ParseID(value)
		if err != nil {
			return "", invalid("value", "Enter a visitor id.")
		}
		return id, nil
	}
	return "", invalid("kind", "The kind is ip, cidr or visitor.")
}

// cleanBan checks a ban and returns its canonical value. The reason is free text: card numbers
// in it are masked to their last four digits (and by the tenant's redaction rules), not refused.
func (s *Service) cleanBan(ctx context.Context, tenantID string, in BanInput) (Ban, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	b := Ban{Kind: in.Kind}
	var err error
	if b.Value, err = ParseBanValue(in.Kind, in.Value); err != nil {
		return Ban{}, err
	}
	reason, err := sanitize.Optional(in.Reason, sanitize.Limits{MaxRunes: 500})
	if err != nil {
		return Ban{}, invalid("reason", "The reason is at most 500 characters.")
	}
	if b.Reason, err = s.maskText(ctx, tenantID, pan.MaskLast4(reason)); err != nil {
		return Ban{}, err
	}
	if in.ExpiresAt != nil {
		t := in.ExpiresAt.UTC()
		if !t.After(s.now()) {
			return Ban{}, invalid("expires_at", "The expiry must be in the future.")
		}
		b.ExpiresAt = &t
	}
	return b, nil
}

// AddBan adds a ban to the tenant's list (audited).
func (s *Service) AddBan(ctx context.Context, p *identity.Principal, in BanInput, o Origin) (Ban, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	b, err := s.cleanBan(ctx, p.TenantID, in)
	if err != nil {
		return Ban{}, err
	}
	b.ID, b.TenantID, b.CreatedBy, b.CreatedAt = uuid.Must(uuid.NewV7()).String(), p.TenantID, p.UserID, s.now().UTC()
	ev := s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionBanListChange, b.ID, o,
		map[string]string{"change": "add", "kind": b.Kind})
	ev.Target = audit.Target{Kind: "visitor_ban", ID: b.ID}
	if err := s.store.addBan(ctx, b, ev); err != nil {
		return Ban{}, err
	}
	return b, nil
}

// RemoveBan deletes a ban (audited).
func (s *Service) RemoveBan(ctx context.Context, p *identity.Principal, id string, o Origin) error {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	ev := s.auditEvent(p.TenantID, userActor(p.UserID), audit.ActionBanListChange, id, o, map[string]string{"change": "remove"})
	ev.Target = audit.Target{Kind: "visitor_ban", ID: id}
	return s.store.removeBan(ctx, p.TenantID, id, ev)
}

// Bans lists the tenant's bans, expired ones included, newest first.
func (s *Service) Bans(ctx context.Context, tenantID string) ([]Ban, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	return s.store.bans(ctx, tenantID)
}

// Banned reports whether a visitor id or source address is on the tenant's ban list now.
func (s *Service) Banned(ctx context.Context, tenantID, visitorID, ip string) (bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	addr, addrErr := netip.ParseAddr(ip)
	if addrErr == nil {
		addr = addr.Unmap()
	}
	bans, err := s.store.activeBans(ctx, tenantID, visitorID, addr.String(), s.now().UTC())
	if err != nil {
		return false, err
	}
	for _, b := range bans {
		switch b.Kind {
		case BanVisitor:
			if visitorID != "" && b.Value == visitorID {
				return true, nil
			}
		case BanIP:
			if addrErr == nil && b.Value == addr.String() {
				return true, nil
			}
		case BanCIDR:
			if p, err := netip.ParsePrefix(b.Value); err == nil && addrErr == nil && p.Contains(addr) {
				return true, nil
			}
		}
	}
	return false, nil
}
