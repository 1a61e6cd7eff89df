package canned

import (
	"strings"
)

// The placeholders a canned message may hold. Each is written in braces ("{visitor_name}") and
// replaced when the message is put into the composer of a conversation.
const (
	PlaceholderVisitorName = "visitor_name"
	PlaceholderAgentName   = "agent_name"
)

// maxPlaceholderName bounds what reads as a placeholder: braces around 1 to 32 lowercase letters,
// digits or underscores. Anything else in braces ("{ }", "{Hello}", a JSON snippet) is plain text.
const maxPlaceholderName = 32

// known reports whether name is a placeholder Parley fills in.
func known(name string) bool {
	return name == PlaceholderVisitorName || name == PlaceholderAgentName
}

// Values are what the placeholders of a conversation stand for.
type Values struct {
	VisitorName string
	AgentName   string
}

// lookup returns the value of a known placeholder.
func (v Values) lookup(name string) string {
	switch name {
	case PlaceholderVisitorName:
		return v.VisitorName
	case PlaceholderAgentName:
		return v.AgentName
	}
	return ""
}

// placeholderAt reports whether s[i] opens a placeholder token and, if so, returns its name and
// the index just past its closing brace.
func placeholderAt(s string, i int) (name string, end int, ok bool) {
	if s[i] != '{' {
		return "", 0, false
	}
	j := i + 1
	for j < len(s) && j-i-1 <= maxPlaceholderName {
		c := s[j]
		switch {
		case c == '}':
			if j == i+1 {
				return "", 0, false
			}
			return s[i+1 : j], j + 1, true
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
			j++
		default:
			return "", 0, false
		}
	}
	return "", 0, false
}

// Placeholders returns the placeholder names of text in order of appearance, and the first
// unknown one ("" when every placeholder is known). Braces that do not form a placeholder token
// are plain text.
func Placeholders(text string) (names []string, unknown string) {
	for i := 0; i < len(text); i++ {
		name, end, ok := placeholderAt(text, i)
		if !ok {
			continue
		}
		if !known(name) && unknown == "" {
			unknown = name
		}
		names = append(names, name)
		i = end - 1
	}
	return names, unknown
}

// Expand replaces every known placeholder of text by its value, in one pass: a value that itself
// reads as a placeholder (a visitor who calls themself "{agent_name}") is copied as it is. Unknown
// placeholders stay as written (a stored text never holds one: Validate refuses them).
func Expand(text string, v Values) string {
	if !strings.Contains(text, "{") {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 32)
	last := 0
	for i := 0; i < len(text); i++ {
		name, end, ok := placeholderAt(text, i)
		if !ok || !known(name) {
			continue
		}
		b.WriteString(text[last:i])
		b.WriteString(v.lookup(name))
		last = end
		i = end - 1
	}
	b.WriteString(text[last:])
	return b.String()
}
