package dom

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/parleyhq/parley/compliance/pan"
)

const site = "https://shop.example"

func testSanitizer() *Sanitizer {
	return New(Policy{Origins: []string{site}, InputAllowlist: []string{"search"}})
}

func el(id int64, tag string, a map[string]string, kids ...*Node) *Node {
	return &Node{ID: id, Kind: KindElement, Tag: tag, Attrs: a, Kids: kids}
}

func txt(id int64, s string) *Node { return &Node{ID: id, Kind: KindText, Text: s} }

func snapshot(root *Node) []byte {
	b, _ := json.Marshal(Frame{T: TypeSnapshot, URL: site + "/", Root: root})
	return b
}

// find returns the node with id in the tree (nil when dropped).
func find(n *Node, id int64) *Node {
	if n == nil {
		return nil
	}
	if n.ID == id {
		return n
	}
	for _, k := range n.Kids {
		if f := find(k, id); f != nil {
			return f
		}
	}
	return nil
}

func clean(t *testing.T, s *Sanitizer, in []byte) Frame {
	t.Helper()
	out, err := s.Frame(in)
	if err != nil {
		t.Fatalf("Frame: %v", err)
	}
	var f Frame
	if err := json.Unmarshal(out, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSnapshotRules(t *testing.T) {
	s := testSanitizer()
	root := el(1, "html", nil, el(2, "body", map[string]string{"onload": "x()", "class": "page"},
		el(3, "script", nil, txt(4, "window.__pwned=1")),
		el(5, "div", map[string]string{"class": "secret parley-nosync"}, txt(6, "hidden content")),
		el(7, "div", map[string]string{"data-parley-private": ""}, txt(8, "private content")),
		el(9, "input", map[string]string{"type": "password", "value": "hunter2"}),
		el(10, "input", map[string]string{"name": "cardnumber", "value": "4111 1111 1111 1111"}),
		el(11, "input", map[string]string{"autocomplete": "cc-csc", "value": "123"}),
		el(12, "input", map[string]string{"name": "email", "value": "a@b.example"}),
		el(13, "input", map[string]string{"name": "search", "value": "shoes"}),
		el(14, "a", map[string]string{"href": "javascript:alert(1)"}, txt(15, "x")),
		el(16, "a", map[string]string{"href": "https://elsewhere.example/page"}, txt(17, "ok")),
		el(18, "img", map[string]string{"src": "https://evil.example/x.png"}),
		el(19, "img", map[string]string{"src": site + "/logo.png"}),
		el(20, "iframe", map[string]string{"src": site}),
		el(21, "p", nil, txt(22, "Card 4111 1111 1111 1111 thanks")),
		el(23, "my-widget", map[string]string{"style": "color:red;background:url(https://evil.example/x)"}),
		el(24, "input", map[string]string{"type": "hidden", "name": "csrf", "value": "tok"}),
		el(25, "textarea", map[string]string{"name": "notes"}, txt(26, "typed text")),
		el(27, "input", map[string]string{"type": "submit", "value": "Buy"}),
	))
	f := clean(t, s, snapshot(root))
	for _, c := range []struct {
		name string
		id   int64
		want func(n *Node) bool
	}{
		{"event handler dropped", 2, func(n *Node) bool { return n.Attrs["onload"] == "" && n.Attrs["class"] == "page" }},
		{"script dropped", 3, func(n *Node) bool { return n == nil }},
		{"nosync is a placeholder", 5, func(n *Node) bool { return n.Kind == KindPrivate && len(n.Kids) == 0 && n.Attrs == nil }},
		{"nosync content gone", 6, func(n *Node) bool { return n == nil }},
		{"data-parley-private is a placeholder", 7, func(n *Node) bool { return n.Kind == KindPrivate }},
		{"password is a placeholder", 9, func(n *Node) bool { return n.Kind == KindPrivate }},
		{"card field is a placeholder", 10, func(n *Node) bool { return n.Kind == KindPrivate }},
		{"cc-* field is a placeholder", 11, func(n *Node) bool { return n.Kind == KindPrivate }},
		{"value masked by default", 12, func(n *Node) bool { return n.Attrs["value"] == Masked }},
		{"allowlisted value shown", 13, func(n *Node) bool { return n.Attrs["value"] == "shoes" }},
		{"javascript: link dropped", 14, func(n *Node) bool { _, ok := n.Attrs["href"]; return !ok }},
		{"http link kept", 16, func(n *Node) bool { return n.Attrs["href"] == "https://elsewhere.example/page" }},
		{"foreign image dropped", 18, func(n *Node) bool { _, ok := n.Attrs["src"]; return !ok }},
		{"site image kept", 19, func(n *Node) bool { return n.Attrs["src"] == site+"/logo.png" }},
		{"iframe dropped", 20, func(n *Node) bool { return n == nil }},
		{"card number masked in text", 22, func(n *Node) bool { return !pan.Contains(n.Text) && strings.Contains(n.Text, "1111") }},
		{"custom element is a div, foreign url() blocked", 23, func(n *Node) bool {
			return n.Tag == "div" && strings.Contains(n.Attrs["style"], "color:red") && !strings.Contains(n.Attrs["style"], "evil")
		}},
		{"hidden input dropped", 24, func(n *Node) bool { return n == nil }},
		{"textarea text masked", 26, func(n *Node) bool { return n.Text == Masked }},
		{"button label shown", 27, func(n *Node) bool { return n.Attrs["value"] == "Buy" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := find(f.Root, c.id)
			if !c.want(n) {
				b, _ := json.Marshal(n)
				t.Errorf("node %d = %s", c.id, b)
			}
		})
	}
}

func TestMutationRules(t *testing.T) {
	s := testSanitizer()
	str := func(v string) *string { return &v }
	in, _ := json.Marshal(Frame{T: TypeMutations, M: []Mutation{
		{Op: OpAttr, ID: 5, Tag: "div", Name: "onclick", Value: str("alert(1)")},
		{Op: OpAttr, ID: 5, Tag: "a", Name: "href", Value: str("javascript:alert(1)")},
		{Op: OpAttr, ID: 5, Tag: "div", Name: "class", Value: str("parley-nosync")},
		{Op: OpAttr, ID: 5, Tag: "div", Name: "title", Value: str("ok")},
		{Op: OpValue, ID: 6, Name: "email", Value: str("a@b.example")},
		{Op: OpValue, ID: 7, Name: "search", Value: str("4111111111111111")},
		{Op: OpText, ID: 8, Value: str("paid with 4111 1111 1111 1111")},
		{Op: OpAdd, Parent: 1, Node: el(9, "script", nil, txt(10, "window.__pwned=1"))},
		{Op: OpAdd, Parent: 1, Node: el(11, "div", map[string]string{"onmouseover": "x"})},
		{Op: OpRemove, ID: 3},
	}})
	f := clean(t, s, in)
	got, _ := json.Marshal(f.M)
	for _, bad := range []string{"onclick", "javascript", "parley-nosync", "a@b.example", "script", "__pwned", "onmouseover", "4111 1111 1111 1111", "4111111111111111"} {
		if strings.Contains(string(got), bad) {
			t.Errorf("mutations keep %q: %s", bad, got)
		}
	}
	if len(f.M) != 6 { // title, two values, text, the div, remove
		t.Errorf("%d mutations kept, want 6: %s", len(f.M), got)
	}
}

func TestLimits(t *testing.T) {
	s := testSanitizer()
	deep := el(1, "div", nil)
	cur := deep
	for i := int64(2); i < MaxDepth+10; i++ {
		n := el(i, "div", nil)
		cur.Kids = []*Node{n}
		cur = n
	}
	for _, c := range []struct {
		name string
		in   []byte
	}{
		{"too deep", snapshot(deep)},
		{"unknown field", []byte(`{"t":"pointer","x":1,"evil":2}`)},
		{"unknown type", []byte(`{"t":"eval"}`)},
		{"two objects", []byte(`{"t":"pointer"}{"t":"pointer"}`)},
		{"bad id", snapshot(el(0, "div", nil))},
		{"no root", []byte(`{"t":"snapshot"}`)},
		{"no mutations", []byte(`{"t":"mutations","m":[]}`)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.Frame(c.in); err == nil {
				t.Errorf("accepted %s", c.name)
			}
		})
	}
}

// payloads reads testdata/xss.txt.
func payloads(t testing.TB) []string {
	fh, err := os.Open("testdata/xss.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fh.Close() }()
	var out []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "# ") {
			out = append(out, l)
		}
	}
	return out
}

