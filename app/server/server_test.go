package server_test

import (
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/config"
	"github.com/parleyhq/parley/app/server"
)

func testConfig(t *testing.T, env map[string]string) *config.Config {
	t.Helper()
	base := map[string]string{"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_MAX_BODY_BYTES": "2048"}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := config.Load(flag.NewFlagSet("t", flag.ContinueOnError), nil, func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// testModule serves routes that exercise the shared machinery.
type testModule struct{}

type echoBody struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func (testModule) Routes() []server.Route {
	return []server.Route{
		{Method: http.MethodGet, Path: "/api/v1/test/panic", Access: server.Public, API: true, Handler: func(echo.Context) error {
			panic("secret-panic-value 4111111111111111")
		}},
		{Method: http.MethodGet, Path: "/api/v1/test/fail", Access: server.Public, API: true, Handler: func(echo.Context) error {
			return errors.New("pq: relation \"users\" does not exist at SELECT password_hash")
		}},
		{Method: http.MethodPost, Path: "/api/v1/test/echo", Access: server.Public, API: true, Handler: func(c echo.Context) error {
			var b echoBody
			if err := api.Bind(c, &b); err != nil {
				return err
			}
			return c.JSON(http.StatusOK, b)
		}},
		{Method: http.MethodGet, Path: "/api/v1/test/ip", Access: server.Public, API: true, Handler: func(c echo.Context) error {
			return c.String(http.StatusOK, c.RealIP())
		}},
		{Method: http.MethodGet, Path: "/api/v1/test/private", Access: server.Authenticated, API: true, Handler: func(c echo.Context) error {
			return c.String(http.StatusOK, "secret")
		}},
	}
}

func newServer(t *testing.T, env map[string]string) *server.Server {
	t.Helper()
	s, err := server.New(server.Deps{Config: testConfig(t, env), Log: slog.New(slog.DiscardHandler), Modules: []server.Module{testModule{}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func do(s *server.Server, method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	for k, v := range hdr {
		if k == "RemoteAddr" {
			req.RemoteAddr = v
			continue
		}
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.Echo.ServeHTTP(rec, req)
	return rec
}

func decodeErr(t *testing.T, rec *httptest.ResponseRecorder) api.BodyError {
	t.Helper()
	var b api.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, rec.Body.String())
	}
	if b.Error.RequestID == "" || b.Error.RequestID != rec.Header().Get("X-Request-Id") {
		t.Errorf("request_id = %q, header %q; want equal and non-empty", b.Error.RequestID, rec.Header().Get("X-Request-Id"))
	}
	return b.Error
}

func TestErrors(t *testing.T) {
	s := newServer(t, nil)
	big := `{"name":"` + strings.Repeat("a", 4096) + `"}`
	tests := []struct {
		name       string
		method     string
		path, body string
		hdr        map[string]string
		status     int
		code       string
		field      string
	}{
		{name: "unknown API route", method: "GET", path: "/api/v1/nope", status: 404, code: "not_found"},
		{name: "wrong method", method: "DELETE", path: "/api/v1/test/echo", status: 405, code: "method_not_allowed"},
		{name: "malformed JSON", method: "POST", path: "/api/v1/test/echo", body: `{"name":`, status: 400, code: "invalid_json"},
		{name: "not JSON", method: "POST", path: "/api/v1/test/echo", body: `name=x`, status: 400, code: "invalid_json"},
		{name: "empty body", method: "POST", path: "/api/v1/test/echo", hdr: map[string]string{"Content-Type": "application/json"}, status: 400, code: "invalid_json"},
		{name: "no content type", method: "POST", path: "/api/v1/test/echo", status: 415, code: "unsupported_media_type"},
		{name: "duplicate key", method: "POST", path: "/api/v1/test/echo", body: `{"count":1,"count":2}`, status: 400, code: "invalid_json", field: "count"},
		{name: "case-variant key", method: "POST", path: "/api/v1/test/echo", body: `{"Name":"x"}`, status: 400, code: "invalid_json", field: "Name"},
		{name: "utf-16 body", method: "POST", path: "/api/v1/test/echo", body: `{}`, hdr: map[string]string{"Content-Type": "application/json; charset=utf-16"}, status: 415, code: "unsupported_media_type"},
		{name: "two values", method: "POST", path: "/api/v1/test/echo", body: `{"name":"a"}{"name":"b"}`, status: 400, code: "invalid_json"},
		{name: "unknown field", method: "POST", path: "/api/v1/test/echo", body: `{"name":"a","admin":true}`, status: 400, code: "invalid_request", field: "admin"},
		{name: "wrong type", method: "POST", path: "/api/v1/test/echo", body: `{"count":"many"}`, status: 400, code: "invalid_request", field: "count"},
		{name: "oversized body", method: "POST", path: "/api/v1/test/echo", body: big, status: 413, code: "body_too_large"},
		{name: "wrong content type", method: "POST", path: "/api/v1/test/echo", body: `{}`, hdr: map[string]string{"Content-Type": "text/plain"}, status: 415, code: "unsupported_media_type"},
		{name: "internal error", method: "GET", path: "/api/v1/test/fail", status: 500, code: "internal_error"},
		{name: "panic", method: "GET", path: "/api/v1/test/panic", status: 500, code: "internal_error"},
		{name: "authenticated route without guard", method: "GET", path: "/api/v1/test/private", status: 401, code: "unauthenticated"},
		{name: "cross-site post", method: "POST", path: "/api/v1/test/echo", body: `{}`, hdr: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403, code: "csrf_failed"},
		{name: "foreign origin", method: "POST", path: "/api/v1/test/echo", body: `{}`, hdr: map[string]string{"Origin": "https://evil.example"}, status: 403, code: "csrf_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(s, tt.method, tt.path, tt.body, tt.hdr)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body.String())
			}
			e := decodeErr(t, rec)
			if e.Code != tt.code || e.Field != tt.field {
				t.Errorf("code, field = %q, %q; want %q, %q", e.Code, e.Field, tt.code, tt.field)
			}
			// The random request id is left out: its hex digits could spell "4111" by chance.
			body := strings.ReplaceAll(rec.Body.String(), e.RequestID, "")
			for _, leak := range []string{"pq:", "SELECT", "password_hash", "secret-panic", "4111", "goroutine", ".go:"} {
				if strings.Contains(body, leak) {
					t.Errorf("body leaks %q: %s", leak, rec.Body.String())
				}
			}
		})
	}
}

func TestUnknownPageIsHTML(t *testing.T) {
	s := newServer(t, nil)
	rec := do(s, "GET", "/no/such/page", "", map[string]string{"Accept": "text/html"})
	if rec.Code != 404 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("got %d %q, want 404 text/html", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !strings.Contains(rec.Body.String(), rec.Header().Get("X-Request-Id")) {
		t.Error("HTML error page does not show the request id")
	}
}

func TestBodyRoundTrip(t *testing.T) {
	s := newServer(t, nil)
	rec := do(s, "POST", "/api/v1/test/echo", `{"name":"Zoë","count":3}`, nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"Zoë"`) {
		t.Fatalf("got %d %s", rec.Code, rec.Body.String())
	}
}

func TestSecurityHeaders(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := "http"
		if tls {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			s := newServer(t, nil)
			if tls {
				s = newTLSServer(t)
			}
			rec := do(s, "GET", "/healthz", "", nil)
			h := rec.Header()
			csp := h.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'self'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP = %q", csp)
			}
			want := map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
			for k, v := range want {
				if h.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, h.Get(k), v)
				}
			}
			if got := h.Get("Strict-Transport-Security") != ""; got != tls {
				t.Errorf("HSTS present = %v, want %v", got, tls)
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name    string
		trusted string
		remote  string
		xff     string
		want    string
	}{
		{name: "no proxies: header ignored", remote: "203.0.113.9:5000", xff: "198.51.100.1", want: "203.0.113.9"},
		{name: "untrusted peer: header ignored", trusted: "10.0.0.0/8", remote: "203.0.113.9:5000", xff: "198.51.100.1", want: "203.0.113.9"},
		{name: "trusted peer: client from header", trusted: "10.0.0.0/8", remote: "10.1.2.3:5000", xff: "198.51.100.1", want: "198.51.100.1"},
		{name: "spoofed left entry skipped", trusted: "10.0.0.0/8", remote: "10.1.2.3:5000", xff: "1.1.1.1, 198.51.100.1", want: "198.51.100.1"},
		{name: "chain of trusted proxies", trusted: "10.0.0.0/8,192.0.2.0/24", remote: "10.1.2.3:5000", xff: "198.51.100.1, 192.0.2.7", want: "198.51.100.1"},
		{name: "ipv6 proxy", trusted: "fd00::/8", remote: "[fd00::1]:5000", xff: "2001:db8::5", want: "2001:db8::5"},
		{name: "garbage header", trusted: "10.0.0.0/8", remote: "10.1.2.3:5000", xff: "not-an-ip", want: "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, map[string]string{"PARLEY_TRUSTED_PROXIES": tt.trusted})
			rec := do(s, "GET", "/api/v1/test/ip", "", map[string]string{"RemoteAddr": tt.remote, "X-Forwarded-For": tt.xff})
			if got := rec.Body.String(); got != tt.want {
				t.Errorf("client IP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRequestIDNotTakenFromUntrustedClient(t *testing.T) {
	s := newServer(t, map[string]string{"PARLEY_TRUSTED_PROXIES": "10.0.0.0/8"})
	rec := do(s, "GET", "/healthz", "", map[string]string{"X-Request-Id": "attacker-chosen-id", "RemoteAddr": "203.0.113.1:1"})
	if rec.Header().Get("X-Request-Id") == "attacker-chosen-id" {
		t.Error("request id taken from an untrusted client")
	}
	rec = do(s, "GET", "/healthz", "", map[string]string{"X-Request-Id": "proxy-chosen-id", "RemoteAddr": "10.0.0.1:1"})
	if got := rec.Header().Get("X-Request-Id"); got != "proxy-chosen-id" {
		t.Errorf("request id from trusted proxy = %q, want kept", got)
	}
}

type badModule struct{ r server.Route }

func (b badModule) Routes() []server.Route { return []server.Route{b.r} }

func TestRouteTableRefusesUndeclaredAccess(t *testing.T) {
	h := func(echo.Context) error { return nil }
	tests := []struct {
		name string
		r    server.Route
	}{
		{name: "no access", r: server.Route{Method: "GET", Path: "/x", Handler: h}},
		{name: "public with permission", r: server.Route{Method: "GET", Path: "/x", Access: server.Public, Permission: "user.manage", Scope: server.ScopeTenant, Handler: h}},
		{name: "permission without scope", r: server.Route{Method: "GET", Path: "/x", Access: server.Authenticated, Permission: "user.manage", Handler: h}},
		{name: "no handler", r: server.Route{Method: "GET", Path: "/x", Access: server.Public}},
		{name: "duplicate", r: server.Route{Method: "GET", Path: "/healthz", Access: server.Public, Handler: h}},
		{name: "negative body limit", r: server.Route{Method: "POST", Path: "/x", Access: server.Public, MaxBodyBytes: -1, Handler: h}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := server.New(server.Deps{Config: testConfig(t, nil), Log: slog.New(slog.DiscardHandler), Modules: []server.Module{badModule{tt.r}}})
			if err == nil {
				t.Fatal("server.New accepted a bad route")
			}
		})
	}
}
