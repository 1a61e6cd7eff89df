// Package strictjson checks a JSON document's object keys against the Go type it is about to be
// decoded into, closing two gaps encoding/json leaves open: a key given twice (the last one wins
// silently, so a filter and a handler may read different values) and a key that matches a
// struct field only in another letter case (encoding/json matches case-insensitively). Structs
// are matched by their json names; maps, interfaces, json.RawMessage and other json.Unmarshaler
// values still refuse a repeated key but are not checked for case.
//
// Check is one pass over the bytes that allocates nothing for well-formed input whose keys
// carry no escapes; its syntax handling is lenient: malformed JSON is left to the decoder.
package strictjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is how deep Check follows nested values, as encoding/json's own limit: deeper input
// is left to the decoder, which refuses it.
const maxDepth = 10000

// manyKeys is the size from which an object's keys are compared through a map rather than
// pairwise.
const manyKeys = 32

// KeyError reports a key refused: given twice, or matching a field only in another case.
type KeyError struct {
	// Path is the dotted path of the key from the document's root, as sent ("rules.Name").
	Path string
	// Key is the key as sent (escapes decoded).
	Key string
	// Field is the struct field's json name the key differs from only in case; empty for a
	// duplicate.
	Field string
}

// Error describes the refused key.
func (e *KeyError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("key %q matches field %q only in letter case", e.Path, e.Field)
	}
	return fmt.Sprintf("key %q appears more than once", e.Path)
}

// Check walks data, one JSON value, beside t, the type it will be decoded into (a pointer is
// followed; nil checks duplicates only). It returns a *KeyError for the first key refused, and
// nil for acceptable or malformed input.
func Check(data []byte, t reflect.Type) error {
	w := walkers.Get().(*walker)
	*w = walker{data: data, seen: w.seen[:0], path: w.path[:0]}
	w.value(infoOf(t), 0)
	err := w.err
	// Keep the scratch slices, not the caller's bytes.
	clear(w.seen[:cap(w.seen)])
	clear(w.path[:cap(w.path)])
	w.data, w.err = nil, nil
	walkers.Put(w)
	if err != nil {
		return err
	}
	return nil
}

// walkers recycles walkers and their scratch slices, so a check allocates nothing.
var walkers = sync.Pool{New: func() any { return &walker{seen: make([][]byte, 0, 16), path: make([][]byte, 0, 16)} }}

// kind is what a Go type expects of a JSON value, as far as keys go.
type kind uint8

const (
	kindAny    kind = iota // interface, json.Unmarshaler, scalar: duplicates checked below
	kindStruct             // fields by json name
	kindMap                // any keys, values of elem
	kindList               // elements of elem
)

// info is a Go type's shape for Check.
type info struct {
	kind   kind
	fields map[string]*info // kindStruct: exact json names
	names  []string         // kindStruct: the same names, for the case-insensitive search
	elem   *info            // kindMap, kindList
}

var anyInfo = &info{kind: kindAny}

var (
	infoMu    sync.Mutex
	infoCache sync.Map // reflect.Type -> *info
)

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func infoOf(t reflect.Type) *info {
	if t == nil {
		return anyInfo
	}
	if i, ok := infoCache.Load(t); ok {
		return i.(*info)
	}
	infoMu.Lock()
	defer infoMu.Unlock()
	building := map[reflect.Type]*info{}
	i := build(t, building)
	for bt, bi := range building {
		infoCache.Store(bt, bi)
	}
	return i
}

