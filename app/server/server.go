// Package server builds Parley's HTTP surface on Echo: hardened middleware, the one error
// renderer, the route table every module contributes to, health and readiness, TLS with
// certificate reload, and graceful shutdown. Tests build the server through New, exactly as
// `parley serve` does.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/config"
)

// Deps is everything the server is built from.
type Deps struct {
	Config *config.Config
	Log    *slog.Logger
	Now    func() time.Time
	// Checks are the readiness probes.
	Checks []Check
	// ReadyDetails reports whether a request may see each readiness check's result and detail in
	// the /readyz body; nil shows them to nobody (everyone gets ready or unavailable only).
	ReadyDetails func(*http.Request) bool
	// Modules contribute routes.
	Modules []Module
	// ErrorPage renders HTML error pages; nil uses a minimal built-in page.
	ErrorPage *template.Template
	// Guard runs before every Authenticated route's handler: it authenticates the caller and
	// enforces the route's permission. Without a Guard, Authenticated routes are refused
	// (deny by default).
	Guard func(Route) echo.MiddlewareFunc
	// CardRefused is told of every card_number_not_allowed answer, to audit it (api.Renderer).
	CardRefused func(c echo.Context, e *api.Error)
	// SessionCookies names the console's session cookie: every answer to a request carrying it
	// is marked Cache-Control: no-store.
	SessionCookies []string
	// Requests is told of every answered request (GET /metrics); nil tells nobody.
	Requests RequestObserver
}

// Server is a configured Parley HTTP server.
type Server struct {
	Echo   *echo.Echo
	Routes []Route
	cfg    *config.Config
	log    *slog.Logger
	health *health
	now    func() time.Time
}

// New builds the Echo instance with Parley's middleware and every module's routes.
func New(d Deps) (*Server, error) {
	if d.Config == nil || d.Log == nil {
		return nil, errors.New("server: config and log are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	e := echo.New()
	e.Debug = false
	e.HideBanner = true
	e.HidePort = true
	e.Logger.SetOutput(discard{})
	e.IPExtractor = IPExtractor(d.Config.TrustedProxies)
	renderer := &api.Renderer{Log: d.Log, Page: d.ErrorPage, CardRefused: d.CardRefused}
	e.HTTPErrorHandler = renderer.Handle

	trustedPeer := func(c echo.Context) bool { return peerTrusted(c.Request().RemoteAddr, d.Config.TrustedProxies) }
	e.Use(requestID(trustedPeer))
	obs := newObserver(d.Requests)
	e.Use(accessLog(d.Log, d.Now, obs))
	e.Use(recoverPanics(d.Log))
	e.Use(securityHeaders(d.Config.TLS()))
	private := &noStore{routes: map[[2]string]bool{}, cookies: d.SessionCookies}
	e.Use(private.middleware)
	limits := &bodyLimits{global: d.Config.MaxBodyBytes, readTimeout: d.Config.ReadTimeout,
		writeTimeout: d.Config.WriteTimeout, clock: time.Now, routes: map[string]int64{}}
	e.Use(limits.middleware)
	e.Use(sameOrigin(d.Config.PublicURL))

	h := &health{checks: d.Checks, log: d.Log, timeout: 3 * time.Second, details: d.ReadyDetails}
	s := &Server{Echo: e, cfg: d.Config, log: d.Log, health: h, now: d.Now}
	routes := h.routes()
	for _, m := range d.Modules {
		routes = append(routes, m.Routes()...)
	}
	if err := validateRoutes(routes); err != nil {
		return nil, err
	}
	for _, r := range routes {
		if r.MaxBodyBytes > 0 {
			limits.routes[r.Key()] = r.MaxBodyBytes
		}
		private.add(r)
		obs.add(r)
	}
	for _, r := range routes {
		mw := append([]echo.MiddlewareFunc{}, r.Middleware...)
		if r.Access == Authenticated {
			if d.Guard == nil {
				mw = append([]echo.MiddlewareFunc{denyAll}, mw...)
			} else {
				mw = append([]echo.MiddlewareFunc{d.Guard(r)}, mw...)
			}
		}
		e.Add(r.Method, r.Path, r.Handler, mw...)
	}
	s.Routes = routes
	return s, nil
}

func denyAll(echo.HandlerFunc) echo.HandlerFunc {
	return func(echo.Context) error { return api.ErrUnauthenticated }
}

// Ready runs the readiness checks (the /readyz body).
func (s *Server) Ready(ctx context.Context) Readiness { return s.health.Ready(ctx) }

// HTTPServer returns the net/http server with Parley's timeouts.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Addr:              s.cfg.Addr,
		Handler:           s.Echo,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// Serve listens on ln until ctx is cancelled, then shuts down gracefully within the configured
// timeout. With TLS configured the listener speaks HTTPS with certificate reload.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := s.HTTPServer()
	if s.cfg.TLS() {
		rel, err := config.NewCertReloader(s.cfg.TLSCert, s.cfg.TLSKey, s.log)
		if err != nil {
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		hs.TLSConfig = rel.TLSConfig()
		if _, err := NewTicketKeys(hs.TLSConfig, TicketKeyPeriod, s.now, rand.Reader); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	go func() {
		var err error
		if hs.TLSConfig != nil {
			// Not ServeTLS: it serves with a clone of TLSConfig, on which the rotating session
			// ticket keys (set on this config) would never take effect. NextProtos lists h2, so
			// Serve still speaks HTTP/2 over these connections.
			err = hs.Serve(tls.NewListener(ln, hs.TLSConfig))
		} else {
			err = hs.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return <-errc
}

// IPExtractor returns how the client address is found: X-Forwarded-For is believed only when the
// direct peer is one of the trusted proxies, and then only up to the first untrusted hop.
func IPExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		_, n, err := net.ParseCIDR(p.String())
		if err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func peerTrusted(remoteAddr string, trusted []netip.Prefix) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
