package chat

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat/limit"
)

// TestRateLimitsValidate: a site's limits are bounded by the installation's on both sides.
func TestRateLimitsValidate(t *testing.T) {
	s := &Service{limits: DefaultLimits()}
	max := s.InstallationRateLimits()
	if want := (RateLimits{MessagesPerMinute: 60, MessageBurst: 10, ChatsPerHour: 60}); max != want {
		t.Fatalf("InstallationRateLimits() = %+v, want %+v", max, want)
	}
	tests := []struct {
		name  string
		in    *RateLimits
		field string
	}{
		{"absent", nil, ""},
		{"all zero keeps the installation's", &RateLimits{}, ""},
		{"tighter", &RateLimits{MessagesPerMinute: 6, MessageBurst: 2, ChatsPerHour: 5}, ""},
		{"the installation's own values", &RateLimits{MessagesPerMinute: 60, MessageBurst: 10, ChatsPerHour: 60}, ""},
		{"at least one", &RateLimits{MessagesPerMinute: 1, MessageBurst: 1, ChatsPerHour: 1}, ""},
		{"messages too low", &RateLimits{MessagesPerMinute: -1}, "rate_limits.messages_per_minute"},
		{"messages too high", &RateLimits{MessagesPerMinute: 61}, "rate_limits.messages_per_minute"},
		{"burst too low", &RateLimits{MessageBurst: -5}, "rate_limits.message_burst"},
		{"burst too high", &RateLimits{MessageBurst: 11}, "rate_limits.message_burst"},
		{"chats too low", &RateLimits{ChatsPerHour: -1}, "rate_limits.chats_per_hour"},
		{"chats too high", &RateLimits{ChatsPerHour: 61}, "rate_limits.chats_per_hour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.validate(max)
			var inv *InvalidError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("validate(%+v) = %v, want nil", tt.in, err)
			case tt.field != "" && (!errors.As(err, &inv) || inv.Field != tt.field):
				t.Fatalf("validate(%+v) = %v, want an invalid %s", tt.in, err, tt.field)
			}
		})
	}
	set := DefaultSettings()
	set.RateLimits = &RateLimits{}
	if err := set.Validate(); err != nil || set.RateLimits != nil {
		t.Fatalf("Validate() with all-zero limits = %v, %+v; want nil limits", err, set.RateLimits)
	}
}

// TestSiteLimitersKeepBuckets: a site's limiters are its own, survive an unchanged reload and are
// replaced when its limits change.
func TestSiteLimitersKeepBuckets(t *testing.T) {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	s := &Service{limits: DefaultLimits(), now: func() time.Time { return now }}
	tight := &RateLimits{MessageBurst: 1, MessagesPerMinute: 6}
	s.cacheSiteLimits("a", tight)
	s.cacheSiteLimits("b", nil)
	ctx := context.Background()
	if err := s.allowSite(ctx, "t", "a", "v1", false); err != nil {
		t.Fatalf("first message: %v", err)
	}
	var re *RateError
	if err := s.allowSite(ctx, "t", "a", "v1", false); !errors.As(err, &re) || re.RetryAfter != 10*time.Second {
		t.Fatalf("second message = %v, want a RateError of 10s", err)
	}
	if err := s.allowSite(ctx, "t", "a", "v2", false); err != nil {
		t.Fatalf("another visitor of the site: %v", err)
	}
	for range 20 {
		if err := s.allowSite(ctx, "t", "b", "v1", false); err != nil {
			t.Fatalf("site without limits of its own: %v", err)
		}
	}
	s.cacheSiteLimits("a", &RateLimits{MessageBurst: 1, MessagesPerMinute: 6})
	if err := s.allowSite(ctx, "t", "a", "v1", false); err == nil {
		t.Fatal("unchanged limits reset the buckets")
	}
	s.cacheSiteLimits("a", &RateLimits{MessageBurst: 2})
	if err := s.allowSite(ctx, "t", "a", "v1", false); err != nil {
		t.Fatalf("changed limits kept the old bucket: %v", err)
	}
}

// BenchmarkAllowMessage measures a visitor message's throttle check for a site without limits
// of its own (cached) and one with them.
func BenchmarkAllowMessage(b *testing.B) {
	l := DefaultLimits()
	l.VisitorMessages, l.IPMessages = limit.Every(time.Nanosecond, 1<<30), limit.Every(time.Nanosecond, 1<<30)
	s := &Service{limits: l, now: time.Now}
	s.visitorMsgs, s.ipMsgs = limit.New(l.VisitorMessages, 1000, time.Now), limit.New(l.IPMessages, 1000, time.Now)
	s.cacheSiteLimits("plain", nil)
	s.cacheSiteLimits("tight", &RateLimits{MessageBurst: 10})
	s.siteLimits.sites["tight"].msgs = limit.New(l.VisitorMessages, 1000, time.Now)
	for _, site := range []string{"plain", "tight"} {
		b.Run(site, func(b *testing.B) {
			a := Actor{Kind: SenderVisitor, ID: "visitor-1", SiteID: site}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := s.allowMessage(ctx, "t", a, "192.0.2.1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
