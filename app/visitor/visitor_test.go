package visitor

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func masker(t testing.TB) *pan.Masker {
	m, err := pan.NewMasker(pan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCleanURL(t *testing.T) {
	m := masker(t)
	tests := []struct {
		name, in string
		extra    []string
		want     string
	}{
		{"kept", "https://shop.example/cards?utm_source=mail&page=2", nil, "https://shop.example/cards?utm_source=mail&page=2"},
		{"default sensitive dropped", "https://shop.example/login?token=abc&next=%2Fhome&Password=x", nil, "https://shop.example/login?next=%2Fhome"},
		{"site sensitive dropped", "https://shop.example/?order=123&ref=mail", []string{"Order"}, "https://shop.example/?ref=mail"},
		{"encoded name dropped", "https://shop.example/?%73id=1&a=b", nil, "https://shop.example/?a=b"},
		{"userinfo and fragment dropped", "https://bob:pw@shop.example/p#access_token=xyz", nil, "https://shop.example/p"},
		{"pan masked in path", "https://shop.example/pay/4111111111111111", nil, "https://shop.example/pay/411111••••••1111"},
		{"pan masked in query", "https://shop.example/?n=4111-1111-1111-1111", nil, "https://shop.example/?n=4111-11••-••••-1111"},
		{"javascript refused", "javascript:alert(1)", nil, ""},
		{"relative refused", "/cards", nil, ""},
		{"empty", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CleanURL(tt.in, tt.extra, m); got != tt.want {
				t.Errorf("CleanURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseUserAgent(t *testing.T) {
	tests := []struct {
		ua   string
		want Client
	}{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", Client{"Chrome", "Windows", "desktop"}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1", Client{"Safari", "iOS", "mobile"}},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", Client{"Firefox", "Linux", "desktop"}},
		{"Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", Client{"Chrome", "Android", "tablet"}},
		{"Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0", Client{"Edge", "Windows", "desktop"}},
		{"", Client{"Other", "Other", "desktop"}},
	}
	for _, tt := range tests {
		t.Run(tt.want.Browser+"/"+tt.want.OS, func(t *testing.T) {
			if got := ParseUserAgent(tt.ua); got != tt.want {
				t.Errorf("ParseUserAgent = %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := CleanLanguage("de-DE,de;q=0.9"); got != "de-DE" {
		t.Errorf("CleanLanguage = %q, want de-DE", got)
	}
	if got := CleanLanguage("<script>"); got != "" {
		t.Errorf("CleanLanguage(<script>) = %q, want empty", got)
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestTracking(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		c := &clock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
		ts := tenant.NewStore(db.Gorm, c.now)
		ten, err := ts.CreateTenant(ctx, "Acme Bank")
		if err != nil {
			t.Fatal(err)
		}
		site, err := ts.CreateSite(ctx, ten.ID, "Main", []string{"https://www.acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := ts.CreateSite(ctx, ten.ID, "Other", nil)
		if err != nil {
			t.Fatal(err)
		}
		s := NewStore(db.Gorm, c.now, rand.Reader, FixedMasks{masker(t)})
		view := View{TenantID: ten.ID, SiteID: site.ID, CookieMode: CookiePersistent, URL: "https://www.acme.test/?session=s3cr3t&x=1",
			Title: "Cards 4111 1111 1111 1111", Referrer: "https://search.test/?q=acme", Language: "de-DE", IP: "203.0.113.9",
			Agent: "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"}
		first, err := s.Record(ctx, view)
		if err != nil {
			t.Fatal(err)
		}
		if !first.NewToken || first.Returning || !strings.HasPrefix(first.Token, "vt_") {
			t.Fatalf("first view = %+v, want a new, non-returning visitor with a vt_ token", first)
		}
		if first.Visitor.CurrentURL != "https://www.acme.test/?x=1" || strings.Contains(first.Visitor.CurrentTitle, "1111 1111 1111") {
			t.Fatalf("stored url %q title %q, want session stripped and PAN masked", first.Visitor.CurrentURL, first.Visitor.CurrentTitle)
		}
		var n int64
		migratetest.Beneath(t, db).Gorm.Table("visitors").Where("token_hash = ?", first.Token).Count(&n)
		if n != 0 {
			t.Fatal("the token is stored in clear")
		}

		c.t = c.t.Add(2 * time.Minute)
		view.Token, view.URL = first.Token, "https://www.acme.test/loans"
		second, err := s.Record(ctx, view)
		if err != nil {
			t.Fatal(err)
		}
		if second.NewToken || second.Visitor.ID != first.Visitor.ID || second.Visitor.VisitPages != 2 || second.Returning {
			t.Fatalf("second view = %+v, want same visitor, 2 pages, not returning", second.Visitor)
		}
		c.t = c.t.Add(VisitGap + time.Minute)
		third, err := s.Record(ctx, view)
		if err != nil {
			t.Fatal(err)
		}
		if !third.Returning || third.Visitor.Visits != 2 || third.Visitor.VisitPages != 1 {
			t.Fatalf("view after a gap = %+v, want returning, visit 2, 1 page", third.Visitor)
		}

		ctx = migrations.WithTenant(ctx, ten.ID) // the widget's site key resolved the tenant
		if _, err := s.Authenticate(ctx, other.ID, first.Token); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("token on another site: error = %v, want ErrUnauthenticated", err)
		}
		if _, err := s.Authenticate(ctx, site.ID, "vt_"+strings.Repeat("A", 43)); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("unknown token: error = %v, want ErrUnauthenticated", err)
		}
		if v, err := s.Authenticate(ctx, site.ID, first.Token); err != nil || v.ID != first.Visitor.ID {
			t.Errorf("Authenticate = %v, %v, want the visitor", v.ID, err)
		}

		// Cookie mode none: never returning.
		none, err := s.Record(ctx, View{TenantID: ten.ID, SiteID: site.ID, CookieMode: CookieNone, URL: "https://www.acme.test/"})
		if err != nil {
			t.Fatal(err)
		}
		c.t = c.t.Add(VisitGap + time.Minute)
		again, err := s.Record(ctx, View{TenantID: ten.ID, SiteID: site.ID, CookieMode: CookieNone, Token: none.Token, URL: "https://www.acme.test/"})
		if err != nil {
			t.Fatal(err)
		}
		if again.Returning {
			t.Error("cookie mode none reported a returning visitor")
		}

		live, err := s.Live(ctx, ten.ID, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(live) != 1 || live[0].ID != none.Visitor.ID {
			t.Fatalf("live = %d visitors, want only the one seen within %v", len(live), LiveWindow)
		}
		pages, err := s.Pages(ctx, ten.ID, first.Visitor.ID, 0)
		if err != nil || len(pages) != 3 {
			t.Fatalf("pages = %d, %v; want 3", len(pages), err)
		}

		if err := s.SetRetention(ctx, ten.ID, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRetention(ctx, ten.ID, 0); !errors.Is(err, ErrInvalidRetention) {
			t.Fatalf("retention 0: error = %v, want ErrInvalidRetention", err)
		}
		c.t = c.t.Add(25 * time.Hour)
		removed, err := s.Purge(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var left int64
		migratetest.Beneath(t, db).Gorm.Table("visitors").Where("tenant_id = ?", ten.ID).Count(&left)
		if removed == 0 || left != 0 {
			t.Fatalf("purge removed %d rows and left %d visitors, want all gone after retention", removed, left)
		}
	})
}
