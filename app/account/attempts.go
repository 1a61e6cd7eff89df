package account

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/signin"
)

// attemptLease is how long one sign-in attempt holds its identity: a second attempt for the same
// identity meanwhile is refused, so parallel guesses cannot slip past the lockout count. The
// password check is bounded well inside it (verifyTimeout).
const (
	attemptLease  = 30 * time.Second
	verifyTimeout = 20 * time.Second
)

// attemptRow is the failure record of one sign-in identity, whether or not it names a real
// account: the keyed hashes of the organisation and e-mail address a sign-in named (identity),
// never the text, which can be anything a person typed, a card number included.
type attemptRow struct {
	TenantKey     string `gorm:"primaryKey"`
	EmailKey      string `gorm:"primaryKey"`
	NamesAccount  bool
	Consecutive   int
	Lifetime      int
	LastFailureAt *time.Time
	LockedUntil   *time.Time
	AttemptUntil  *time.Time
}

func (attemptRow) TableName() string { return "signin_attempts" }

func (r attemptRow) state() signin.State {
	return signin.State{
		ConsecutiveFailures: r.Consecutive, LifetimeFailures: r.Lifetime,
		LastFailureAt: deref(r.LastFailureAt), LockedUntil: deref(r.LockedUntil),
	}
}

func (r *attemptRow) set(s signin.State) {
	r.Consecutive, r.Lifetime = s.ConsecutiveFailures, s.LifetimeFailures
	r.LastFailureAt, r.LockedUntil = ptr(s.LastFailureAt), ptr(s.LockedUntil)
}

type ipRow struct {
	IP          string `gorm:"column:ip;primaryKey"`
	WindowStart time.Time
	Failures    int
}

func (ipRow) TableName() string { return "signin_ip_failures" }

// identity is a sign-in's identity: the organisation and e-mail address it named, normalised
// (memory only: lookups and masked audit details), and the keyed hashes its failure record is
// stored under. account says that it names a real account.
type identity struct {
	tenant, email       string
	tenantKey, emailKey string
	account             bool
}

// ErrIdentityKey means the key of the sign-in bookkeeping could not be had from the key
// provider; sign-ins fail closed.
var ErrIdentityKey = errors.New("sign-in identity key unavailable")

// identityKeyName is the installation key the sign-in bookkeeping hashes identities with.
const identityKeyName = "signin-identity"

// identityOf returns the identity of a sign-in naming tenantSlug and email: both normalised
// (trimmed, lower case) and hashed with the installation's identity key, HMAC-SHA-256 with a
// purpose label, the e-mail address bound to its organisation.
func (s *Service) identityOf(ctx context.Context, tenantSlug, email string) (identity, error) {
	key, err := s.identityKey(ctx)
	if err != nil {
		return identity{}, err
	}
	return identityWith(key, tenantSlug, email), nil
}

// identityKey returns the installation's identity key. Call it outside a transaction: on first
// use it may store the key (a write of its own, which on SQLite would wait for the caller's).
func (s *Service) identityKey(ctx context.Context) ([]byte, error) {
	if s.IdentityKey == nil {
		return nil, fmt.Errorf("%w: no key configured", ErrIdentityKey)
	}
	key, err := s.IdentityKey(ctx, identityKeyName)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIdentityKey, err)
	}
	return key, nil
}

// identityWith is identityOf with the key at hand.
func identityWith(key []byte, tenantSlug, email string) identity {
	id := identity{tenant: strings.ToLower(strings.TrimSpace(tenantSlug)), email: strings.ToLower(strings.TrimSpace(email))}
	id.tenantKey = identityHash(key, "organisation", id.tenant)
	id.emailKey = identityHash(key, "e-mail", id.tenant+"\x00"+id.email)
	return id
}

func identityHash(key []byte, purpose, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("parley sign-in " + purpose + "\x00"))
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// ipKey is the key of an address's failure record: an IPv4 address, or the /64 of an IPv6
// address (one subscriber's allocation, so rotating through it does not escape the count).
func ipKey(ip string) string {
	a := ClientAddr(ip)
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is4():
		return a.String()
	default:
		return netip.PrefixFrom(a, 64).Masked().String()
	}
}

