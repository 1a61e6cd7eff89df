package redaction_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/redaction"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/compliance/redact"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestStoreRules(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		s := h.a.Redaction
		ctx := context.Background()
		by := redaction.Actor{UserID: "u-owner"}
		tid := h.tenant.ID

		rules, err := s.Rules(ctx, tid)
		if err != nil {
			t.Fatal(err)
		}
		if len(rules) != 2 || rules[0].ID != redact.BuiltinUSSSN || rules[1].ID != redact.BuiltinIBAN || rules[0].Enabled || rules[1].Enabled {
			t.Fatalf("default rules = %+v, want the built-in SSN and IBAN rules, off", rules)
		}
		mode, err := s.MaskMode(ctx, tid)
		if err != nil || mode != pan.ModeBINLast4 {
			t.Fatalf("default mask mode = %v, %v; want bin_last4", mode, err)
		}

		staff, err := s.Create(ctx, by, tid, redact.Rule{Name: "Staff id", Pattern: `\bEMP-[0-9]{6}\b`, Replacement: "[staff id]", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			rule redact.Rule
			want error
		}{
			{"same name other case", redact.Rule{Name: "STAFF ID", Pattern: `x+`, Replacement: "y"}, redaction.ErrExists},
			{"built-in name", redact.Rule{Name: "us_ssn", Pattern: `x+`, Replacement: "y"}, redaction.ErrExists},
			{"bad pattern", redact.Rule{Name: "bad", Pattern: `(`, Replacement: "y"}, redact.ErrInvalidPattern},
			{"matches empty", redact.Rule{Name: "empty", Pattern: `x*`, Replacement: "y"}, redact.ErrMatchesEmpty},
			{"unknown validator", redact.Rule{Name: "v", Pattern: `x+`, Validator: "luhn"}, redact.ErrUnknownValidator},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := s.Create(ctx, by, tid, tt.rule); !errors.Is(err, tt.want) {
					t.Errorf("Create = %v, want %v", err, tt.want)
				}
			})
		}

		// Built-ins: replacement and enabled change; nothing else does.
		ssn, err := s.Update(ctx, by, tid, redact.BuiltinUSSSN, redact.Rule{Replacement: "[SSN removed]", Enabled: true})
		if err != nil || !ssn.Enabled || ssn.Replacement != "[SSN removed]" || ssn.Pattern == "" {
			t.Fatalf("enable built-in = %+v, %v", ssn, err)
		}
		if _, err := s.Update(ctx, by, tid, redact.BuiltinUSSSN, redact.Rule{Pattern: `\d+`, Enabled: true}); !errors.Is(err, redaction.ErrBuiltin) {
			t.Errorf("change a built-in's pattern = %v, want ErrBuiltin", err)
		}
		if err := s.Delete(ctx, by, tid, redact.BuiltinIBAN); !errors.Is(err, redaction.ErrBuiltin) {
			t.Errorf("delete a built-in = %v, want ErrBuiltin", err)
		}
		if _, err := s.Update(ctx, by, tid, staff.ID, redact.Rule{Name: "Staff number", Pattern: `\bEMP-[0-9]{6}\b`, Replacement: "[staff]"}); err != nil {
			t.Fatal(err)
		}
		rules, _ = s.Rules(ctx, tid)
		if len(rules) != 3 || !rules[0].Enabled || rules[2].Name != "Staff number" || rules[2].Enabled {
			t.Fatalf("rules after changes = %+v", rules)
		}
		if _, err := s.Update(ctx, by, tid, "no-such-rule", redact.Rule{Name: "x", Pattern: "x"}); !errors.Is(err, redaction.ErrNotFound) {
			t.Errorf("update unknown = %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, by, tid, staff.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, by, tid, staff.ID); !errors.Is(err, redaction.ErrNotFound) {
			t.Errorf("second delete = %v, want ErrNotFound", err)
		}
		// Another tenant sees none of it.
		other, _ := h.a.CreateUser("Other Bank", "o@other.example", testPassword, "owner", false)
		if rules, _ := s.Rules(ctx, other.ID); len(rules) != 2 || rules[0].Enabled {
			t.Errorf("another tenant's rules = %+v", rules)
		}
		if err := s.SetMaskMode(ctx, by, tid, pan.ModeLast4); err != nil {
			t.Fatal(err)
		}
		if mode, _ := s.MaskMode(ctx, tid); mode != pan.ModeLast4 {
			t.Errorf("mask mode = %v, want last4", mode)
		}
		if mode, _ := s.MaskMode(ctx, other.ID); mode != pan.ModeBINLast4 {
			t.Errorf("other tenant's mask mode = %v, want bin_last4", mode)
		}
		// Every successful change is audited; refused ones are not.
		evs := h.events(audit.ActionSecurityPolicy)
		if len(evs) != 5 {
			t.Errorf("%d security.policy.change events, want 5 (create, enable built-in, update, delete, mode)", len(evs))
		}
		for _, e := range evs {
			if e.Details["setting"] == "" || e.Actor.ID != "u-owner" {
				t.Errorf("audit event %+v lacks its setting or actor", e.Event)
			}
		}
	})
}