// build computes t's info; building holds the types in progress, so recursive types end.
func build(t reflect.Type, building map[reflect.Type]*info) *info {
	for t.Kind() == reflect.Pointer {
		if t.Implements(unmarshalerType) {
			return anyInfo
		}
		t = t.Elem()
	}
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return anyInfo
	}
	if i, ok := infoCache.Load(t); ok {
		return i.(*info)
	}
	if i, ok := building[t]; ok {
		return i
	}
	switch t.Kind() {
	case reflect.Struct:
		i := &info{kind: kindStruct, fields: map[string]*info{}}
		building[t] = i
		for _, f := range structFields(t) {
			if _, dup := i.fields[f.name]; dup {
				continue
			}
			i.fields[f.name] = build(f.typ, building)
			i.names = append(i.names, f.name)
		}
		return i
	case reflect.Map:
		i := &info{kind: kindMap}
		building[t] = i
		i.elem = build(t.Elem(), building)
		return i
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return anyInfo // []byte is a base64 string
		}
		i := &info{kind: kindList}
		building[t] = i
		i.elem = build(t.Elem(), building)
		return i
	}
	return anyInfo
}

type field struct {
	name  string
	typ   reflect.Type
	depth int
}

// structFields lists t's fields by json name as encoding/json sees them: exported fields, tag
// names, "-" left out, untagged embedded structs promoted (shallower fields first).
func structFields(t reflect.Type) []field {
	var out []field
	type level struct {
		t     reflect.Type
		depth int
	}
	queue := []level{{t, 0}}
	visited := map[reflect.Type]bool{}
	for len(queue) > 0 {
		l := queue[0]
		queue = queue[1:]
		if visited[l.t] {
			continue
		}
		visited[l.t] = true
		for i := range l.t.NumField() {
			f := l.t.Field(i)
			ft := f.Type
			if f.Anonymous {
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if !f.IsExported() && ft.Kind() != reflect.Struct {
					continue
				}
			} else if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if name == "" && f.Anonymous && ft.Kind() == reflect.Struct {
				queue = append(queue, level{ft, l.depth + 1})
				continue
			}
			if name == "" {
				name = f.Name
			}
			out = append(out, field{name: name, typ: f.Type, depth: l.depth})
		}
	}
	return out
}

// walker is one Check.
type walker struct {
	data []byte
	pos  int
	// seen holds the keys of the objects being walked, innermost last.
	seen [][]byte
	// path holds the keys from the root to the value being walked.
	path [][]byte
	// stop is set on a refused key or malformed input: the walk ends.
	stop bool
	err  *KeyError
}

