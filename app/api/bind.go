package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api/strictjson"
)

// Bind decodes a JSON request body into v strictly: the content type must be application/json
// (at most with charset=utf-8), a key may not appear twice nor match a field only in another
// letter case, unknown fields and trailing data are refused, and every failure is an *Error
// naming the field at fault.
func Bind(c echo.Context, v any) error {
	req := c.Request()
	if err := CheckContentType(req.Header.Get(echo.HeaderContentType)); err != nil {
		return err
	}
	return Decode(req.Body, v)
}

// CheckContentType accepts the Content-Type of a JSON body: application/json, alone or with one
// parameter, charset=utf-8 (names and values in any case, the value may be quoted). Anything
// else — a missing header, another charset (utf-16), another or a repeated parameter, another
// type — is ErrUnsupportedMedia (415).
func CheckContentType(ct string) error {
	mt, param, hasParam := strings.Cut(ct, ";")
	if !strings.EqualFold(strings.TrimSpace(mt), echo.MIMEApplicationJSON) {
		return ErrUnsupportedMedia
	}
	if !hasParam {
		return nil
	}
	name, value, ok := strings.Cut(param, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(name), "charset") {
		return ErrUnsupportedMedia
	}
	value = strings.TrimSpace(value)
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	if !strings.EqualFold(value, "utf-8") {
		return ErrUnsupportedMedia
	}
	return nil
}

// body is a request body read into memory, and the reader the decoder reads it back through.
type body struct {
	buf bytes.Buffer
	rd  bytes.Reader
}

// bodies recycles bodies, so reading one allocates nothing once warm.
var bodies = sync.Pool{New: func() any { return new(body) }}

// maxPooledBody is the largest buffer kept for reuse; a larger one is left to the collector.
const maxPooledBody = 64 << 10

// Decode is Bind's decoder, for bodies that are not the request's (and for tests and fuzzing).
func Decode(r io.Reader, v any) error {
	b := bodies.Get().(*body)
	buf := &b.buf
	buf.Reset()
	defer func() {
		b.rd.Reset(nil)
		if buf.Cap() <= maxPooledBody {
			bodies.Put(b)
		}
	}()
	if _, err := buf.ReadFrom(r); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return ErrBodyTooLarge.Wrap(err)
		}
		return ErrInvalidJSON.Wrap(err)
	}
	data := buf.Bytes()
	if err := strictjson.Check(data, reflect.TypeOf(v)); err != nil {
		return keyError(err)
	}
	b.rd.Reset(data)
	dec := json.NewDecoder(&b.rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ErrInvalidJSON.WithMessage("The request body must hold exactly one JSON value.")
	}
	return nil
}

// keyError turns a key strictjson refused into invalid_json naming the key.
func keyError(err error) error {
	var ke *strictjson.KeyError
	if !errors.As(err, &ke) {
		return ErrInvalidJSON.Wrap(err)
	}
	path := clip(ke.Path)
	if ke.Field != "" {
		return ErrInvalidJSON.WithField(path).WithMessage(fmt.Sprintf(
			"Key %q must be written %q: field names are case-sensitive.", clip(ke.Key), ke.Field)).Wrap(err)
	}
	return ErrInvalidJSON.WithField(path).WithMessage(fmt.Sprintf("Key %q appears more than once.", clip(ke.Key))).Wrap(err)
}

// clip shortens a client-chosen name echoed in an error to 64 bytes.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	s = s[:64]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

func decodeError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		tooLarge  *http.MaxBytesError
		invalidUm *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &tooLarge):
		return ErrBodyTooLarge.Wrap(err)
	case errors.Is(err, io.EOF):
		return ErrInvalidJSON.WithMessage("The request body is empty; send a JSON object.")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &syntax):
		return ErrInvalidJSON.Wrap(err)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return ErrInvalidRequest.WithMessage(fmt.Sprintf("The request body must be a JSON %s.", "object")).Wrap(err)
		}
		return ErrInvalidRequest.WithField(field).
			WithMessage(fmt.Sprintf("Field %q must be %s.", field, jsonKind(typeErr.Type.Kind().String()))).Wrap(err)
	case errors.As(err, &invalidUm):
		return ErrInternal.Wrap(err)
	}
	// encoding/json reports unknown fields only as text: `json: unknown field "x"`.
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		field := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return ErrInvalidRequest.WithField(field).WithMessage(fmt.Sprintf("Unknown field %q.", field)).Wrap(err)
	}
	return ErrInvalidJSON.Wrap(err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	case "slice", "array":
		return "a list"
	case "map", "struct":
		return "an object"
	}
	return "of another type"
}

// RequestID returns the id the request-id middleware gave this request.
func RequestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
