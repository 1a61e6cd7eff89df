package config

import (
	"strconv"
	"strings"
)

// ChatLimits are the installation's throttles of visitor messages: every site may tighten them
// in its settings, none may loosen them. The defaults suit a person typing; an installation
// whose visitors are integrations (or a load test) raises them.
type ChatLimits struct {
	// VisitorMessagesPerMinute and VisitorMessageBurst throttle each visitor: a burst at once,
	// then so many per minute.
	VisitorMessagesPerMinute int
	VisitorMessageBurst      int
	// AddressMessagesPerMinute throttles all the visitors behind one client address together
	// (after a burst of 200).
	AddressMessagesPerMinute int
}

// The defaults of ChatLimits.
const (
	DefaultVisitorMessagesPerMinute = 60
	DefaultVisitorMessageBurst      = 10
	DefaultAddressMessagesPerMinute = 600
)

// chatLimits validates the chat throttles, reporting each problem through bad.
func (r *rawValues) chatLimits(bad func(env, format string, a ...any)) ChatLimits {
	num := func(env, s string, hi int) int {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > hi {
			bad(env, "%q must be a whole number from 1 to %d", s, hi)
			return 0
		}
		return n
	}
	return ChatLimits{
		VisitorMessagesPerMinute: num("PARLEY_VISITOR_MESSAGES_PER_MINUTE", r.visitorPerMinute, 60000),
		VisitorMessageBurst:      num("PARLEY_VISITOR_MESSAGE_BURST", r.visitorBurst, 1000),
		AddressMessagesPerMinute: num("PARLEY_ADDRESS_MESSAGES_PER_MINUTE", r.addressPerMinute, 600000),
	}
}
