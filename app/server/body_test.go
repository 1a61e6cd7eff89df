package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
)

// uploadModule has a route that declares a larger body limit than the server-wide 2048 bytes
// of testConfig, and one that reads bodies without declaring any.
type uploadModule struct{}

const uploadLimit = 8 << 10

func (uploadModule) Routes() []server.Route {
	count := func(c echo.Context) error {
		n, err := io.Copy(io.Discard, c.Request().Body)
		if err != nil {
			return api.ErrBodyTooLarge.Wrap(err)
		}
		return c.String(http.StatusOK, strconv.FormatInt(n, 10))
	}
	return []server.Route{
		{Method: http.MethodPost, Path: "/api/v1/test/upload", Access: server.Public, API: true, MaxBodyBytes: uploadLimit, Handler: count},
		{Method: http.MethodPost, Path: "/api/v1/test/plain", Access: server.Public, API: true, Handler: count},
	}
}

// countingReader counts what the server read of a body.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestRouteBodyLimit(t *testing.T) {
	s, err := server.New(server.Deps{Config: testConfig(t, nil), Log: slog.New(slog.DiscardHandler), Modules: []server.Module{uploadModule{}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		size int
		// chunked sends no Content-Length, so only reading finds the size.
		chunked  bool
		status   int
		maxRead  int64
		wantBody string
	}{
		{name: "upload above the server-wide limit", path: "/api/v1/test/upload", size: 6000, status: 200, wantBody: "6000"},
		{name: "upload at its limit", path: "/api/v1/test/upload", size: uploadLimit, status: 200, wantBody: strconv.Itoa(uploadLimit)},
		{name: "upload at its limit, chunked", path: "/api/v1/test/upload", size: uploadLimit, chunked: true, status: 200, wantBody: strconv.Itoa(uploadLimit)},
		{name: "upload over its limit by length", path: "/api/v1/test/upload", size: 1 << 20, status: 413, maxRead: 0},
		{name: "upload over its limit, chunked", path: "/api/v1/test/upload", size: 1 << 20, chunked: true, status: 413, maxRead: uploadLimit + 1},
		{name: "other route keeps the server-wide limit", path: "/api/v1/test/plain", size: 6000, status: 413, maxRead: 0},
		{name: "other route keeps the server-wide limit, chunked", path: "/api/v1/test/plain", size: 6000, chunked: true, status: 413, maxRead: 2049},
		{name: "other route within the server-wide limit", path: "/api/v1/test/plain", size: 2048, status: 200, wantBody: "2048"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := &countingReader{r: strings.NewReader(strings.Repeat("x", tt.size))}
			req := httptest.NewRequest(http.MethodPost, tt.path, body)
			req.ContentLength = int64(tt.size)
			if tt.chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			s.Echo.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.status == 200 {
				if rec.Body.String() != tt.wantBody {
					t.Errorf("handler read %s bytes, want %s", rec.Body.String(), tt.wantBody)
				}
				return
			}
			if e := decodeErr(t, rec); e.Code != "body_too_large" {
				t.Errorf("code = %q, want body_too_large", e.Code)
			}
			if body.n > tt.maxRead {
				t.Errorf("the server read %d bytes of a refused body, want at most %d", body.n, tt.maxRead)
			}
		})
	}
}
