package password

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// blocklist is shared by the tests: the embedded list is immutable.
var testBlocklist = NewBlocklist()

func mustEvaluator(t testing.TB, p Policy) *Evaluator {
	t.Helper()
	e, err := NewEvaluator(p, testBlocklist)
	if err != nil {
		t.Fatalf("NewEvaluator: %v", err)
	}
	return e
}

// neverReused is the history of a user with no matching previous password.
var neverReused = HistoryFunc(func(string, int) (bool, error) { return false, nil })

// reusedIf reports reuse for exactly one normalized password.
func reusedIf(old string) HistoryFunc {
	return func(n string, _ int) (bool, error) { return n == old, nil }
}

func codes(vs []Violation) []Code {
	out := make([]Code, len(vs))
	for i, v := range vs {
		out[i] = v.Code
	}
	return out
}

var alice = Context{
	Username:   "asmith",
	Email:      "Alice.Smith+work@example.com",
	TenantName: "Acme Health",
	History:    neverReused,
}

func custom(mod func(*Policy)) Policy {
	p := Policy{Profile: ProfileCustom, MinLength: 8, MaxLength: 64, BanCommon: true, BanPersonal: true}
	mod(&p)
	return p
}

func TestEvaluate(t *testing.T) {
	withMFA := alice
	withMFA.MFAEnforced = true
	reuser := alice
	reuser.History = reusedIf("Tr0ub4dor&3x")

	tests := []struct {
		name      string
		policy    Policy
		candidate string
		ctx       Context
		want      []Code
	}{
		// pci-dss-4
		{"pci accepts letters and digits", PCIDSS4(), "Tr0ub4dor&3x", alice, nil},
		{"pci too short", PCIDSS4(), "Tr0ub4dor", alice, []Code{CodeTooShort}},
		{"pci too short with mfa too", PCIDSS4(), "Tr0ub4dor", withMFA, []Code{CodeTooShort}},
		{"pci needs digit", PCIDSS4(), "horse battery staple", alice, []Code{CodeNeedsDigit}},
		{"pci needs letter", PCIDSS4(), "9182 7364 5546", alice, []Code{CodeNeedsLetter}},
		{"pci common exact", PCIDSS4(), "qwerty123456", alice, []Code{CodeCommonPassword}},
		{"pci common any case", PCIDSS4(), "QWERTY123456", alice, []Code{CodeCommonPassword}},
		{"pci common with digits added", PCIDSS4(), "Dragon2024!!", alice, []Code{CodeCommonPassword}},
		{"pci common with symbols added", PCIDSS4(), "password1!!!!", alice, []Code{CodeCommonPassword}},
		{"pci common in the middle is fine", PCIDSS4(), "my dragon is 42 years old", alice, nil},
		{"pci username as substring", PCIDSS4(), "xx-Wonderland-2024", Context{Username: "wonderland", History: neverReused}, []Code{CodeContainsUsername}},
		{"pci username and email word", PCIDSS4(), "xx-ASmith-2024", alice, []Code{CodeContainsUsername, CodeContainsEmail}},
		{"pci email local part folded", PCIDSS4(), "alice_smith_2024", alice, []Code{CodeContainsEmail}},
		{"pci email word", PCIDSS4(), "7 Smithereens 7", alice, []Code{CodeContainsEmail}},
		{"pci email tag word", PCIDSS4(), "homework 1234", alice, []Code{CodeContainsEmail}},
		{"pci tenant name", PCIDSS4(), "AcmeHealth!2024", alice, []Code{CodeContainsTenantName}},
		{"pci tenant word", PCIDSS4(), "good health 2024", alice, []Code{CodeContainsTenantName}},
		{"pci reused", PCIDSS4(), "Tr0ub4dor&3x", reuser, []Code{CodeReused}},
		{"pci every rule at once", PCIDSS4(), "sunshine", reusedCtx("sunshine"),
			[]Code{CodeTooShort, CodeNeedsDigit, CodeCommonPassword, CodeContainsEmail, CodeReused}},
		{"pci too long", PCIDSS4(), strings.Repeat("ab1", 43), alice, []Code{CodeTooLong}},
		{"pci max length exactly", PCIDSS4(), strings.Repeat("ab1", 42) + "ab", alice, nil},
		{"pci over byte cap stops at once", PCIDSS4(), strings.Repeat("a", MaxBytes+1), alice, []Code{CodeTooLong}},
		{"pci invalid utf8 stops at once", PCIDSS4(), "Tr0ub4dor&3x\xff", alice, []Code{CodeInvalidCharacters}},
		{"pci control character", PCIDSS4(), "Tr0ub4dor&3x\x00", alice, []Code{CodeInvalidCharacters}},
		{"pci replacement character", PCIDSS4(), "Tr0ub4dor&3x\uFFFD", alice, []Code{CodeInvalidCharacters}},
		{"pci full-width normalized", PCIDSS4(), "Ｔｒ０ｕｂ４ｄｏｒ＆３ｘ", alice, nil},
		{"pci full-width common", PCIDSS4(), "ｑｗｅｒｔｙ１２３４５６", alice, []Code{CodeCommonPassword}},
		{"pci length counts characters", PCIDSS4(), "ééééééééééé1", alice, nil},
		{"pci decomposed accents counted once", PCIDSS4(), strings.Repeat("e\u0301", 11) + "1", alice, nil},
		{"pci decomposed accents too short", PCIDSS4(), strings.Repeat("e\u0301", 10) + "1", alice, []Code{CodeTooShort}},
		{"pci unicode letters", PCIDSS4(), "日本語のパスワードです12", alice, nil},

		// nist-800-63b
		{"nist passphrase", NIST80063B(), "correct horse battery", alice, nil},
		{"nist no composition", NIST80063B(), "alllowercaseletters", alice, nil},
		{"nist fifteen", NIST80063B(), "violet thunder!", alice, nil},
		{"nist fourteen single-factor", NIST80063B(), "violet thunder", alice, []Code{CodeTooShort}},
		{"nist fourteen with mfa", NIST80063B(), "violet thunder", withMFA, nil},
		{"nist eight with mfa", NIST80063B(), "v1olet?x", withMFA, nil},
		{"nist seven with mfa", NIST80063B(), "v1olet?", withMFA, []Code{CodeTooShort}},
		{"nist common with mfa", NIST80063B(), "sunshine", withMFA, []Code{CodeCommonPassword}},
		{"nist common single-factor", NIST80063B(), "sunshine", alice, []Code{CodeTooShort, CodeCommonPassword}},
		{"nist personal", NIST80063B(), "acme health is great", alice, []Code{CodeContainsTenantName}},
		{"nist no history rule", NIST80063B(), "Tr0ub4dor&3x rocks", reuser, nil},

		// custom knobs
		{"custom needs all classes", custom(func(p *Policy) {
			p.RequireUpper, p.RequireLower, p.RequireDigit, p.RequireSpecial = true, true, true, true
		}), "abcdefgh", alice, []Code{CodeNeedsUpper, CodeNeedsDigit, CodeNeedsSpecial}},
		{"custom needs lower", custom(func(p *Policy) { p.RequireLower = true }), "ABCDEFGH", alice, []Code{CodeNeedsLower}},
		{"custom space is special", custom(func(p *Policy) { p.RequireSpecial = true }), "abc defg", alice, nil},
		{"custom symbol is special", custom(func(p *Policy) { p.RequireSpecial = true }), "abc€defg", alice, nil},
		{"custom caseless letters have no upper", custom(func(p *Policy) { p.RequireUpper = true }), "日本語のパスワード", alice, []Code{CodeNeedsUpper}},
		{"custom accented upper", custom(func(p *Policy) { p.RequireUpper = true }), "Écolière", alice, nil},
		{"custom upper stands for letter", custom(func(p *Policy) { p.RequireUpper, p.RequireLetterAndDigit = true, true }),
			"91827364!", alice, []Code{CodeNeedsUpper}},
		{"custom common off", custom(func(p *Policy) { p.BanCommon = false }), "sunshine", alice, nil},
		{"custom personal off", custom(func(p *Policy) { p.BanPersonal = false }), "alicesmith", alice, nil},
		{"custom short personal value only whole", custom(func(p *Policy) {}), "bobby-tables-9", Context{Username: "bob"}, nil},
		{"custom short personal value whole match", custom(func(p *Policy) { p.MinLength = 8 }), "x!x", Context{TenantName: "X!X"},
			[]Code{CodeTooShort, CodeContainsTenantName}},
		{"custom no max length", custom(func(p *Policy) { p.MaxLength = 0 }), strings.Repeat("word ", 200), alice, nil},
		{"custom username same as email", custom(func(p *Policy) {}), "alice.smith+work@example.com!", Context{
			Username: "alice.smith+work@example.com", Email: "alice.smith+work@example.com"}, []Code{CodeContainsEmail}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEvaluator(t, tt.policy)
			vs, err := e.Evaluate(tt.candidate, tt.ctx)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if got := codes(vs); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for _, v := range vs {
				if v.Message == "" {
					t.Errorf("violation %s has no message", v.Code)
				}
				for _, secret := range []string{tt.candidate, tt.ctx.Username, tt.ctx.Email, tt.ctx.TenantName} {
					if len(secret) >= 4 && strings.Contains(strings.ToLower(v.Message), strings.ToLower(secret)) {
						t.Errorf("message %q reveals %q", v.Message, secret)
					}
				}
			}
		})
	}
}