// lockIdentity returns the identity's row locked for update inside tx, creating it when new.
func (s *Service) lockIdentity(ctx context.Context, tx *gorm.DB, id identity) (attemptRow, error) {
	row := attemptRow{TenantKey: id.tenantKey, EmailKey: id.emailKey, NamesAccount: id.account}
	if err := tx.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return row, err
	}
	q := tx.WithContext(ctx)
	if s.DB.Dialect == migrations.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Where("tenant_key = ? AND email_key = ?", id.tenantKey, id.emailKey).Take(&row).Error; err != nil {
		return row, err
	}
	if id.account && !row.NamesAccount {
		row.NamesAccount = true
		err := tx.WithContext(ctx).Model(&attemptRow{}).Where("tenant_key = ? AND email_key = ?", id.tenantKey, id.emailKey).
			Update("names_account", true).Error
		return row, err
	}
	return row, nil
}

func (s *Service) lockIP(ctx context.Context, tx *gorm.DB, key string) (ipRow, error) {
	q := tx.WithContext(ctx)
	if s.DB.Dialect == migrations.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row ipRow
	err := q.Where("ip = ?", key).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ipRow{IP: key}, nil
	}
	return row, err
}

func (r ipRow) state() signin.IPState {
	return signin.IPState{WindowStart: r.WindowStart, Failures: r.Failures}
}

// attempt is a reserved sign-in attempt.
type attempt struct {
	id       identity
	ip       string
	decision signin.Decision
}

// refusal is why beginAttempt turned an attempt away before any credential was checked.
type refusal struct {
	err    error
	reason string
	until  time.Time
}

// beginAttempt decides what the attempt faces and, when credentials may be checked, reserves the
// identity for it. A refused attempt is audited in the same transaction.
func (s *Service) beginAttempt(ctx context.Context, id identity, pol signin.Policy, tenantID string, user *User, o Origin) (attempt, *refusal, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	a := attempt{id: id, ip: ipKey(o.IP)}
	var ref *refusal
	err := migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		ref = nil // a retried attempt decides afresh
		now := s.now()
		row, err := s.lockIdentity(ctx, tx, id)
		if err != nil {
			return err
		}
		ipr, err := s.lockIP(ctx, tx, a.ip)
		if err != nil {
			return err
		}
		d := pol.Decide(row.state(), now).Merge(pol.DecideIP(ipr.state(), now))
		a.decision = d
		switch {
		case d.Disabled:
			ref = &refusal{err: ErrAccountLocked, reason: "disabled_after_failures"}
		case d.Locked:
			ref = &refusal{err: ErrAccountLocked, reason: "locked", until: d.LockedUntil}
		case d.Throttled:
			ref = &refusal{err: ErrThrottled, reason: "address_throttled", until: d.ThrottledUntil}
		case row.AttemptUntil != nil && now.Before(*row.AttemptUntil):
			ref = &refusal{err: ErrThrottled, reason: "attempt_in_progress", until: *row.AttemptUntil}
		}
		if ref != nil {
			return s.auditFailure(ctx, tx, tenantID, user, id, ref.reason, ActionSignInFailure, o)
		}
		lease := now.Add(attemptLease)
		return tx.Model(&attemptRow{}).Where("tenant_key = ? AND email_key = ?", id.tenantKey, id.emailKey).
			Update("attempt_until", lease).Error
	})
	return a, ref, err
}

// releaseAttempt ends a reservation without counting anything (a missing second factor, a
// refused address, a busy hasher).
func (s *Service) releaseAttempt(ctx context.Context, a attempt) error {
	return s.db().WithContext(context.WithoutCancel(ctx)).Model(&attemptRow{}).
		Where("tenant_key = ? AND email_key = ?", a.id.tenantKey, a.id.emailKey).
		Update("attempt_until", nil).Error
}

// failureOutcome is what recording a failure changed.
type failureOutcome struct {
	lockedNow, disabledNow bool
	state                  signin.State
}

