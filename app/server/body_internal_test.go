package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// deadlineRecorder records the connection deadlines a handler sets through
// http.ResponseController.
type deadlineRecorder struct {
	*httptest.ResponseRecorder
	read, write []time.Time
}

func (d *deadlineRecorder) SetReadDeadline(t time.Time) error {
	d.read = append(d.read, t)
	return nil
}

func (d *deadlineRecorder) SetWriteDeadline(t time.Time) error {
	d.write = append(d.write, t)
	return nil
}

func TestUploadTime(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		max     int64
		want    time.Duration
	}{
		{name: "25 MiB", timeout: 30 * time.Second, max: 25 << 20, want: 230 * time.Second},
		{name: "1 MiB", timeout: 30 * time.Second, max: 1 << 20, want: 38 * time.Second},
		{name: "no read timeout", timeout: 0, max: 25 << 20, want: 200 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := uploadTime(tt.timeout, tt.max); got != tt.want {
				t.Errorf("uploadTime(%v, %d) = %v, want %v", tt.timeout, tt.max, got, tt.want)
			}
		})
	}
}

// TestLargeBodyDeadlines: a route with a larger limit than the server-wide one gets the time to
// read it, once its handler starts reading (after it has authenticated the caller); a handler
// that refuses without reading, and a route with the server-wide limit, leave the deadlines.
func TestLargeBodyDeadlines(t *testing.T) {
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		path      string
		read      bool
		wantRead  []time.Time
		wantWrite []time.Time
	}{
		{name: "upload read", path: "/upload", read: true,
			wantRead: []time.Time{at.Add(30*time.Second + 8*time.Second)}, wantWrite: []time.Time{at.Add(38*time.Second + 20*time.Second)}},
		{name: "upload refused before reading", path: "/upload"},
		{name: "ordinary route read", path: "/plain", read: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &bodyLimits{global: 2048, routes: map[string]int64{"POST /upload": 1 << 20},
				readTimeout: 30 * time.Second, writeTimeout: 20 * time.Second, clock: func() time.Time { return at }}
			e := echo.New()
			e.Use(l.middleware)
			h := func(c echo.Context) error {
				if tt.read {
					if _, err := io.Copy(io.Discard, c.Request().Body); err != nil {
						return err
					}
				}
				return c.NoContent(http.StatusNoContent)
			}
			e.POST("/upload", h)
			e.POST("/plain", h)
			rec := &deadlineRecorder{ResponseRecorder: httptest.NewRecorder()}
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader("body")))
			if rec.Code != http.StatusNoContent {
				t.Fatalf("status = %d", rec.Code)
			}
			if !equalTimes(rec.read, tt.wantRead) || !equalTimes(rec.write, tt.wantWrite) {
				t.Errorf("deadlines read %v write %v, want read %v write %v", rec.read, rec.write, tt.wantRead, tt.wantWrite)
			}
		})
	}
}

func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}
