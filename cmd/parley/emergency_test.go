package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestEmergencyUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"user without subcommand", []string{"user"}, "parley user unlock"},
		{"unlock without reason", []string{"user", "unlock", "--tenant", "Acme", "--email", "a@acme.test"}, "--reason is required"},
		{"reset-mfa without email", []string{"user", "reset-mfa", "--tenant", "Acme", "--reason", "lost phone"}, "--email is required"},
		{"allowlist without subcommand", []string{"allowlist"}, "allowlist disable"},
		{"allowlist disable too long", []string{"allowlist", "disable", "--tenant", "Acme", "--reason", "x", "--for", "48h"}, "--for must be"},
		{"allowlist without tenant", []string{"allowlist", "enable", "--reason", "x"}, "--tenant is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, map[string]string{"PARLEY_DATA_DIR": t.TempDir()}, "", tt.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d containing %q", r.code, r.stderr, exitUsage, tt.stderr)
			}
		})
	}
}

// TestEmergencyFromTheShell runs `parley user unlock` end to end against a migrated database.
func TestEmergencyFromTheShell(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := map[string]string{"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_DATABASE_URL": migratetest.URL(t, d), "USER": "ops"}
			if r := runCmd(t, env, "", "migrate", "up"); r.code != 0 {
				t.Fatalf("migrate: %+v", r)
			}
			if r := runCmd(t, env, "Tr1cky-Lantern-Harbour\n", "user", "create", "--tenant", "Acme Bank", "--email", "a@acme.test", "--role", "owner", "--password-stdin"); r.code != 0 {
				t.Fatalf("user create: %+v", r)
			}
			r := runCmd(t, env, "", "user", "unlock", "--tenant", "Acme Bank", "--email", "a@acme.test", "--reason", "identity confirmed by phone")
			if r.code != exitOK || !strings.Contains(r.stdout, "unlocked a@acme.test") {
				t.Fatalf("unlock: %+v", r)
			}
			r = runCmd(t, env, "", "user", "unlock", "--tenant", "Acme Bank", "--email", "nobody@acme.test", "--reason", "x")
			if r.code != exitFailure || !strings.Contains(r.stderr, "nobody@acme.test") {
				t.Fatalf("unknown user: %+v", r)
			}
			r = runCmd(t, env, "", "allowlist", "disable", "--tenant", "Acme Bank", "--reason", "office network renumbered", "--for", "30m")
			if r.code != exitOK || !strings.Contains(r.stdout, "lifted until") {
				t.Fatalf("allowlist disable: %+v", r)
			}
		})
	}
}

// TestEmergencyCommands runs each command against an application with an audit log.
func TestEmergencyCommands(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, u := a.CreateUser("Acme Bank", "agent@acme.test", "Quiet orchard 4471", "agent", false)
		ctx := context.Background()
		c := a.Client("198.51.100.7:1")
		// One real failure, then the rest of a lockout arranged directly.
		c.Login(tn.Slug, "agent@acme.test", "Wrong guess 123456", nil)
		if err := migratetest.Beneath(t, db).Gorm.Exec("UPDATE signin_attempts SET locked_until = ?, consecutive = 10", a.Clock.Now().Add(time.Hour)).Error; err != nil {
			t.Fatal(err)
		}
		if rec := c.Login(tn.Slug, "agent@acme.test", "Quiet orchard 4471", nil); rec.Code != http.StatusForbidden {
			t.Fatalf("not locked: %d", rec.Code)
		}
		cases := []struct {
			req    emergencyRequest
			action string
			want   string
		}{
			{emergencyRequest{command: "user unlock", tenant: "Acme Bank", email: "agent@acme.test", reason: "identity confirmed by phone", operator: "cli:root"},
				account.ActionUnlock, "unlocked agent@acme.test"},
			{emergencyRequest{command: "user reset-mfa", tenant: "acme-bank", email: "agent@acme.test", reason: "lost phone", operator: "cli:root"},
				account.ActionMFAReset, "removed the second factor"},
			{emergencyRequest{command: "allowlist disable", tenant: "Acme Bank", reason: "office network renumbered", duration: 2 * time.Hour, operator: "cli:root"},
				account.ActionEmergencyAccess, "lifted until 2026-01-05T11:00:00Z"},
			{emergencyRequest{command: "allowlist enable", tenant: "Acme Bank", reason: "fixed", operator: "cli:root"},
				account.ActionAllowlistChange, "enforced again"},
		}
		for _, tc := range cases {
			t.Run(tc.req.command, func(t *testing.T) {
				a.Audit.Reset()
				msg, err := emergency(ctx, a.App, tc.req)
				if err != nil || !strings.Contains(msg, tc.want) {
					t.Fatalf("emergency = %q, %v; want %q", msg, err, tc.want)
				}
				evs := a.Audit.Events()
				if len(evs) < 2 || evs[0].Action != account.ActionEmergencyAccess || evs[0].Details["justification"] != tc.req.reason ||
					evs[0].ActorKind != account.ActorSystem || evs[0].ActorID != "cli:root" {
					t.Fatalf("events = %+v, want emergency access with the reason first", evs)
				}
				found := false
				for _, e := range evs[1:] {
					found = found || e.Action == tc.action
				}
				if !found {
					t.Errorf("no %s event in %v", tc.action, a.Audit.Actions())
				}
			})
		}
		if rec := c.Login(tn.Slug, "agent@acme.test", "Quiet orchard 4471", nil); rec.Code != http.StatusOK {
			t.Fatalf("sign-in after the CLI unlock: %d %s", rec.Code, rec.Body.String())
		}
		if _, err := emergency(ctx, a.App, emergencyRequest{command: "user unlock", tenant: "Nobody Inc", email: "x@y.test", reason: "r"}); err == nil {
			t.Error("unknown organisation accepted")
		}
		a.Audit.Fail = context.DeadlineExceeded
		if _, err := emergency(ctx, a.App, emergencyRequest{command: "user reset-mfa", tenant: "Acme Bank", email: u.Email, reason: "r"}); err == nil ||
			!strings.Contains(emergencyError(err), "could not record") {
			t.Errorf("audit failure: %v", err)
		}
	})
}
