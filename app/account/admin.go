package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/signin"
)

// UserView is a user as listed to administrators and shown to the user: no hash, no secret.
type UserView struct {
	ID          string
	TenantID    string
	Email       string
	DisplayName string
	Status      Status
	Roles       []string
	MFAEnabled  bool
	// MustChangePassword and PasswordExpiresAt describe the password's state.
	MustChangePassword bool
	PasswordChangedAt  *time.Time
	PasswordExpiresAt  *time.Time
	LastSignInAt       *time.Time
	LastSignInIP       string
	// PreviousSignInAt and PreviousSignInIP are the sign-in before the last.
	PreviousSignInAt *time.Time
	PreviousSignInIP string
	// LockedUntil is set while a lockout runs.
	LockedUntil *time.Time
	// FailedSignIns counts consecutive failures since the last success or unlock;
	// LifetimeFailures all of them (100 disable the account).
	FailedSignIns    int
	LifetimeFailures int
	DisabledReason   string
	CreatedAt        time.Time
}

// Users lists a tenant's users, by e-mail address, with a fixed number of queries.
func (s *Service) Users(ctx context.Context, tenantID string) ([]UserView, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	db := s.db().WithContext(ctx)
	var users []User
	if err := db.Where("tenant_id = ?", tenantID).Order("email_key").Find(&users).Error; err != nil {
		return nil, err
	}
	st, err := s.Settings(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	t, err := s.Tenants.ByID(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var assignments []RoleAssignment
	if err := db.Where("tenant_id = ?", tenantID).Order("role").Find(&assignments).Error; err != nil {
		return nil, err
	}
	roles := map[string][]string{}
	for _, ra := range assignments {
		if rs := roles[ra.UserID]; len(rs) == 0 || rs[len(rs)-1] != ra.Role {
			roles[ra.UserID] = append(rs, ra.Role)
		}
	}
	tid, err := s.identityOf(ctx, t.Slug, "")
	if err != nil {
		return nil, err
	}
	var rows []attemptRow
	if err := db.Where("tenant_key = ?", tid.tenantKey).Find(&rows).Error; err != nil {
		return nil, err
	}
	states := make(map[string]signin.State, len(rows))
	for _, r := range rows {
		states[r.EmailKey] = r.state()
	}
	out := make([]UserView, 0, len(users))
	for _, u := range users {
		uid, err := s.identityOf(ctx, t.Slug, u.Email)
		if err != nil {
			return nil, err
		}
		out = append(out, s.view(u, st, roles[u.ID], states[uid.emailKey]))
	}
	return out, nil
}

// User returns one user of a tenant as a view; another tenant's is ErrNotFound.
func (s *Service) User(ctx context.Context, tenantID, userID string) (UserView, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	u, err := s.Store.ByID(ctx, tenantID, userID)
	if err != nil {
		return UserView{}, err
	}
	roles, err := s.roleNames(ctx, s.db(), u)
	if err != nil {
		return UserView{}, err
	}
	st, err := s.Settings(ctx, u.TenantID)
	if err != nil {
		return UserView{}, err
	}
	t, err := s.Tenants.ByID(ctx, u.TenantID)
	if err != nil {
		return UserView{}, err
	}
	id, err := s.identityOf(ctx, t.Slug, u.Email)
	if err != nil {
		return UserView{}, err
	}
	state, _, err := s.identityState(ctx, id)
	if err != nil {
		return UserView{}, err
	}
	return s.view(u, st, roles, state), nil
}

func (s *Service) view(u User, st Settings, roles []string, state signin.State) UserView {
	v := UserView{
		ID: u.ID, TenantID: u.TenantID, Email: u.Email, DisplayName: u.DisplayName, Status: u.Status, Roles: roles,
		MFAEnabled: u.MFAEnabled, MustChangePassword: u.MustChangePassword, PasswordChangedAt: u.PasswordChangedAt,
		LastSignInAt: u.LastLoginAt, LastSignInIP: u.LastLoginIP, PreviousSignInAt: u.PreviousLoginAt,
		PreviousSignInIP: u.PreviousLoginIP, FailedSignIns: state.ConsecutiveFailures,
		LifetimeFailures: state.LifetimeFailures, DisabledReason: u.DisabledReason, CreatedAt: u.CreatedAt,
	}
	if roles == nil {
		v.Roles = []string{}
	}
	if u.PasswordChangedAt != nil {
		if at, ok := st.Password.ExpiresAt(*u.PasswordChangedAt, st.MFA.EnforcedFor(roles)); ok {
			v.PasswordExpiresAt = &at
		}
	}
	if d := st.SignIn.Decide(state, s.now()); d.Locked {
		v.LockedUntil = &d.LockedUntil
	}
	return v
}

// Unlock ends a user's lockout and clears their consecutive failures, after an administrator
// confirmed their identity (PCI DSS 8.3.4).
func (s *Service) Unlock(ctx context.Context, by Actor, userID string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	key, err := s.identityKey(ctx)
	if err != nil {
		return err
	}
	return migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		u, err := s.Store.WithTx(tx).ByID(ctx, by.TenantID, userID)
		if err != nil {
			return err
		}
		id, err := s.identityFor(ctx, tx, key, u)
		if err != nil {
			return err
		}
		row, err := s.lockIdentity(ctx, tx, id)
		if err != nil {
			return err
		}
		before := row.state()
		row.set(signin.Unlock(before))
		if err := tx.Model(&attemptRow{}).Where("tenant_key = ? AND email_key = ?", id.tenantKey, id.emailKey).
			Select("consecutive", "lifetime", "last_failure_at", "locked_until").Updates(&row).Error; err != nil {
			return err
		}
		if u.Status == StatusLocked {
			if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{"status": StatusActive, "updated_at": s.now()}).Error; err != nil {
				return err
			}
		}
		e := by.event(by.TenantID, ActionUnlock, Success)
		e.Target = Target{Kind: "user", ID: u.ID}
		e.Details = map[string]string{"email": u.Email, "consecutive_failures": fmt.Sprint(before.ConsecutiveFailures)}
		return record(ctx, s.Auditor, tx, e)
	})
}

