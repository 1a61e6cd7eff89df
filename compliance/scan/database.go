package scan

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// Opener opens a value sealed by the envelope; *vault.Envelope satisfies it. The plaintext is
// zeroed after it was scanned.
type Opener interface {
	Open(ctx context.Context, b vault.Binding, ciphertext []byte) ([]byte, error)
}

var _ Opener = (*vault.Envelope)(nil)

// Sealed describes a database column the envelope seals.
type Sealed struct {
	Table, Column string
	// Field is the envelope's field name, part of each value's binding.
	Field string
	// Query selects, for every row with a value: a reference (the row id), the tenant id, the
	// scope (the data key's owner), the sequence number and the ciphertext — ordered by scope, so
	// each data key is fetched once.
	Query string
	// Base64 marks text columns sealed as base64 (SealString); others hold raw bytes.
	Base64 bool
}

// fileFields are the chat's field names for files (app/chat keeps them to itself).
const (
	fieldFileName    = "file.name"
	fieldFileContent = "file.content"
)

// ParleySealed lists the sealed columns of Parley's schema (DESIGN.md §3): message bodies,
// visitor names and e-mail addresses, pre-chat and survey answers, offline messages and their
// reply notes, file names and contents.
func ParleySealed() []Sealed {
	conv := func(column, field string) Sealed {
		return Sealed{Table: "conversations", Column: column, Field: field, Base64: true,
			Query: `SELECT id, tenant_id, id, 0, ` + column + ` FROM conversations WHERE ` + column + ` <> '' ORDER BY id`}
	}
	offline := func(column, field string) Sealed {
		return Sealed{Table: "offline_messages", Column: column, Field: field, Base64: true,
			Query: `SELECT id, tenant_id, id, 0, ` + column + ` FROM offline_messages WHERE ` + column + ` <> '' ORDER BY id`}
	}
	return []Sealed{
		{Table: "conversation_events", Column: "body", Field: vault.FieldMessageBody, Base64: true,
			Query: `SELECT id, tenant_id, conversation_id, seq, body FROM conversation_events WHERE body <> '' ORDER BY conversation_id, seq`},
		conv("visitor_name", vault.FieldVisitorName),
		conv("visitor_email", vault.FieldVisitorEmail),
		conv("prechat", vault.FieldPreChatAnswers),
		conv("survey", vault.FieldSurveyAnswers),
		offline("name", vault.FieldVisitorName),
		offline("email", vault.FieldVisitorEmail),
		offline("body", vault.FieldOfflineMessage),
		offline("reply_note", vault.FieldOfflineReply),
		{Table: "chat_files", Column: "name", Field: fieldFileName, Base64: true,
			Query: `SELECT f.id, f.tenant_id, f.conversation_id, e.seq, f.name FROM chat_files f
				JOIN conversation_events e ON e.file_id = f.id AND e.conversation_id = f.conversation_id ORDER BY f.conversation_id, e.seq`},
		{Table: "chat_files", Column: "content", Field: fieldFileContent,
			Query: `SELECT f.id, f.tenant_id, f.conversation_id, e.seq, f.content FROM chat_files f
				JOIN conversation_events e ON e.file_id = f.id AND e.conversation_id = f.conversation_id ORDER BY f.conversation_id, e.seq`},
	}
}

// column is a column of the database that may hold text.
type column struct{ table, name string }