// TestXSSCorpus puts every payload of testdata/xss.txt in every place a snapshot and a mutation
// carry text, attribute values, styles and URLs; none survives sanitisation.
func TestXSSCorpus(t *testing.T) {
	s := testSanitizer()
	names := []string{"href", "src", "style", "title", "class", "onclick", "onerror", "srcdoc", "formaction", "action",
		"xlink:href", "fill", "value", "data", "background", "poster"}
	str := func(v string) *string { return &v }
	for _, p := range payloads(t) {
		var kids []*Node
		var muts []Mutation
		id := int64(10)
		for _, tag := range []string{"a", "img", "div", "link", "input", "svg", "iframe", "object", "embed", "script", "style", "form", "meta", "base"} {
			a := map[string]string{}
			for _, n := range names {
				a[n] = p
			}
			a["rel"] = "stylesheet"
			id++
			kids = append(kids, el(id, tag, a, txt(id+1000, p)))
			for _, n := range names {
				muts = append(muts, Mutation{Op: OpAttr, ID: id, Tag: tag, Name: n, Value: str(p)})
			}
			muts = append(muts, Mutation{Op: OpAdd, Parent: 1, Tag: tag, Node: el(id+2000, tag, a, txt(id+3000, p))},
				Mutation{Op: OpText, ID: id + 1000, Tag: tag, Value: str(p)})
		}
		snap := snapshot(el(1, "html", nil, el(2, "body", nil, kids...)))
		mut, _ := json.Marshal(Frame{T: TypeMutations, M: muts})
		for _, in := range [][]byte{snap, mut} {
			out, err := s.Frame(in)
			if err != nil {
				t.Fatalf("payload %q: %v", p, err)
			}
			if msg := unsafeOutput(s, out); msg != "" {
				t.Errorf("payload %q survives: %s\n%s", p, msg, out)
			}
		}
	}
}

