package authz

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/policy/rbac"
)

// DepartmentList lists a tenant's departments; *tenant.Store implements it.
type DepartmentList interface {
	Departments(ctx context.Context, tenantID string) ([]tenant.Department, error)
}

// Reviews runs access reviews (PCI DSS 7.2.4): the report of every user with their roles, scope,
// last sign-in, MFA status and inactivity; the sign-off, which stores the report the reviewer saw
// with its digest and is audited; and the status the admin dashboard and the evidence report show
// (a review older than six months is overdue).
type Reviews struct {
	DB          *gorm.DB
	Store       *Store
	Users       Users
	Departments DepartmentList
	Auditor     Auditor
	Now         func() time.Time
	Log         *slog.Logger
}

// ReviewGrant is one role assignment in the report.
type ReviewGrant struct {
	Role string `json:"role"`
	// DepartmentID is empty for a tenant-wide grant.
	DepartmentID   string    `json:"department_id,omitempty"`
	DepartmentName string    `json:"department_name,omitempty"`
	GrantedBy      string    `json:"granted_by,omitempty"`
	GrantedAt      time.Time `json:"granted_at"`
}

// ReviewUser is one user in the report.
type ReviewUser struct {
	UserID       string        `json:"user_id"`
	Email        string        `json:"email"`
	DisplayName  string        `json:"display_name"`
	Status       string        `json:"status"`
	Grants       []ReviewGrant `json:"grants"`
	LastSignInAt *time.Time    `json:"last_sign_in_at"`
	MFAEnabled   bool          `json:"mfa_enabled"`
	CreatedAt    time.Time     `json:"created_at"`
	// Sensitive lists the permissions reaching cardholder data or ePHI the user holds in any
	// scope, so the reviewer sees who can read what.
	Sensitive []string `json:"sensitive_permissions"`
	// IdleDays is how long the account has gone without a sign-in; Inactive is true past 90 days
	// (PCI DSS 8.2.6). Both depend on the day, so they are left out of the digest.
	IdleDays int  `json:"idle_days"`
	Inactive bool `json:"inactive"`
}

// Report is the access review report of one tenant.
type Report struct {
	TenantID    string       `json:"tenant_id"`
	GeneratedAt time.Time    `json:"generated_at"`
	Users       []ReviewUser `json:"users"`
	// Digest is the SHA-256 of the reviewed state (users, status, grants, last sign-in, MFA): a
	// sign-off names it, so a reviewer signs exactly what they saw.
	Digest string            `json:"digest"`
	Status rbac.ReviewStatus `json:"status"`
}

// SignOff is a stored access review sign-off.
type SignOff struct {
	ID            string    `json:"id" gorm:"primaryKey"`
	TenantID      string    `json:"-"`
	ReviewerID    string    `json:"reviewer_id"`
	ReviewerEmail string    `json:"reviewer_email"`
	SignedAt      time.Time `json:"signed_at"`
	ReportDigest  string    `json:"report_digest"`
	UserCount     int       `json:"user_count"`
	Notes         string    `json:"notes"`
	Report        string    `json:"-"`
}

// TableName maps SignOff to access_reviews.
func (SignOff) TableName() string { return "access_reviews" }

// MaxNotesLen bounds a sign-off's notes.
const MaxNotesLen = 2000

// ErrInvalidNotes means sign-off notes are too long or hold control characters.
var ErrInvalidNotes = errors.New("notes must be at most 2000 characters without control characters")

func (r *Reviews) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// Report builds a tenant's access review report as of now.
func (r *Reviews) Report(ctx context.Context, tenantID string) (Report, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	now := r.now()
	users, err := r.Users.Users(ctx, tenantID)
	if err != nil {
		return Report{}, fmt.Errorf("users: %w", err)
	}
	assignments, err := r.Store.TenantAssignments(ctx, tenantID)
	if err != nil {
		return Report{}, err
	}
	roles, err := r.Store.RoleSet(ctx, tenantID)
	if err != nil {
		return Report{}, err
	}
	depts, err := r.Departments.Departments(ctx, tenantID)
	if err != nil {
		return Report{}, err
	}
	deptName := make(map[string]string, len(depts))
	for _, d := range depts {
		deptName[d.ID] = d.Name
	}
	byUser := map[string][]Assignment{}
	for _, a := range assignments {
		byUser[a.UserID] = append(byUser[a.UserID], a)
	}
	rep := Report{TenantID: tenantID, GeneratedAt: now, Users: []ReviewUser{}}
	for _, u := range users {
		ru := ReviewUser{
			UserID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Status: string(u.Status),
			MFAEnabled: u.MFAEnabled, CreatedAt: u.CreatedAt.UTC(), Grants: []ReviewGrant{}, Sensitive: []string{},
		}
		if u.LastSignInAt != nil {
			t := u.LastSignInAt.UTC()
			ru.LastSignInAt = &t
		}
		var ras []rbac.Assignment
		for _, a := range byUser[u.ID] {
			ru.Grants = append(ru.Grants, ReviewGrant{
				Role: a.Role, DepartmentID: a.DepartmentID, DepartmentName: deptName[a.DepartmentID],
				GrantedBy: a.GrantedBy, GrantedAt: a.CreatedAt,
			})
			ras = append(ras, rbac.Assignment{TenantID: tenantID, UserID: u.ID, Role: a.Role, DepartmentID: a.DepartmentID})
		}
		g := rbac.GrantsOf(roles, ras)
		for _, p := range rbac.Catalogue() {
			if !p.Sensitive {
				continue
			}
			held := g.Tenant.Has(p.Name)
			for _, set := range g.Departments {
				held = held || set.Has(p.Name)
			}
			if held {
				ru.Sensitive = append(ru.Sensitive, p.Name)
			}
		}
		idle, inactive := rbac.Inactivity(u.LastSignInAt, u.CreatedAt, now)
		ru.IdleDays, ru.Inactive = int(idle/(24*time.Hour)), inactive
		rep.Users = append(rep.Users, ru)
	}
	sort.Slice(rep.Users, func(i, j int) bool { return rep.Users[i].Email < rep.Users[j].Email })
	rep.Digest, err = digest(rep.Users)
	if err != nil {
		return Report{}, err
	}
	last, err := r.lastSignOff(ctx, tenantID)
	if err != nil {
		return Report{}, err
	}
	rep.Status = rbac.ReviewStatusAt(last, now)
	return rep, nil
}

