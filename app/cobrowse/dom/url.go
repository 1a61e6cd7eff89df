package dom

import (
	"net/url"
	"strings"
)

// maxURL bounds a link or resource URL; maxDataURL a data: image.
const (
	maxURL     = 2048
	maxDataURL = 64 << 10
)

// normalURL strips what browsers ignore in a URL (leading and trailing spaces and controls; tab,
// CR and LF anywhere) and refuses any other control character.
func normalURL(raw string) (string, bool) {
	raw = strings.TrimFunc(raw, func(r rune) bool { return r <= ' ' })
	var b strings.Builder
	for _, r := range raw {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			continue
		case r < ' ' || r == 0x7f:
			return "", false
		}
		b.WriteRune(r)
	}
	return b.String(), true
}

// httpURL parses an absolute http(s) URL without user information.
func httpURL(raw string) (*url.URL, bool) {
	s, ok := normalURL(raw)
	if !ok || s == "" || len(s) > maxURL || strings.ContainsAny(s, "\\\"'<>` ") {
		return nil, false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return nil, false
	}
	return u, true
}

// link returns href's safe form: a fragment of the page, or an http(s) URL.
func (s *Sanitizer) link(raw string) (string, bool) {
	if n, ok := normalURL(raw); ok && strings.HasPrefix(n, "#") && len(n) <= maxURL && !strings.ContainsAny(n, "\\\"'<>`") {
		return n, true
	}
	u, ok := httpURL(raw)
	if !ok {
		return "", false
	}
	return u.String(), true
}

// resource returns a loadable URL's safe form (an image, a stylesheet, a CSS url()): an http(s)
// URL on one of the site's origins, or a base64 raster image.
func (s *Sanitizer) resource(raw string) (string, bool) {
	if n, ok := normalURL(raw); ok && len(n) > 5 && strings.EqualFold(n[:5], "data:") {
		return dataImage(n)
	}
	u, ok := httpURL(raw)
	if !ok || !s.origins[strings.ToLower(u.Scheme+"://"+u.Host)] {
		return "", false
	}
	return u.String(), true
}

// dataImage accepts data:image/{png,jpeg,gif,webp};base64,… only (no SVG: it can carry script).
func dataImage(n string) (string, bool) {
	if len(n) > maxDataURL {
		return "", false
	}
	head, body, ok := strings.Cut(n[5:], ",")
	if !ok {
		return "", false
	}
	switch strings.ToLower(head) {
	case "image/png;base64", "image/jpeg;base64", "image/gif;base64", "image/webp;base64":
	default:
		return "", false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return "", false
		}
	}
	return "data:" + strings.ToLower(head) + "," + body, true
}
