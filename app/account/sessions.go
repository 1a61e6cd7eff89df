package account

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/signin"
)

// Restriction limits what a session may do until the user completes a step.
type Restriction string

// The restrictions a session can carry.
const (
	// RestrictNone is a full session.
	RestrictNone Restriction = ""
	// RestrictPasswordChange allows only changing the password (first use, reset or expiry,
	// PCI DSS 8.3.5 and 8.3.9) and signing out.
	RestrictPasswordChange Restriction = "password_change"
	// RestrictMFAEnrolment allows only enrolling a second factor and signing out: the grace
	// sign-in of a user who must use MFA and has none yet.
	RestrictMFAEnrolment Restriction = "mfa_enrolment"
)

// Session errors.
var (
	// ErrNoSession means the token names no live session (never issued, signed out, revoked).
	ErrNoSession = errors.New("no such session")
	// ErrSessionExpired means the session ended by idle or absolute timeout.
	ErrSessionExpired = errors.New("session expired")
)

// tokenBytes is the size of a session token: 256 bits.
const tokenBytes = 32

// touchEvery is how often a session's last-seen time is written. Writing at most once a minute
// can only make the idle timeout end a session up to a minute early, never late.
const touchEvery = time.Minute

// Session is a signed-in console session. Only the SHA-256 of its token is stored.
type Session struct {
	ID          string `gorm:"primaryKey"`
	TenantID    string
	UserID      string
	TokenHash   string
	MFA         bool `gorm:"column:mfa"`
	Restriction Restriction
	ClientIP    string
	// UserAgent is the User-Agent header as SessionUserAgent keeps it: card numbers masked to
	// their last four digits, at most MaxUserAgentLen bytes.
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// TableName maps Session to sessions.
func (Session) TableName() string { return "sessions" }

// NewSession is a session just created, with the token for the cookie. The token exists only
// here and in the client.
type NewSession struct {
	Session Session
	Token   string
}

// HashToken returns the stored form of a session or link token: hex SHA-256.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CSRFToken returns the synchronizer token of the session holding token: an HMAC of a fixed
// label under the session token, so it is bound to that session, changes with every new
// session token and needs no storage.
func CSRFToken(token string) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("parley/csrf/v1"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// CheckCSRF reports whether presented is the CSRF token of the session holding token, in
// constant time.
func CheckCSRF(token, presented string) bool {
	if presented == "" || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(CSRFToken(token)), []byte(presented)) == 1
}

func newToken(r io.Reader) (string, error) {
	var b [tokenBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// validTokenShape rejects anything that cannot be a token before it reaches the database.
func validTokenShape(t string) bool {
	if len(t) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(t)
	return err == nil
}

// createSession writes a new session for u in tx.
func (s *Service) createSession(ctx context.Context, tx *gorm.DB, u User, mfa bool, r Restriction, o Origin) (NewSession, error) {
	ctx = migrations.WithTenant(ctx, u.TenantID)
	tx = tx.WithContext(ctx)
	token, err := newToken(s.rand())
	if err != nil {
		return NewSession{}, err
	}
	now := s.now()
	sess := Session{
		ID: uuid.Must(uuid.NewV7()).String(), TenantID: u.TenantID, UserID: u.ID, TokenHash: HashToken(token),
		MFA: mfa, Restriction: r, ClientIP: o.IP, UserAgent: SessionUserAgent(o.UserAgent), CreatedAt: now, LastSeenAt: now,
	}
	if err := tx.WithContext(ctx).Create(&sess).Error; err != nil {
		return NewSession{}, err
	}
	return NewSession{Session: sess, Token: token}, nil
}

// rotateSession replaces a session by a new one with a new token (privilege change: MFA
// activated, password changed, restriction lifted). The old token stops working at once.
func (s *Service) rotateSession(ctx context.Context, tx *gorm.DB, old Session, u User, mfa bool, r Restriction, o Origin) (NewSession, error) {
	ctx = migrations.WithTenant(ctx, u.TenantID)
	tx = tx.WithContext(ctx)
	if err := tx.WithContext(ctx).Where("id = ?", old.ID).Delete(&Session{}).Error; err != nil {
		return NewSession{}, err
	}
	return s.createSession(ctx, tx, u, mfa, r, o)
}

// Current is an authenticated request's session with its user and roles.
type Current struct {
	Session Session
	User    User
	Roles   []string
	// Token is the presented session token (for the CSRF check and rotation).
	Token string
}

// Authenticate resolves a session token for a request from o: the session must exist, its user
// must be active, neither timeout of the tenant's session policy may have passed, and the
// client address must pass the tenant's and the user's roles' IP allowlists. A session ended by
// time is deleted and audited. It errs with ErrNoSession, ErrSessionExpired, ErrIPNotAllowed or
// a database or audit failure.
//
// One query reads the session and the versions of its user (row and role assignments) and of the
// tenant's security settings (settings and allowlists); the user with their roles, and the
// tenant's settings and allowlists, come from this node's caches when they hold those versions.
// Any change to them, revocation, disabling or a role change (which also ends the user's
// sessions) therefore applies from the next request, on every node.
func (s *Service) Authenticate(ctx context.Context, token string, o Origin) (Current, error) {
	if !validTokenShape(token) {
		return Current{}, ErrNoSession
	}
	row, err := s.readSession(ctx, HashToken(token))
	if err != nil {
		return Current{}, err
	}
	sess := row.Session
	ctx = migrations.WithTenant(ctx, sess.TenantID)
	su, err := s.sessionUser(ctx, sess.TenantID, sess.UserID, row.UserVersion)
	if err != nil {
		return Current{}, err
	}
	u, roles := su.user, su.roles
	db := s.db().WithContext(ctx)
	if u.Status != StatusActive && u.Status != StatusLocked {
		if err := db.Where("id = ?", sess.ID).Delete(&Session{}).Error; err != nil {
			return Current{}, err
		}
		return Current{}, ErrNoSession
	}
	sec, err := s.security(ctx, sess.TenantID, row.SecurityVersion)
	if err != nil {
		return Current{}, err
	}
	st := sec.settings
	now := s.now()
	if why := st.Session.SessionExpired(sess.CreatedAt, sess.LastSeenAt, now); why != signin.ExpiryNone {
		err := migrations.Transaction(db, func(tx *gorm.DB) error {
			res := tx.Where("id = ?", sess.ID).Delete(&Session{})
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			e := o.event(sess.TenantID, ActionSessionExpired, u.ID, Success)
			e.Target = Target{Kind: "session", ID: sess.ID}
			e.Reason = string(why)
			return record(ctx, s.Auditor, tx, e)
		})
		if err != nil {
			return Current{}, err
		}
		return Current{}, ErrSessionExpired
	}
	if err := s.enforceAllowlists(ctx, sec.listsFor(roles), u.TenantID, u.ID, st, o, "request"); err != nil {
		return Current{}, err
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := db.Model(&Session{}).Where("id = ?", sess.ID).Update("last_seen_at", now).Error; err != nil {
			return Current{}, err
		}
		sess.LastSeenAt = now
	}
	return Current{Session: sess, User: u, Roles: roles, Token: token}, nil
}

func (s *Service) roleNames(ctx context.Context, db *gorm.DB, u User) ([]string, error) {
	ctx = migrations.WithTenant(ctx, u.TenantID)
	var roles []string
	err := db.WithContext(ctx).Model(&RoleAssignment{}).Where("tenant_id = ? AND user_id = ?", u.TenantID, u.ID).
		Distinct().Order("role").Pluck("role", &roles).Error
	return roles, err
}

// SessionLive reports whether a session still stands for a long-lived connection opened with it
// (an agent's chat socket): the session exists (not signed out, revoked or rotated by a role
// change), its user is active or locked, and its absolute lifetime has not passed. It is not
// activity: it neither refreshes the session nor applies the idle timeout, which the console's
// requests enforce.
func (s *Service) SessionLive(ctx context.Context, tenantID, userID, sessionID string) (bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var sess Session
	err := s.db().WithContext(ctx).Where("id = ? AND tenant_id = ? AND user_id = ?", sessionID, tenantID, userID).Take(&sess).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	u, err := s.Store.ByID(ctx, tenantID, userID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if u.Status != StatusActive && u.Status != StatusLocked {
		return false, nil
	}
	st, err := s.Settings(ctx, tenantID)
	if err != nil {
		return false, err
	}
	return st.Session.SessionExpired(sess.CreatedAt, sess.CreatedAt, s.now()) != signin.ExpiryAbsolute, nil
}

// SessionView is a session as listed to its user or an administrator.
type SessionView struct {
	ID         string
	UserID     string
	ClientIP   string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	MFA        bool
}

// Sessions lists a user's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, tenantID, userID string) ([]SessionView, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	st, err := s.Settings(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var rows []Session
	if err := s.db().WithContext(ctx).Where("tenant_id = ? AND user_id = ?", tenantID, userID).
		Order("created_at DESC, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]SessionView, 0, len(rows))
	for _, r := range rows {
		if st.Session.SessionExpired(r.CreatedAt, r.LastSeenAt, now) != signin.ExpiryNone {
			continue
		}
		out = append(out, SessionView{
			ID: r.ID, UserID: r.UserID, ClientIP: r.ClientIP, UserAgent: r.UserAgent, CreatedAt: r.CreatedAt,
			LastSeenAt: r.LastSeenAt, ExpiresAt: st.Session.SessionExpiresAt(r.CreatedAt, r.LastSeenAt), MFA: r.MFA,
		})
	}
	return out, nil
}

// RevokeSession ends one of userID's sessions; by is the user themself or an administrator.
// Another user's or tenant's session is ErrNoSession.
func (s *Service) RevokeSession(ctx context.Context, by Actor, userID, sessionID string) error {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	return migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		res := tx.Where("tenant_id = ? AND user_id = ? AND id = ?", by.TenantID, userID, sessionID).Delete(&Session{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNoSession
		}
		e := by.event(by.TenantID, ActionSessionRevoke, Success)
		e.Target = Target{Kind: "session", ID: sessionID}
		e.Details = map[string]string{"user_id": userID}
		return record(ctx, s.Auditor, tx, e)
	})
}

// SignOut ends the current session.
func (s *Service) SignOut(ctx context.Context, cur Current, o Origin) error {
	return migrations.Transaction(s.db().WithContext(ctx), func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", cur.Session.ID).Delete(&Session{}).Error; err != nil {
			return err
		}
		e := o.event(cur.User.TenantID, ActionSignOut, cur.User.ID, Success)
		e.Target = Target{Kind: "session", ID: cur.Session.ID}
		return record(ctx, s.Auditor, tx, e)
	})
}

// RevokeUserSessions ends every session of a user in tx, for example when their roles change
// (a privilege change: they sign in again and get a new token). It returns how many ended.
func (s *Service) RevokeUserSessions(ctx context.Context, tx *gorm.DB, tenantID, userID string) (int64, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	tx = tx.WithContext(ctx)
	res := tx.WithContext(ctx).Where("tenant_id = ? AND user_id = ?", tenantID, userID).Delete(&Session{})
	return res.RowsAffected, res.Error
}

// MaxUserAgentLen bounds the User-Agent header a session keeps, in bytes.
const MaxUserAgentLen = 256

// SessionUserAgent is the form of a User-Agent header a session stores: card numbers masked to
// their last four digits (the header is free text a client chooses), then cut to
// MaxUserAgentLen bytes. The header is cut to 1 KiB before masking so that a huge header costs
// little; masking comes before the final cut so that no cut can leave digits of a card number
// readable.
func SessionUserAgent(ua string) string {
	return truncate(pan.MaskLast4(truncate(ua, 1024)), MaxUserAgentLen)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