func reusedCtx(old string) Context {
	c := alice
	c.Email = old + "@example.com"
	c.History = reusedIf(old)
	return c
}

func TestEvaluateMessages(t *testing.T) {
	tests := []struct {
		name      string
		policy    Policy
		candidate string
		want      Violation
	}{
		{"too short", PCIDSS4(), "mwvkzrtp1", Violation{Code: CodeTooShort, Limit: 12, Actual: 9,
			Message: "Use at least 12 characters; this one has 9."}},
		{"too long", PCIDSS4(), strings.Repeat("a1", 65), Violation{Code: CodeTooLong, Limit: 128, Actual: 130,
			Message: "Use at most 128 characters; this one has 130."}},
		{"over byte cap", PCIDSS4(), strings.Repeat("é", 513), Violation{Code: CodeTooLong, Limit: MaxBytes,
			Message: "Use a shorter password; this one is over 1024 bytes."}},
		{"needs digit", PCIDSS4(), "mwvkzrtpqxsn", Violation{Code: CodeNeedsDigit, Message: "Add a digit (0-9)."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs, err := mustEvaluator(t, tt.policy).Evaluate(tt.candidate, Context{History: neverReused})
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if len(vs) != 1 || vs[0] != tt.want {
				t.Errorf("got %+v, want [%+v]", vs, tt.want)
			}
		})
	}
}

