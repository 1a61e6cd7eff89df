package hub

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// NATSConfig says how to reach NATS. URL is nats://, tls:// or nats+tls:// (the latter two
// require TLS), optionally with user:password; Credentials is a NATS .creds file (JWT and
// NKey seed); CACert a PEM file of roots for TLS (system roots when empty); Prefix the subject
// prefix that keeps installations sharing one NATS apart (default "parley").
type NATSConfig struct {
	URL         string
	Credentials string
	CACert      string
	Prefix      string
	// Name is the connection's name as the NATS server shows it (the node id).
	Name string
}

// DefaultNATSPrefix is the subject prefix when none is configured.
const DefaultNATSPrefix = "parley"

// ErrNATSConfig reports an unusable NATS configuration.
var ErrNATSConfig = errors.New("hub: invalid NATS configuration")

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// ParseNATSURL checks a fan-out URL and returns it in the form the NATS client dials
// (nats+tls:// becomes tls://) and whether it requires TLS.
func ParseNATSURL(raw string) (dial string, secure bool, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", false, fmt.Errorf("%w: the URL does not parse", ErrNATSConfig)
	}
	switch u.Scheme {
	case "nats":
	case "tls", "nats+tls":
		secure = true
		u.Scheme = "tls"
	default:
		return "", false, fmt.Errorf("%w: scheme %q is not nats, tls or nats+tls", ErrNATSConfig, u.Scheme)
	}
	if u.Hostname() == "" {
		return "", false, fmt.Errorf("%w: the URL has no host", ErrNATSConfig)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false, fmt.Errorf("%w: the URL must be scheme://[user:password@]host[:port] only", ErrNATSConfig)
	}
	u.Path = ""
	return u.String(), secure, nil
}

// RedactNATSURL returns the URL without its user information, for logs and messages.
func RedactNATSURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	return u.String()
}

// ValidNATSPrefix reports whether p can prefix NATS subjects: dot-separated tokens of letters,
// digits, '_' and '-', at most 64 characters.
func ValidNATSPrefix(p string) bool { return len(p) <= 64 && prefixPattern.MatchString(p) }

// NATS relays signals between nodes through a NATS server (core NATS publish/subscribe, no
// JetStream: a signal is a hint, the database is the record). Payloads hold ids only, as with
// LISTEN/NOTIFY, in batches of up to natsBatch signals per NATS message on one subject,
// "<prefix>.chat.signals".
//
// The connection reconnects forever with capped exponential backoff. While it is down, signals
// are dropped (the client keeps no reconnect buffer) and, once it is back, every local
// subscriber resynchronises from the database: the same contract as the PostgreSQL relay.
type NATS struct {
	hub     *Hub
	cfg     NATSConfig
	dial    string
	secure  bool
	subject string
	log     *slog.Logger

	out       chan Signal
	dropped   atomic.Uint64
	sent      atomic.Uint64
	received  atomic.Uint64
	listening chan struct{}
	once      sync.Once
	conn      atomic.Pointer[nats.Conn]
}

// natsBatch is how many signals one NATS message carries; natsMaxPayload bounds its size
// (NATS' default max_payload is 1 MB).
const (
	natsBatch      = 128
	natsMaxPayload = 64 << 10
)

var _ Remote = (*NATS)(nil)

// NewNATS returns a NATS relay for h and attaches it; Run connects it.
func NewNATS(h *Hub, cfg NATSConfig, log *slog.Logger) (*NATS, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dial, secure, err := ParseNATSURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultNATSPrefix
	}
	if !ValidNATSPrefix(cfg.Prefix) {
		return nil, fmt.Errorf("%w: prefix %q", ErrNATSConfig, cfg.Prefix)
	}
	n := &NATS{hub: h, cfg: cfg, dial: dial, secure: secure, subject: cfg.Prefix + ".chat.signals", log: log,
		out: make(chan Signal, sendQueue), listening: make(chan struct{})}
	h.Attach(n)
	return n, nil
}

// Subject returns the subject signals travel on.
func (n *NATS) Subject() string { return n.subject }

// Listening is closed once the relay is subscribed for the first time.
func (n *NATS) Listening() <-chan struct{} { return n.listening }

// Notify queues s for the other nodes; when the queue is full the signal is dropped.
func (n *NATS) Notify(s Signal) {
	select {
	case n.out <- s:
	default:
		n.dropped.Add(1)
	}
}

// Dropped returns how many signals were dropped: the send queue was full or NATS was away.
func (n *NATS) Dropped() uint64 { return n.dropped.Load() }

// Queued returns how many signals wait to be sent (at most the queue's bound).
func (n *NATS) Queued() int { return len(n.out) }

// Sent returns how many signals were handed to NATS.
func (n *NATS) Sent() uint64 { return n.sent.Load() }

// Received returns how many signals from other nodes were delivered on this node.
func (n *NATS) Received() uint64 { return n.received.Load() }

// Connected reports whether the relay is connected to NATS now.
func (n *NATS) Connected() bool {
	c := n.conn.Load()
	return c != nil && c.IsConnected()
}

// natsBackoff is the delay before reconnect attempt n: 100 ms doubling to 10 s, ±20 % jitter.
func natsBackoff(attempt int) time.Duration {
	d := 100 * time.Millisecond
	for i := 1; i < attempt && d < 10*time.Second; i++ {
		d *= 2
	}
	d = min(d, 10*time.Second)
	// #nosec G404 -- jitter spreads reconnects; it protects nothing.
	return d - d/5 + time.Duration(rand.Int64N(int64(d/5)*2+1))
}

