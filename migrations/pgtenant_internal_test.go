package migrations

import (
	"errors"
	"testing"
)

func TestUnscopedReport(t *testing.T) {
	strict := &unscopedReport{strict: true, seen: map[string]bool{}}
	lenient := &unscopedReport{seen: map[string]bool{}}
	tests := []struct {
		name  string
		s     scope
		query string
		want  bool // refused in strict mode
	}{
		{"tenant data without a scope", scope{}, "SELECT id FROM users WHERE tenant_id = $1", true},
		{"a write without a scope", scope{}, "  INSERT INTO sessions (id, tenant_id) VALUES ($1, $2)", true},
		{"a CTE without a scope", scope{}, "WITH x AS (SELECT 1) SELECT * FROM sessions WHERE tenant_id = $1", true},
		{"lower case", scope{}, "delete from sessions where tenant_id = $1", true},
		{"scoped", scope{tenant: "t1"}, "SELECT id FROM users WHERE tenant_id = $1", false},
		{"across tenants", scope{across: true}, "SELECT tenant_id FROM audit_outbox", false},
		{"installation data", scope{}, "SELECT version FROM rbac_policy_version WHERE id = 1", false},
		{"schema change", scope{}, "ALTER TABLE users ADD COLUMN x TEXT -- tenant_id", false},
		{"a migration's block", scope{}, "DO $$ BEGIN PERFORM 1; END $$ -- tenant_id", false},
		{"too short", scope{}, "(", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := strict.check(tc.s, tc.query)
			if got := errors.Is(err, ErrUnscoped); got != tc.want {
				t.Errorf("strict: %v, want refused = %v", err, tc.want)
			}
			if err := lenient.check(tc.s, tc.query); err != nil {
				t.Errorf("lenient mode refused: %v", err)
			}
		})
	}
	if !lenient.seen["SELECT id FROM users WHERE tenant_id = $1"] || lenient.seen["SELECT version FROM rbac_policy_version WHERE id = 1"] {
		t.Errorf("lenient mode noted %v, want the unscoped statements on tenant data only", lenient.seen)
	}
	var none *unscopedReport // a connection beneath row-level security
	if err := none.check(scope{}, "SELECT id FROM users WHERE tenant_id = $1"); err != nil {
		t.Errorf("unbound connection: %v", err)
	}
}

func FuzzIsDML(f *testing.F) {
	for _, s := range []string{"SELECT 1", "with x", "(", "", "  \n\tUPDATE t", "DO $$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		_ = isDML(q) // never panics, whatever the statement
	})
}