// recordFailure counts a failed attempt for the identity and the address, ends the reservation,
// and audits the failure, a lockout that begins with it, and an account disabled by it — all in
// one transaction. action is ActionSignInFailure or ActionMFAFailure.
func (s *Service) recordFailure(ctx context.Context, a attempt, pol signin.Policy, tenantID string, user *User, reason, action string, o Origin) (failureOutcome, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	// A failure is recorded even when the client goes away meanwhile: cancelling a request must
	// not be a way around the count.
	ctx = context.WithoutCancel(ctx)
	var out failureOutcome
	err := migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		now := s.now()
		row, err := s.lockIdentity(ctx, tx, a.id)
		if err != nil {
			return err
		}
		before := pol.Decide(row.state(), now)
		next := pol.RecordFailure(row.state(), now)
		after := pol.Decide(next, now)
		row.set(next)
		row.AttemptUntil = nil
		if err := tx.Model(&attemptRow{}).Where("tenant_key = ? AND email_key = ?", a.id.tenantKey, a.id.emailKey).
			Select("consecutive", "lifetime", "last_failure_at", "locked_until", "attempt_until").Updates(&row).Error; err != nil {
			return err
		}
		ipr, err := s.lockIP(ctx, tx, a.ip)
		if err != nil {
			return err
		}
		ips := pol.RecordIPFailure(ipr.state(), now)
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "ip"}},
			DoUpdates: clause.AssignmentColumns([]string{"window_start", "failures"}),
		}).Create(&ipRow{IP: a.ip, WindowStart: ips.WindowStart, Failures: ips.Failures}).Error; err != nil {
			return err
		}
		if err := s.auditFailure(ctx, tx, tenantID, user, a.id, reason, action, o); err != nil {
			return err
		}
		out.state = next
		out.lockedNow = after.Locked && !before.Locked
		out.disabledNow = after.Disabled && !before.Disabled
		if out.lockedNow {
			e := o.event(tenantID, ActionLockout, userID(user), Success)
			e.Target = Target{Kind: "user", ID: userID(user)}
			e.Reason = "consecutive_failures"
			e.Details = map[string]string{"email": a.id.email, "locked_until": next.LockedUntil.UTC().Format(time.RFC3339),
				"consecutive_failures": strconv.Itoa(next.ConsecutiveFailures)}
			if err := record(ctx, s.Auditor, tx, e); err != nil {
				return err
			}
			if user != nil && user.Status == StatusActive {
				if err := tx.Model(&User{}).Where("id = ? AND status = ?", user.ID, StatusActive).
					Updates(map[string]any{"status": StatusLocked, "updated_at": now}).Error; err != nil {
					return err
				}
			}
		}
		if out.disabledNow && user != nil && (user.Status == StatusActive || user.Status == StatusLocked) {
			return s.disableTx(ctx, tx, Actor{TenantID: tenantID, UserID: "sign-in-defence", System: true, Origin: o},
				*user, "failed_sign_ins")
		}
		return nil
	})
	return out, err
}

// recordSuccess clears the identity's consecutive count and lockout and ends the reservation,
// inside the sign-in's transaction.
func (s *Service) recordSuccess(ctx context.Context, tx *gorm.DB, a attempt, pol signin.Policy) error {
	row, err := s.lockIdentity(ctx, tx, a.id)
	if err != nil {
		return err
	}
	next := pol.RecordSuccess(row.state(), s.now())
	row.set(next)
	row.AttemptUntil = nil
	return tx.Model(&attemptRow{}).Where("tenant_key = ? AND email_key = ?", a.id.tenantKey, a.id.emailKey).
		Select("consecutive", "lifetime", "last_failure_at", "locked_until", "attempt_until").Updates(&row).Error
}

func (s *Service) auditFailure(ctx context.Context, tx *gorm.DB, tenantID string, user *User, id identity, reason, action string, o Origin) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	tx = tx.WithContext(ctx)
	e := o.event(tenantID, action, userID(user), Failure)
	e.Target = Target{Kind: "user", ID: userID(user)}
	e.Reason = reason
	e.Details = map[string]string{"email": id.email, "tenant": id.tenant}
	return record(ctx, s.Auditor, tx, e)
}

// identityState returns the stored failure record of a user's sign-in identity.
func (s *Service) identityState(ctx context.Context, id identity) (signin.State, bool, error) {
	var row attemptRow
	err := s.db().WithContext(ctx).Where("tenant_key = ? AND email_key = ?", id.tenantKey, id.emailKey).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return signin.State{}, false, nil
	}
	return row.state(), err == nil, err
}

func userID(u *User) string {
	if u == nil {
		return ""
	}
	return u.ID
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func ptr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// countAddress counts a request that costs Parley work without a credential check (a sign-in
// that must first solve a CAPTCHA, a fresh CAPTCHA challenge) against its address's window, so
// one address cannot flood the challenge store; it reports whether the address is throttled.
func (s *Service) countAddress(ctx context.Context, ip string, pol signin.Policy) (signin.Decision, error) {
	key := ipKey(ip)
	var d signin.Decision
	err := migrations.Transaction(s.db().WithContext(context.WithoutCancel(ctx)), func(tx *gorm.DB) error {
		now := s.now()
		row, err := s.lockIP(ctx, tx, key)
		if err != nil {
			return err
		}
		if d = pol.DecideIP(row.state(), now); d.Throttled {
			return nil
		}
		next := pol.RecordIPFailure(row.state(), now)
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "ip"}},
			DoUpdates: clause.AssignmentColumns([]string{"window_start", "failures"}),
		}).Create(&ipRow{IP: key, WindowStart: next.WindowStart, Failures: next.Failures}).Error
	})
	return d, err
}
