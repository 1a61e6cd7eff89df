package dom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/parleyhq/parley/compliance/pan"
)

// Errors of a frame that cannot be shared. Their text never quotes the frame.
var (
	// ErrMalformed means the frame is not one JSON object of a known type and shape.
	ErrMalformed = errors.New("dom: malformed frame")
	// ErrTooLarge means the frame has more nodes, depth, mutations or bytes than allowed.
	ErrTooLarge = errors.New("dom: frame too large")
	// ErrEmpty means nothing of the frame is left to relay (every mutation was dropped).
	ErrEmpty = errors.New("dom: nothing left to share")
)

// Limits of one frame.
const (
	MaxID        = 1<<31 - 1
	MaxNodes     = 50000
	MaxDepth     = 256
	MaxMutations = 2000
	MaxText      = 64 << 10
	MaxAttrValue = 4 << 10
	MaxAttrs     = 64
	MaxCoord     = 10_000_000
	maxTitle     = 300
)

// Masked is what a masked form field's value becomes.
const Masked = "••••••"

// Policy is what a site allows.
type Policy struct {
	// Origins are the site's origins ("https://shop.example"): images, stylesheets and CSS url()
	// load from these only.
	Origins []string
	// InputAllowlist names the form fields (name, else id) whose values are shown; every other
	// field's value is masked.
	InputAllowlist []string
	// Mask masks card numbers in text; nil means pan.MaskLast4.
	Mask func(string) string
}

// Sanitizer cleans the frames of one site's pages. It is safe for concurrent use.
type Sanitizer struct {
	origins map[string]bool
	allow   map[string]bool
	mask    func(string) string
}

// New returns the sanitizer of a site's policy.
func New(p Policy) *Sanitizer {
	s := &Sanitizer{origins: map[string]bool{}, allow: map[string]bool{}, mask: p.Mask}
	for _, o := range p.Origins {
		s.origins[strings.ToLower(strings.TrimRight(o, "/"))] = true
	}
	for _, n := range p.InputAllowlist {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" && !cardLike(n) {
			s.allow[n] = true
		}
	}
	if s.mask == nil {
		s.mask = pan.MaskLast4
	}
	return s
}

// Frame decodes a visitor's frame, sanitises it and returns the frame to relay, encoded afresh.
func (s *Sanitizer) Frame(data []byte) ([]byte, error) {
	var f Frame
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, errors.Unwrap(err))
	}
	if dec.More() {
		return nil, ErrMalformed
	}
	if err := s.Clean(&f); err != nil {
		return nil, err
	}
	return json.Marshal(&f)
}

// Clean sanitises a decoded frame in place.
func (s *Sanitizer) Clean(f *Frame) error {
	out := Frame{T: f.T}
	switch f.T {
	case TypeSnapshot:
		if f.Root == nil || f.Root.Kind != KindElement {
			return ErrMalformed
		}
		out.URL, _ = s.link(f.URL)
		out.URL = s.mask(out.URL)
		out.Title = s.mask(clip(f.Title, maxTitle))
		out.W, out.H, out.X, out.Y = coord(f.W), coord(f.H), coord(f.X), coord(f.Y)
		w := walk{s: s}
		root, err := w.node(f.Root, 0, "")
		if err != nil {
			return err
		}
		if root == nil {
			return ErrMalformed
		}
		out.Root = root
	case TypeMutations:
		if len(f.M) == 0 || len(f.M) > MaxMutations {
			return fmt.Errorf("%w: %d mutations", ErrTooLarge, len(f.M))
		}
		w := walk{s: s}
		out.M = make([]Mutation, 0, len(f.M))
		for i := range f.M {
			m, keep, err := w.mutation(&f.M[i])
			if err != nil {
				return err
			}
			if keep {
				out.M = append(out.M, m)
			}
		}
		if len(out.M) == 0 {
			return ErrEmpty
		}
	case TypeScroll:
		if f.ID < 0 || f.ID > MaxID {
			return ErrMalformed
		}
		out.ID, out.X, out.Y = f.ID, coord(f.X), coord(f.Y)
	case TypeViewport:
		out.W, out.H = coord(f.W), coord(f.H)
	case TypePointer:
		out.X, out.Y = coord(f.X), coord(f.Y)
	default:
		return ErrMalformed
	}
	*f = out
	return nil
}

func coord(v int) int { return min(max(v, 0), MaxCoord) }

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// walk counts the nodes of one frame.
type walk struct {
	s     *Sanitizer
	nodes int
}

func validID(id int64) bool { return id >= 1 && id <= MaxID }