// digest hashes the reviewed state of the users, leaving out what changes by the day.
func digest(users []ReviewUser) (string, error) {
	type row struct {
		UserID, Email, DisplayName, Status string
		Grants                             []ReviewGrant
		LastSignInAt                       *time.Time
		MFAEnabled                         bool
	}
	rows := make([]row, 0, len(users))
	for _, u := range users {
		rows = append(rows, row{u.UserID, u.Email, u.DisplayName, u.Status, u.Grants, u.LastSignInAt, u.MFAEnabled})
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// SignOff records that the actor reviewed the report with the given digest. The report is built
// again: if it no longer has that digest (a grant, a user or a sign-in changed since), the
// sign-off fails with ErrReportChanged. The sign-off stores the report and is audited in the
// same transaction.
func (r *Reviews) SignOff(ctx context.Context, by Actor, reportDigest, notes string) (SignOff, error) {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	notes, err := CleanNotes(notes)
	if err != nil {
		return SignOff{}, err
	}
	if r.Auditor == nil {
		return SignOff{}, fmt.Errorf("%w: %w", ErrAudit, ErrNoAuditor)
	}
	rep, err := r.Report(ctx, by.TenantID)
	if err != nil {
		return SignOff{}, err
	}
	if rep.Digest != reportDigest {
		return SignOff{}, ErrReportChanged
	}
	reviewer, err := r.Users.User(ctx, by.TenantID, by.UserID)
	if err != nil {
		return SignOff{}, fmt.Errorf("reviewer: %w", err)
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return SignOff{}, err
	}
	so := SignOff{
		ID: uuid.Must(uuid.NewV7()).String(), TenantID: by.TenantID, ReviewerID: by.UserID, ReviewerEmail: reviewer.Email,
		SignedAt: r.now(), ReportDigest: rep.Digest, UserCount: len(rep.Users), Notes: notes, Report: string(body),
	}
	err = migrations.Transaction(r.DB.WithContext(ctx), func(tx *gorm.DB) error {
		if err := tx.Create(&so).Error; err != nil {
			return err
		}
		e := by.event(ActionAccessReviewSignOff, Success, "access_review", so.ID)
		e.Details = map[string]string{"report_digest": so.ReportDigest, "user_count": strconv.Itoa(so.UserCount)}
		return record(ctx, r.Auditor, tx, e)
	})
	if err != nil {
		return SignOff{}, err
	}
	return so, nil
}

// SignOffs lists a tenant's sign-offs, newest first, at most limit.
func (r *Reviews) SignOffs(ctx context.Context, tenantID string, limit int) ([]SignOff, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []SignOff
	err := r.DB.WithContext(ctx).Omit("report").Where("tenant_id = ?", tenantID).
		Order("signed_at DESC, id DESC").Limit(limit).Find(&out).Error
	for i := range out {
		out[i].SignedAt = out[i].SignedAt.UTC()
	}
	return out, err
}

// Status returns whether a tenant's access review is current: what the admin dashboard and the
// evidence report show.
func (r *Reviews) Status(ctx context.Context, tenantID string) (rbac.ReviewStatus, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	last, err := r.lastSignOff(ctx, tenantID)
	if err != nil {
		return rbac.ReviewStatus{}, err
	}
	return rbac.ReviewStatusAt(last, r.now()), nil
}

func (r *Reviews) lastSignOff(ctx context.Context, tenantID string) (*time.Time, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var so SignOff
	err := r.DB.WithContext(ctx).Select("signed_at").Where("tenant_id = ?", tenantID).Order("signed_at DESC").Take(&so).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t := so.SignedAt.UTC()
	return &t, nil
}

// CleanNotes trims sign-off notes and checks them: at most 2000 characters, line breaks and tabs
// allowed, no other control or bidirectional-override characters. Notes are free text stored in
// clear: a card number pasted into them is masked to its last four digits, not refused.
func CleanNotes(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxNotesLen {
		return "", ErrInvalidNotes
	}
	for _, c := range s {
		if (unicode.IsControl(c) && c != '\n' && c != '\t' && c != '\r') || unicode.Is(unicode.Bidi_Control, c) {
			return "", ErrInvalidNotes
		}
	}
	return pan.MaskLast4(s), nil
}
