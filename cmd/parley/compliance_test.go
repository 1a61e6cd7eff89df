package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestComplianceModeCommand: an operator shows and sets an organisation's compliance mode from the
// shell and sees its drift; turning a framework off needs --reason; every change is audited; and
// `parley serve` refuses to start while an organisation is in a mode and the installation runs
// the development key provider, naming the organisation and the control — until the mode is off.
func TestComplianceModeCommand(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbURL := migratetest.URL(t, d)
			env := map[string]string{"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_DATABASE_URL": dbURL, "PARLEY_ADDR": "127.0.0.1:0", "USER": "ops"}
			migrateWithOwner(t, env)

			if r := runCmd(t, env, "", "compliance-mode", "show", "--tenant", "acme-bank"); r.code != 0 || r.stdout != "mode: none\n" {
				t.Fatalf("show = %+v", r)
			}
			r := runCmd(t, env, "", "compliance-mode", "set", "--tenant", "acme-bank", "--mode", "pci")
			if r.code != 0 || !strings.Contains(r.stdout, "compliance mode of acme-bank set to pci") || !strings.Contains(r.stdout, "key-provider (PCI DSS 3.5.1") {
				t.Fatalf("set pci = %+v", r)
			}
			if n := countAudit(t, dbURL, "compliance.mode.change", tenantIDOf(t, dbURL, "acme-bank")); n != 1 {
				t.Errorf("compliance.mode.change events: %d, want 1", n)
			}

			// Serving with the development key provider is refused (fail closed), within seconds.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			code := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
			if code != exitFailure || !strings.Contains(errb.String(), `organisation "acme-bank" is in pci compliance mode`) || !strings.Contains(errb.String(), "PCI DSS 3.5.1") {
				t.Fatalf("serve = %d, stderr %q, want exit 1 naming the organisation and PCI DSS 3.5.1", code, errb.String())
			}

			for _, tt := range []struct {
				name   string
				args   []string
				code   int
				stderr string
			}{
				{"no subcommand", nil, 2, "usage: parley compliance-mode show"},
				{"no tenant", []string{"show"}, 2, "--tenant is required"},
				{"no mode", []string{"set", "--tenant", "acme-bank"}, 2, "--mode must be"},
				{"bad mode", []string{"set", "--tenant", "acme-bank", "--mode", "sox"}, 2, "--mode must be"},
				{"unknown tenant", []string{"show", "--tenant", "nope"}, 2, `no organisation "nope"`},
				{"off without reason", []string{"set", "--tenant", "acme-bank", "--mode", "none"}, 2, "--reason"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					r := runCmd(t, env, "", append([]string{"compliance-mode"}, tt.args...)...)
					if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
						t.Errorf("got %+v, want exit %d and %q", r, tt.code, tt.stderr)
					}
				})
			}
			r = runCmd(t, env, "", "compliance-mode", "set", "--tenant", "acme-bank", "--mode", "none", "--reason", "demo installation")
			if r.code != 0 || !strings.Contains(r.stdout, "set to none") {
				t.Fatalf("set none = %+v", r)
			}
			if n := countAudit(t, dbURL, "compliance.mode.change", tenantIDOf(t, dbURL, "acme-bank")); n != 2 {
				t.Errorf("compliance.mode.change events: %d, want 2", n)
			}
			if r := runCmd(t, env, "", "compliance-mode", "show", "--tenant", "acme-bank"); r.stdout != "mode: none\n" {
				t.Errorf("show after off = %+v", r)
			}
		})
	}
}

// tenantIDOf returns the id of the organisation slug names.
func tenantIDOf(t *testing.T, dbURL, slug string) string {
	t.Helper()
	ctx := context.Background()
	db, err := migrations.Open(ctx, dbURL, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	tn, err := tenant.NewStore(db.Gorm, nil).BySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID
}
