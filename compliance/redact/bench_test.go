package redact

import "testing"

// chatMessage is a typical visitor message.
const chatMessage = "Hi, I'd like to update the bank details for my refund, the order was 58213 " +
	"and it was placed last Tuesday. Thanks for your help!"

// sensitiveMessage holds an SSN and an IBAN.
const sensitiveMessage = "My SSN is 123-45-6789 and the refund should go to DE89 3704 0044 0532 0130 00, thanks."

func benchApply(b *testing.B, rules []Rule, text string) {
	e := newEngine(b, rules)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		e.Apply(text)
	}
}

func BenchmarkApplyBuiltinsChat(b *testing.B) {
	benchApply(b, enabled(BuiltinRules()...), chatMessage)
}

func BenchmarkApplyBuiltinsSensitive(b *testing.B) {
	benchApply(b, enabled(BuiltinRules()...), sensitiveMessage)
}

func BenchmarkApplyTenRulesChat(b *testing.B) {
	rules := enabled(BuiltinRules()...)
	for _, p := range []string{`EMP-[0-9]{6}`, `(?i)\bpolicy\s*#?\s*[0-9]{8}\b`, `\b[A-Z]{3}[0-9]{7}\b`,
		`(?i)member id:?\s*[0-9]+`, `\b[0-9]{5}-[0-9]{4}\b`, `(?i)passport\s+[A-Z0-9]{9}`, `\bMRN[0-9]{8}\b`, `(?i)dob:?\s*[0-9/]{8,10}`} {
		rules = append(rules, Rule{Name: "r" + p[:3], Pattern: p, Replacement: "[x]", Enabled: true})
	}
	for i := range rules {
		rules[i].Name = string(rune('a'+i)) + "rule"
	}
	benchApply(b, rules, chatMessage)
}

func BenchmarkNewEngineBuiltins(b *testing.B) {
	rules := enabled(BuiltinRules()...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewEngine(rules); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidIBAN(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ValidIBAN("GB29 NWBK 6016 1331 9268 19")
	}
}
