package dom

import (
	"encoding/json"
	"fmt"
	"testing"
)

// benchPage is a snapshot of a typical page: 2,000 elements with classes, styles, links and text.
func benchPage() []byte {
	body := el(2, "body", map[string]string{"class": "page"})
	id := int64(10)
	for i := 0; i < 1000; i++ {
		id += 3
		body.Kids = append(body.Kids, el(id, "div", map[string]string{"class": "row item", "style": "color:#333;margin:4px 0"},
			el(id+1, "a", map[string]string{"href": site + fmt.Sprintf("/p/%d", i), "title": "Product"}, txt(id+2, fmt.Sprintf("Product %d — 19.99 EUR", i)))))
	}
	return snapshot(el(1, "html", nil, body))
}

// BenchmarkSanitizeSnapshot: decoding, sanitising and encoding a 3,000-node snapshot.
func BenchmarkSanitizeSnapshot(b *testing.B) {
	s := testSanitizer()
	in := benchPage()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := s.Frame(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSanitizeMutations: a frame of 20 text and attribute mutations.
func BenchmarkSanitizeMutations(b *testing.B) {
	s := testSanitizer()
	var ms []Mutation
	for i := 0; i < 10; i++ {
		v, c := fmt.Sprintf("Basket: %d items", i), "badge active"
		ms = append(ms, Mutation{Op: OpText, ID: 4, Value: &v}, Mutation{Op: OpAttr, ID: 5, Tag: "span", Name: "class", Value: &c})
	}
	in, _ := json.Marshal(Frame{T: TypeMutations, M: ms})
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := s.Frame(in); err != nil {
			b.Fatal(err)
		}
	}
}