func TestStoreMaxRules(t *testing.T) {
	h := newHarness(t, migratetest.Open(t, migrations.SQLite))
	ctx := context.Background()
	for i := range redact.MaxRules - 2 {
		if _, err := h.a.Redaction.Create(ctx, redaction.Actor{UserID: "u"}, h.tenant.ID, redact.Rule{Name: "r" + strings.Repeat("x", i+1), Pattern: "q+", Replacement: "-"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.a.Redaction.Create(ctx, redaction.Actor{UserID: "u"}, h.tenant.ID, redact.Rule{Name: "one too many", Pattern: "q+"}); !errors.Is(err, redaction.ErrTooMany) {
		t.Errorf("rule %d = %v, want ErrTooMany", redact.MaxRules+1, err)
	}
}

func TestStoreNoAuditor(t *testing.T) {
	h := newHarness(t, migratetest.Open(t, migrations.SQLite))
	s := &redaction.Store{DB: h.a.DB.Gorm}
	if _, err := s.Create(context.Background(), redaction.Actor{UserID: "u"}, h.tenant.ID, redact.Rule{Name: "a", Pattern: "a"}); !errors.Is(err, redaction.ErrNoAuditor) {
		t.Errorf("Create without an auditor = %v, want ErrNoAuditor", err)
	}
	if err := s.SetMaskMode(context.Background(), redaction.Actor{UserID: "u"}, h.tenant.ID, pan.ModeLast4); !errors.Is(err, redaction.ErrNoAuditor) {
		t.Errorf("SetMaskMode without an auditor = %v, want ErrNoAuditor", err)
	}
}

func TestPolicies(t *testing.T) {
	h := newHarness(t, migratetest.Open(t, migrations.SQLite))
	ctx := context.Background()
	ps := h.a.RedactionPolicies
	text := "card 4111 1111 1111 1111, SSN 123-45-6789, IBAN GB82 WEST 1234 5698 7654 32"
	p, err := ps.For(ctx, h.tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Apply(text), "card 4111 11•• •••• 1111, SSN 123-45-6789, IBAN GB82 WEST 1234 5698 7654 32"; got != want {
		t.Errorf("default policy: %q, want %q", got, want)
	}
	by := redaction.Actor{UserID: "u"}
	if _, err := h.a.Redaction.Update(ctx, by, h.tenant.ID, redact.BuiltinUSSSN, redact.Rule{Replacement: "[SSN]", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.a.Redaction.Update(ctx, by, h.tenant.ID, redact.BuiltinIBAN, redact.Rule{Replacement: "[IBAN]", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := h.a.Redaction.SetMaskMode(ctx, by, h.tenant.ID, pan.ModeLast4); err != nil {
		t.Fatal(err)
	}
	p, _ = ps.For(ctx, h.tenant.ID)
	if got, want := p.Apply(text), "card •••• •••• •••• 1111, SSN [SSN], IBAN [IBAN]"; got != want {
		t.Errorf("after enabling: %q, want %q", got, want)
	}
	if mode, _ := ps.MaskMode(ctx, h.tenant.ID); mode != pan.ModeLast4 {
		t.Errorf("MaskMode = %v, want last4", mode)
	}
	// A change made elsewhere (no Changed callback here) is seen once the cache ages out.
	elsewhere := &redaction.Store{DB: h.a.DB.Gorm, Audit: h.a.App.Audit, Now: h.a.Clock.Now}
	if err := elsewhere.SetMaskMode(ctx, by, h.tenant.ID, pan.ModeBINLast4); err != nil {
		t.Fatal(err)
	}
	if mode, _ := ps.MaskMode(ctx, h.tenant.ID); mode != pan.ModeLast4 {
		t.Errorf("MaskMode before MaxAge = %v, want the cached last4", mode)
	}
	h.a.Clock.Advance(31 * time.Second)
	if mode, _ := ps.MaskMode(ctx, h.tenant.ID); mode != pan.ModeBINLast4 {
		t.Errorf("MaskMode after MaxAge = %v, want bin_last4", mode)
	}
}
