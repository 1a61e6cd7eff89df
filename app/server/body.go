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
				size := max
				if req.ContentLength >= 0 {
					size = req.ContentLength
				}
				body = &patientBody{ReadCloser: body, rc: http.NewResponseController(c.Response()), clock: l.clock,
					idle: l.readTimeout, total: uploadTime(l.readTimeout, size), write: l.writeTimeout}
			}
			req.Body = body
		}
		return next(c)
	}
}

// uploadTime is how long a body of up to max bytes may take: the read timeout plus max at
// MinUploadRate.
func uploadTime(readTimeout time.Duration, max int64) time.Duration {
	return readTimeout + time.Duration(max/MinUploadRate)*time.Second
}

// patientBody gives a large body time to arrive, but only while it keeps arriving. It starts
// when the handler first reads the body (after the handler checked the caller and the site
// accepts files): from then the body may take up to total — PARLEY_READ_TIMEOUT plus its
// declared length (else the route's limit) at MinUploadRate — yet every read must bring data
// within idle (PARLEY_READ_TIMEOUT) of the previous one, so a client that stalls is cut off as
// on any other route. The write deadline follows so that the answer can still be written.
type patientBody struct {
	io.ReadCloser
	rc          *http.ResponseController
	clock       func() time.Time
	idle, total time.Duration
	write       time.Duration
	end         time.Time // zero until the first read
}

func (b *patientBody) Read(p []byte) (int, error) {
	now := b.clock()
	if b.end.IsZero() {
		b.end = now.Add(b.total)
	}
	b.arm(now)
	n, err := b.ReadCloser.Read(p)
	return n, err
}

// arm sets the read deadline to the next idle interval, never past the body's end. Errors only
// mean the writer cannot set deadlines (a test recorder): nothing to extend.
func (b *patientBody) arm(now time.Time) {
	if b.idle <= 0 {
		return
	}
	deadline := now.Add(b.idle)
	if deadline.After(b.end) {
		deadline = b.end
	}
	_ = b.rc.SetReadDeadline(deadline)
	if b.write > 0 {
		_ = b.rc.SetWriteDeadline(deadline.Add(b.write))
	}
}
