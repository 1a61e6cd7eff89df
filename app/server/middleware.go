package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/parleyhq/parley/app/api"
)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestID gives every request an id: a well-formed X-Request-ID from a trusted proxy is kept,
// anything else is replaced by 128 random bits, so a client cannot inject text into logs.
func requestID(trustIncoming func(c echo.Context) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := c.Request().Header.Get(echo.HeaderXRequestID)
			if id == "" || !validRequestID.MatchString(id) || !trustIncoming(c) {
				var b [16]byte
				_, _ = rand.Read(b[:])
				id = hex.EncodeToString(b[:])
			}
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			return next(c)
		}
	}
}

// securityHeaders sets the headers every response carries. Routes that are framed by customer
// sites (the widget) replace frame-ancestors themselves.
func securityHeaders(tls bool) echo.MiddlewareFunc {
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " +
		"frame-ancestors 'self'"
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "SAMEORIGIN")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Cross-Origin-Resource-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
			if tls {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			return next(c)
		}
	}
}

// recoverPanics turns a panic into internal_error. The stack goes to the log (through the masking
// handler), never to the client.
func recoverPanics(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					buf := make([]byte, 8<<10)
					buf = buf[:runtime.Stack(buf, false)]
					log.ErrorContext(c.Request().Context(), "panic in handler",
						"request_id", api.RequestID(c), "path", c.Request().URL.Path,
						"panic", fmt.Sprint(r), "stack", string(buf))
					err = api.ErrInternal
				}
			}()
			return next(c)
		}
	}
}

// accessLog writes one line per request: no query string, no body, no cookies.
// Each request is also handed to obs, for the metrics.
func accessLog(log *slog.Logger, now func() time.Time, obs *observer) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			req := c.Request()
			status := c.Response().Status
			took := now().Sub(start)
			obs.observe(c, status, took)
			lvl := slog.LevelInfo
			if req.URL.Path == "/healthz" || req.URL.Path == "/readyz" || strings.HasPrefix(req.URL.Path, "/static/") {
				lvl = slog.LevelDebug
			}
			log.Log(req.Context(), lvl, "http request",
				"request_id", api.RequestID(c), "method", req.Method, "path", req.URL.Path,
				"status", status, "bytes", c.Response().Size, "duration_ms", took.Milliseconds(),
				"client_ip", c.RealIP())
			return nil
		}
	}
}

// sameOrigin refuses state-changing requests a browser marks as cross-site, and those whose Origin
// header names another origin: a first line of CSRF defence under the console's token check.
func sameOrigin(publicOrigin string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			switch req.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
				return next(c)
			}
			if req.Header.Get("Sec-Fetch-Site") == "cross-site" {
				return api.ErrCSRF
			}
			if o := req.Header.Get(echo.HeaderOrigin); o != "" && o != "null" && !strings.EqualFold(o, publicOrigin) &&
				!strings.EqualFold(o, requestOrigin(c)) {
				return api.ErrCSRF
			}
			return next(c)
		}
	}
}

func requestOrigin(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host
}

// noStore keeps every private answer out of caches: it sets Cache-Control: no-store on every
// response under /api/, to an API or Authenticated route of the table, to a request carrying the
// session cookie, or to a request a principal was set on — whatever the status, errors included.
// The header is set as the response is written, so a handler cannot loosen it (a signed-in
// browser's static assets are not cached either).
type noStore struct {
	// routes holds every API or Authenticated route by method and path.
	routes map[[2]string]bool
	// cookies are the names of the session cookie.
	cookies []string
}

// add records r when its answers are private.
func (n *noStore) add(r Route) {
	if r.API || r.Access == Authenticated {
		n.routes[[2]string{r.Method, r.Path}] = true
	}
}

// private reports whether c's answer must not be stored, from what is known before the handler.
func (n *noStore) private(c echo.Context) bool {
	req := c.Request()
	if strings.HasPrefix(req.URL.Path, "/api/") || n.routes[[2]string{req.Method, c.Path()}] {
		return true
	}
	for _, name := range n.cookies {
		if _, err := req.Cookie(name); err == nil {
			return true
		}
	}
	return false
}

func (n *noStore) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		private := n.private(c)
		res := c.Response()
		res.Before(func() {
			if private || api.PrincipalOf(c) != nil {
				res.Header().Set("Cache-Control", "no-store")
			}
		})
		return next(c)
	}
}
