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

// TestLargeBodyDeadlines: a route with a larger limit than the server-wide one gets time to read
// its body once its handler starts reading (after it checked the caller), but only while data
// keeps coming: each read must arrive within the read timeout of the previous one, and the whole
// body within the read timeout plus its declared length at MinUploadRate. A handler that refuses
// without reading, and a route with the server-wide limit, leave the deadlines alone.
func TestLargeBodyDeadlines(t *testing.T) {
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	sec := func(n int) time.Time { return at.Add(time.Duration(n) * time.Second) }
	mib := strings.Repeat("x", 1<<20)
	tests := []struct {
		name      string
		path      string
		body      string
		read      bool
		wantRead  []time.Time
		wantWrite []time.Time
	}{
		// 1 MiB declared: 30 s + 8 s in all; reads at 0, 10 and 20 s (the clock moves 10 s a read).
		{name: "upload read", path: "/upload", body: mib, read: true,
			wantRead: []time.Time{sec(30), sec(38), sec(38)}, wantWrite: []time.Time{sec(50), sec(58), sec(58)}},
		// 4 bytes declared: 30 s in all, whatever the route's limit.
		{name: "small upload", path: "/upload", body: "body", read: true,
			wantRead: []time.Time{sec(30), sec(30)}, wantWrite: []time.Time{sec(50), sec(50)}},
		{name: "upload refused before reading", path: "/upload", body: mib},
		{name: "ordinary route read", path: "/plain", body: "body", read: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := at
			l := &bodyLimits{global: 2048, routes: map[string]int64{"POST /upload": 1 << 20},
				readTimeout: 30 * time.Second, writeTimeout: 20 * time.Second,
				clock: func() time.Time { t := now; now = now.Add(10 * time.Second); return t }}
			e := echo.New()
			e.Use(l.middleware)
			h := func(c echo.Context) error {
				if tt.read {
					buf := make([]byte, 512<<10)
					for {
						_, err := c.Request().Body.Read(buf)
						if err == io.EOF {
							break
						}
						if err != nil {
							return err
						}
					}
				}
				return c.NoContent(http.StatusNoContent)
			}
			e.POST("/upload", h)
			e.POST("/plain", h)
			rec := &deadlineRecorder{ResponseRecorder: httptest.NewRecorder()}
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body)))
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