// textColumns lists the columns of every table that can hold text or bytes.
func textColumns(ctx context.Context, db *sql.DB, dialect migrations.Dialect) (map[string][]string, []string, error) {
	var cols []column
	switch dialect {
	case migrations.Postgres:
		rows, err := db.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'character', 'bytea', 'json', 'jsonb')
			ORDER BY table_name, ordinal_position`)
		if err != nil {
			return nil, nil, err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var c column
			if err := rows.Scan(&c.table, &c.name); err != nil {
				return nil, nil, err
			}
			cols = append(cols, c)
		}
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	case migrations.SQLite:
		rows, err := db.QueryContext(ctx, `SELECT m.name, p.name, upper(p.type) FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`)
		if err != nil {
			return nil, nil, err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var c column
			var typ string
			if err := rows.Scan(&c.table, &c.name, &typ); err != nil {
				return nil, nil, err
			}
			if typ == "" || strings.Contains(typ, "TEXT") || strings.Contains(typ, "CHAR") || strings.Contains(typ, "BLOB") ||
				strings.Contains(typ, "CLOB") || strings.Contains(typ, "JSON") {
				cols = append(cols, c)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("scan: unknown dialect %q", dialect)
	}
	byTable := map[string][]string{}
	var order []string
	for _, c := range cols {
		if _, ok := byTable[c.table]; !ok {
			order = append(order, c.table)
		}
		byTable[c.table] = append(byTable[c.table], c.name)
	}
	return byTable, order, nil
}

// quote quotes an identifier.
func quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

// ScanDatabase scans every text and binary column of every table as stored, then the sealed
// columns decrypted through opener (nil skips them, reported as such). Sealed columns are not
// scanned as stored (their ciphertext is random). Each column is one location.
func (s *Scanner) ScanDatabase(ctx context.Context, db *migrations.DB, sealed []Sealed, opener Opener) ([]Location, error) {
	ctx = migrations.AcrossTenants(ctx) // the PAN discovery scan reads every tenant's rows (SECURITY.md)
	sqlDB, err := db.SQL()
	if err != nil {
		return nil, err
	}
	byTable, tables, err := textColumns(ctx, sqlDB, db.Dialect)
	if err != nil {
		return nil, fmt.Errorf("scan: list columns: %w", err)
	}
	skip := map[string]bool{}
	for _, sc := range sealed {
		skip[sc.Table+"."+sc.Column] = true
	}
	counts := map[string]int64{}
	var total int64
	for _, t := range tables {
		var n int64
		if err := sqlDB.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quote(t)).Scan(&n); err != nil {
			return nil, fmt.Errorf("scan: count %s: %w", t, err)
		}
		counts[t] = n
		total += n
	}
	sealedCounts := make([]int64, len(sealed))
	for i, sc := range sealed {
		if err := sqlDB.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+sc.Query+`) q`).Scan(&sealedCounts[i]); err != nil {
			sealedCounts[i] = -1
			continue
		}
		total += sealedCounts[i]
	}
	pr := s.progress()
	pr.Begin("database", total, "rows")
	defer pr.End()
	var out []Location
	for _, t := range tables {
		var cols []string
		for _, c := range byTable[t] {
			if !skip[t+"."+c] {
				cols = append(cols, c)
			}
		}
		if len(cols) == 0 {
			pr.Advance(counts[t])
			continue
		}
		pr.Item(t)
		locs, err := s.scanTable(ctx, sqlDB, t, cols, byTable[t], pr)
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		if err != nil {
			for i := range locs {
				locs[i].Error = err.Error()
			}
		}
		out = append(out, locs...)
	}
	for i, sc := range sealed {
		loc := Location{Kind: KindSealed, Name: sc.Table + "." + sc.Column}
		pr.Item(loc.Name + " (decrypted)")
		switch {
		case opener == nil:
			loc.Error = "not scanned: no key provider"
		case sealedCounts[i] < 0:
			loc.Error = "not scanned: the column is not in this database"
		default:
			if err := s.scanSealed(ctx, sqlDB, sc, opener, &loc, pr); err != nil {
				if ctx.Err() != nil {
					return out, ctx.Err()
				}
				loc.Error = err.Error()
			}
		}
		out = append(out, loc)
	}
	return out, nil
}

// scanTable reads cols of every row of table t in one pass; each column is a location. The row's
// id is its reference when the table has an id column.
func (s *Scanner) scanTable(ctx context.Context, db *sql.DB, t string, cols, all []string, pr Progress) ([]Location, error) {
	hasID := false
	for _, c := range all {
		if c == "id" {
			hasID = true
		}
	}
	sel := make([]string, 0, len(cols)+1)
	if hasID {
		sel = append(sel, `CAST("id" AS TEXT)`)
	}
	for _, c := range cols {
		sel = append(sel, quote(c))
	}
	locs := make([]Location, len(cols))
	counters := make([]*counter, len(cols))
	for i, c := range cols {
		locs[i] = Location{Kind: KindColumn, Name: t + "." + c}
		counters[i] = s.counter(&locs[i])
	}
	rows, err := db.QueryContext(ctx, `SELECT `+strings.Join(sel, ", ")+` FROM `+quote(t)) // #nosec G202 -- identifiers from the database's own catalogue, quoted
	if err != nil {
		return locs, err
	}
	defer func() { _ = rows.Close() }()
	vals := make([][]byte, len(sel))
	dest := make([]any, len(sel))
	for i := range vals {
		dest[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return locs, err
		}
		n++
		rowNo := n
		ref := func() string { return "row " + strconv.FormatInt(rowNo, 10) }
		off := 0
		if hasID {
			id := string(vals[0])
			ref = func() string { return "id " + id }
			off = 1
		}
		for i := range cols {
			if v := vals[i+off]; v != nil {
				counters[i].value(v, ref)
			}
		}
		pr.Advance(1)
	}
	return locs, rows.Err()
}

// scanSealed reads a sealed column row by row, opening each value and zeroing the plaintext
// after scanning it. A value that cannot be opened (a crypto-shredded or mismatched scope)
// counts as unreadable; an unreachable key provider ends the location with an error.
func (s *Scanner) scanSealed(ctx context.Context, db *sql.DB, sc Sealed, opener Opener, loc *Location, pr Progress) error {
	rows, err := db.QueryContext(ctx, sc.Query)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	c := s.counter(loc)
	for rows.Next() {
		var ref, tenant, scope string
		var seq int64
		var ct []byte
		if err := rows.Scan(&ref, &tenant, &scope, &seq, &ct); err != nil {
			return err
		}
		pr.Advance(1)
		if sc.Base64 {
			raw := make([]byte, base64.StdEncoding.DecodedLen(len(ct)))
			n, err := base64.StdEncoding.Decode(raw, ct)
			if err != nil {
				loc.Items++
				loc.Unreadable++
				continue
			}
			ct = raw[:n]
		}
		plain, err := opener.Open(ctx, vault.Binding{Tenant: tenant, Scope: scope, Field: sc.Field, Seq: seq}, ct)
		switch {
		case errors.Is(err, vault.ErrUnavailable), errors.Is(err, vault.ErrDenied), errors.Is(err, vault.ErrClosed):
			return fmt.Errorf("key provider: %w", err)
		case err != nil:
			loc.Items++
			loc.Unreadable++
			continue
		}
		c.value(plain, func() string { return "id " + ref })
		clear(plain)
	}
	return rows.Err()
}
