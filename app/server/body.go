package server

import (
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
)

// MinUploadRate is the slowest client a route with a larger body limit than the server-wide one
// is given time for, in bytes per second (1 Mbit/s): such a route may read its body for
// PARLEY_READ_TIMEOUT plus its limit at this rate (25 MiB: 30 s + 200 s).
const MinUploadRate = 128 << 10

// bodyLimits caps every request body: a route's declared MaxBodyBytes, else the server-wide
// limit. A body that says (Content-Length) it is larger is refused before anything is read; a
// body that turns out larger stops being read one byte past the limit and the request fails
// with 413, so a client cannot make the server hold more than the limit in memory.
type bodyLimits struct {
	global int64
	// routes maps a route's Key to its declared limit (routes without one are absent).
	routes       map[string]int64
	readTimeout  time.Duration
	writeTimeout time.Duration
	// clock gives the connection deadlines: the real time (the network's deadlines are not the
	// application's injected clock); tests replace it.
	clock func() time.Time
}

// limit returns the body limit of the route c matched.
func (l *bodyLimits) limit(c echo.Context) int64 {
	if n, ok := l.routes[c.Request().Method+" "+c.Path()]; ok {
		return n
	}
	return l.global
}

func (l *bodyLimits) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		max := l.limit(c)
		if req.ContentLength > max {
			return api.ErrBodyTooLarge
		}
		if req.Body != nil && req.Body != http.NoBody {
			body := http.MaxBytesReader(c.Response(), req.Body, max)
			if max > l.global {
				body = &patientBody{ReadCloser: body, extend: func() { l.extend(c.Response(), max) }}
			}
			req.Body = body
		}
		return next(c)
	}
}

// extend gives the connection time to read a body of up to max bytes at MinUploadRate and then
// to write the answer. It is called when the handler starts reading the body, that is after the
// handler has authenticated the caller: an anonymous client cannot hold a connection longer.
func (l *bodyLimits) extend(w http.ResponseWriter, max int64) {
	rc := http.NewResponseController(w)
	now := l.clock()
	read := uploadTime(l.readTimeout, max)
	// Errors only mean the writer cannot set deadlines (a test recorder): nothing to extend.
	if l.readTimeout > 0 {
		_ = rc.SetReadDeadline(now.Add(read))
	}
	if l.writeTimeout > 0 {
		_ = rc.SetWriteDeadline(now.Add(read + l.writeTimeout))
	}
}

// uploadTime is how long a body of up to max bytes may take: the read timeout plus max at
// MinUploadRate.
func uploadTime(readTimeout time.Duration, max int64) time.Duration {
	return readTimeout + time.Duration(max/MinUploadRate)*time.Second
}

// patientBody extends the connection's deadlines on its first read.
type patientBody struct {
	io.ReadCloser
	extend   func()
	extended bool
}

func (b *patientBody) Read(p []byte) (int, error) {
	if !b.extended {
		b.extended = true
		b.extend()
	}
	return b.ReadCloser.Read(p)
}
