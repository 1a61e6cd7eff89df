package transcript

import (
	"strings"
	"time"
	"unicode"
)

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// compact drops adjacent duplicates of a sorted list.
func compact(ids []string) []string {
	out := ids[:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}

// validID accepts the ids Parley generates (UUIDs and similar): 1 to 64 of [A-Za-z0-9_-].
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isLetterOrDigit(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// maskName keeps the first letter of each word: "Ada Lovelace" → "A*** L***".
func maskName(name string) string {
	if name == "" {
		return ""
	}
	words := strings.Fields(name)
	for i, w := range words {
		r := []rune(w)
		words[i] = string(r[0]) + "***"
	}
	return strings.Join(words, " ")
}

// maskEmail keeps the first letter and the domain: "ada@example.com" → "a***@example.com".
func maskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if email == "" {
		return ""
	}
	if !ok || local == "" {
		return "***"
	}
	return string([]rune(local)[0]) + "***@" + domain
}

// maskIP keeps the network: the first two parts of an IPv4 address, the first of an IPv6 one.
func maskIP(ip string) string {
	if ip == "" {
		return ""
	}
	if strings.Contains(ip, ".") {
		parts := strings.Split(ip, ".")
		if len(parts) == 4 {
			return parts[0] + "." + parts[1] + ".x.x"
		}
	}
	if i := strings.Index(ip, ":"); i > 0 {
		return ip[:i] + ":…"
	}
	return "hidden"
}
