package migrations

import (
	"database/sql/driver"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/parleyhq/parley/compliance/pan"
)

// ErrCardNumber matches every CardNumberError (errors.Is).
var ErrCardNumber = errors.New("a card number may not be stored in this column")

// CardNumberError is the card guard's refusal of a write: a card number in a column that is
// stored in clear. It names the table and column, never the value.
type CardNumberError struct {
	Table  string
	Column string
}

// Error implements error.
func (e *CardNumberError) Error() string {
	if e.Column == "" {
		return "card number refused in a write to " + e.Table
	}
	return "card number refused in " + e.Table + "." + e.Column
}

// Is makes errors.Is(err, ErrCardNumber) true.
func (e *CardNumberError) Is(target error) bool { return target == ErrCardNumber }

// cardGuard is the storage layer's one check that no card number is written in clear: a GORM
// callback before every create, update and raw write statement, on both dialects. Each text
// value bound for a column is handled by the column's Treatment: Refuse fails the statement with
// a CardNumberError before anything is written, Mask replaces the card numbers by their last four
// digits, the others pass. Raw write statements (Exec) carry no column names, so each of their
// text arguments is refused when it holds a card number.
type cardGuard struct {
	masker *pan.Masker
	// schemas caches the parsed schemas of update values whose type is not the model's.
	schemas sync.Map
}

// registerCardGuard installs the card guard on g.
func registerCardGuard(g *gorm.DB) error {
	m, err := pan.NewMasker(pan.Options{Mode: pan.ModeLast4})
	if err != nil {
		return err
	}
	cg := &cardGuard{masker: m}
	cb := g.Callback()
	if err := cb.Create().Before("gorm:create").Register("parley:card_guard", cg.create); err != nil {
		return err
	}
	if err := cb.Update().Before("gorm:update").Register("parley:card_guard", cg.update); err != nil {
		return err
	}
	if err := cb.Raw().Before("gorm:raw").Register("parley:card_guard", cg.raw); err != nil {
		return err
	}
	// A write with RETURNING sent through Raw(...).Scan or Rows runs as a row or query statement.
	if err := cb.Row().Before("gorm:row").Register("parley:card_guard", cg.raw); err != nil {
		return err
	}
	return cb.Query().Before("gorm:query").Register("parley:card_guard", cg.raw)
}

func (g *cardGuard) create(db *gorm.DB) {
	st := db.Statement
	if db.Error != nil || st == nil {
		return
	}
	g.statementValues(db)
	g.conflictSet(db)
}

func (g *cardGuard) update(db *gorm.DB) {
	st := db.Statement
	if db.Error != nil || st == nil {
		return
	}
	g.statementValues(db)
	if set, ok := st.Clauses["SET"].Expression.(clause.Set); ok {
		g.assignments(db, set)
	}
}

// statementValues checks the values a create or update statement writes: its Dest, a struct (or
// a slice of them) of the model, or a map of column or field names to values.
func (g *cardGuard) statementValues(db *gorm.DB) {
	st := db.Statement
	if st.Dest == nil {
		return
	}
	rv := reflect.ValueOf(st.Dest)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Map:
		g.mapValues(db, rv)
	case reflect.Struct:
		g.structValues(db, rv)
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			e := rv.Index(i)
			for e.Kind() == reflect.Pointer && !e.IsNil() {
				e = e.Elem()
			}
			switch e.Kind() {
			case reflect.Struct:
				g.structValues(db, e)
			case reflect.Map:
				g.mapValues(db, e)
			}
			if db.Error != nil {
				return
			}
		}
	}
}

