package chathttp_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/redaction"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/compliance/redact"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault"
)

// TestTenantMaskingPolicy: a tenant that masks card numbers to the last four digits and redacts
// US social security numbers gets exactly that on every chat text — messages, a card number split
// over two messages next to a redacted number (the amend lands on the right digits), page titles
// and offline messages — a change of mode takes effect on the next message, and a policy that cannot be read refuses the
// text.
func TestTenantMaskingPolicy(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		by := redaction.Actor{UserID: "u-admin"}
		if err := e.redaction.SetMaskMode(ctx, by, e.tenant.ID, pan.ModeLast4); err != nil {
			t.Fatal(err)
		}
		if _, err := e.redaction.Update(ctx, by, e.tenant.ID, redact.BuiltinUSSSN, redact.Rule{Replacement: "[SSN]", Enabled: true}); err != nil {
			t.Fatal(err)
		}
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)

		ch.visitor.send(map[string]any{"type": "message", "key": "v-1", "text": "card 4111 1111 1111 1111"})
		if got := ch.agent.events(1)[0].Text; got != "card •••• •••• •••• 1111" {
			t.Fatalf("agent received %q, want only the last four digits", got)
		}
		ch.visitor.events(1)

		ch.visitor.send(map[string]any{"type": "message", "key": "v-2", "text": "my ssn 536-22-8726, card 5555 5555"})
		first := ch.agent.events(1)[0]
		if first.Text != "my ssn [SSN], card 5555 5555" {
			t.Fatalf("agent received %q, want the SSN redacted", first.Text)
		}
		ch.visitor.send(map[string]any{"type": "message", "key": "v-3", "text": "5555 4444"})
		evs := ch.agent.events(2)
		if evs[0].Text != "•••• 4444" {
			t.Fatalf("second half delivered as %q", evs[0].Text)
		}
		if evs[1].Kind != "amend" || evs[1].TargetSeq != first.Seq || evs[1].Text != "my ssn [SSN], card •••• ••••" {
			t.Fatalf("amend = %q (kind %s, target %d), want the first half masked in the redacted text", evs[1].Text, evs[1].Kind, evs[1].TargetSeq)
		}
		ch.visitor.events(3)

		// The agent's own messages follow the same policy.
		ch.agent.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": "a-1", "text": "SSN 536 22 8726?"})
		if got := ch.visitor.events(1)[0].Text; got != "SSN [SSN]?" {
			t.Fatalf("visitor received %q", got)
		}
		ch.agent.events(1)

		// A change of mode applies to the next message.
		if err := e.redaction.SetMaskMode(ctx, by, e.tenant.ID, pan.ModeBINLast4); err != nil {
			t.Fatal(err)
		}
		ch.visitor.send(map[string]any{"type": "message", "key": "v-4", "text": "4111 1111 1111 1111"})
		if got := ch.agent.events(1)[0].Text; got != "4111 11•• •••• 1111" {
			t.Fatalf("after the mode change the agent received %q, want BIN and last four", got)
		}
		if err := e.redaction.SetMaskMode(ctx, by, e.tenant.ID, pan.ModeLast4); err != nil {
			t.Fatal(err)
		}

		// A policy that cannot be read refuses the message (retryable) and stores nothing.
		var before int64
		migratetest.Beneath(t, e.db).Gorm.Table("conversation_events").Where("conversation_id = ?", ch.conv).Count(&before)
		if err := migratetest.Beneath(t, e.db).Gorm.Exec("ALTER TABLE tenant_card_settings RENAME TO tenant_card_settings_away").Error; err != nil {
			t.Fatal(err)
		}
		for _, p := range e.policies {
			p.Invalidate(e.tenant.ID)
		}
		ch.visitor.send(map[string]any{"type": "message", "key": "v-5", "text": "4111 1111 1111 1111"})
		if f := ch.visitor.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "unavailable" {
			t.Fatalf("message without a readable policy answered %+v, want unavailable", f)
		}
		var after int64
		migratetest.Beneath(t, e.db).Gorm.Table("conversation_events").Where("conversation_id = ?", ch.conv).Count(&after)
		if after != before {
			t.Fatalf("%d events stored without a masking policy", after-before)
		}
		if err := migratetest.Beneath(t, e.db).Gorm.Exec("ALTER TABLE tenant_card_settings_away RENAME TO tenant_card_settings").Error; err != nil {
			t.Fatal(err)
		}

		// Page titles and offline messages.
		if code := do(t, http.MethodPost, n.widgetURL(e, "/pageviews"), "", map[string]any{"url": siteOrigin + "/pay",
			"title": "Receipt 4111111111111111 for 536-22-8726"}, nil); code != http.StatusOK {
			t.Fatalf("page view = %d", code)
		}
		other := n.newVisitor(t, e)
		if code := do(t, http.MethodPost, n.widgetURL(e, "/offline"), other.VisitorToken, map[string]any{"name": "Ada 536-22-8726",
			"email": "4111111111111111@example.com", "message": "charge 4111-1111-1111-1111 ssn 536-22-8726"}, nil); code != http.StatusCreated {
			t.Fatalf("offline = %d", code)
		}
		var titles []string
		migratetest.Beneath(t, e.db).Gorm.Table("page_views").Pluck("title", &titles)
		if !containsString(titles, "Receipt ••••••••••••1111 for [SSN]") {
			t.Fatalf("page titles %q, want the card number to its last four and the SSN redacted", titles)
		}
		for _, v := range dumpDatabase(t, e.db) {
			flat := separators.ReplaceAllString(v, "")
			for _, digits := range []string{"411111", "555555", "536228726"} {
				if strings.Contains(flat, digits) {
					t.Fatalf("database holds %s in %q", digits, v)
				}
			}
		}
		var row struct{ ID, Name, Email, Body string }
		if err := migratetest.Beneath(t, e.db).Gorm.Table("offline_messages").Select("id, name, email, body").Take(&row).Error; err != nil {
			t.Fatal(err)
		}
		env, err := vault.NewEnvelope(vault.EnvelopeConfig{Provider: e.keys, Store: vault.NewStore(e.db, e.clock.Now)})
		if err != nil {
			t.Fatal(err)
		}
		defer env.Close()
		for _, f := range []struct {
			field  string
			sealed string
			want   string
		}{
			{vault.FieldVisitorName, row.Name, "Ada [SSN]"},
			{vault.FieldVisitorEmail, row.Email, "••••••••••••1111@example.com"},
			{vault.FieldOfflineMessage, row.Body, "charge ••••-••••-••••-1111 ssn [SSN]"},
		} {
			got, err := env.OpenString(ctx, vault.Binding{Tenant: e.tenant.ID, Scope: row.ID, Field: f.field}, f.sealed)
			if err != nil {
				t.Fatal(err)
			}
			if got != f.want {
				t.Fatalf("offline %s opens to %q, want %q", f.field, got, f.want)
			}
		}
	})
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
