package api

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/migrations"
)

// Body is the JSON error body every API error has: {"error":{"code","message","request_id"}}.
type Body struct {
	Error BodyError `json:"error"`
}

// BodyError is the inside of Body.
type BodyError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	Details   any    `json:"details,omitempty"`
	RequestID string `json:"request_id"`
}

// Renderer is Echo's one HTTPErrorHandler: it maps any error to an *Error, logs the cause once
// (with the request id) and answers JSON under /api/ and for JSON clients, HTML elsewhere.
type Renderer struct {
	Log *slog.Logger
	// Page renders an HTML error page; nil falls back to a minimal built-in page.
	Page *template.Template
	// CardRefused, when set, is told of every card_number_not_allowed answer (the field, never
	// the value), so the refusal is audited.
	CardRefused func(c echo.Context, e *Error)
}

// Handle implements echo.HTTPErrorHandler.
func (r *Renderer) Handle(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := Classify(err)
	rid := RequestID(c)
	req := c.Request()
	attrs := []any{
		"request_id", rid, "method", req.Method, "path", req.URL.Path,
		"status", e.Status, "code", e.Code,
	}
	if e.Err != nil {
		attrs = append(attrs, "cause", e.Err.Error())
	}
	switch {
	case e.Status >= 500:
		r.Log.ErrorContext(req.Context(), "request failed", attrs...)
	case e.Err != nil:
		r.Log.InfoContext(req.Context(), "request refused", attrs...)
	}
	if e.Code == ErrCardNumber.Code && r.CardRefused != nil {
		r.CardRefused(c, e)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	var werr error
	switch {
	case req.Method == http.MethodHead:
		werr = c.NoContent(e.Status)
	case wantsJSON(req):
		werr = c.JSON(e.Status, Body{Error: BodyError{
			Code: e.Code, Message: e.Message, Field: e.Field, Details: e.Details, RequestID: rid,
		}})
	default:
		werr = r.page(c, e, rid)
	}
	if werr != nil {
		r.Log.WarnContext(req.Context(), "write error response", "request_id", rid, "cause", werr.Error())
	}
}

func (r *Renderer) page(c echo.Context, e *Error, rid string) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(e.Status)
	data := map[string]any{"Status": e.Status, "Code": e.Code, "Message": e.Message, "RequestID": rid, "Title": http.StatusText(e.Status)}
	if r.Page != nil {
		return r.Page.Execute(c.Response(), data)
	}
	return fallbackPage.Execute(c.Response(), data)
}

var fallbackPage = template.Must(template.New("error").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · Parley</title></head>` +
	`<body><h1>{{.Title}}</h1><p>{{.Message}}</p><p><small>Request id: <code>{{.RequestID}}</code></small></p></body></html>`))

// wantsJSON decides the error body's form: JSON for the API and for clients that ask for it.
func wantsJSON(req *http.Request) bool {
	if strings.HasPrefix(req.URL.Path, "/api/") || req.URL.Path == "/healthz" || req.URL.Path == "/readyz" || req.URL.Path == "/metrics" {
		return true
	}
	accept := req.Header.Get(echo.HeaderAccept)
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// Refused is a domain refusal that carries its own safe form: a stable code, a message for the
// client, the field at fault and structured details (compliance/mode.Refusal: a setting that would
// break a control of the organisation's compliance mode). It is answered 409 Conflict, whatever
// the handler wrapped it in.
type Refused interface {
	error
	Refusal() (code, message, field string, details any)
}

// Classify maps any error to an *Error with a safe message. Echo's own errors keep their status;
// anything unknown becomes internal_error with the cause kept for the log.
func Classify(err error) *Error {
	// A card number the storage guard refused is the client's input at fault, whatever the
	// handler wrapped the store's error in.
	var card *migrations.CardNumberError
	if errors.As(err, &card) {
		return ErrCardNumber.WithField(card.Column).Wrap(err)
	}
	var refused Refused
	if errors.As(err, &refused) {
		code, msg, field, details := refused.Refusal()
		return &Error{Status: http.StatusConflict, Code: code, Message: msg, Field: field, Details: details, Err: err}
	}
	var e *Error
	if !errors.As(err, &e) && migrations.IsUnavailable(err) {
		// The database is away (restarting, failing over): the client may retry shortly.
		return ErrUnavailable.Wrap(err)
	}
	if errors.As(err, &e) {
		if e.Status == 0 {
			c := *e
			c.Status = http.StatusInternalServerError
			return &c
		}
		return e
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		var out *Error
		switch he.Code {
		case http.StatusNotFound:
			out = ErrNotFound
		case http.StatusMethodNotAllowed:
			out = ErrMethodNotAllowed
		case http.StatusRequestEntityTooLarge:
			out = ErrBodyTooLarge
		case http.StatusUnsupportedMediaType:
			out = ErrUnsupportedMedia
		case http.StatusTooManyRequests:
			out = ErrRateLimited
		case http.StatusUnauthorized:
			out = ErrUnauthenticated
		case http.StatusForbidden:
			out = ErrForbidden
		case http.StatusServiceUnavailable:
			out = ErrUnavailable
		case http.StatusBadRequest:
			out = ErrInvalidRequest
		default:
			if he.Code >= 400 && he.Code < 500 {
				out = New(he.Code, "bad_request", http.StatusText(he.Code)+".")
			} else {
				out = ErrInternal
			}
		}
		if he.Internal != nil {
			return out.Wrap(he.Internal)
		}
		return out
	}
	return ErrInternal.Wrap(err)
}
