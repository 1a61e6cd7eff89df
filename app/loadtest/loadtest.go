// Package loadtest drives Parley — or the bare WebSocket fan-out baseline beside it (baseline.go)
// — with visitors and agents over real WebSockets and checks the delivery contract while it
// measures: every acked message reaches the conversation's agent exactly once, in seq order, and
// a card number a visitor sends reaches the agent masked.
//
// A run has two phases. Setup: the agents sign in as the console does (POST /api/v1/auth/login,
// the session cookie, the agent socket), each visitor reports a page view, starts a chat, opens
// its socket, and one agent accepts the chat. Messages: every visitor sends its messages at the
// set rate with at most InFlight unacked, re-sending a refused one after retry_after_ms with the
// same key; the agents read. Only the second phase is timed. Each client has its own address,
// sent as X-Forwarded-For, so the server must trust the sender (PARLEY_TRUSTED_PROXIES).
//
// The core (Run) is a library: cmd/parley-load is its command line, and the fault scenarios and
// tests drive it with their own servers.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Card is the test card number the load sends in some messages; the agent must see it masked.
const Card = "4111 1111 1111 1111"

// Account is a console user who takes chats.
type Account struct {
	Tenant   string `json:"tenant"`
	Email    string `json:"email"`
	Password string `json:"-"`
}

// Config is one run.
type Config struct {
	// BaseURL is the server's base URL (http://127.0.0.1:8080), or the load balancer's.
	BaseURL string
	// Baseline drives the bare fan-out server (baseline.go) instead of Parley: no site, no
	// masking, the accounts only counted (one agent socket each); the same frames and load shape.
	Baseline bool
	// Agents sign in and accept the chats, round-robin; at least one.
	Agents []Account
	// SiteKey is the public key of the site the visitors chat on, SiteOrigin one of its origins.
	SiteKey, SiteOrigin string
	// Visitors is how many visitors chat at once, each in a conversation of their own.
	Visitors int
	// Messages is how many messages each visitor sends; Size their length in bytes (at least
	// 64); Rate each visitor's messages per second (0: as fast as InFlight allows); InFlight how
	// many of a visitor's messages may wait for their ack.
	Messages int
	Size     int
	Rate     float64
	InFlight int
	// CardEvery makes every CardEvery-th message of a visitor carry Card (0: none).
	CardEvery int
	// SignIns is how many sign-ins (and sign-outs) run while the messages flow (a sign-in
	// storm), with SignInConcurrency at once, by StormAccounts (default: the agents), each
	// worker with an account of its own: give at least SignInConcurrency accounts, for Parley
	// refuses a second sign-in attempt of one account while one runs.
	SignIns, SignInConcurrency int
	StormAccounts              []Account
	// Hold keeps the sockets open and idle this long after setup, before the messages (the
	// idle density scenario samples the server then).
	Hold time.Duration
	// SetupConcurrency bounds the visitors setting up at once.
	SetupConcurrency int
	// DrainTimeout is how long the run waits, after the last ack, for every acked message to
	// reach its agent; those that have not are lost.
	DrainTimeout time.Duration
	// Server, when set, samples the server's memory and CPU (Process or Scrape).
	Server Sampler
	// MetricsToken, when set, is sent to GET /metrics after the run to read the server's own
	// counters (Result.ServerMetrics).
	MetricsToken string
	// Progress receives a progress line now and then (a bar when TTY is set); nil: silent.
	Progress io.Writer
	TTY      bool
	// AddressPrefix is the first two octets of the clients' addresses (default 10.77): client i
	// is AddressPrefix.(i/250).(i%250+1).
	AddressPrefix string
	// Client is the HTTP client; nil is a fresh one.
	Client *http.Client
}

