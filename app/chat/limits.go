package chat

import (
	"context"
	"time"

	"github.com/parleyhq/parley/app/chat/limit"
)

// Limits are the engine's throttles, sizes and timeouts. Zero fields take DefaultLimits' values.
// The transport reads the ones of its connections (ThrottleStrikes, ThrottleStrikeDecay,
// LongPollWait, HelloTimeout, Ping, Recheck) through Service.Limits.
type Limits struct {
	// Per visitor.
	VisitorMessages, VisitorStarts, VisitorPageViews, VisitorConnects, VisitorPolls limit.Rate
	// Per source IP (several visitors behind one NAT share them, so they are larger).
	IPMessages, IPStarts, IPPageViews, IPConnects limit.Rate
	// Per agent.
	AgentMessages limit.Rate
	// MaxKeys bounds the memory of each limiter.
	MaxKeys int
	// ThrottleStrikes is how many refused frames a socket may send before it is closed (4429).
	// The count leaks: one strike is forgiven per ThrottleStrikeDecay, so only a client that keeps
	// sending while it is told to wait reaches it.
	ThrottleStrikes int
	// ThrottleStrikeDecay is how long a socket must go without a refused frame to lose one strike.
	ThrottleStrikeDecay time.Duration
	// QueueSweep is how often queued chats are checked for their timeout.
	QueueSweep time.Duration
	// LongPollWait is the longest a long poll waits.
	LongPollWait time.Duration
	// HelloTimeout is how long a socket may stay silent before its hello.
	HelloTimeout time.Duration
	// Ping is the keepalive interval of sockets.
	Ping time.Duration
	// PresenceTTL is how long an agent socket counts as online after its last heartbeat.
	PresenceTTL time.Duration
	// SessionCheck is how often an open agent socket re-checks its session (Config.Sessions).
	SessionCheck time.Duration
	// Recheck is how often a socket compares its cursors with the database when there are other
	// nodes (a lost notification is made good within this time).
	Recheck time.Duration
}

// DefaultLimits are the limits of a standard installation.
func DefaultLimits() Limits {
	return Limits{
		VisitorMessages: limit.Every(time.Second, 10), VisitorStarts: limit.Every(time.Minute, 3),
		VisitorPageViews: limit.Every(2*time.Second, 30), VisitorConnects: limit.Every(2*time.Second, 20),
		VisitorPolls: limit.Every(250*time.Millisecond, 60),
		IPMessages:   limit.Every(100*time.Millisecond, 200), IPStarts: limit.Every(10*time.Second, 30),
		IPPageViews: limit.Every(100*time.Millisecond, 300), IPConnects: limit.Every(200*time.Millisecond, 100),
		AgentMessages: limit.Every(200*time.Millisecond, 30),
		MaxKeys:       100000, ThrottleStrikes: 20, ThrottleStrikeDecay: 5 * time.Second, QueueSweep: 15 * time.Second, LongPollWait: 25 * time.Second,
		HelloTimeout: 10 * time.Second, Ping: 25 * time.Second, PresenceTTL: 90 * time.Second, Recheck: 5 * time.Second,
		SessionCheck: 30 * time.Second,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	rate := func(r *limit.Rate, def limit.Rate) {
		if r.Burst == 0 {
			*r = def
		}
	}
	rate(&l.VisitorMessages, d.VisitorMessages)
	rate(&l.VisitorStarts, d.VisitorStarts)
	rate(&l.VisitorPageViews, d.VisitorPageViews)
	rate(&l.VisitorConnects, d.VisitorConnects)
	rate(&l.VisitorPolls, d.VisitorPolls)
	rate(&l.IPMessages, d.IPMessages)
	rate(&l.IPStarts, d.IPStarts)
	rate(&l.IPPageViews, d.IPPageViews)
	rate(&l.IPConnects, d.IPConnects)
	rate(&l.AgentMessages, d.AgentMessages)
	if l.MaxKeys <= 0 {
		l.MaxKeys = d.MaxKeys
	}
	if l.ThrottleStrikes <= 0 {
		l.ThrottleStrikes = d.ThrottleStrikes
	}
	if l.ThrottleStrikeDecay <= 0 {
		l.ThrottleStrikeDecay = d.ThrottleStrikeDecay
	}
	if l.QueueSweep <= 0 {
		l.QueueSweep = d.QueueSweep
	}
	if l.LongPollWait <= 0 {
		l.LongPollWait = d.LongPollWait
	}
	if l.HelloTimeout <= 0 {
		l.HelloTimeout = d.HelloTimeout
	}
	if l.Ping <= 0 {
		l.Ping = d.Ping
	}
	if l.PresenceTTL <= 0 {
		l.PresenceTTL = d.PresenceTTL
	}
	if l.SessionCheck <= 0 {
		l.SessionCheck = d.SessionCheck
	}
	if l.Recheck <= 0 {
		l.Recheck = d.Recheck
	}
	return l
}

// allow takes a token from a per-visitor and a per-IP bucket; the IP bucket is only charged when
// the visitor's allowed it, so one abusive visitor cannot drain the address's budget.
func allow(visitorL, ipL *limit.Limiter, visitorKey, ip string) error {
	if visitorKey != "" {
		if ok, wait := visitorL.Allow(visitorKey); !ok {
			return &RateError{RetryAfter: wait}
		}
	}
	if ip != "" {
		if ok, wait := ipL.Allow(ip); !ok {
			return &RateError{RetryAfter: wait}
		}
	}
	return nil
}

// allowMessage takes a token for a message or a file of a: from the visitor's bucket of its site
// when the site sets its own limits (RateLimits), then from the visitor's and the address's
// buckets; or from the agent's.
func (s *Service) allowMessage(ctx context.Context, tenantID string, a Actor, ip string) error {
	if a.Kind == SenderVisitor {
		if err := s.allowSite(ctx, tenantID, a.SiteID, a.ID, false); err != nil {
			return err
		}
		return allow(s.visitorMsgs, s.ipMsgs, a.ID, ip)
	}
	return allow(s.agentMsgs, s.agentMsgs, a.ID, "")
}

// AllowConnect takes a token from the source address's connection bucket: a socket is opened
// only with one (a RateError otherwise).
func (s *Service) AllowConnect(ip string) error { return allow(nil, s.ipConns, "", ip) }
