package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Bind decodes a JSON request body into v strictly: the content type must be JSON, unknown fields
// and trailing data are refused, and every failure is an *Error naming the field at fault.
func Bind(c echo.Context, v any) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != echo.MIMEApplicationJSON {
			return ErrUnsupportedMedia
		}
	}
	return Decode(req.Body, v)
}

// Decode is Bind's decoder, for bodies that are not the request's (and for tests and fuzzing).
func Decode(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return ErrBodyTooLarge.Wrap(err)
		}
		return ErrInvalidJSON.WithMessage("The request body must hold exactly one JSON value.")
	}
	return nil
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