func (g *cardGuard) structValues(db *gorm.DB, rv reflect.Value) {
	st := db.Statement
	sch := st.Schema
	if sch == nil || rv.Type() != sch.ModelType {
		// Updates with a struct of another type: GORM matches its fields to the model's columns
		// by name, so the guard reads them through that type's own schema.
		var err error
		if sch, err = g.schemaOf(db, rv.Type()); err != nil {
			_ = db.AddError(err)
			return
		}
	}
	for _, f := range sch.Fields {
		if f.DBName == "" || !textKind(f.FieldType) {
			continue
		}
		col := f.DBName
		if st.Schema != nil && sch != st.Schema {
			if mf := st.Schema.LookUpField(f.Name); mf != nil && mf.DBName != "" {
				col = mf.DBName
			}
		}
		if !inspected(st.Table, col) {
			continue
		}
		v, zero := f.ValueOf(st.Context, rv)
		if zero {
			continue
		}
		out, changed, err := g.check(st.Table, col, v)
		if err != nil {
			_ = db.AddError(err)
			return
		}
		if changed {
			if !rv.CanAddr() {
				_ = db.AddError(&CardNumberError{Table: st.Table, Column: col})
				return
			}
			if err := f.Set(st.Context, rv, out); err != nil {
				_ = db.AddError(err)
				return
			}
		}
	}
}

func (g *cardGuard) mapValues(db *gorm.DB, rv reflect.Value) {
	st := db.Statement
	if rv.Type().Key().Kind() != reflect.String {
		return
	}
	for _, k := range rv.MapKeys() {
		col := k.String()
		if st.Schema != nil {
			if f := st.Schema.LookUpField(col); f != nil && f.DBName != "" {
				col = f.DBName
			}
		}
		out, changed, err := g.check(st.Table, col, rv.MapIndex(k).Interface())
		if err != nil {
			_ = db.AddError(err)
			return
		}
		if changed {
			rv.SetMapIndex(k, reflect.ValueOf(out))
		}
	}
}

// schemaOf parses (once per type) the schema of a value written into another model's table.
func (g *cardGuard) schemaOf(db *gorm.DB, t reflect.Type) (*schema.Schema, error) {
	if s, ok := g.schemas.Load(t); ok {
		return s.(*schema.Schema), nil
	}
	s, err := schema.Parse(reflect.New(t).Interface(), &sync.Map{}, db.NamingStrategy)
	if err != nil {
		return nil, err
	}
	g.schemas.Store(t, s)
	return s, nil
}

// conflictSet checks the values of an upsert's DO UPDATE SET.
func (g *cardGuard) conflictSet(db *gorm.DB) {
	if oc, ok := db.Statement.Clauses["ON CONFLICT"].Expression.(clause.OnConflict); ok {
		g.assignments(db, oc.DoUpdates)
	}
}

func (g *cardGuard) assignments(db *gorm.DB, set clause.Set) {
	for i, a := range set {
		out, changed, err := g.check(db.Statement.Table, a.Column.Name, a.Value)
		if err != nil {
			_ = db.AddError(err)
			return
		}
		if changed {
			set[i].Value = out
		}
	}
}

// rawWrite matches a raw statement that writes rows, and the table it names.
var rawWrite = regexp.MustCompile(`(?is)^\s*(?:with\s.*?\)\s*)?(insert\s+(?:or\s+\w+\s+)?into|update|replace\s+into)\s+"?([A-Za-z_][A-Za-z0-9_]*)`)

// canonicalUUID matches an id in the canonical UUID form, the form of every id Parley generates.
var canonicalUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// raw checks the arguments of a raw write (db.Exec): with no column names to go by, any text
// argument holding a card number refuses the statement. Arguments in the canonical UUID form are
// ids (raw writes bind ids, names of configured destinations and numbers): their random digit
// groups can read as a card number by chance (8-4-4 or 4-12 digits).
func (g *cardGuard) raw(db *gorm.DB) {
	st := db.Statement
	if db.Error != nil || st == nil || len(st.Vars) == 0 {
		return
	}
	sql := skipComments(st.SQL.String())
	if sql == "" || !strings.ContainsRune("iIuUrRwW", rune(sql[0])) {
		return // a SELECT, the common case, skips the pattern
	}
	m := rawWrite.FindStringSubmatch(sql)
	if m == nil {
		return
	}
	for _, v := range st.Vars {
		if s, ok := textOf(v); ok && !canonicalUUID.MatchString(s) && pan.Contains(s) {
			_ = db.AddError(&CardNumberError{Table: strings.ToLower(m[2])})
			return
		}
	}
}

