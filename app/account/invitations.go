package account

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/password"
)

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 72 * time.Hour

// ErrUnknownDepartment means an invitation names a department the tenant does not have.
var ErrUnknownDepartment = errors.New("unknown department")

// ErrInvalidInvitation covers unknown, used and expired invitation links alike.
var ErrInvalidInvitation = errors.New("invitation link is invalid, used or expired")

type invitationRow struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	UserID    string
	TokenHash string
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedBy string
	CreatedAt time.Time
}

func (invitationRow) TableName() string { return "invitations" }

// InviteInput is a new user to invite.
type InviteInput struct {
	// Email and Name are stored in clear: a card number in either is refused (CardNumberError).
	Email, Name, Role string
	// DepartmentID, when set, grants Role in that department only; empty grants it tenant-wide.
	DepartmentID string
}

// Invitation is an issued invitation: the link's token is shown once, to the administrator,
// who hands it over; only its hash is stored.
type Invitation struct {
	User      User
	Token     string
	ExpiresAt time.Time
}

// Invite creates an invited user (no password, cannot sign in) with a role and a one-time link
// with which they choose their password.
func (s *Service) Invite(ctx context.Context, by Actor, in InviteInput) (Invitation, error) {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	email, key, err := CleanEmail(in.Email)
	if err != nil {
		return Invitation{}, err
	}
	name, err := CleanDisplayName(in.Name)
	if err != nil {
		return Invitation{}, err
	}
	if !s.roleKnown(ctx, by.TenantID, in.Role) {
		return Invitation{}, fmt.Errorf("%w %q", ErrUnknownRole, in.Role)
	}
	var dept *string
	if in.DepartmentID != "" {
		if _, err := s.Tenants.Department(ctx, by.TenantID, in.DepartmentID); err != nil {
			if errors.Is(err, tenant.ErrNotFound) {
				return Invitation{}, ErrUnknownDepartment
			}
			return Invitation{}, err
		}
		dept = &in.DepartmentID
	}
	if err := s.checkGrant(ctx, by, in.Role, in.DepartmentID); err != nil {
		return Invitation{}, err
	}
	var raw [32]byte
	if _, err := io.ReadFull(s.rand(), raw[:]); err != nil {
		return Invitation{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.now()
	inv := Invitation{Token: token, ExpiresAt: now.Add(InvitationTTL)}
	err = migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		u := User{
			ID: uuid.Must(uuid.NewV7()).String(), TenantID: by.TenantID, Email: email, EmailKey: key,
			DisplayName: name, Status: StatusInvited,
		}
		st := s.Store.WithTx(tx)
		if err := st.Create(ctx, &u); err != nil {
			return err
		}
		if err := st.Assign(ctx, &RoleAssignment{ID: uuid.Must(uuid.NewV7()).String(), TenantID: by.TenantID, UserID: u.ID, Role: in.Role, DepartmentID: dept}); err != nil {
			return err
		}
		row := invitationRow{ID: uuid.Must(uuid.NewV7()).String(), TenantID: by.TenantID, UserID: u.ID, TokenHash: HashToken(token),
			ExpiresAt: inv.ExpiresAt, CreatedBy: by.UserID, CreatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		inv.User = u
		e := by.event(by.TenantID, ActionUserCreate, Success)
		e.Target = Target{Kind: "user", ID: u.ID}
		e.Reason = "invitation"
		e.Details = map[string]string{"email": email, "role": in.Role, "department_id": in.DepartmentID, "invitation_expires": inv.ExpiresAt.Format(time.RFC3339)}
		return record(ctx, s.Auditor, tx, e)
	})
	if err != nil {
		return Invitation{}, err
	}
	return inv, nil
}

// PendingInvitation is what the invitation page shows.
type PendingInvitation struct {
	TenantID   string
	TenantName string
	Email      string
	ExpiresAt  time.Time
}

// InvitationFor returns the invitation a link token names, if it is still usable.
func (s *Service) InvitationFor(ctx context.Context, token string) (PendingInvitation, error) {
	row, u, err := s.liveInvitation(ctx, s.db(), token)
	if err != nil {
		return PendingInvitation{}, err
	}
	t, err := s.Tenants.ByID(ctx, row.TenantID)
	if err != nil {
		return PendingInvitation{}, err
	}
	return PendingInvitation{TenantID: t.ID, TenantName: t.Name, Email: u.Email, ExpiresAt: row.ExpiresAt}, nil
}

func (s *Service) liveInvitation(ctx context.Context, db *gorm.DB, token string) (invitationRow, User, error) {
	if token == "" || len(token) > 128 {
		return invitationRow{}, User{}, ErrInvalidInvitation
	}
	var row invitationRow
	// Resolution: which tenant an invitation link belongs to (SECURITY.md, the narrow path).
	err := db.WithContext(migrations.AcrossTenants(ctx)).Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", HashToken(token), s.now()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return invitationRow{}, User{}, ErrInvalidInvitation
	}
	if err != nil {
		return invitationRow{}, User{}, err
	}
	u, err := s.Store.WithTx(db).ByID(ctx, row.TenantID, row.UserID)
	if errors.Is(err, ErrNotFound) || (err == nil && u.Status != StatusInvited) {
		return invitationRow{}, User{}, ErrInvalidInvitation
	}
	return row, u, err
}

// AcceptInvitation sets the invited user's chosen password and activates the account; the link
// is spent. The user chose the password, so it need not be changed at first sign-in.
func (s *Service) AcceptInvitation(ctx context.Context, token, newPassword string, o Origin) (User, error) {
	if len(newPassword) > password.MaxBytes {
		return User{}, ErrPasswordTooLong
	}
	row, u, err := s.liveInvitation(ctx, s.db(), token)
	if err != nil {
		return User{}, err
	}
	ctx = migrations.WithTenant(ctx, row.TenantID)
	st, err := s.Settings(ctx, u.TenantID)
	if err != nil {
		return User{}, err
	}
	hash, err := s.checkNewPassword(ctx, u, st, newPassword)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	err = migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		res := tx.Model(&invitationRow{}).Where("id = ? AND used_at IS NULL AND expires_at > ?", row.ID, now).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrInvalidInvitation
		}
		res = tx.Model(&User{}).Where("id = ? AND status = ?", u.ID, StatusInvited).Updates(map[string]any{
			"status": StatusActive, "password_hash": hash, "password_changed_at": now, "must_change_password": false,
			"activated_at": now, "updated_at": now,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrInvalidInvitation
		}
		if err := addHistory(ctx, tx, u, hash, historyInvitation, now); err != nil {
			return err
		}
		e := o.event(u.TenantID, ActionPasswordChange, u.ID, Success)
		e.Target = Target{Kind: "user", ID: u.ID}
		e.Reason = "invitation_accepted"
		return record(ctx, s.Auditor, tx, e)
	})
	if err != nil {
		return User{}, err
	}
	u.Status = StatusActive
	return u, nil
}
