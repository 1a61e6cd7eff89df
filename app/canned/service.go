package canned

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/sanitize"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// Decider answers permission questions; *rbac.Enforcer satisfies it.
type Decider interface {
	Allowed(ctx context.Context, tenantID, userID, departmentID, permission string) (bool, error)
}

// Departments lists a tenant's departments; *tenant.Store satisfies it.
type Departments interface {
	Departments(ctx context.Context, tenantID string) ([]tenant.Department, error)
}

// Auditor appends an event inside the transaction of the change it records; *auditlog.Log
// satisfies it.
type Auditor interface {
	Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error
}

// Conversations gives the placeholder values of a conversation the user may see, and
// ErrNotFound for any other (another tenant's, another department's, an unknown id).
type Conversations interface {
	Values(ctx context.Context, p *identity.Principal, conversationID string) (Values, error)
}

// Origin is where a change comes from, for the audit record.
type Origin struct {
	IP        string
	UserAgent string
	RequestID string
}

// Service keeps the canned messages and decides who uses and writes which:
//
//   - canned.use (anywhere): the shared texts, the user's personal texts (read and write), and
//     the texts of each department where it is held (every department's when held tenant-wide);
//   - canned.manage in a department: write that department's texts (and read them);
//   - canned.manage tenant-wide: write every department's texts and the shared ones.
//
// A text the user may not read is not found (404); one they may read but not write is forbidden.
type Service struct {
	DB            *gorm.DB
	Decider       Decider
	Departments   Departments
	Audit         Auditor
	Conversations Conversations
	Now           func() time.Time
	// Node names this node in audit records.
	Node string
	Log  *slog.Logger

	st *store
}

