package chathttp

import "time"

// strikes counts a socket's throttled frames as a leaky bucket: each rate_limited answer adds a
// strike and one strike leaks away per decay of the engine's clock. A client that waits
// retry_after_ms before re-sending is seldom throttled again, so its strikes leak away and it is
// not closed however long the socket lives; a client that keeps sending while it is told to wait
// piles them up faster than they leak and is closed once it holds more than max.
type strikes struct {
	n, max int
	decay  time.Duration
	// since is when the count last leaked (or was empty): the next strike leaks at since+decay.
	since time.Time
}

// strike records a throttled frame at now and reports whether the socket is over its limit.
func (s *strikes) strike(now time.Time) bool {
	if leaked := now.Sub(s.since) / s.decay; leaked >= time.Duration(s.n) {
		s.n, s.since = 0, now
	} else if leaked > 0 {
		s.n -= int(leaked)
		s.since = s.since.Add(leaked * s.decay)
	}
	s.n++
	return s.n > s.max
}
