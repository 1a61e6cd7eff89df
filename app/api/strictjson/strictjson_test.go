package strictjson_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/api/strictjson"
)

// node is recursive: the check must end.
type node struct {
	Name     string  `json:"name"`
	Children []*node `json:"children"`
}

type Base struct {
	ID string `json:"id"`
}

type withEmbedded struct {
	*Base
	Untagged string
	Ignored  string `json:"-"`
	//lint:ignore SA5008 a field encoding/json names "-" is one of the cases under test
	Dash  string           `json:"-,"`
	When  time.Time        `json:"when"`
	Raw   json.RawMessage  `json:"raw"`
	Bytes []byte           `json:"bytes"`
	Grid  [2][]node        `json:"grid"`
	ByID  map[string]*node `json:"by_id"`
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		t     reflect.Type
		data  string
		path  string // "" : accepted
		field string // the field a case variant differs from
	}{
		{name: "recursive ok", t: reflect.TypeFor[node](), data: `{"name":"a","children":[{"name":"b","children":[{"name":"c"}]}]}`},
		{name: "recursive duplicate", t: reflect.TypeFor[node](), data: `{"children":[{"children":[{"name":"c","name":"d"}]}]}`, path: "children.children.name"},
		{name: "recursive case variant", t: reflect.TypeFor[*node](), data: `{"children":[{"children":[{"Name":"c"}]}]}`, path: "children.children.Name", field: "name"},
		{name: "promoted through a pointer", t: reflect.TypeFor[withEmbedded](), data: `{"ID":"x"}`, path: "ID", field: "id"},
		{name: "untagged field by its Go name", t: reflect.TypeFor[withEmbedded](), data: `{"Untagged":"x"}`},
		{name: "untagged field in lower case", t: reflect.TypeFor[withEmbedded](), data: `{"untagged":"x"}`, path: "untagged", field: "Untagged"},
		{name: "field named -", t: reflect.TypeFor[withEmbedded](), data: `{"-":"x"}`},
		{name: "ignored field's Go name is unknown, not a variant", t: reflect.TypeFor[withEmbedded](), data: `{"ignored":"x"}`},
		{name: "unmarshaler keys unchecked for case", t: reflect.TypeFor[withEmbedded](), data: `{"raw":{"A":1,"a":2}}`},
		{name: "unmarshaler duplicate", t: reflect.TypeFor[withEmbedded](), data: `{"raw":{"a":1,"a":2}}`, path: "raw.a"},
		{name: "array of lists of structs", t: reflect.TypeFor[withEmbedded](), data: `{"grid":[[],[{"NAME":"x"}]]}`, path: "grid.NAME", field: "name"},
		{name: "map of structs", t: reflect.TypeFor[withEmbedded](), data: `{"by_id":{"A":{"name":"x"},"a":{"Children":[]}}}`, path: "by_id.a.Children", field: "children"},
		{name: "nil type: duplicates only", t: nil, data: `{"A":1,"a":{"b":1,"b":2}}`, path: "a.b"},
		{name: "malformed left to the decoder", t: reflect.TypeFor[node](), data: `{"name" "x","name":"y"}`},
		{name: "unterminated key", t: reflect.TypeFor[node](), data: `{"name":"x","na`},
		{name: "top-level scalar", t: reflect.TypeFor[node](), data: `"x"`},
		{name: "whitespace", t: reflect.TypeFor[node](), data: " {\n\t\"name\" : \"x\" ,\r\n \"name\" : 1 } ", path: "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := strictjson.Check([]byte(tt.data), tt.t)
			if tt.path == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var ke *strictjson.KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("Check = %v, want a *KeyError", err)
			}
			if ke.Path != tt.path || ke.Field != tt.field {
				t.Errorf("path, field = %q, %q; want %q, %q", ke.Path, ke.Field, tt.path, tt.field)
			}
		})
	}
}
