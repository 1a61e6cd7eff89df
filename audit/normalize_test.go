package audit

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeRejects(t *testing.T) {
	ok := func() Event { return sampleEvent("t1", 1) }
	cases := []struct {
		name   string
		mutate func(*Event)
		want   error
	}{
		{"empty tenant", func(e *Event) { e.Tenant = "" }, ErrInvalidEvent},
		{"control character in tenant", func(e *Event) { e.Tenant = "t\n1" }, ErrInvalidEvent},
		{"unknown action", func(e *Event) { e.Action = "user.teleport" }, ErrUnknownAction},
		{"bad actor kind", func(e *Event) { e.Actor.Kind = "robot" }, ErrInvalidEvent},
		{"empty actor id", func(e *Event) { e.Actor.ID = "" }, ErrInvalidEvent},
		{"bad outcome", func(e *Event) { e.Outcome = "partial" }, ErrInvalidEvent},
		{"bad ip", func(e *Event) { e.Origin.IP = "not-an-ip" }, ErrInvalidEvent},
		{"upper-case detail key", func(e *Event) { e.Details = map[string]string{"Field": "x"} }, ErrInvalidEvent},
		{"too many details", func(e *Event) {
			e.Details = map[string]string{}
			for i := 0; i <= MaxDetailKeys; i++ {
				e.Details["k"+strings.Repeat("x", i)] = "v"
			}
		}, ErrInvalidEvent},
		{"password key", func(e *Event) { e.Details = map[string]string{"new_password": "x"} }, ErrSensitiveDetail},
		{"token key", func(e *Event) { e.Details = map[string]string{"session_token": "x"} }, ErrSensitiveDetail},
		{"secret key", func(e *Event) { e.Details = map[string]string{"totp_secret": "x"} }, ErrSensitiveDetail},
		{"cvv key", func(e *Event) { e.Details = map[string]string{"cvv2": "x"} }, ErrSensitiveDetail},
		{"pan key", func(e *Event) { e.Details = map[string]string{"pan": "x"} }, ErrSensitiveDetail},
		{"card number key", func(e *Event) { e.Details = map[string]string{"card-number": "x"} }, ErrSensitiveDetail},
		{"api key", func(e *Event) { e.Details = map[string]string{"api_key": "x"} }, ErrSensitiveDetail},
		{"recovery code key", func(e *Event) { e.Details = map[string]string{"recovery_code": "x"} }, ErrSensitiveDetail},
		{"pem value", func(e *Event) { e.Details = map[string]string{"note": "-----BEGIN PRIVATE KEY-----"} }, ErrSensitiveDetail},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := ok()
			tc.mutate(&e)
			_, err := Normalize(e, DigitRunMasker{}, "n")
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	for _, key := range []string{"company", "span", "key_id", "key_version", "pin_attempts_left"} {
		t.Run("allowed key "+key, func(t *testing.T) {
			e := ok()
			e.Details = map[string]string{key: "1"}
			_, err := Normalize(e, DigitRunMasker{}, "n")
			if key == "pin_attempts_left" {
				if !errors.Is(err, ErrSensitiveDetail) {
					t.Errorf("got %v, want %q refused (its part %q names a PIN)", err, key, "pin")
				}
				return
			}
			if err != nil {
				t.Errorf("got %v, want %q accepted", err, key)
			}
		})
	}
}

func TestNormalizeCleansAndMasks(t *testing.T) {
	e := sampleEvent("t1", 1)
	e.Reason = "customer typed 4111 1111 1111 1111 in chat"
	e.Origin.UserAgent = "UA/5555555555554444"
	e.Origin.IP = "::ffff:192.0.2.1"
	e.Origin.Node = ""
	e.Target.ID = "bad\xffutf8\x00nul"
	e.Details = map[string]string{"note": "card 378282246310005 given", "long": strings.Repeat("é", MaxDetailValueBytes)}
	got, err := Normalize(e, DigitRunMasker{}, "node-x")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"reason", got.Reason, "customer typed **** **** **** 1111 in chat"},
		{"user agent", got.Origin.UserAgent, "UA/************4444"},
		{"ip", got.Origin.IP, "192.0.2.1"},
		{"node", got.Origin.Node, "node-x"},
		{"target id", got.Target.ID, "bad\uFFFDutf8\uFFFDnul"},
		{"detail", got.Details["note"], "card ***********0005 given"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if l := got.Details["long"]; len(l) > MaxDetailValueBytes || !strings.HasPrefix(l, "é") || strings.ContainsRune(l, '\uFFFD') {
		t.Errorf("got a %d-byte value, want at most %d bytes cut at a character boundary", len(l), MaxDetailValueBytes)
	}
}

func TestNormalizeUsesTheGivenMasker(t *testing.T) {
	e := sampleEvent("t1", 1)
	e.Reason = "card 4111111111111111"
	got, err := Normalize(e, MaskFunc(func(s string) string { return strings.ReplaceAll(s, "4111111111111111", "411111******1111") }), "n")
	if err != nil || got.Reason != "card 411111******1111" {
		t.Errorf("got %q (%v), want the injected masker's output", got.Reason, err)
	}
}

// TestNormalizeMasksIdentifiers: the identifiers a client can choose (target id, actor id and
// role, request id) keep no card number, and a detail key holding one is refused.
func TestNormalizeMasksIdentifiers(t *testing.T) {
	e := sampleEvent("t1", 1)
	e.Target = Target{Kind: "role", ID: "r4111111111111111"}
	e.Actor.ID = "5500-0000-0000-0004"
	e.Actor.Role = "desk 6011 0000 0000 0004"
	e.RequestID = "req-3530111333300000"
	got, err := Normalize(e, DigitRunMasker{}, "n")
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"target id": got.Target.ID, "actor id": got.Actor.ID, "actor role": got.Actor.Role, "request id": got.RequestID} {
		if strings.Contains(strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, v), "00000") || strings.Contains(v, "4111111111111111") {
			t.Errorf("%s = %q, want the card number masked", name, v)
		}
	}
	if got.Target.ID != "r************1111" {
		t.Errorf("target id = %q, want r************1111", got.Target.ID)
	}
	e = sampleEvent("t1", 1)
	e.Details = map[string]string{"4111111111111111": "x"}
	if _, err := Normalize(e, DigitRunMasker{}, "n"); !errors.Is(err, ErrSensitiveDetail) || strings.Contains(err.Error(), "4111") {
		t.Errorf("detail key holding a card number: %v, want ErrSensitiveDetail without the key", err)
	}
}

