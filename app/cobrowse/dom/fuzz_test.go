package dom

import (
	"encoding/json"
	"testing"
)

// FuzzSanitizer feeds arbitrary frames to the sanitiser: it never panics, and whatever it
// accepts comes out holding only allowed tags and attributes, safe URLs and CSS, and no card
// number. The seed corpus is the XSS payloads of testdata/xss.txt in snapshots and mutations,
// plus testdata/fuzz/FuzzSanitizer.
func FuzzSanitizer(f *testing.F) {
	for _, p := range payloads(f) {
		f.Add(snapshot(el(1, "html", nil, el(2, "a", map[string]string{"href": p, "style": p, "title": p}, txt(3, p)),
			el(4, "style", nil, txt(5, p)))))
		v := p
		m, _ := json.Marshal(Frame{T: TypeMutations, M: []Mutation{{Op: OpAttr, ID: 2, Tag: "img", Name: "src", Value: &v},
			{Op: OpText, ID: 5, Tag: "style", Value: &v}}})
		f.Add(m)
	}
	f.Add([]byte(`{"t":"scroll","id":3,"x":-5,"y":99999999999}`))
	s := testSanitizer()
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := s.Frame(in)
		if err != nil {
			return
		}
		if msg := unsafeOutput(s, out); msg != "" {
			t.Fatalf("unsafe output (%s) for %q:\n%s", msg, in, out)
		}
		// Sanitising is idempotent: the relayed frame passes again unchanged.
		again, err := s.Frame(out)
		if err != nil {
			t.Fatalf("sanitised frame refused on a second pass: %v\n%s", err, out)
		}
		if msg := unsafeOutput(s, again); msg != "" {
			t.Fatalf("second pass unsafe: %s", msg)
		}
	})
}
