package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/api"
)

// jsonNames are strictBody's json names, for the reference's case check.
var jsonNames = func() []string {
	var out []string
	for _, t := range []reflect.Type{reflect.TypeFor[strictBody](), reflect.TypeFor[embedded]()} {
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" {
				out = append(out, name)
			}
		}
	}
	return out
}()

// reference finds, with json.Decoder.Token, whether valid JSON data repeats a key in any object
// (dup) or has a top-level key matching a strictBody field only in letter case (caseVariant).
func reference(data []byte) (dup, caseVariant bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		keys   map[string]bool
		expect bool // the next token in an object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return dup, caseVariant
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.expect {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].expect = true
				}
				continue
			}
			key := tok.(string)
			if top.keys[key] {
				dup = true
			}
			top.keys[key] = true
			if len(stack) == 1 {
				exact := false
				for _, n := range jsonNames {
					exact = exact || n == key
				}
				for _, n := range jsonNames {
					if !exact && strings.EqualFold(n, key) {
						caseVariant = true
					}
				}
			}
			top.expect = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, expect: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: the enclosing object expects a key next.
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].expect = true
		}
	}
}

// FuzzDecode: Decode never panics, accepts nothing the reference finds a repeated or
// case-variant key in, and blames a repeated key only when the reference finds one.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"days":30}`, `{"days":30,"days":400}`, `{"Days":1}`, `{"inner":{"a":1,"A":2}}`,
		`{"items":[{"a":1},{"a":1,"a":2}]}`, `{"labels":{"x":"1","X":"2"}}`, `{"raw":{"a":[{"b":1,"b":2}]}}`,
		`{"d\u0061ys":1,"days":2}`, `{"any":[[{"\ud83d\ude00":1,"😀":2}]]}`, `{"a\ufffd":1}`, "{\"labels\":{\"\xff\":\"1\",\"\xfe\":\"2\"}}",
		`[]`, `null`, `{"days":`, `{"key":"\u212a"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v strictBody
		err := api.Decode(bytes.NewReader(data), &v)
		valid := json.Valid(data)
		dup, caseVariant := false, false
		if valid {
			dup, caseVariant = reference(data)
		}
		var e *api.Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("Decode(%q) = %v, not an *api.Error", data, err)
		}
		if err == nil && (dup || caseVariant) {
			t.Fatalf("Decode(%q) accepted a repeated (%v) or case-variant (%v) key", data, dup, caseVariant)
		}
		if e != nil && strings.Contains(e.Message, "appears more than once") && valid && !dup {
			t.Fatalf("Decode(%q) = %q, but no key repeats", data, e.Message)
		}
	})
}
