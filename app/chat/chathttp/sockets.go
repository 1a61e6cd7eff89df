package chathttp

import (
	"context"
	"sync/atomic"
)

// Socket kinds, as GET /metrics counts them.
const (
	SocketVisitor = "visitor"
	SocketAgent   = "agent"
)

// SocketKinds lists the kinds of socket the module serves.
var SocketKinds = []string{SocketVisitor, SocketAgent}

// openSockets counts the open sockets of each kind.
type openSockets struct {
	visitor, agent atomic.Int64
}

func (o *openSockets) of(kind string) *atomic.Int64 {
	if kind == SocketAgent {
		return &o.agent
	}
	return &o.visitor
}

// counted wraps a socket's run so the socket counts as open of kind while it runs.
func (m *Module) counted(kind string, run func(context.Context, *ender) error) func(context.Context, *ender) error {
	return func(ctx context.Context, en *ender) error {
		n := m.open.of(kind)
		n.Add(1)
		defer n.Add(-1)
		return run(ctx, en)
	}
}

// OpenSockets is how many sockets of kind (SocketVisitor, SocketAgent) are open on this node.
func (m *Module) OpenSockets(kind string) int64 { return m.open.of(kind).Load() }