// node returns n's safe form (nil: dropped). parent is the tag of the element n is in.
func (w *walk) node(n *Node, depth int, parent string) (*Node, error) {
	if n == nil {
		return nil, ErrMalformed
	}
	w.nodes++
	if w.nodes > MaxNodes || depth > MaxDepth {
		return nil, ErrTooLarge
	}
	if !validID(n.ID) {
		return nil, ErrMalformed
	}
	switch n.Kind {
	case KindText:
		if len(n.Kids) > 0 || n.Tag != "" || len(n.Attrs) > 0 {
			return nil, ErrMalformed
		}
		t := w.s.mask(clip(n.Text, MaxText))
		switch parent {
		case "textarea":
			t = Masked // a textarea's text is what was typed; its live value is an OpValue
		case "style":
			t = w.s.css(t, maxStyleSheet)
		}
		return &Node{ID: n.ID, Kind: KindText, Text: t}, nil
	case KindPrivate:
		return &Node{ID: n.ID, Kind: KindPrivate, W: coord(n.W), H: coord(n.H)}, nil
	case KindElement:
	default:
		return nil, ErrMalformed
	}
	if len(n.Attrs) > MaxAttrs {
		return nil, ErrTooLarge
	}
	tag := strings.ToLower(n.Tag)
	if !validName(tag) || dropped[tag] {
		return nil, nil
	}
	if private(tag, n.Attrs) {
		return &Node{ID: n.ID, Kind: KindPrivate, W: coord(n.W), H: coord(n.H)}, nil
	}
	out := &Node{ID: n.ID, Kind: KindElement}
	kids := true
	switch {
	case tags[tag]:
		out.Tag = tag
	case boxed[tag]:
		out.Tag, kids = "div", false
	case strings.Contains(tag, "-"):
		out.Tag = "div" // a custom element
	default:
		out.Tag = "span"
	}
	if tag == "link" && !w.s.stylesheet(n.Attrs) {
		return nil, nil
	}
	if tag == "input" && strings.EqualFold(n.Attrs["type"], "hidden") {
		return nil, nil
	}
	out.Attrs = w.s.attrs(out.Tag, n.Attrs, !kids)
	if !kids {
		return out, nil
	}
	for _, k := range n.Kids {
		if out.Tag == "style" && k != nil && k.Kind != KindText {
			return nil, ErrMalformed
		}
		c, err := w.node(k, depth+1, out.Tag)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out.Kids = append(out.Kids, c)
		}
	}
	return out, nil
}

// private reports whether an element must never be shared: marked private by the site, a
// password field or a card field. The recorder replaces these before sending; the server checks
// again.
func private(tag string, a map[string]string) bool {
	if _, ok := a["data-parley-private"]; ok {
		return true
	}
	if slices.Contains(strings.Fields(strings.ToLower(a["class"])), "parley-nosync") {
		return true
	}
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(a["autocomplete"])), "cc-") {
		return true
	}
	switch tag {
	case "input", "textarea", "select":
		t := strings.ToLower(a["type"])
		return t == "password" || cardLike(a["name"]) || cardLike(a["id"]) || cardLike(a["autocomplete"])
	}
	return false
}

// stylesheet reports whether a link element is a stylesheet on the site's origins.
func (s *Sanitizer) stylesheet(a map[string]string) bool {
	if strings.ToLower(strings.TrimSpace(a["rel"])) != "stylesheet" {
		return false
	}
	_, ok := s.resource(a["href"])
	return ok
}

// attrs returns the allowed attributes of an element, their values made safe.
func (s *Sanitizer) attrs(tag string, in map[string]string, box bool) map[string]string {
	var out map[string]string
	for k, v := range in {
		name := strings.ToLower(k)
		if box && name != "class" && name != "style" && name != "id" && name != "width" && name != "height" {
			continue
		}
		val, ok := s.attr(tag, name, v, in)
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(in))
		}
		out[name] = val
	}
	return out
}

// attr returns the safe value of attribute name of a tag element, or false to drop it. all are
// the element's attributes (for a field's name and type).
func (s *Sanitizer) attr(tag, name, v string, all map[string]string) (string, bool) {
	if !validName(name) || strings.HasPrefix(name, "on") || strings.HasPrefix(name, "xlink") {
		return "", false
	}
	if !attrs[name] && !strings.HasPrefix(name, "aria-") {
		return "", false
	}
	if name == "style" {
		css := s.css(v, maxStyleAttr)
		return css, css != ""
	}
	if len(v) > MaxAttrValue {
		return "", false
	}
	switch name {
	case "href":
		if tag == "link" {
			return s.resource(v)
		}
		u, ok := s.link(v)
		return s.mask(u), ok
	case "src":
		if tag != "img" {
			return "", false
		}
		return s.resource(v)
	case "rel":
		var keep []string
		for _, r := range strings.Fields(strings.ToLower(v)) {
			if relWords[r] {
				keep = append(keep, r)
			}
		}
		return strings.Join(keep, " "), len(keep) > 0
	case "type":
		t := strings.ToLower(strings.TrimSpace(v))
		return t, validName(t)
	case "fill", "stroke", "stop-color":
		return v, paint(v) && !pan.Contains(v)
	case "value":
		if tag == "input" || tag == "textarea" || tag == "select" {
			if !s.shown(tag, all) && v != "" {
				return Masked, true
			}
		}
	}
	return s.mask(v), true
}