func (w *walker) ws() {
	for w.pos < len(w.data) {
		switch w.data[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

func (w *walker) value(t *info, depth int) {
	if depth > maxDepth {
		w.stop = true
		return
	}
	w.ws()
	if w.pos >= len(w.data) {
		w.stop = true
		return
	}
	switch w.data[w.pos] {
	case '{':
		w.object(t, depth)
	case '[':
		w.array(t, depth)
	case '"':
		if _, ok := w.str(false); !ok {
			w.stop = true
		}
	default:
		// A number or literal: up to the next delimiter; the decoder judges it.
		for w.pos < len(w.data) {
			switch w.data[w.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			w.pos++
		}
	}
}

func (w *walker) array(t *info, depth int) {
	w.pos++ // [
	elem := anyInfo
	if t.kind == kindList {
		elem = t.elem
	}
	w.ws()
	if w.pos < len(w.data) && w.data[w.pos] == ']' {
		w.pos++
		return
	}
	for !w.stop {
		w.value(elem, depth+1)
		if w.stop {
			return
		}
		if !w.more(']') {
			return
		}
	}
}

func (w *walker) object(t *info, depth int) {
	w.pos++ // {
	base := len(w.seen)
	w.objectKeys(t, depth, base)
	w.seen = w.seen[:base]
}

// objectKeys walks an object's members after its opening brace; its keys go on w.seen from base.
func (w *walker) objectKeys(t *info, depth, base int) {
	var many map[string]struct{}
	w.ws()
	if w.pos < len(w.data) && w.data[w.pos] == '}' {
		w.pos++
		return
	}
	for !w.stop {
		w.ws()
		if w.pos >= len(w.data) || w.data[w.pos] != '"' {
			w.stop = true
			return
		}
		key, ok := w.str(true)
		if !ok {
			w.stop = true
			return
		}
		// A key given twice.
		keys := w.seen[base:]
		switch {
		case many != nil:
			if _, dup := many[string(key)]; dup {
				w.refuse(key, "")
				return
			}
			many[string(key)] = struct{}{}
		case len(keys) >= manyKeys:
			many = make(map[string]struct{}, 2*manyKeys)
			for _, k := range keys {
				many[string(k)] = struct{}{}
			}
			if _, dup := many[string(key)]; dup {
				w.refuse(key, "")
				return
			}
			many[string(key)] = struct{}{}
		default:
			for _, k := range keys {
				if bytes.Equal(k, key) {
					w.refuse(key, "")
					return
				}
			}
		}
		w.seen = append(w.seen, key)
		// The value's type: a struct field by its exact name; a name that differs only in case
		// is refused; an unknown key is left to the decoder (DisallowUnknownFields).
		child := anyInfo
		switch t.kind {
		case kindStruct:
			if f, ok := t.fields[string(key)]; ok {
				child = f
			} else {
				// Not a field's exact name: rare (the decoder refuses an unknown key anyway), so
				// the conversion's allocation does not matter here.
				for _, name := range t.names {
					if strings.EqualFold(string(key), name) {
						w.refuse(key, name)
						return
					}
				}
			}
		case kindMap:
			child = t.elem
		}
		w.ws()
		if w.pos >= len(w.data) || w.data[w.pos] != ':' {
			w.stop = true
			return
		}
		w.pos++
		w.path = append(w.path, key)
		w.value(child, depth+1)
		w.path = w.path[:len(w.path)-1]
		if w.stop {
			return
		}
		if !w.more('}') {
			return
		}
	}
}

// refuse records key (at the current path) as refused; field names the field it differs from
// only in case, or is empty for a duplicate.
func (w *walker) refuse(key []byte, field string) {
	parts := make([]string, 0, len(w.path)+1)
	for _, p := range w.path {
		parts = append(parts, string(p))
	}
	parts = append(parts, string(key))
	w.err = &KeyError{Path: strings.Join(parts, "."), Key: string(key), Field: field}
	w.stop = true
}

// str reads the string at pos (its opening quote) and returns its content: a slice of the input
// when it has no escapes, else, when decode is set (a key), a decoded copy. ok is false for a
// malformed string.
func (w *walker) str(decode bool) (s []byte, ok bool) {
	start := w.pos + 1
	escaped := false
	i := start
	for ; i < len(w.data); i++ {
		c := w.data[i]
		if c == '\\' {
			escaped = true
			i++
			continue
		}
		if c == '"' {
			break
		}
		if c >= utf8.RuneSelf {
			escaped = true // maybe invalid UTF-8, which the decoder replaces: decode to compare
		}
	}
	if i >= len(w.data) {
		return nil, false
	}
	w.pos = i + 1
	raw := w.data[start:i]
	if !escaped || !decode || (bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw)) {
		return raw, true
	}
	return unescape(raw)
}

// unescape decodes a JSON string's escapes; unpaired surrogates and invalid UTF-8 become
// U+FFFD, as in encoding/json.
func unescape(raw []byte) ([]byte, bool) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, raw[i:i+n]...)
			}
			i += n - 1
			continue
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(raw) {
			return nil, false
		}
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(raw[i+1:])
			if !ok {
				return nil, false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(-1), false
				if i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					r2, ok2 = hex4(raw[i+3:])
				}
				if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, false
		}
	}
	return out, true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// more reads what follows an element of an array or object: a comma (another element follows),
// the closing bracket (it ends), or anything else (malformed: the walk stops; the decoder
// reports the error).
func (w *walker) more(closing byte) bool {
	w.ws()
	if w.pos >= len(w.data) {
		w.stop = true
		return false
	}
	switch w.data[w.pos] {
	case ',':
		w.pos++
		return true
	case closing:
		w.pos++
		return false
	}
	w.stop = true
	return false
}