// unsafeOutput checks a sanitised frame's invariants and says what is wrong ("" when nothing).
func unsafeOutput(s *Sanitizer, out []byte) string {
	var f Frame
	if err := json.Unmarshal(out, &f); err != nil {
		return "output is not a frame: " + err.Error()
	}
	var msg string
	var check func(n *Node, parent string)
	check = func(n *Node, parent string) {
		if n == nil || msg != "" {
			return
		}
		switch n.Kind {
		case KindText:
			if pan.Contains(n.Text) {
				msg = "card number in text"
			}
			if parent == "style" {
				if m := cssProblem(n.Text); m != "" {
					msg = m
				}
			}
			return
		case KindPrivate:
			if n.Tag != "" || n.Attrs != nil || n.Kids != nil || n.Text != "" {
				msg = "private placeholder with content"
			}
			return
		}
		if !tags[n.Tag] {
			msg = "tag " + n.Tag
			return
		}
		for k, v := range n.Attrs {
			if m := attrProblem(s, n.Tag, k, v); m != "" {
				msg = m
				return
			}
		}
		for _, k := range n.Kids {
			check(k, n.Tag)
		}
	}
	check(f.Root, "")
	for _, m := range f.M {
		if msg != "" {
			break
		}
		check(m.Node, m.Tag)
		if m.Value != nil {
			switch m.Op {
			case OpAttr:
				msg = attrProblem(s, m.Tag, m.Name, *m.Value)
			case OpText, OpValue:
				if pan.Contains(*m.Value) {
					msg = "card number in a value"
				} else if m.Tag == "style" {
					msg = cssProblem(*m.Value)
				}
			}
		}
	}
	return msg
}

func attrProblem(s *Sanitizer, tag, k, v string) string {
	lv := strings.ToLower(v)
	switch {
	case !attrs[k] && !strings.HasPrefix(k, "aria-"), strings.HasPrefix(k, "on"):
		return "attribute " + k
	case pan.Contains(v):
		return "card number in " + k
	case k == "style":
		return cssProblem(v)
	case k == "href" || k == "src":
		if strings.HasPrefix(v, "#") && k == "href" && tag != "link" {
			return ""
		}
		u, ok := httpURL(v)
		if !ok {
			if k == "src" {
				if _, ok := dataImage(v); ok {
					return ""
				}
			}
			return k + " is not an http(s) URL: " + v
		}
		if (k == "src" || tag == "link") && !s.origins[u.Scheme+"://"+u.Host] {
			return k + " loads from another origin"
		}
	case (k == "fill" || k == "stroke") && (strings.Contains(lv, ":") || strings.Contains(lv, "url(") && !strings.Contains(lv, "url(#")):
		return "script URL in " + k
	}
	return ""
}

func cssProblem(css string) string {
	l := strings.ToLower(css)
	for _, bad := range []string{"expression(", "javascript:", "vbscript:", "-moz-binding", "behavior", "@import", "image-set(", "<"} {
		if strings.Contains(l, bad) {
			return "CSS keeps " + bad
		}
	}
	if strings.Contains(l, "url(") {
		for _, part := range strings.Split(l, "url(")[1:] {
			if !strings.HasPrefix(part, `"`+site) && !strings.HasPrefix(part, `"data:image/`) {
				return "CSS url() to " + part
			}
		}
	}
	return ""
}