// inspected reports whether the guard looks at a column's values: Refuse and Mask columns, and
// columns it does not know (treated as Refuse).
func inspected(table, column string) bool {
	t, ok := ColumnTreatment(table, column)
	return !ok || t == Refuse || t == Mask
}

// skipComments returns sql without its leading white space and comments.
func skipComments(sql string) string {
	for {
		sql = strings.TrimLeft(sql, " \t\r\n")
		switch {
		case strings.HasPrefix(sql, "--"):
			i := strings.IndexByte(sql, '\n')
			if i < 0 {
				return ""
			}
			sql = sql[i+1:]
		case strings.HasPrefix(sql, "/*"):
			i := strings.Index(sql, "*/")
			if i < 0 {
				return ""
			}
			sql = sql[i+2:]
		default:
			return sql
		}
	}
}

// exprVars checks the arguments of an expression written into a column (gorm.Expr): a card
// number refuses the write in a Refuse column and is masked in place in a Mask column.
func (g *cardGuard) exprVars(table, column string, t Treatment, vars []any) error {
	for i, v := range vars {
		switch x := v.(type) {
		case clause.Expr:
			if err := g.exprVars(table, column, t, x.Vars); err != nil {
				return err
			}
			continue
		case *clause.Expr:
			if x != nil {
				if err := g.exprVars(table, column, t, x.Vars); err != nil {
					return err
				}
			}
			continue
		case clause.NamedExpr:
			if err := g.exprVars(table, column, t, x.Vars); err != nil {
				return err
			}
			continue
		}
		s, ok := textOf(v)
		if !ok || !pan.Contains(s) {
			continue
		}
		if t != Mask {
			return &CardNumberError{Table: table, Column: column}
		}
		vars[i] = g.masker.MaskString(s)
	}
	return nil
}

// check applies the column's treatment to one value: the value to write instead when it was
// masked, or a CardNumberError.
func (g *cardGuard) check(table, column string, v any) (any, bool, error) {
	t, ok := ColumnTreatment(table, column)
	if !ok {
		t = Refuse
	}
	if t != Refuse && t != Mask {
		return nil, false, nil
	}
	switch x := v.(type) {
	case clause.Expr:
		return nil, false, g.exprVars(table, column, t, x.Vars)
	case *clause.Expr:
		if x != nil {
			return nil, false, g.exprVars(table, column, t, x.Vars)
		}
	case clause.NamedExpr:
		return nil, false, g.exprVars(table, column, t, x.Vars)
	}
	s, ok := textOf(v)
	if !ok || !pan.Contains(s) {
		return nil, false, nil
	}
	if t == Refuse {
		return nil, false, &CardNumberError{Table: table, Column: column}
	}
	masked := g.masker.MaskString(s)
	switch v.(type) {
	case string:
		return masked, true, nil
	case *string:
		return &masked, true, nil
	case []byte:
		return []byte(masked), true, nil
	}
	// A named string type or a driver.Valuer: write the masked text in its place.
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.String {
		out := reflect.New(rv.Type()).Elem()
		out.SetString(masked)
		return out.Interface(), true, nil
	}
	return nil, false, &CardNumberError{Table: table, Column: column}
}

// textOf returns the text a value writes: strings, byte slices, named string types, pointers to
// them and driver.Valuers that produce one of those.
func textOf(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case *string:
		if x == nil {
			return "", false
		}
		return *x, true
	case []byte:
		return string(x), true
	case driver.Valuer:
		dv, err := x.Value()
		if err != nil {
			return "", false
		}
		switch d := dv.(type) {
		case string:
			return d, true
		case []byte:
			return string(d), true
		}
		return "", false
	case clause.Expr, clause.Expression:
		return "", false
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "", false
		}
		rv = rv.Elem()
	}
	if rv.Kind() == reflect.String {
		return rv.String(), true
	}
	return "", false
}

// textKind reports whether a field's type can carry text: strings, byte slices, named string
// types, pointers to them and types that implement driver.Valuer.
func textKind(t reflect.Type) bool {
	if t.Implements(valuerType) || reflect.PointerTo(t).Implements(valuerType) {
		return true
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.Uint8
	}
	return false
}

var valuerType = reflect.TypeOf((*driver.Valuer)(nil)).Elem()
