package hub

import "context"

// Relay is a Remote that runs: the PostgreSQL LISTEN/NOTIFY relay or the NATS relay. The
// application holds whichever the configuration chose.
type Relay interface {
	Remote
	// Run connects and relays until ctx ends, reconnecting with backoff.
	Run(ctx context.Context) error
	// Listening is closed once the relay receives the other nodes' signals for the first time.
	Listening() <-chan struct{}
	// Dropped returns how many signals were dropped (queue full, connection away).
	Dropped() uint64
}

var (
	_ Relay = (*Postgres)(nil)
	_ Relay = (*NATS)(nil)
)