// TestNormalizeKeepsGeneratedIDs: ids Parley generates stay exactly as given even when their
// digit groups read as a card number; any other identifier holding one is masked.
func TestNormalizeKeepsGeneratedIDs(t *testing.T) {
	m := maskAll{}
	cases := []struct {
		in   string
		kept bool
	}{
		{"41111111-1111-1111-abcd-0123456789ab", true},
		{"0193a7c2-8d41-7c3e-8111-411111111111", true},
		{"4111111111111111abcdef0123456789", true},
		{"role-4111111111111111", false},
		{"41111111-1111-1111-ABCD-0123456789AB", false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			ev := Event{Tenant: "t1", Actor: Actor{ID: tc.in, Kind: ActorUser}, Action: ActionRoleChange,
				Target: Target{Kind: "role", ID: tc.in}, Outcome: Success, RequestID: tc.in}
			out, err := Normalize(ev, m, "node-1")
			if err != nil {
				t.Fatal(err)
			}
			for name, got := range map[string]string{"actor": out.Actor.ID, "target": out.Target.ID, "request": out.RequestID} {
				if (got == tc.in) != tc.kept {
					t.Errorf("%s id %q became %q, kept = %v", name, tc.in, got, tc.kept)
				}
			}
		})
	}
}

// maskAll masks every digit, so any identifier it sees changes.
type maskAll struct{}

func (maskAll) Mask(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= '0' && c <= '9' {
			b[i] = '*'
		}
	}
	return string(b)
}
