package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestFrameCSP(t *testing.T) {
	tests := []struct {
		name    string
		origins []string
		want    string
	}{
		{name: "no origins", origins: nil, want: "frame-ancestors 'self'"},
		{name: "two sites", origins: []string{"https://www.example.com", "http://127.0.0.1:8081"}, want: "frame-ancestors 'self' https://www.example.com http://127.0.0.1:8081"},
		{name: "upper case is lowered", origins: []string{"HTTPS://Shop.Example.COM"}, want: "frame-ancestors 'self' https://shop.example.com"},
		{name: "IPv6", origins: []string{"https://[::1]:8443"}, want: "frame-ancestors 'self' https://[::1]:8443"},
		{name: "directive injection dropped", origins: []string{"https://a.example; script-src *"}, want: "frame-ancestors 'self'"},
		{name: "wildcard dropped", origins: []string{"*", "https://*.example.com"}, want: "frame-ancestors 'self'"},
		{name: "path dropped", origins: []string{"https://a.example/path"}, want: "frame-ancestors 'self'"},
		{name: "other schemes dropped", origins: []string{"javascript:alert(1)", "data:", "ftp://a.example"}, want: "frame-ancestors 'self'"},
		{name: "space dropped", origins: []string{"https://a.example https://evil.example"}, want: "frame-ancestors 'self'"},
		{name: "keyword dropped", origins: []string{"'unsafe-inline'"}, want: "frame-ancestors 'self'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csp := FrameCSP(tt.origins)
			if !strings.HasSuffix(csp, tt.want) {
				t.Errorf("got %q, want it to end with %q", csp, tt.want)
			}
			if !strings.HasPrefix(csp, "default-src 'self'; script-src 'self'; style-src 'self';") {
				t.Errorf("got %q, want Parley's strict script and style policy first", csp)
			}
		})
	}
}

func FuzzFrameCSP(f *testing.F) {
	for _, s := range []string{"https://a.example", "https://a.example; script-src *", "http://[::1]:80", "*", "https://a.example\nx: y", "'self'"} {
		f.Add(s)
	}
	base := FrameCSP(nil)
	f.Fuzz(func(t *testing.T, o string) {
		csp := FrameCSP([]string{o})
		if strings.Count(csp, ";") != strings.Count(base, ";") {
			t.Fatalf("origin %q added a directive: %q", o, csp)
		}
		if strings.ContainsAny(csp, "\r\n\x00,*") || strings.Count(csp, "'") != strings.Count(base, "'") {
			t.Fatalf("origin %q put a forbidden character or keyword in %q", o, csp)
		}
		if csp != base && !strings.HasSuffix(csp, " "+strings.ToLower(o)) {
			t.Fatalf("origin %q: got %q, want it listed as given (lower-cased) or dropped", o, csp)
		}
	})
}

func TestSetFrameHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Security-Policy", "frame-ancestors 'self'")
	SetFrameHeaders(h, []string{"https://www.example.com"})
	if got := h.Get("X-Frame-Options"); got != "" {
		t.Errorf("X-Frame-Options: got %q, want none", got)
	}
	if got := h.Get("Content-Security-Policy"); !strings.Contains(got, "frame-ancestors 'self' https://www.example.com") {
		t.Errorf("Content-Security-Policy: got %q, want the site's origin among the frame ancestors", got)
	}
}

func render(t *testing.T, name string, data any) string {
	t.Helper()
	pages, err := LoadPages()
	if err != nil {
		t.Fatalf("LoadPages: %v", err)
	}
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
	if err := pages.Render(c, http.StatusOK, name, data); err != nil {
		t.Fatalf("Render %s: %v", name, err)
	}
	return rec.Body.String()
}

func TestWidgetFramePage(t *testing.T) {
	body := render(t, "widget_frame.html", WidgetFrame{SiteKey: `site_x"><script>alert(1)</script>`, Lang: "de", Title: "Chat"})
	for _, want := range []string{`<html lang="de">`, `<script type="module" src="/widget/v1/frame.js"></script>`, `href="/widget/v1/frame.css"`, `data-site="site_x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`, `id="parley-chat"`} {
		if !strings.Contains(body, want) {
			t.Errorf("frame page: got no %s in\n%s", want, body)
		}
	}
	for _, unwanted := range []string{`class="bar"`, "/static/parley.css", "<script>alert"} {
		if strings.Contains(body, unwanted) {
			t.Errorf("frame page: got %s, want the standalone layout without it", unwanted)
		}
	}
}

func TestDemoPage(t *testing.T) {
	w, err := NewWidget()
	if err != nil {
		t.Fatal(err)
	}
	sri, _ := w.Integrity("widget.js")
	body := render(t, "demo.html", DemoPage{SiteKey: "site_demo123", SiteName: "Example Bank", ParleyOrigin: "http://127.0.0.1:8080", Integrity: sri})
	want := `<script src="/widget/v1/widget.js" data-site="site_demo123" integrity="` + sri + `" crossorigin="anonymous" async></script>`
	if !strings.Contains(body, want) {
		t.Errorf("demo page: got no loader tag %s in\n%s", want, body)
	}
	if !strings.Contains(body, "http://127.0.0.1:8080/widget/v1/widget.js") {
		t.Errorf("demo page: got no embed code naming Parley's origin")
	}
	if strings.Contains(body, `class="bar"`) {
		t.Errorf("demo page: got the console header, want the standalone layout")
	}
}

func TestDemoAgentPage(t *testing.T) {
	body := render(t, "demo_agent.html", nil)
	for _, want := range []string{`data-chat-workspace`, `<script type="module" src="/static/console-chat.js"></script>`, `class="bar"`} {
		if !strings.Contains(body, want) {
			t.Errorf("agent page: got no %s", want)
		}
	}
}

func BenchmarkServeLoader(b *testing.B) {
	e, _ := newWidgetServer(b)
	req := httptest.NewRequest(http.MethodGet, "/widget/v1/widget.js", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
