package chat

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// invitationRow is one row of chat_invitations; Message is ciphertext (scope: the invitation).
type invitationRow struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	SiteID         string
	VisitorID      string
	AgentID        string
	Message        string
	Status         string
	ConversationID *string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	DecidedAt      *time.Time
}

func (invitationRow) TableName() string { return "chat_invitations" }

// errInvitationTaken means a conditional update found the invitation no longer pending.
var errInvitationTaken = errors.New("chat: invitation no longer pending")

// invitation returns one invitation of the tenant.
func (st *store) invitation(ctx context.Context, tenantID, id string) (invitationRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r invitationRow
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrNotFound
	}
	return r, err
}

// pendingInvitation returns the visitor's newest pending invitation on a site that has not
// expired by now (ErrNotFound when there is none).
func (st *store) pendingInvitation(ctx context.Context, tenantID, siteID, visitorID string, now time.Time) (invitationRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r invitationRow
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND site_id = ? AND visitor_id = ? AND status = ? AND expires_at > ?",
		tenantID, siteID, visitorID, "pending", now).Order("created_at DESC").Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrNotFound
	}
	return r, err
}

// createInvitation inserts an invitation with its audit record.
func (st *store) createInvitation(ctx context.Context, r invitationRow, rec audit.Event) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	return st.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		return st.audit.Append(ctx, tx, rec)
	})
}

// decideInvitation moves a pending invitation to status (declined or expired) with its audit
// record; errInvitationTaken when it was no longer pending.
func (st *store) decideInvitation(ctx context.Context, r invitationRow, status string, rec audit.Event) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	now := st.now().UTC()
	return st.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&invitationRow{}).Where("tenant_id = ? AND id = ? AND status = ?", r.TenantID, r.ID, "pending").
			Updates(map[string]any{"status": status, "decided_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errInvitationTaken
		}
		return st.audit.Append(ctx, tx, rec)
	})
}

// acceptInvitation moves a pending, unexpired invitation to accepted and starts its
// conversation already active with the inviting agent, in one transaction: the conversation, its
// visitor and agent participants, the started and joined events, and the audit records of the
// start, the assignment and the acceptance. errInvitationTaken when it was no longer pending or
// had expired.
func (st *store) acceptInvitation(ctx context.Context, r invitationRow, c Conversation, agentName string, started, joined newEvent, recs []audit.Event) ([]eventRow, error) {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	now := st.now().UTC()
	var rows []eventRow
	err := st.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&invitationRow{}).
			Where("tenant_id = ? AND id = ? AND status = ? AND expires_at > ?", r.TenantID, r.ID, "pending", now).
			Updates(map[string]any{"status": "accepted", "decided_at": now, "conversation_id": c.ID})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errInvitationTaken
		}
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		if err := tx.Create(&participant{ConversationID: c.ID, TenantID: c.TenantID, Kind: SenderVisitor, ParticipantID: c.VisitorID, JoinedAt: now}).Error; err != nil {
			return err
		}
		if err := joinParticipant(ctx, tx, c, SenderAgent, deref(c.AgentID), agentName, now); err != nil {
			return err
		}
		for _, ev := range []newEvent{started, joined} {
			row, err := st.appendEvent(ctx, tx, c.TenantID, c.ID, ev, nil, nil)
			if err != nil {
				return err
			}
			rows = append(rows, row)
		}
		for _, rec := range recs {
			if err := st.audit.Append(ctx, tx, rec); err != nil {
				return err
			}
		}
		return nil
	})
	return rows, err
}

// expiredInvitations lists pending invitations of every tenant that expired before now (the
// sweep runs across tenants).
func (st *store) expiredInvitations(ctx context.Context, now time.Time, limit int) ([]invitationRow, error) {
	var out []invitationRow
	err := st.db.WithContext(ctx).Where("status = ? AND expires_at <= ?", "pending", now).Order("expires_at").Limit(limit).Find(&out).Error
	return out, err
}
