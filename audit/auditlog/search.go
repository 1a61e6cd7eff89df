package auditlog

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// Search limits.
const (
	DefaultSearchLimit = 50
	MaxSearchLimit     = 500
	MaxKeywordBytes    = 200
)

// Query selects sealed events of one tenant for the console and API. Every filter is
// optional except Tenant; filters combine with AND. Results come newest first.
type Query struct {
	Tenant string
	// From and To bound the event time: From ≤ time < To. Zero means unbounded.
	From, To time.Time
	ActorID  string
	// Actions keeps events whose action is one of these.
	Actions    []audit.Action
	TargetKind string
	TargetID   string
	Outcome    audit.Outcome
	// Keyword is matched, case-insensitively, as a substring of the actor, target, action,
	// reason, request id, origin and details.
	Keyword string
	// Before is the keyset cursor: only events with seq < Before (0: from the newest). Pass
	// the previous page's Next.
	Before int64
	// Limit is the page size (DefaultSearchLimit, at most MaxSearchLimit).
	Limit int
}

// Page is one page of search results.
type Page struct {
	Entries []audit.Entry
	// Next is the cursor for the following (older) page; 0 when there is none.
	Next int64
}

// Search returns one page of a tenant's events matching q. The caller is responsible for the
// audit.view permission and for recording the search itself (audit.ActionAuditSearch).
func (l *Log) Search(ctx context.Context, q Query) (Page, error) {
	ctx = migrations.WithTenant(ctx, q.Tenant)
	where, args, err := searchWhere(q)
	if err != nil {
		return Page{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	limit = min(limit, MaxSearchLimit)
	query := rebind(l.db.Dialect, "SELECT "+entryCols+" FROM audit_events WHERE "+where+" ORDER BY seq DESC LIMIT ?")
	args = append(args, limit+1)
	rows, err := l.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return Page{}, fmt.Errorf("search audit events: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var page Page
	for rows.Next() {
		var e storedEntry
		if err := scanEntry(rows, &e); err != nil {
			return Page{}, err
		}
		page.Entries = append(page.Entries, e.Entry)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("search audit events: %w", err)
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		page.Next = page.Entries[limit-1].Seq
	}
	return page, nil
}

func searchWhere(q Query) (string, []any, error) {
	if q.Tenant == "" {
		return "", nil, fmt.Errorf("%w: tenant is required", ErrBadQuery)
	}
	if len(q.Keyword) > MaxKeywordBytes || !utf8.ValidString(q.Keyword) {
		return "", nil, fmt.Errorf("%w: keyword must be valid text of at most %d bytes", ErrBadQuery, MaxKeywordBytes)
	}
	if len(q.Actions) > len(audit.Catalogue()) {
		return "", nil, fmt.Errorf("%w: too many actions", ErrBadQuery)
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return "", nil, fmt.Errorf("%w: from must be before to", ErrBadQuery)
	}
	conds := []string{"tenant_id = ?"}
	args := []any{q.Tenant}
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if q.Before > 0 {
		add("seq < ?", q.Before)
	}
	if !q.From.IsZero() {
		add("at_us >= ?", audit.CanonicalTime(q.From).UnixMicro())
	}
	if !q.To.IsZero() {
		add("at_us < ?", audit.CanonicalTime(q.To).UnixMicro())
	}
	if q.ActorID != "" {
		add("actor_id = ?", q.ActorID)
	}
	if len(q.Actions) > 0 {
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(q.Actions)), ", ")
		a := make([]any, len(q.Actions))
		for i, x := range q.Actions {
			a[i] = string(x)
		}
		add("action IN ("+ph+")", a...)
	}
	if q.TargetKind != "" {
		add("target_kind = ?", q.TargetKind)
	}
	if q.TargetID != "" {
		add("target_id = ?", q.TargetID)
	}
	if q.Outcome != "" {
		if q.Outcome != audit.Success && q.Outcome != audit.Failure {
			return "", nil, fmt.Errorf("%w: outcome must be success or failure", ErrBadQuery)
		}
		add("outcome = ?", string(q.Outcome))
	}
	if kw := strings.TrimSpace(q.Keyword); kw != "" {
		pat := "%" + escapeLike(strings.ToLower(kw)) + "%"
		cols := []string{"actor_id", "actor_role", "target_kind", "target_id", "action", "reason", "request_id", "client_ip", "user_agent", "node", "details"}
		parts := make([]string, len(cols))
		a := make([]any, len(cols))
		for i, c := range cols {
			parts[i] = "LOWER(" + c + `) LIKE ? ESCAPE '\'`
			a[i] = pat
		}
		add("("+strings.Join(parts, " OR ")+")", a...)
	}
	return strings.Join(conds, " AND "), args, nil
}

// escapeLike escapes LIKE's wildcards so a keyword matches literally.
func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
