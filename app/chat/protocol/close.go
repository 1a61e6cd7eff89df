package protocol

import "errors"

// Close codes Parley uses besides the standard ones (docs/chat-protocol.md §4.4). The private
// range mirrors HTTP statuses: 4400 is a bad request, 4429 too many requests. They are untyped
// numbers, so the wire format needs no WebSocket library: the transport passes them as its
// library's status code.
const (
	CloseBadFrame        = 4400
	CloseUnauthenticated = 4401
	CloseUnavailable     = 4403
	CloseNotFound        = 4404
	CloseHelloTimeout    = 4408
	CloseHelloRequired   = 4409
	CloseRateLimited     = 4429
)

// Close reasons. A reason is at most 123 bytes of ASCII and never holds message content.
const (
	ReasonBye             = "bye"
	ReasonShutdown        = "server_shutdown"
	ReasonBinary          = "binary_frame"
	ReasonTooLarge        = "frame_too_large"
	ReasonInternal        = "internal_error"
	ReasonUnauthenticated = "unauthenticated"
	ReasonUnavailable     = "chat_unavailable"
	ReasonNotFound        = "not_found"
	ReasonHelloTimeout    = "hello_timeout"
	ReasonHelloRequired   = "hello_required"
	ReasonRateLimited     = "rate_limited"
)

// CloseReason returns the close reason for a decoding error: "bad_frame: " and the error's
// reason, cut to the 123 bytes a close frame allows.
func CloseReason(err error) string {
	reason := "bad_frame"
	var fe *FrameError
	if errors.As(err, &fe) {
		reason += ": " + fe.Reason
	}
	if len(reason) > 123 {
		reason = reason[:123]
	}
	return reason
}
