package chat

import (
	"context"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley/app/chat/limit"
	"github.com/parleyhq/parley/migrations"
)

// RateLimits are a site's own throttles of each of its visitors. They can only tighten the
// installation's (Limits.VisitorMessages, Limits.VisitorStarts), never loosen them: every field
// is at least 1 and at most the installation's value (InstallationRateLimits). A zero field keeps
// the installation's value. The installation's per-visitor and per-address limits apply as well.
type RateLimits struct {
	// MessagesPerMinute is how many messages and files a visitor may send per minute once the
	// burst is spent.
	MessagesPerMinute int `json:"messages_per_minute"`
	// MessageBurst is how many messages and files a visitor may send at once.
	MessageBurst int `json:"message_burst"`
	// ChatsPerHour is how many chats and offline messages a visitor may start per hour (at most
	// the installation's burst of them at once).
	ChatsPerHour int `json:"chats_per_hour"`
}

// siteLimitsTTL is how long a node keeps a site's rate limits before it reads them again: a change
// saved on another node applies here within this time.
const siteLimitsTTL = 30 * time.Second

// maxCachedSites bounds the cache; beyond it the cache starts afresh.
const maxCachedSites = 100000

// InstallationRateLimits returns the installation's visitor limits in RateLimits' units: the most
// a site may set.
func (s *Service) InstallationRateLimits() RateLimits {
	whole := func(f float64) int { return int(math.Min(math.Floor(f+1e-9), 1<<30)) }
	return RateLimits{
		MessagesPerMinute: whole(s.limits.VisitorMessages.PerSecond * 60),
		MessageBurst:      whole(s.limits.VisitorMessages.Burst),
		ChatsPerHour:      whole(s.limits.VisitorStarts.PerSecond * 3600),
	}
}

// validate checks a site's rate limits against the installation's (max); all zero is none.
func (r *RateLimits) validate(max RateLimits) error {
	if r == nil {
		return nil
	}
	for _, f := range []struct {
		field  string
		v, max int
		what   string
	}{
		{"rate_limits.messages_per_minute", r.MessagesPerMinute, max.MessagesPerMinute, "messages per minute"},
		{"rate_limits.message_burst", r.MessageBurst, max.MessageBurst, "messages at once"},
		{"rate_limits.chats_per_hour", r.ChatsPerHour, max.ChatsPerHour, "chats per hour"},
	} {
		if f.v != 0 && (f.v < 1 || f.v > f.max) {
			return invalid(f.field, "A site can only tighten the installation's limit: 1 to "+strconv.Itoa(f.max)+" "+f.what+", or empty for the installation's limit.")
		}
	}
	return nil
}

// none reports whether r keeps every installation limit.
func (r *RateLimits) none() bool { return r == nil || *r == RateLimits{} }

// String is the limits for an audit record: "installation" when the site keeps them.
func (r *RateLimits) String() string {
	if r.none() {
		return "installation"
	}
	return "messages_per_minute=" + strconv.Itoa(r.MessagesPerMinute) + " message_burst=" + strconv.Itoa(r.MessageBurst) +
		" chats_per_hour=" + strconv.Itoa(r.ChatsPerHour)
}

// siteLimits are a site's limiters: nil when the site keeps the installation's limits.
type siteLimits struct {
	rl      RateLimits
	msgs    *limit.Limiter
	starts  *limit.Limiter
	expires time.Time
}

// siteLimitsCache holds each site's limiters, read from its settings at most once per
// siteLimitsTTL, so that no message waits for a database read. Each site has its own limiters:
// one site's tighter limit never touches another site's visitors.
type siteLimitsCache struct {
	mu    sync.RWMutex
	sites map[string]*siteLimits
}

// limitersOf returns the site's limiters, read again when they are older than siteLimitsTTL; nil
// when the site keeps the installation's limits. A failed read keeps what the node knew (or the
// installation's limits) and is logged: the installation's limits apply regardless.
func (s *Service) limitersOf(ctx context.Context, tenantID, siteID string) *siteLimits {
	if siteID == "" {
		return nil
	}
	now := s.now()
	c := &s.siteLimits
	c.mu.RLock()
	e, fresh := c.sites[siteID], false
	if e != nil {
		fresh = now.Before(e.expires)
	}
	c.mu.RUnlock()
	if fresh {
		return e.active()
	}
	if e != nil {
		// Others keep using the old limits while this one reads the new ones.
		c.mu.Lock()
		stale := !now.Before(e.expires)
		if stale {
			e.expires = now.Add(siteLimitsTTL)
		}
		c.mu.Unlock()
		if !stale {
			return e.active()
		}
	}
	set, err := s.store.settings(migrations.WithTenant(ctx, tenantID), siteID)
	if err != nil {
		s.log.Warn("chat: reading a site's rate limits", slog.String("site_id", siteID), slog.Any("error", err))
		return e.active()
	}
	return s.cacheSiteLimits(siteID, set.RateLimits).active()
}

// active returns e when it has limiters of its own.
func (e *siteLimits) active() *siteLimits {
	if e == nil || e.msgs == nil {
		return nil
	}
	return e
}

// cacheSiteLimits stores a site's limits as read or just saved; unchanged limits keep their
// buckets.
func (s *Service) cacheSiteLimits(siteID string, rl *RateLimits) *siteLimits {
	var want RateLimits
	if !rl.none() {
		want = *rl
	}
	c := &s.siteLimits
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.sites[siteID]
	if e == nil || e.rl != want {
		e = &siteLimits{rl: want}
		if want != (RateLimits{}) {
			e.msgs, e.starts = s.newSiteLimiters(want)
		}
	}
	e.expires = s.now().Add(siteLimitsTTL)
	if c.sites == nil || len(c.sites) >= maxCachedSites {
		c.sites = make(map[string]*siteLimits)
	}
	c.sites[siteID] = e
	return e
}

// newSiteLimiters builds a site's message and start limiters: its own values, the installation's
// where it sets none.
func (s *Service) newSiteLimiters(rl RateLimits) (msgs, starts *limit.Limiter) {
	l := s.limits
	m, st := l.VisitorMessages, l.VisitorStarts
	if rl.MessageBurst > 0 {
		m.Burst = float64(rl.MessageBurst)
	}
	if rl.MessagesPerMinute > 0 {
		m.PerSecond = float64(rl.MessagesPerMinute) / 60
	}
	if rl.ChatsPerHour > 0 {
		st.PerSecond = float64(rl.ChatsPerHour) / 3600
		st.Burst = math.Min(st.Burst, float64(rl.ChatsPerHour))
	}
	return limit.New(m, l.MaxKeys, s.now), limit.New(st, l.MaxKeys, s.now)
}

// allowSite takes a token from the visitor's bucket of the site's own limiter (msgs or starts),
// when the site has one.
func (s *Service) allowSite(ctx context.Context, tenantID, siteID, visitorID string, starts bool) error {
	e := s.limitersOf(ctx, tenantID, siteID)
	if e == nil || visitorID == "" {
		return nil
	}
	l := e.msgs
	if starts {
		l = e.starts
	}
	if ok, wait := l.Allow(visitorID); !ok {
		return &RateError{RetryAfter: wait}
	}
	return nil
}
