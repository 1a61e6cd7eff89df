package redaction_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/app/redaction"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/compliance/redact"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// Messages of the chat path.
const (
	plainMessage = "Hi, my order 58213 hasn't arrived, can you check? Thanks!"
	cardMessage  = "Sure, my card is 4111 1111 1111 1111, exp 12/26 and the CVV is 123. Thanks!"
	piiMessage   = "My SSN is 123-45-6789 and my IBAN GB82 WEST 1234 5698 7654 32, card 4111111111111111."
)

func policy(b *testing.B, builtinsOn bool) *redaction.Policy {
	b.Helper()
	m, err := pan.NewMasker(pan.Options{})
	if err != nil {
		b.Fatal(err)
	}
	rules := redact.BuiltinRules()
	for i := range rules {
		rules[i].Enabled = builtinsOn
	}
	e, err := redact.NewEngine(rules)
	if err != nil {
		b.Fatal(err)
	}
	return &redaction.Policy{Mode: pan.ModeBINLast4, Masker: m, Engine: e}
}

// BenchmarkPolicyApply is the masking a tenant's message costs on the chat path: card numbers in
// the tenant's mode, then its redaction rules (the built-ins off, as by default, or on).
func BenchmarkPolicyApply(b *testing.B) {
	for _, c := range []struct {
		name string
		on   bool
		text string
	}{
		{"default/plain", false, plainMessage},
		{"default/card", false, cardMessage},
		{"builtins/plain", true, plainMessage},
		{"builtins/card", true, cardMessage},
		{"builtins/ssn-iban-card", true, piiMessage},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := policy(b, c.on)
			b.SetBytes(int64(len(c.text)))
			b.ReportAllocs()
			for b.Loop() {
				_ = p.Apply(c.text)
			}
		})
	}
}

// BenchmarkChatPathMasking is a visitor's message as the chat masks it with the tenant's rules
// added: the split detector (card numbers, also across messages) then the redaction engine.
func BenchmarkChatPathMasking(b *testing.B) {
	m, err := pan.NewMasker(pan.Options{})
	if err != nil {
		b.Fatal(err)
	}
	d, err := pan.NewSplitDetector(m, pan.SplitOptions{})
	if err != nil {
		b.Fatal(err)
	}
	p := policy(b, true)
	msgs := []string{plainMessage, "4111 1111", "1111 1111", cardMessage}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		text, _ := d.Mask(fmt.Sprint("visitor", i%64), "m", msgs[i%len(msgs)])
		_, _ = p.Engine.Apply(text)
		i++
	}
}

// BenchmarkPoliciesFor is the cached look-up of a tenant's policy the chat path makes per message.
func BenchmarkPoliciesFor(b *testing.B) {
	db := migratetest.Open(b, migrations.SQLite)
	ps := &redaction.Policies{Store: &redaction.Store{DB: db.Gorm}}
	ctx := context.Background()
	if _, err := ps.For(ctx, "t1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ps.For(ctx, "t1"); err != nil {
			b.Fatal(err)
		}
	}
}