func (c *Config) defaults() error {
	if c.BaseURL == "" {
		return errors.New("loadtest: BaseURL is required")
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if !c.Baseline && (len(c.Agents) == 0 || c.SiteKey == "" || c.SiteOrigin == "") {
		return errors.New("loadtest: agents, a site key and its origin are required")
	}
	if c.Visitors <= 0 {
		return errors.New("loadtest: at least one visitor")
	}
	if c.Size < 64 {
		c.Size = 64
	}
	if c.Size > 4000 {
		return errors.New("loadtest: messages are at most 4000 bytes")
	}
	if c.InFlight <= 0 {
		c.InFlight = 1
	}
	if c.SetupConcurrency <= 0 {
		c.SetupConcurrency = 16
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 30 * time.Second
	}
	if c.SignInConcurrency <= 0 {
		c.SignInConcurrency = 4
	}
	if c.AddressPrefix == "" {
		c.AddressPrefix = "10.77"
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	}
	if c.Baseline && len(c.Agents) == 0 {
		c.Agents = []Account{{Tenant: "baseline", Email: "agent@baseline"}}
	}
	return nil
}

// address is client i's address.
func (c *Config) address(i int) string {
	return fmt.Sprintf("%s.%d.%d", c.AddressPrefix, (i/250)%250, i%250+1)
}

// Result is what a run measured and found.
type Result struct {
	Target   string  `json:"target"`
	Visitors int     `json:"visitors"`
	Agents   int     `json:"agents"`
	Messages int     `json:"messages_per_visitor"`
	Size     int     `json:"size_bytes"`
	InFlight int     `json:"in_flight"`
	Rate     float64 `json:"rate_per_visitor"`

	SetupSeconds float64 `json:"setup_s"`
	// ElapsedSeconds is the message phase, from the first send to the last ack.
	ElapsedSeconds float64 `json:"elapsed_s"`
	// Throughput is acked messages per second over the message phase.
	Throughput float64 `json:"throughput_per_s"`

	Sent       int64 `json:"sent"`
	Acked      int64 `json:"acked"`
	Duplicates int64 `json:"acked_as_duplicate"`
	Delivered  int64 `json:"delivered"`
	Failed     int64 `json:"failed"`

	Ack      Percentiles `json:"ack"`
	Delivery Percentiles `json:"delivery"`
	SignIn   Percentiles `json:"sign_in"`

	// Errors counts the error codes the server answered (error frames, HTTP errors), and the
	// client's own failures by kind.
	Errors map[string]int `json:"errors"`

	// The delivery contract.
	Lost         int      `json:"lost"`
	Duplicated   int      `json:"duplicated"`
	OutOfOrder   int      `json:"out_of_order"`
	CardMessages int      `json:"card_messages"`
	CardsMasked  int      `json:"cards_masked"`
	CardsInClear int      `json:"cards_in_clear"`
	Violations   []string `json:"violations,omitempty"`
	ContractOK   bool     `json:"contract_ok"`

	Server        *ServerStats       `json:"server,omitempty"`
	ServerMetrics map[string]float64 `json:"server_metrics,omitempty"`
	Timeline      []Point            `json:"timeline"`
	TimelineStep  float64            `json:"timeline_step_s"`
}

// run is the state of one Run.
type run struct {
	cfg    Config
	target target
	start  time.Time // of the message phase
	ack    recorder
	deliv  recorder
	signIn recorder
	errs   counts

	sent, acked, dups, delivered, failed atomic.Int64
	// order counts events an agent received out of seq order (a gap or a repeat).
	order atomic.Int64
	// done counts the messages settled (acked or failed for good).
	done atomic.Int64

	mu         sync.Mutex
	violations []string
	viol       int
}

// violation records a broken promise of the delivery contract (the first 20 in full).
func (r *run) violation(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.viol++
	if len(r.violations) < 20 {
		r.violations = append(r.violations, fmt.Sprintf(format, args...))
	}
}

// Run performs one run and reports it. An error means the run could not take place (setup
// failed); a broken contract is reported in the Result (ContractOK false), not as an error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg}
	if cfg.Baseline {
		r.target = baselineTarget{base: cfg.BaseURL}
	} else {
		r.target = &parleyTarget{cfg: &r.cfg}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	setupStart := time.Now()
	agents, err := r.connectAgents(ctx)
	defer func() {
		for _, a := range agents {
			a.close()
		}
	}()
	if err != nil {
		return nil, err
	}
	// The memory before the visitors: with the agents signed in and their sockets open.
	before, _ := sampleServer(ctx, cfg.Server)
	convs, err := r.setupVisitors(ctx, agents)
	defer func() {
		for _, c := range convs {
			if c != nil {
				c.close()
			}
		}
	}()
	if err != nil {
		return nil, err
	}
	setup := time.Since(setupStart)
	res := &Result{Target: r.target.name(), Visitors: len(convs), Agents: len(agents), Messages: cfg.Messages, Size: cfg.Size,
		InFlight: cfg.InFlight, Rate: cfg.Rate, SetupSeconds: setup.Seconds()}
	if cfg.Hold > 0 {
		r.progressf("holding %d visitor sockets idle for %s", len(convs), cfg.Hold)
		select {
		case <-time.After(cfg.Hold):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	held, _ := sampleServer(ctx, cfg.Server)

	r.start = time.Now()
	var storm sync.WaitGroup
	if cfg.SignIns > 0 && !cfg.Baseline {
		storm.Add(1)
		go func() { defer storm.Done(); r.signInStorm(ctx) }()
	}
	stopProgress := r.showProgress(int64(len(convs) * cfg.Messages))
	var senders sync.WaitGroup
	for _, c := range convs {
		senders.Add(1)
		go func() { defer senders.Done(); r.send(ctx, c) }()
	}
	senders.Wait()
	lastAck := time.Since(r.start)
	r.drain(ctx, convs)
	storm.Wait()
	stopProgress()
	after, _ := sampleServer(ctx, cfg.Server)

	acks, delivs := r.ack.snapshot(), r.deliv.snapshot()
	res.ElapsedSeconds = lastAck.Seconds()
	res.Sent, res.Acked, res.Duplicates, res.Delivered, res.Failed = r.sent.Load(), r.acked.Load(), r.dups.Load(), r.delivered.Load(), r.failed.Load()
	if lastAck > 0 {
		res.Throughput = float64(res.Acked) / lastAck.Seconds()
	}
	res.Ack, res.Delivery, res.SignIn = summarize(acks), summarize(delivs), summarize(r.signIn.snapshot())
	res.Errors = r.errs.snapshot()
	r.check(convs, res)
	res.Server = serverStats(before, held, after, len(convs))
	step := max(lastAck/60, 250*time.Millisecond).Round(250 * time.Millisecond)
	res.Timeline, res.TimelineStep = timeline(acks, delivs, step), step.Seconds()
	if cfg.MetricsToken != "" && !cfg.Baseline {
		res.ServerMetrics, _ = scrapeMetrics(ctx, cfg.Client, cfg.BaseURL, cfg.MetricsToken, serverMetricNames)
	}
	return res, nil
}

// check settles the contract over every conversation: each acked message delivered exactly
// once, at the seq its ack named; every card masked.
func (r *run) check(convs []*conv, res *Result) {
	for _, c := range convs {
		c.mu.Lock()
		for n := range c.msgs {
			m := &c.msgs[n]
			switch {
			case m.ackSeq > 0 && m.deliveries == 0:
				res.Lost++
				r.violation("conversation %d message %d: acked as seq %d, never delivered to the agent", c.idx, n, m.ackSeq)
			case m.deliveries > 1:
				res.Duplicated++
				r.violation("conversation %d message %d: delivered %d times", c.idx, n, m.deliveries)
			case m.ackSeq > 0 && m.agentSeq != m.ackSeq:
				res.OutOfOrder++
				r.violation("conversation %d message %d: acked as seq %d, delivered as seq %d", c.idx, n, m.ackSeq, m.agentSeq)
			}
			if m.card && m.deliveries > 0 && !r.cfg.Baseline {
				res.CardMessages++
				if m.clear {
					res.CardsInClear++
					r.violation("conversation %d message %d: the card number reached the agent in clear", c.idx, n)
				} else if m.masked {
					res.CardsMasked++
				}
			}
		}
		c.mu.Unlock()
	}
	if !r.cfg.Baseline && res.CardMessages != res.CardsMasked {
		r.violation("%d of %d card messages reached the agent without the masked form", res.CardMessages-res.CardsMasked, res.CardMessages)
	}
	res.OutOfOrder += int(r.order.Load())
	r.mu.Lock()
	res.Violations = r.violations
	res.ContractOK = r.viol == 0
	r.mu.Unlock()
}

// drain waits until every acked message reached its agent, or DrainTimeout.
func (r *run) drain(ctx context.Context, convs []*conv) {
	deadline := time.Now().Add(r.cfg.DrainTimeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if r.delivered.Load() >= r.acked.Load()-r.dups.Load() && r.allDelivered(convs) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *run) allDelivered(convs []*conv) bool {
	for _, c := range convs {
		c.mu.Lock()
		for _, m := range c.msgs {
			if m.ackSeq > 0 && m.deliveries == 0 {
				c.mu.Unlock()
				return false
			}
		}
		c.mu.Unlock()
	}
	return true
}
