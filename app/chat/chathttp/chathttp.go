// Package chathttp serves the chat engine (package chat) over HTTP: the widget's public API and
// its long-polling fallback, the visitor and agent WebSockets, the console's chat API (files,
// bans, settings, offline messages), the console's chat pages (the agent workspace, the live
// chats, the ban list) and the widget's static files. It reads requests and frames, calls the
// engine and writes its answers; every engine error is answered from one table (errors.go), as an
// HTTP error or as an error frame. The wire format is docs/chat-protocol.md.
//
// A message's ack goes out before its delivery: the socket's writer writes the ack frame (the
// long poll its answer) and only then calls the engine's PostResult.Deliver, which fans the
// event out and amends a split card number.
package chathttp

import (
	"context"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/web"
)

// Config is what a Module is built from.
type Config struct {
	// Service is the chat engine the module serves.
	Service *chat.Service
	// Assets holds the widget's files once the front end provides them: widget.js (the loader),
	// frame.html (the chat iframe page) and the files frame.html loads. Nil serves 404.
	Assets fs.FS
	// Log receives the errors the module handles itself (a socket that failed, a frame that
	// could not be answered); nil discards them.
	Log *slog.Logger
	// Pages renders the console's chat pages (the agent workspace, the live chats, the ban
	// list); Tenants names sites and departments on them, People the agents and who banned.
	Pages   *web.Pages
	Tenants *tenant.Store
	// People names console users; nil shows their ids only.
	People People
	// CSRF returns the request's CSRF token for the pages' forms.
	CSRF func(c echo.Context) string
	// Agents lists the tenant's users who take chats, for the Routing page; nil lists none.
	Agents Agents
	// Now is the clock of the pages' waiting times; nil is time.Now.
	Now func() time.Time
}

// Module serves the chat: the widget's public API and sockets, the agent socket and the console's
// chat API, and the widget's static files.
type Module struct {
	chat    *chat.Service
	assets  fs.FS
	log     *slog.Logger
	pages   *web.Pages
	tenants *tenant.Store
	people  People
	agents  Agents
	now     func() time.Time
	// csrfToken returns the request's CSRF token for the ban list's forms.
	csrfToken func(c echo.Context) string
	// base ends when the node shuts down; every socket closes with 1001 then.
	base context.Context
	stop context.CancelFunc
	// sockets counts the open sockets so Shutdown can wait for them; open counts them by kind
	// for GET /metrics.
	sockets sync.WaitGroup
	open    openSockets
}

var _ server.Module = (*Module)(nil)

// New returns the module serving cfg.Service.
func New(cfg Config) *Module {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Module{chat: cfg.Service, assets: cfg.Assets, log: cfg.Log, pages: cfg.Pages, tenants: cfg.Tenants, people: cfg.People,
		agents: cfg.Agents, now: cfg.Now, csrfToken: cfg.CSRF}
	m.base, m.stop = context.WithCancel(context.Background())
	return m
}

// Shutdown closes every socket of this node with 1001 (going away) so clients reconnect to
// another node, and waits until they are gone or ctx ends. Call it before the HTTP server's
// graceful shutdown, which does not track hijacked WebSocket connections, and before the
// engine's Shutdown, which waits for the deliveries the last acks handed over.
func (m *Module) Shutdown(ctx context.Context) error {
	m.stop()
	done := make(chan struct{})
	go func() { m.sockets.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
