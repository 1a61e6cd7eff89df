package dom

import "strings"

// tags are the elements a shared page keeps, as they are.
var tags = set(
	"html", "head", "body", "title", "style", "link",
	"a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "blockquote", "br", "button", "caption",
	"cite", "code", "col", "colgroup", "data", "dd", "del", "details", "dfn", "dialog", "div", "dl", "dt", "em",
	"fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
	"hgroup", "hr", "i", "img", "input", "ins", "kbd", "label", "legend", "li", "main", "mark", "menu", "meter",
	"nav", "ol", "optgroup", "option", "output", "p", "picture", "pre", "progress", "q", "rp", "rt", "ruby", "s",
	"samp", "search", "section", "select", "small", "span", "strong", "sub", "summary", "sup", "table",
	"tbody", "td", "textarea", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var", "wbr", "center", "font",
	"big", "strike", "tt", "nobr",
	// SVG icons: shapes only (no use, image, foreignObject, animate or script).
	"svg", "g", "path", "circle", "rect", "line", "polyline", "polygon", "ellipse", "defs", "lineargradient",
	"radialgradient", "stop", "clippath", "symbol",
)

// dropped elements are removed with everything inside them.
var dropped = set(
	"script", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "meta",
	"template", "portal", "param", "source", "track", "use", "image", "foreignobject", "animate",
	"animatemotion", "animatetransform", "set", "handler", "listener", "xml", "import", "math",
	"fencedframe", "selectedcontent",
)

// boxed elements are shown as an empty box of the same class and style: their content (media,
// drawing surfaces) is not shared.
var boxed = set("video", "audio", "canvas", "map", "area", "svg:image")

// attrs are the attributes every kept element may carry, besides aria-*.
var attrs = set(
	"id", "class", "title", "lang", "dir", "role", "hidden", "style", "alt", "width", "height", "align",
	"valign", "colspan", "rowspan", "span", "start", "reversed", "type", "name", "value", "placeholder",
	"checked", "selected", "disabled", "readonly", "multiple", "for", "open", "datetime", "rel", "href",
	"src", "label", "maxlength", "size", "cols", "rows", "wrap", "bgcolor", "color", "border", "cellpadding",
	"cellspacing", "nowrap", "min", "max", "low", "high", "optimum", "media",
	// SVG presentation.
	"viewbox", "d", "fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin", "fill-rule",
	"clip-rule", "opacity", "fill-opacity", "stroke-opacity", "cx", "cy", "r", "rx", "ry", "x", "y", "x1",
	"y1", "x2", "y2", "points", "transform", "offset", "stop-color", "stop-opacity", "gradientunits",
	"preserveaspectratio", "xmlns",
)

// relWords are the link relations kept in rel.
var relWords = set("stylesheet", "noopener", "noreferrer", "nofollow", "external", "help", "license", "next",
	"prev", "author", "bookmark", "tag")

// shownValues are the input types whose value is a label, not something typed.
var shownValues = set("submit", "button", "reset", "checkbox", "radio", "color", "range", "image")

// secretParts inside a word of a field's name, id or autocomplete make it a card or secret field;
// secretWords do as whole words ("pan" but not "company").
var (
	secretParts = []string{"card", "cvv", "cvc", "password", "passwd", "securitycode", "ccnum", "ccno"}
	secretWords = set("pan", "pin", "csc", "cc", "iban", "pwd", "expiry", "exp", "otp", "ssn")
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// SecretField reports whether a form field name, id or autocomplete token names card or secret
// data (card, cvv, cvc, password, pan, pin, iban, …): such a field is never shared.
func SecretField(s string) bool { return cardLike(s) }

// cardLike reports whether a field name, id or autocomplete token names card or secret data.
func cardLike(s string) bool {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	for _, w := range words {
		if secretWords[w] {
			return true
		}
		for _, p := range secretParts {
			if strings.Contains(w, p) {
				return true
			}
		}
	}
	return false
}

// validName reports whether s is a plausible tag or attribute name: a lower-case ASCII letter,
// then letters, digits, '-', '_', ':' or '.', at most 64 bytes.
func validName(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == ':' || c == '.') {
			return false
		}
	}
	return true
}