// paint reports whether an SVG paint is a colour, a keyword or a reference to the page's own
// element (url(#id)): nothing that loads or runs.
func paint(v string) bool {
	if len(v) > 200 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("#%.,() -", c) >= 0) {
			return false
		}
	}
	l := strings.ToLower(v)
	return !strings.Contains(l, "url(") || strings.HasPrefix(strings.TrimSpace(l), "url(#") && strings.Count(l, "url(") == 1
}

// shown reports whether a form field's value may be shown: a button's label, a checkbox's
// value, or a field on the site's allowlist.
func (s *Sanitizer) shown(tag string, a map[string]string) bool {
	if tag == "input" && shownValues[strings.ToLower(a["type"])] {
		return true
	}
	return s.allowed(fieldName(a["name"], a["id"]))
}

func fieldName(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

func (s *Sanitizer) allowed(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	return n != "" && s.allow[n] && !cardLike(n)
}

// mutation returns m's safe form; keep is false for a change that is dropped (an attribute that
// is not allowed).
func (w *walk) mutation(m *Mutation) (Mutation, bool, error) {
	switch m.Op {
	case OpAdd:
		if !validID(m.Parent) || (m.Before != 0 && !validID(m.Before)) || m.Node == nil {
			return Mutation{}, false, ErrMalformed
		}
		n, err := w.node(m.Node, 1, strings.ToLower(m.Tag))
		if err != nil || n == nil {
			return Mutation{}, false, err
		}
		return Mutation{Op: OpAdd, Parent: m.Parent, Before: m.Before, Node: n, Tag: parentTag(m.Tag)}, true, nil
	case OpRemove:
		if !validID(m.ID) {
			return Mutation{}, false, ErrMalformed
		}
		return Mutation{Op: OpRemove, ID: m.ID}, true, nil
	case OpText:
		if !validID(m.ID) || m.Value == nil {
			return Mutation{}, false, ErrMalformed
		}
		t := w.s.mask(clip(*m.Value, MaxText))
		switch strings.ToLower(m.Tag) {
		case "textarea":
			t = Masked
		case "style":
			t = w.s.css(t, maxStyleSheet)
		}
		return Mutation{Op: OpText, ID: m.ID, Value: &t, Tag: parentTag(m.Tag)}, true, nil
	case OpValue:
		if !validID(m.ID) || m.Value == nil {
			return Mutation{}, false, ErrMalformed
		}
		v := clip(*m.Value, MaxAttrValue)
		if v != "" && !w.s.allowed(m.Name) {
			v = Masked
		}
		v = w.s.mask(v)
		return Mutation{Op: OpValue, ID: m.ID, Value: &v}, true, nil
	case OpAttr:
		tag := strings.ToLower(m.Tag)
		name := strings.ToLower(m.Name)
		if !validID(m.ID) || !validName(tag) {
			return Mutation{}, false, ErrMalformed
		}
		if !tags[tag] || name == "data-parley-private" || name == "class" && m.Value != nil &&
			slices.Contains(strings.Fields(strings.ToLower(*m.Value)), "parley-nosync") {
			// An element that turns private, or is not shown as itself: its attributes stay as
			// they were (the recorder replaces a newly private element by a placeholder).
			return Mutation{}, false, nil
		}
		if m.Value == nil {
			if !validName(name) {
				return Mutation{}, false, nil
			}
			return Mutation{Op: OpAttr, ID: m.ID, Tag: tag, Name: name}, true, nil
		}
		if name == "value" || name == "src" && tag != "img" {
			return Mutation{}, false, nil // values travel as OpValue, masked
		}
		v, ok := w.s.attr(tag, name, *m.Value, nil)
		if !ok {
			return Mutation{}, false, nil
		}
		return Mutation{Op: OpAttr, ID: m.ID, Tag: tag, Name: name, Value: &v}, true, nil
	}
	return Mutation{}, false, ErrMalformed
}

// parentTag keeps a parent's tag only when it changes how text is shown.
func parentTag(tag string) string {
	switch t := strings.ToLower(tag); t {
	case "style", "textarea":
		return t
	}
	return ""
}