func (s *Service) store() *store {
	if s.st == nil {
		s.st = &store{db: s.DB}
	}
	return s.st
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Access is what a user may do with canned messages, worked out once per request.
type Access struct {
	userID string
	// UseAll and ManageAll: the permission is held tenant-wide.
	UseAll, ManageAll bool
	// UseIn and ManageIn: the departments where it is held (when not tenant-wide).
	UseIn, ManageIn []string
}

// Uses reports whether the user may use canned messages at all (and so keep personal ones).
func (a Access) Uses() bool { return a.UseAll || len(a.UseIn) > 0 }

// Manages reports whether the user may write some department's or the shared texts.
func (a Access) Manages() bool { return a.ManageAll || len(a.ManageIn) > 0 }

// CanRead reports whether the user may read m.
func (a Access) CanRead(m Message) bool {
	switch m.Scope {
	case ScopePersonal:
		return a.Uses() && m.OwnerID == a.userID
	case ScopeShared:
		return a.Uses() || a.ManageAll
	case ScopeDepartment:
		return a.UseAll || a.ManageAll || slices.Contains(a.UseIn, m.DepartmentID) || slices.Contains(a.ManageIn, m.DepartmentID)
	}
	return false
}

// CanWrite reports whether the user may create, change or delete a text of scope in dept (the
// owner of a personal text is always the user).
func (a Access) CanWrite(scope, dept string) bool {
	switch scope {
	case ScopePersonal:
		return a.Uses()
	case ScopeShared:
		return a.ManageAll
	case ScopeDepartment:
		return a.ManageAll || slices.Contains(a.ManageIn, dept)
	}
	return false
}

// ManagedDepartments filters depts to those whose texts the user may write.
func (a Access) ManagedDepartments(depts []tenant.Department) []tenant.Department {
	var out []tenant.Department
	for _, d := range depts {
		if a.CanWrite(ScopeDepartment, d.ID) {
			out = append(out, d)
		}
	}
	return out
}

// reach is the part of the tenant's texts the user may read.
func (a Access) reach() reach {
	r := reach{shared: a.Uses() || a.ManageAll, personal: a.Uses(), userID: a.userID, allDepts: a.UseAll || a.ManageAll}
	if !r.allDepts {
		r.depts = append(slices.Clone(a.UseIn), a.ManageIn...)
	}
	return r
}

// AccessOf works out what p may do with canned messages. A policy error counts as no.
func (s *Service) AccessOf(ctx context.Context, p *identity.Principal) (Access, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	a := Access{userID: p.UserID}
	allowed := func(perm, dept string) bool {
		ok, err := s.Decider.Allowed(ctx, p.TenantID, p.UserID, dept, perm)
		return err == nil && ok
	}
	a.UseAll, a.ManageAll = allowed(PermUse, ""), allowed(PermManage, "")
	if a.UseAll && a.ManageAll {
		return a, nil
	}
	depts, err := s.Departments.Departments(ctx, p.TenantID)
	if err != nil {
		return a, err
	}
	for _, d := range depts {
		if !a.UseAll && allowed(PermUse, d.ID) {
			a.UseIn = append(a.UseIn, d.ID)
		}
		if !a.ManageAll && allowed(PermManage, d.ID) {
			a.ManageIn = append(a.ManageIn, d.ID)
		}
	}
	return a, nil
}

// Item is a canned message as the composer gets it: the body with placeholders filled in when a
// conversation was named.
type Item struct {
	ID       string `json:"id"`
	Shortcut string `json:"shortcut"`
	Title    string `json:"title"`
	Body     string `json:"body"`
	Scope    string `json:"scope"`
}

// cleanQuery makes a search out of what the agent typed: "/hel" searches "hel".
func cleanQuery(q string) (string, error) {
	q = strings.TrimPrefix(strings.TrimSpace(q), "/")
	if utf8.RuneCountInString(q) > MaxQueryRunes {
		return "", invalid("q", "Search with at most 100 characters.")
	}
	return strings.ToLower(sanitize.Clean(q, sanitize.Limits{MaxRunes: MaxQueryRunes})), nil
}

// scopeRank orders the composer's suggestions: the agent's own texts, then the department's,
// then the organisation's.
var scopeRank = map[string]int{ScopePersonal: 0, ScopeDepartment: 1, ScopeShared: 2}

// Suggest answers the composer: at most MaxSuggestions texts p may use whose shortcut, title or
// body holds q — shortcuts that start with q first — with the placeholders of conversationID
// filled in when it is given (ErrNotFound when p may not see that conversation).
func (s *Service) Suggest(ctx context.Context, p *identity.Principal, q, conversationID string) ([]Item, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	q, err := cleanQuery(q)
	if err != nil {
		return nil, err
	}
	a, err := s.AccessOf(ctx, p)
	if err != nil {
		return nil, err
	}
	if !a.Uses() {
		return nil, ErrForbidden
	}
	var vals *Values
	if conversationID != "" {
		if s.Conversations == nil {
			return nil, ErrNotFound
		}
		v, err := s.Conversations.Values(ctx, p, conversationID)
		if err != nil {
			return nil, err
		}
		if v.VisitorName == "" {
			v.VisitorName = "there"
		}
		vals = &v
	}
	rows, err := s.store().list(ctx, p.TenantID, a.reach(), q, 10*MaxSuggestions)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(rows, func(i, j int) bool {
		pi, pj := strings.HasPrefix(rows[i].Shortcut, q), strings.HasPrefix(rows[j].Shortcut, q)
		if pi != pj {
			return pi
		}
		if rows[i].Shortcut != rows[j].Shortcut {
			return rows[i].Shortcut < rows[j].Shortcut
		}
		return scopeRank[rows[i].Scope] < scopeRank[rows[j].Scope]
	})
	out := make([]Item, 0, min(len(rows), MaxSuggestions))
	for _, r := range rows {
		if len(out) == MaxSuggestions {
			break
		}
		if !a.CanRead(r.message()) {
			continue
		}
		it := Item{ID: r.ID, Shortcut: r.Shortcut, Title: r.Title, Body: r.Body, Scope: r.Scope}
		if vals != nil {
			it.Body = Expand(it.Body, *vals)
		}
		out = append(out, it)
	}
	return out, nil
}

// List returns the texts p may read whose shortcut, title or body holds q (every one when q is
// empty), by shortcut, at most limit (at most 3×MaxPerList).
func (s *Service) List(ctx context.Context, p *identity.Principal, a Access, q string, limit int) ([]Message, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	q, err := cleanQuery(q)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 3*MaxPerList {
		limit = 3 * MaxPerList
	}
	rows, err := s.store().list(ctx, p.TenantID, a.reach(), q, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(rows))
	for _, r := range rows {
		if m := r.message(); a.CanRead(m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// Get returns one text p may read.
func (s *Service) Get(ctx context.Context, p *identity.Principal, id string) (Message, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if _, err := uuid.Parse(id); err != nil {
		return Message{}, ErrNotFound
	}
	a, err := s.AccessOf(ctx, p)
	if err != nil {
		return Message{}, err
	}
	r, err := s.store().get(ctx, s.DB, p.TenantID, id)
	if err != nil {
		return Message{}, err
	}
	m := r.message()
	if !a.CanRead(m) {
		return Message{}, ErrNotFound
	}
	return m, nil
}

// Create adds a text. A personal text belongs to p; a department text needs canned.manage in its
// department, a shared one canned.manage tenant-wide.
func (s *Service) Create(ctx context.Context, p *identity.Principal, in Input, o Origin) (Message, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if s.Audit == nil {
		return Message{}, ErrNoAuditor
	}
	t, err := Validate(in.Shortcut, in.Title, in.Body)
	if err != nil {
		return Message{}, err
	}
	a, err := s.AccessOf(ctx, p)
	if err != nil {
		return Message{}, err
	}
	r := row{ID: uuid.Must(uuid.NewV7()).String(), TenantID: p.TenantID, Scope: in.Scope,
		Shortcut: t.Shortcut, Title: t.Title, Body: t.Body, CreatedBy: p.UserID, UpdatedBy: p.UserID}
	switch in.Scope {
	case ScopePersonal:
		r.OwnerID = p.UserID
	case ScopeDepartment:
		if in.DepartmentID == "" {
			return Message{}, invalid("department_id", "Choose the department the message is for.")
		}
		if err := s.checkDepartment(ctx, p.TenantID, in.DepartmentID); err != nil {
			return Message{}, err
		}
		r.DepartmentID = &in.DepartmentID
	case ScopeShared:
	default:
		return Message{}, invalid("scope", "The scope is personal, department or shared.")
	}
	if !a.CanWrite(r.Scope, in.DepartmentID) {
		return Message{}, ErrForbidden
	}
	r.ScopeKey = scopeKey(r.Scope, r.OwnerID, in.DepartmentID)
	r.CreatedAt = s.now()
	r.UpdatedAt = r.CreatedAt
	err = migrations.Transaction(s.DB.WithContext(ctx), func(tx *gorm.DB) error {
		n, err := s.store().count(ctx, tx, p.TenantID, r.ScopeKey)
		if err != nil {
			return err
		}
		if n >= MaxPerList {
			return ErrTooMany
		}
		if err := tx.Create(&r).Error; err != nil {
			if migrations.IsUniqueViolation(err) {
				return ErrExists
			}
			return err
		}
		return s.Audit.Append(ctx, tx, s.event(p, audit.ActionCannedCreate, r, o))
	})
	if err != nil {
		return Message{}, err
	}
	return r.message(), nil
}

// checkDepartment makes sure dept is one of the tenant's departments.
func (s *Service) checkDepartment(ctx context.Context, tenantID, dept string) error {
	depts, err := s.Departments.Departments(ctx, tenantID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(depts, func(d tenant.Department) bool { return d.ID == dept }) {
		return invalid("department_id", "Choose one of the organisation's departments.")
	}
	return nil
}

// Update changes a text's shortcut, title and body; its scope stays.
func (s *Service) Update(ctx context.Context, p *identity.Principal, id string, in Input, o Origin) (Message, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	var out Message
	err := s.change(ctx, p, id, func(tx *gorm.DB, r *row) (audit.Action, error) {
		t, err := Validate(in.Shortcut, in.Title, in.Body)
		if err != nil {
			return "", err
		}
		r.Shortcut, r.Title, r.Body, r.UpdatedBy, r.UpdatedAt = t.Shortcut, t.Title, t.Body, p.UserID, s.now()
		res := tx.Model(&row{}).Where("tenant_id = ? AND id = ?", p.TenantID, id).Updates(map[string]any{
			"shortcut": r.Shortcut, "title": r.Title, "body": r.Body, "updated_by": r.UpdatedBy, "updated_at": r.UpdatedAt})
		if res.Error != nil {
			if migrations.IsUniqueViolation(res.Error) {
				return "", ErrExists
			}
			return "", res.Error
		}
		out = r.message()
		return audit.ActionCannedChange, nil
	}, o)
	return out, err
}

// Delete removes a text.
func (s *Service) Delete(ctx context.Context, p *identity.Principal, id string, o Origin) error {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	return s.change(ctx, p, id, func(tx *gorm.DB, r *row) (audit.Action, error) {
		if err := tx.Where("tenant_id = ? AND id = ?", p.TenantID, id).Delete(&row{}).Error; err != nil {
			return "", err
		}
		return audit.ActionCannedDelete, nil
	}, o)
}

// change runs fn on text id inside a transaction, once p may write it, and audits it.
func (s *Service) change(ctx context.Context, p *identity.Principal, id string, fn func(tx *gorm.DB, r *row) (audit.Action, error), o Origin) error {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if s.Audit == nil {
		return ErrNoAuditor
	}
	if _, err := uuid.Parse(id); err != nil {
		return ErrNotFound
	}
	a, err := s.AccessOf(ctx, p)
	if err != nil {
		return err
	}
	return migrations.Transaction(s.DB.WithContext(ctx), func(tx *gorm.DB) error {
		r, err := s.store().get(ctx, tx, p.TenantID, id)
		if err != nil {
			return err
		}
		m := r.message()
		if !a.CanRead(m) {
			return ErrNotFound
		}
		if !a.CanWrite(m.Scope, m.DepartmentID) || (m.Scope == ScopePersonal && m.OwnerID != p.UserID) {
			return ErrForbidden
		}
		action, err := fn(tx, &r)
		if err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, s.event(p, action, r, o))
	})
}

// event is the audit record of a change: the scope, department and shortcut, never the body.
func (s *Service) event(p *identity.Principal, action audit.Action, r row, o Origin) audit.Event {
	details := map[string]string{"scope": r.Scope, "shortcut": r.Shortcut}
	if r.DepartmentID != nil {
		details["department_id"] = *r.DepartmentID
	}
	return audit.Event{
		Tenant: p.TenantID, Actor: audit.Actor{ID: p.UserID, Kind: audit.ActorUser},
		Origin: audit.Origin{IP: o.IP, UserAgent: o.UserAgent, Node: s.Node},
		Action: action, Target: audit.Target{Kind: "canned_message", ID: r.ID}, Outcome: audit.Success,
		RequestID: o.RequestID, Details: details,
	}
}

// IsClientError reports whether err is the caller's (bad input, no permission, not found, a
// taken shortcut, a full list) rather than the system's.
func IsClientError(err error) bool {
	for _, e := range []error{ErrNotFound, ErrForbidden, ErrExists, ErrTooMany, ErrInvalid, ErrCardNumber} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