func TestEvaluateReusedMessage(t *testing.T) {
	tests := []struct {
		depth int
		want  string
	}{
		{1, "This is your current password; choose a new one."},
		{4, "You have used this password recently; choose one that differs from your last 4."},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			p := custom(func(p *Policy) { p.HistoryDepth = tt.depth })
			vs, err := mustEvaluator(t, p).Evaluate("Tr0ub4dor&3x", Context{History: reusedIf("Tr0ub4dor&3x")})
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if len(vs) != 1 || vs[0].Message != tt.want || vs[0].Limit != tt.depth {
				t.Errorf("got %+v, want one reused violation %q with limit %d", vs, tt.want, tt.depth)
			}
		})
	}
}

func TestEvaluateHistoryGetsNormalizedCandidate(t *testing.T) {
	var gotPW string
	var gotDepth int
	h := HistoryFunc(func(n string, depth int) (bool, error) {
		gotPW, gotDepth = n, depth
		return false, nil
	})
	if _, err := mustEvaluator(t, PCIDSS4()).Evaluate("Ｔｒ０ｕｂ４ｄｏｒ＆３ｘ", Context{History: h}); err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	if gotPW != "Tr0ub4dor&3x" || gotDepth != 4 {
		t.Errorf("got history check of %q at depth %d, want %q at depth 4", gotPW, gotDepth, "Tr0ub4dor&3x")
	}
}

func TestEvaluateErrors(t *testing.T) {
	boom := errors.New("store unavailable")
	tests := []struct {
		name    string
		history HistoryChecker
		want    []error
	}{
		{"no history checker", nil, []error{ErrNoHistory}},
		{"history checker fails", HistoryFunc(func(string, int) (bool, error) { return false, boom }), []error{ErrHistory, boom}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs, err := mustEvaluator(t, PCIDSS4()).Evaluate("short", Context{History: tt.history})
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("got error %v, want %v", err, want)
				}
			}
			if !slices.Contains(codes(vs), CodeTooShort) {
				t.Errorf("got violations %v, want too_short kept alongside the error", codes(vs))
			}
		})
	}
}

func TestNewEvaluator(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		list   *Blocklist
		want   error
	}{
		{"valid", PCIDSS4(), testBlocklist, nil},
		{"invalid policy", Policy{Profile: ProfileCustom, MinLength: 4}, testBlocklist, ErrInvalidPolicy},
		{"ban common without list", PCIDSS4(), nil, ErrNoBlocklist},
		{"no ban, no list", custom(func(p *Policy) { p.BanCommon = false }), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEvaluator(tt.policy, tt.list)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got error %v, want %v", err, tt.want)
			}
			if err == nil && e.Policy() != tt.policy {
				t.Errorf("got policy %+v, want %+v", e.Policy(), tt.policy)
			}
		})
	}
}
