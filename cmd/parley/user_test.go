package main

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestUserCreateRefusesCardNumbers: parley user create names the flag whose value holds a card
// number, exits 2, creates nothing and does not print the number.
func TestUserCreateRefusesCardNumbers(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := map[string]string{"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_DATABASE_URL": migratetest.URL(t, d)}
			if r := runCmd(t, env, "", "migrate", "up"); r.code != 0 {
				t.Fatalf("migrate up: %+v", r)
			}
			tests := []struct {
				name         string
				tenant, mail string
				person, flag string
			}{
				{"tenant", "Acme 4111 1111 1111 1111", "owner@acme.test", "", "--tenant"},
				{"e-mail", "Acme Bank", "5500000000000004@acme.test", "", "--email"},
				{"name", "Acme Bank", "owner@acme.test", "Ada 3400-0000-0000-009", "--name"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					args := []string{"user", "create", "--tenant", tt.tenant, "--email", tt.mail, "--role", "owner", "--password-stdin"}
					if tt.person != "" {
						args = append(args, "--name", tt.person)
					}
					r := runCmd(t, env, "Tr1cky-Lantern-Harbour\n", args...)
					if r.code != 2 || !strings.Contains(r.stderr, tt.flag+": a card number is not allowed") {
						t.Fatalf("user create = %+v, want exit 2 naming %s", r, tt.flag)
					}
					// Whole numbers as typed: a bare "4111" also occurs by chance in the log line's
					// timestamp and temporary paths.
					for _, digits := range []string{"4111 1111 1111 1111", "5500000000000004", "3400-0000-0000-009"} {
						if strings.Contains(r.stdout+r.stderr, digits) {
							t.Errorf("output repeats the card number: %+v", r)
						}
					}
				})
			}
			r := runCmd(t, env, "Tr1cky-Lantern-Harbour\n", "user", "create", "--tenant", "Acme Bank", "--email", "owner@acme.test", "--role", "owner", "--password-stdin")
			if r.code != 0 || !strings.Contains(r.stdout, "acme-bank") {
				t.Fatalf("user create after the refusals = %+v, want the organisation created", r)
			}
		})
	}
}