// Disable disables a user and ends their sessions.
func (s *Service) Disable(ctx context.Context, by Actor, userID string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	if err := s.checkOutranks(ctx, by, userID); err != nil {
		return err
	}
	return migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		u, err := s.Store.WithTx(tx).ByID(ctx, by.TenantID, userID)
		if err != nil {
			return err
		}
		if u.Status == StatusDisabled {
			return nil
		}
		if err := s.keepAnOwner(ctx, tx, u); err != nil {
			return err
		}
		return s.disableTx(ctx, tx, by, u, "administrator")
	})
}

// disableTx disables u in tx, ends their sessions and audits it.
func (s *Service) disableTx(ctx context.Context, tx *gorm.DB, by Actor, u User, reason string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	tx = tx.WithContext(ctx)
	now := s.now()
	if err := tx.WithContext(ctx).Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{
		"status": StatusDisabled, "disabled_at": now, "disabled_reason": reason, "updated_at": now,
	}).Error; err != nil {
		return err
	}
	n, err := s.RevokeUserSessions(ctx, tx, u.TenantID, u.ID)
	if err != nil {
		return err
	}
	e := by.event(u.TenantID, ActionUserDisable, Success)
	e.Target = Target{Kind: "user", ID: u.ID}
	e.Reason = reason
	e.Details = map[string]string{"email": u.Email, "sessions_ended": fmt.Sprint(n)}
	return record(ctx, s.Auditor, tx, e)
}

// Enable re-enables a disabled user: the failure counts start again from zero (after 100
// failures this is the administrator's decision) and the inactivity clock restarts.
func (s *Service) Enable(ctx context.Context, by Actor, userID string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	key, err := s.identityKey(ctx)
	if err != nil {
		return err
	}
	return migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		u, err := s.Store.WithTx(tx).ByID(ctx, by.TenantID, userID)
		if err != nil {
			return err
		}
		if u.Status != StatusDisabled {
			return fmt.Errorf("%w: the user is %s", ErrConflictState, u.Status)
		}
		id, err := s.identityFor(ctx, tx, key, u)
		if err != nil {
			return err
		}
		row, err := s.lockIdentity(ctx, tx, id)
		if err != nil {
			return err
		}
		row.set(signin.Reenable(row.state()))
		if err := tx.Model(&attemptRow{}).Where("tenant_key = ? AND email_key = ?", id.tenantKey, id.emailKey).
			Select("consecutive", "lifetime", "last_failure_at", "locked_until").Updates(&row).Error; err != nil {
			return err
		}
		now := s.now()
		if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{
			"status": StatusActive, "disabled_at": nil, "disabled_reason": "", "activated_at": now, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		e := by.event(by.TenantID, ActionUserEnable, Success)
		e.Target = Target{Kind: "user", ID: u.ID}
		e.Details = map[string]string{"email": u.Email, "was": u.DisabledReason}
		return record(ctx, s.Auditor, tx, e)
	})
}

func (s *Service) identityFor(ctx context.Context, tx *gorm.DB, key []byte, u User) (identity, error) {
	t, err := s.Tenants.WithTx(tx).ByID(ctx, u.TenantID)
	if err != nil {
		return identity{}, err
	}
	id := identityWith(key, t.Slug, u.Email)
	id.account = true
	return id, nil
}

// EmergencyAccess records that an operator used break-glass access from the server's shell
// (HIPAA 164.312(a)(2)(ii)): the command, the user it concerns and the reason given. Call it
// before the action; when it fails, do not act.
func (s *Service) EmergencyAccess(ctx context.Context, by Actor, command, userID, reason string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	e := by.event(by.TenantID, ActionEmergencyAccess, Success)
	e.Target = Target{Kind: "user", ID: userID}
	if userID == "" {
		e.Target = Target{Kind: "tenant", ID: by.TenantID}
	}
	e.Reason = command
	e.Details = map[string]string{"command": command, "justification": truncate(reason, 500)}
	return record(ctx, s.Auditor, nil, e)
}

// ErrLastOwner means the action would leave the tenant without an active owner.
var ErrLastOwner = errors.New("the organisation would have no active owner left")

// keepAnOwner refuses to disable the tenant's last active owner.
func (s *Service) keepAnOwner(ctx context.Context, tx *gorm.DB, u User) error {
	ctx = migrations.WithTenant(ctx, u.TenantID)
	tx = tx.WithContext(ctx)
	var owners []string
	if err := tx.WithContext(ctx).Table("role_assignments AS ra").Joins("JOIN users u ON u.id = ra.user_id").
		Where("ra.tenant_id = ? AND ra.role = ? AND ra.department_id IS NULL AND u.status IN ?", u.TenantID, "owner",
			[]Status{StatusActive, StatusLocked}).Distinct().Pluck("ra.user_id", &owners).Error; err != nil {
		return err
	}
	if slices.Contains(owners, u.ID) && len(owners) == 1 {
		return ErrLastOwner
	}
	return nil
}