func (n *NATS) options() []nats.Option {
	opts := []nats.Option{
		nats.Name("parley " + n.cfg.Name),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.IgnoreAuthErrorAbort(),
		nats.CustomReconnectDelay(natsBackoff),
		// No reconnect buffer: a signal published while away is dropped and made good by the
		// resynchronisation after the reconnect, never replayed late.
		nats.ReconnectBufSize(-1),
		// The server does not echo this node's own signals back.
		nats.NoEcho(),
		nats.PingInterval(10 * time.Second),
		nats.MaxPingsOutstanding(2),
		nats.Timeout(5 * time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				n.log.Warn("chat fan-out lost its NATS connection; reconnecting", "server", RedactNATSURL(n.dial), "error", err.Error())
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			n.log.Info("chat fan-out reconnected to NATS", "server", RedactNATSURL(n.dial))
			// The subscription is in force on the server before subscribers re-read, so
			// nothing committed after their read can be missed.
			_ = c.Flush()
			n.up(true)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			n.log.Warn("chat fan-out NATS error", "error", err.Error())
		}),
	}
	if n.secure {
		opts = append(opts, nats.Secure(&tls.Config{MinVersion: tls.VersionTLS12}))
		if n.cfg.CACert != "" {
			opts = append(opts, nats.RootCAs(n.cfg.CACert))
		}
	}
	if n.cfg.Credentials != "" {
		opts = append(opts, nats.UserCredentials(n.cfg.Credentials))
	}
	return opts
}

// up runs once the subscription is in place on a connection: the first time it opens Listening;
// after a gap (resync) every local subscriber resynchronises.
func (n *NATS) up(resync bool) {
	n.once.Do(func() { close(n.listening) })
	if resync {
		n.hub.Resync()
	}
}

// Run connects, subscribes and sends until ctx ends. A connection the client gave up on is
// opened again with backoff.
func (n *NATS) Run(ctx context.Context) error {
	opts := n.options()
	go n.send(ctx)
	backoff := 100 * time.Millisecond
	for again := false; ctx.Err() == nil; again = true {
		closed := make(chan struct{})
		resync := again
		conn, err := nats.Connect(n.dial, append(opts,
			nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
			// A first connection made in the background (the server was unreachable at start):
			// the subscription goes out with it; Flush waits until the server has it.
			nats.ConnectHandler(func(c *nats.Conn) {
				if c.Flush() == nil {
					n.up(resync)
				}
			}))...)
		if err == nil {
			if _, err = conn.Subscribe(n.subject, n.receive); err == nil {
				n.conn.Store(conn)
				if conn.IsConnected() && conn.Flush() == nil {
					n.up(resync)
				}
				backoff = 100 * time.Millisecond
				select {
				case <-ctx.Done():
				case <-closed:
					err = errors.New("connection closed")
				}
				n.conn.Store(nil)
			}
			conn.Close()
		}
		if ctx.Err() != nil {
			break
		}
		n.log.Warn("chat fan-out cannot use NATS; retrying", "server", RedactNATSURL(n.dial), "error", err.Error(), "backoff", backoff.String())
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
	return nil
}

// send publishes queued signals, up to natsBatch per message, until ctx ends.
func (n *NATS) send(ctx context.Context) {
	batch := make([]Signal, 0, natsBatch)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case s := <-n.out:
			batch = append(batch, s)
		}
	fill:
		for len(batch) < natsBatch {
			select {
			case s := <-n.out:
				batch = append(batch, s)
			default:
				break fill
			}
		}
		n.publish(batch)
	}
}

func (n *NATS) publish(batch []Signal) {
	conn := n.conn.Load()
	if conn == nil || !conn.IsConnected() {
		n.dropped.Add(uint64(len(batch)))
		return
	}
	b, err := encodeBatch(batch)
	if err != nil {
		n.dropped.Add(uint64(len(batch)))
		return
	}
	if err := conn.Publish(n.subject, b); err != nil {
		n.dropped.Add(uint64(len(batch)))
		return
	}
	n.sent.Add(uint64(len(batch)))
}

// encodeBatch writes signals as a JSON array, leaving out any that would push the message past
// natsMaxPayload (a signal is a few dozen bytes; this only guards against a malformed one).
func encodeBatch(batch []Signal) ([]byte, error) {
	out := make([]byte, 0, 96*len(batch))
	out = append(out, '[')
	for _, s := range batch {
		s.Local = nil
		b, err := json.Marshal(s)
		if err != nil || len(b) > maxPayload || len(out)+len(b)+2 > natsMaxPayload {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	out = append(out, ']')
	if len(out) == 2 {
		return nil, errors.New("hub: empty batch")
	}
	return out, nil
}

// receive delivers the signals of one message from another node.
func (n *NATS) receive(m *nats.Msg) {
	sigs, ok := decodeBatch(m.Data)
	if !ok {
		return
	}
	for _, s := range sigs {
		if s.Topic == "" || s.Node == n.hub.node {
			continue
		}
		s.Local = nil
		n.received.Add(1)
		n.hub.PublishLocal(s)
	}
}

// decodeBatch parses a message of signals; anything else on the subject is ignored.
func decodeBatch(b []byte) ([]Signal, bool) {
	if len(b) == 0 || len(b) > natsMaxPayload {
		return nil, false
	}
	var sigs []Signal
	if err := json.Unmarshal(b, &sigs); err != nil || len(sigs) > natsBatch {
		return nil, false
	}
	return sigs, true
}
