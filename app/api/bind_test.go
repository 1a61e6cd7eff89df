package api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
)

// strictBody exercises every shape the strict check walks.
type strictBody struct {
	Days   int               `json:"days"`
	Name   string            `json:"name,omitempty"`
	Inner  *innerBody        `json:"inner"`
	Items  []innerBody       `json:"items"`
	Labels map[string]string `json:"labels"`
	Raw    json.RawMessage   `json:"raw"`
	Any    any               `json:"any"`
	Skip   string            `json:"-"`
	Key    string            `json:"key"`
	embedded
}

type embedded struct {
	Promoted int `json:"promoted"`
}

type innerBody struct {
	A int    `json:"a"`
	B string `json:"b"`
}

func bind(t *testing.T, contentType, body string) error {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/x", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set(echo.HeaderContentType, contentType)
	}
	c := echo.New().NewContext(req, httptest.NewRecorder())
	var v strictBody
	return api.Bind(c, &v)
}

func TestBindRefusesDuplicateAndCaseVariantKeys(t *testing.T) {
	manyKeys := func(dup string) string {
		var b strings.Builder
		b.WriteString(`{"labels":{`)
		for i := range 40 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"k` + strings.Repeat("x", i) + `":"v"`)
		}
		b.WriteString(dup + `}}`)
		return b.String()
	}
	tests := []struct {
		name  string
		body  string
		field string // "" : accepted
		key   string // named in the message
	}{
		{name: "plain", body: `{"days":30,"name":"x"}`},
		{name: "every shape", body: `{"days":1,"inner":{"a":1,"b":"x"},"items":[{"a":1},{"a":2,"b":"y"}],"labels":{"X":"1","x":"2"},"raw":{"A":1,"a":2},"any":[{"Q":1,"q":2}],"key":"k","promoted":3}`},
		{name: "escaped values", body: `{"name":"\"days\"","labels":{"a\\b":"\u0041"}}`},
		{name: "empty containers", body: `{"items":[],"labels":{},"inner":{},"raw":[],"any":{}}`},

		{name: "duplicate top level", body: `{"days":30,"days":400}`, field: "days", key: "days"},
		{name: "duplicate after others", body: `{"days":30,"name":"a","key":"k","name":"b"}`, field: "name", key: "name"},
		{name: "duplicate spelled with an escape", body: `{"days":30,"d\u0061ys":400}`, field: "days", key: "days"},
		{name: "duplicate nested", body: `{"inner":{"a":1,"a":2}}`, field: "inner.a", key: "a"},
		{name: "duplicate in an array of objects", body: `{"items":[{"a":1},{"b":"x","a":1,"a":2}]}`, field: "items.a", key: "a"},
		{name: "duplicate in a map", body: `{"labels":{"x":"1","x":"2"}}`, field: "labels.x", key: "x"},
		{name: "duplicate in a large map", body: manyKeys(`,"kxxx":"again"`), field: "labels.kxxx", key: "kxxx"},
		{name: "duplicate in raw JSON", body: `{"raw":{"a":1,"a":2}}`, field: "raw.a", key: "a"},
		{name: "duplicate in an interface", body: `{"any":[{"q":1,"q":2}]}`, field: "any.q", key: "q"},
		{name: "duplicate of an unknown key", body: `{"zzz":1,"zzz":2}`, field: "zzz", key: "zzz"},
		{name: "duplicate of a promoted field", body: `{"promoted":1,"promoted":2}`, field: "promoted", key: "promoted"},

		{name: "case variant top level", body: `{"Days":400}`, field: "Days", key: "Days"},
		{name: "case variant after the real key", body: `{"days":30,"DAYS":400}`, field: "DAYS", key: "DAYS"},
		{name: "case variant nested", body: `{"inner":{"A":1}}`, field: "inner.A", key: "A"},
		{name: "case variant in an array of objects", body: `{"items":[{"a":1},{"B":"x"}]}`, field: "items.B", key: "B"},
		{name: "case variant of a promoted field", body: `{"Promoted":1}`, field: "Promoted", key: "Promoted"},
		{name: "case variant by Unicode folding", body: `{"\u212aey":"k"}`, field: "\u212aey", key: "\u212aey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := bind(t, echo.MIMEApplicationJSON, tt.body)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Bind = %v, want accepted", err)
				}
				return
			}
			var e *api.Error
			if !errors.As(err, &e) {
				t.Fatalf("Bind = %v, want an *api.Error", err)
			}
			if e.Status != http.StatusBadRequest || e.Code != "invalid_json" || e.Field != tt.field {
				t.Errorf("got %d %s field %q, want 400 invalid_json field %q", e.Status, e.Code, e.Field, tt.field)
			}
			if !strings.Contains(e.Message, `"`+tt.key+`"`) {
				t.Errorf("message %q does not name key %q", e.Message, tt.key)
			}
		})
	}
}

func TestBindContentType(t *testing.T) {
	tests := []struct {
		ct string
		ok bool
	}{
		{ct: "application/json", ok: true},
		{ct: "application/json; charset=utf-8", ok: true},
		{ct: "application/json;charset=UTF-8", ok: true},
		{ct: `application/json; charset="utf-8"`, ok: true},
		{ct: "Application/JSON; Charset=Utf-8", ok: true},
		{ct: ""},
		{ct: "application/json; charset=utf-16"},
		{ct: "application/json; charset=iso-8859-1"},
		{ct: "application/json; charset="},
		{ct: "application/json; boundary=x"},
		{ct: "application/json; charset=utf-8; version=2"},
		{ct: "application/json; charset=utf-8; charset=utf-8"},
		{ct: "application/json;"},
		{ct: "application/jsonx"},
		{ct: "application/problem+json"},
		{ct: "text/json"},
		{ct: "text/plain"},
		{ct: "application/x-www-form-urlencoded"},
		{ct: "multipart/form-data; boundary=x"},
		{ct: ";;;"},
	}
	for _, tt := range tests {
		t.Run(tt.ct, func(t *testing.T) {
			err := bind(t, tt.ct, `{"days":30}`)
			if tt.ok {
				if err != nil {
					t.Fatalf("Bind = %v, want accepted", err)
				}
				return
			}
			var e *api.Error
			if !errors.As(err, &e) || e.Status != http.StatusUnsupportedMediaType || e.Code != "unsupported_media_type" {
				t.Fatalf("Bind = %v, want 415 unsupported_media_type", err)
			}
		})
	}
}

func TestBindStillStrict(t *testing.T) {
	tests := []struct {
		name, body, code, field string
	}{
		{name: "empty", body: ``, code: "invalid_json"},
		{name: "malformed", body: `{"days":`, code: "invalid_json"},
		{name: "two values", body: `{"days":1}{"days":2}`, code: "invalid_json"},
		{name: "unknown field", body: `{"admin":true}`, code: "invalid_request", field: "admin"},
		{name: "wrong type", body: `{"days":"many"}`, code: "invalid_request", field: "days"},
		{name: "wrong nested type", body: `{"inner":{"a":"x"}}`, code: "invalid_request", field: "inner.a"},
		{name: "deep nesting", body: `{"any":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, code: "invalid_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *api.Error
			if err := bind(t, echo.MIMEApplicationJSON, tt.body); !errors.As(err, &e) {
				t.Fatalf("Bind = %v, want an *api.Error", err)
			}
			if e.Code != tt.code || e.Field != tt.field {
				t.Errorf("got %s field %q, want %s field %q", e.Code, e.Field, tt.code, tt.field)
			}
		})
	}
}
