package cardform_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// secrets are the forms in which the test card could leak: the number with and without spaces,
// the code as a number of its own, the cardholder's name.
var secrets = []*regexp.Regexp{
	regexp.MustCompile(testPAN),
	regexp.MustCompile(regexp.QuoteMeta(testSpaced)),
	regexp.MustCompile(`(^|[^0-9A-Za-z+/=_-])` + testCVC + `([^0-9A-Za-z+/=_-]|$)`),
	regexp.MustCompile(regexp.QuoteMeta(testName)),
	regexp.MustCompile("Cardholder"),
}

// leaks returns where in text the test card appears.
func leaks(text string) []string {
	var out []string
	for _, re := range secrets {
		if loc := re.FindStringIndex(text); loc != nil {
			lo, hi := max(0, loc[0]-40), min(len(text), loc[1]+40)
			out = append(out, re.String()+" in …"+strings.ToValidUTF8(text[lo:hi], "?")+"…")
		}
	}
	return out
}

// dumpDatabase reads every text, JSON and binary column of every table: what an attacker with
// the database (or a backup of it) would read.
func dumpDatabase(t *testing.T, db *migrations.DB) string {
	t.Helper()
	type col struct{ Table, Column string }
	var cols []col
	switch db.Dialect {
	case migrations.Postgres:
		if err := migratetest.Beneath(t, db).Gorm.Raw(`SELECT table_name AS "table", column_name AS "column" FROM information_schema.columns
			WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'bytea', 'json', 'jsonb')`).Scan(&cols).Error; err != nil {
			t.Fatal(err)
		}
	default:
		var tables []string
		if err := migratetest.Beneath(t, db).Gorm.Raw(`SELECT name FROM sqlite_master WHERE type = 'table'`).Scan(&tables).Error; err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			var info []struct{ Name, Type string }
			if err := migratetest.Beneath(t, db).Gorm.Raw(`SELECT name, type FROM pragma_table_info(?)`, tb).Scan(&info).Error; err != nil {
				t.Fatal(err)
			}
			for _, c := range info {
				cols = append(cols, col{tb, c.Name})
			}
		}
	}
	var b strings.Builder
	for _, c := range cols {
		var vals []string
		q := `SELECT CAST("` + c.Column + `" AS TEXT) FROM "` + c.Table + `" WHERE "` + c.Column + `" IS NOT NULL`
		if db.Dialect == migrations.Postgres {
			q = `SELECT encode(convert_to("` + c.Column + `"::text, 'UTF8'), 'escape') FROM "` + c.Table + `" WHERE "` + c.Column + `" IS NOT NULL`
		}
		if err := migratetest.Beneath(t, db).Gorm.Raw(q).Scan(&vals).Error; err != nil {
			t.Fatalf("dump %s.%s: %v", c.Table, c.Column, err)
		}
		for _, v := range vals {
			b.WriteString(c.Table + "." + c.Column + "=" + v + "\n")
		}
	}
	return b.String()
}

// databaseFiles reads an SQLite database's files: the database, its WAL and shared memory.
func databaseFiles(t *testing.T, dbURL string) string {
	t.Helper()
	path := strings.TrimPrefix(dbURL, "sqlite://")
	matches, err := filepath.Glob(path + "*")
	if err != nil || len(matches) == 0 {
		t.Fatalf("database files of %s: %v", path, err)
	}
	var b strings.Builder
	for _, m := range matches {
		data, err := os.ReadFile(m) // #nosec G304 -- the test's own temporary database
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}
