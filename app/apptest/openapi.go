package apptest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"
)

// maxCheckedBody is the largest response body the OpenAPI check reads; a larger one (a file
// download, an export) has its status and content type checked, not its bytes.
const maxCheckedBody = 1 << 20

// apiDocument is docs/openapi.yaml, loaded, validated and routed once per test process.
var apiDocument struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// OpenAPIPath returns the path of docs/openapi.yaml, found from this file's place in the module.
func OpenAPIPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "openapi.yaml")
}

// LoadOpenAPI returns docs/openapi.yaml loaded and validated, and a router over its operations
// that ignores the document's server address (tests call the router under any host). The
// document is read once per process; callers must not change it.
func LoadOpenAPI() (*openapi3.T, routers.Router, error) {
	apiDocument.once.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(OpenAPIPath())
		if err != nil {
			apiDocument.err = fmt.Errorf("load docs/openapi.yaml: %w", err)
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			apiDocument.err = fmt.Errorf("docs/openapi.yaml is not a valid OpenAPI document: %w", err)
			return
		}
		closeObjects(doc)
		routed := *doc
		routed.Servers = openapi3.Servers{{URL: "/"}}
		router, err := gorillamux.NewRouter(&routed)
		if err != nil {
			apiDocument.err = fmt.Errorf("route docs/openapi.yaml: %w", err)
			return
		}
		apiDocument.doc, apiDocument.router = doc, router
	})
	return apiDocument.doc, apiDocument.router, apiDocument.err
}

// CheckOpenAPI makes e check every answer to an operation docs/openapi.yaml describes against the
// document: the status must be documented (or covered by default), the content type listed, and
// a JSON body must match the schema. A mismatch fails t with the method, path, status and the
// validation error, so every API test is also a check of the document. apptest.New calls it;
// harnesses that assemble their own router call it themselves. Benchmarks are not checked.
func CheckOpenAPI(t testing.TB, e *echo.Echo) {
	t.Helper()
	if _, bench := t.(*testing.B); bench {
		return
	}
	_, router, err := LoadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var done atomic.Bool
	t.Cleanup(func() { done.Store(true) })
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			route, params, err := router.FindRoute(req)
			if err != nil {
				return next(c)
			}
			w := &capture{ResponseWriter: c.Response().Writer}
			c.Response().Writer = w
			if err := next(c); err != nil {
				c.Error(err)
			}
			// Nothing answered (a long poll whose client left), a WebSocket, or a test that is over.
			if !c.Response().Committed || w.hijacked || done.Load() {
				return nil
			}
			if problem := checkResponse(req, route, params, c.Response().Status, c.Response().Header(), w); problem != nil {
				body := "(not JSON)"
				if isJSON(c.Response().Header().Get(echo.HeaderContentType)) {
					body = w.body.String()
				}
				t.Errorf("openapi: %s %s answered %d, which docs/openapi.yaml does not describe: %v\nbody: %.2000s",
					req.Method, req.URL.Path, c.Response().Status, problem, body)
			}
			return nil
		}
	})
}

// closeObjects makes every object schema that lists its properties, and says nothing of others,
// refuse others: a field the server sends must be documented. (An OpenAPI object allows unknown
// fields by default; the document keeps that default for clients, the check does not.)
func closeObjects(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(s *openapi3.SchemaRef)
	walk = func(s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil || seen[s.Value] {
			return
		}
		v := s.Value
		seen[v] = true
		if len(v.Properties) > 0 && v.AdditionalProperties.Has == nil && v.AdditionalProperties.Schema == nil {
			closed := false
			v.AdditionalProperties.Has = &closed
		}
		for _, p := range v.Properties {
			walk(p)
		}
		walk(v.Items)
		walk(v.AdditionalProperties.Schema)
		for _, c := range append(append(append(openapi3.SchemaRefs{}, v.OneOf...), v.AnyOf...), v.AllOf...) {
			walk(c)
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, r := range op.Responses.Map() {
				if r.Value == nil {
					continue
				}
				for _, m := range r.Value.Content {
					walk(m.Schema)
				}
			}
		}
	}
}

// checkResponse validates one answer against its operation.
func checkResponse(req *http.Request, route *routers.Route, params map[string]string, status int, header http.Header, w *capture) error {
	if w.truncated {
		return nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.EnableFormatValidation()}},
	}
	in.SetBodyBytes(w.body.Bytes())
	ref := route.Operation.Responses.Status(status)
	if ref == nil {
		ref = route.Operation.Responses.Default()
	}
	if ref != nil && ref.Value != nil && len(ref.Value.Content) == 0 && w.body.Len() > 0 {
		return errors.New("the answer has a body, the document none")
	}
	if w.body.Len() > 0 && !isJSON(header.Get("Content-Type")) {
		// Binary and text answers: the status and the content type are checked, not the bytes.
		if ref != nil && ref.Value != nil && ref.Value.Content.Get(header.Get("Content-Type")) == nil {
			return fmt.Errorf("content type %q is not documented for this status", header.Get("Content-Type"))
		}
		in.Options.ExcludeResponseBody = true
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// capture keeps a copy of what a handler writes (up to maxCheckedBody) and passes everything on.
type capture struct {
	http.ResponseWriter
	body      bytes.Buffer
	truncated bool
	hijacked  bool
}

// Write implements http.ResponseWriter.
func (w *capture) Write(p []byte) (int, error) {
	if !w.truncated {
		if w.body.Len()+len(p) > maxCheckedBody {
			w.truncated = true
			w.body.Reset()
		} else {
			w.body.Write(p)
		}
	}
	return w.ResponseWriter.Write(p)
}

// Flush implements http.Flusher for long polls.
func (w *capture) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker for WebSocket upgrades; a hijacked answer is not checked.
func (w *capture) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the wrapped writer (for http.ResponseController).
func (w *capture) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var _ io.Writer = (*capture)(nil)

// isJSON reports whether a content type is JSON.
func isJSON(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
