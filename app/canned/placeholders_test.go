package canned

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/sanitize"
)

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		names   []string
		unknown string
	}{
		{"none", "Hello, how can I help?", nil, ""},
		{"visitor", "Hello {visitor_name}!", []string{"visitor_name"}, ""},
		{"both", "{agent_name} here, hi {visitor_name}", []string{"agent_name", "visitor_name"}, ""},
		{"unknown", "Dear {first_name}", []string{"first_name"}, "first_name"},
		{"first unknown reported", "{agent_name} {foo} {bar}", []string{"agent_name", "foo", "bar"}, "foo"},
		{"empty braces are text", "a {} b", nil, ""},
		{"capitals are text", "{Visitor_Name}", nil, ""},
		{"spaces are text", "{ visitor_name }", nil, ""},
		{"json is text", `{"a": 1}`, nil, ""},
		{"unclosed", "{visitor_name", nil, ""},
		{"nested", "{{visitor_name}}", []string{"visitor_name"}, ""},
		{"too long is text", "{" + strings.Repeat("a", 33) + "}", nil, ""},
		{"longest name", "{" + strings.Repeat("a", 32) + "}", []string{strings.Repeat("a", 32)}, strings.Repeat("a", 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, unknown := Placeholders(tt.text)
			if strings.Join(names, ",") != strings.Join(tt.names, ",") || unknown != tt.unknown {
				t.Errorf("Placeholders(%q) = %q, %q; want %q, %q", tt.text, names, unknown, tt.names, tt.unknown)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	v := Values{VisitorName: "Dana", AgentName: "Sam"}
	tests := []struct {
		name, text, want string
		v                Values
	}{
		{"plain", "Hello", "Hello", v},
		{"visitor", "Hello {visitor_name}!", "Hello Dana!", v},
		{"both twice", "{agent_name}/{visitor_name}/{agent_name}", "Sam/Dana/Sam", v},
		{"unknown stays", "{foo} {visitor_name}", "{foo} Dana", v},
		{"nested braces", "{{visitor_name}}", "{Dana}", v},
		{"one pass", "Hi {visitor_name}", "Hi {agent_name}", Values{VisitorName: "{agent_name}", AgentName: "Sam"}},
		{"empty value", "Hi {visitor_name}.", "Hi .", Values{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Expand(tt.text, tt.v); got != tt.want {
				t.Errorf("Expand(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name                  string
		shortcut, title, body string
		field                 string
		card                  bool
	}{
		{"ok", "/hello", "Greeting", "Hello {visitor_name}", "", false},
		{"upper shortcut lowered", "/Hello", "Greeting", "Hi", "", false},
		{"bad shortcut", "/hello there", "Greeting", "Hi", "shortcut", false},
		{"long shortcut", strings.Repeat("a", 33), "Greeting", "Hi", "shortcut", false},
		{"empty shortcut", "/", "Greeting", "Hi", "shortcut", false},
		{"empty title", "hi", "  ", "Hi", "title", false},
		{"long title", "hi", strings.Repeat("t", 101), "Hi", "title", false},
		{"empty body", "hi", "Hi", "\u200b ", "body", false},
		{"long body", "hi", "Hi", strings.Repeat("b", 2001), "body", false},
		{"unknown placeholder", "hi", "Hi", "Dear {name}", "body", false},
		{"card in body", "hi", "Hi", "Pay with 4111 1111 1111 1111", "body", true},
		{"card in title", "hi", "Card 4111-1111-1111-1111", "Hi", "title", true},
		{"card as shortcut", "4111111111111111", "Hi", "Hi", "shortcut", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Validate(tt.shortcut, tt.title, tt.body)
			var fe *FieldError
			var ce *CardNumberError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Validate: %v, want ok", err)
			case tt.card:
				if !asCard(err, &ce) || ce.Field != tt.field {
					t.Fatalf("Validate: %v, want a card number refused in %s", err, tt.field)
				}
				if strings.Contains(err.Error(), "4111") {
					t.Errorf("error %q holds the card number", err)
				}
			case tt.field != "":
				if !asField(err, &fe) || fe.Field != tt.field {
					t.Fatalf("Validate: %v, want a field error on %s", err, tt.field)
				}
			}
		})
	}
}

func asCard(err error, ce **CardNumberError) bool {
	e, ok := err.(*CardNumberError)
	*ce = e
	return ok
}

func asField(err error, fe **FieldError) bool {
	e, ok := err.(*FieldError)
	*fe = e
	return ok
}

// FuzzPlaceholders checks the placeholder parser and expander on any text: they never panic,
// a text without known placeholders expands to itself, expanding fills in every known
// placeholder exactly once (no value is read again), and Validate's verdict on placeholders
// agrees with Placeholders.
func FuzzPlaceholders(f *testing.F) {
	for _, s := range []string{"Hello {visitor_name}", "{agent_name}{visitor_name}", "{", "}", "{}", "{{visitor_name}}",
		"{foo}", "{visitor_name", "a{b}c{d", "{\u00e9}", strings.Repeat("{", 40)} {
		f.Add(s, "Dana", "Sam")
	}
	f.Fuzz(func(t *testing.T, text, visitor, agent string) {
		names, unknown := Placeholders(text)
		knownCount := 0
		for _, n := range names {
			if known(n) {
				knownCount++
			} else if unknown == "" {
				t.Fatalf("Placeholders(%q): %q unknown but not reported", text, n)
			}
		}
		if knownCount == 0 {
			if got := Expand(text, Values{VisitorName: visitor, AgentName: agent}); got != text {
				t.Fatalf("Expand(%q) = %q without placeholders", text, got)
			}
		}
		// With markers as values, each known placeholder shows up exactly once as its marker.
		got := Expand(text, Values{VisitorName: "\x00V\x00", AgentName: "\x00A\x00"})
		if n := strings.Count(got, "\x00V\x00") + strings.Count(got, "\x00A\x00"); n < knownCount {
			t.Fatalf("Expand(%q) filled %d of %d placeholders: %q", text, n, knownCount, got)
		}
		// Values are copied, never expanded again.
		if got := Expand(text, Values{VisitorName: "{agent_name}", AgentName: "x"}); strings.Count(got, "{agent_name}") < strings.Count(text, "{visitor_name}") {
			t.Fatalf("Expand(%q) expanded a value: %q", text, got)
		}
		_, cleanedUnknown := Placeholders(sanitize.Clean(text, bodyLimits))
		if _, err := Validate("x", "x", text); err != nil && cleanedUnknown == "" {
			if fe, ok := err.(*FieldError); ok && strings.Contains(fe.Message, "Unknown placeholder") {
				t.Fatalf("Validate(%q) reports an unknown placeholder that Placeholders does not", text)
			}
		}
	})
}
