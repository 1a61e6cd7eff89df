// Package apptest builds a whole Parley application for handler tests through app.New, the same
// constructor `parley serve` uses, over a migrated database from migratetest, with an injectable
// clock. Requests go through the real Echo router with httptest, and every answer to an operation
// of docs/openapi.yaml is checked against the document (CheckOpenAPI).
package apptest

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/config"
	"github.com/parleyhq/parley/migrations"
)

// Clock is a settable clock for tests.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Config returns a valid test configuration; env overrides settings by environment variable name.
func Config(t testing.TB, env map[string]string) *config.Config {
	t.Helper()
	base := map[string]string{"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_ADDR": "127.0.0.1:0", "PARLEY_PUBLIC_URL": "http://parley.test"}
	for k, v := range env {
		base[k] = v
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg, err := config.Load(fs, nil, func(k string) string { return base[k] })
	if err != nil {
		t.Fatalf("test config: %v", err)
	}
	return cfg
}

// App is an application under test.
type App struct {
	*app.App
	Clock *Clock
	t     testing.TB
}

// New assembles the application over db with a test clock starting at 2026-01-05 09:00 UTC.
func New(t testing.TB, db *migrations.DB, env map[string]string) *App {
	t.Helper()
	clock := NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	a, err := app.New(context.Background(), Config(t, env), db, app.Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	CheckOpenAPI(t, a.Server.Echo)
	return &App{App: a, Clock: clock, t: t}
}

// Request is an HTTP request to send through the router.
type Request struct {
	Method, Path string
	Body         string
	ContentType  string
	Header       http.Header
	RemoteAddr   string
}

// Do sends r through the real router and returns the recorded response.
func (a *App) Do(r Request) *httptest.ResponseRecorder {
	a.t.Helper()
	return Serve(a.Server.Echo, r)
}

// Serve sends r through h (the application's router) and returns the recorded response: a JSON
// body gets its content type unless r names one, and RemoteAddr stands in for the client's peer.
func Serve(h http.Handler, r Request) *httptest.ResponseRecorder {
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req := httptest.NewRequest(r.Method, r.Path, body)
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	} else if r.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.RemoteAddr != "" {
		req.RemoteAddr = r.RemoteAddr
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
