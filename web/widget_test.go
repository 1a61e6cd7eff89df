package web

import (
	"bytes"
	"flag"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

var update = flag.Bool("update", false, "rewrite testdata/widget-v1.sri with the current loader hashes")

func newWidgetServer(t testing.TB) (*echo.Echo, *Widget) {
	t.Helper()
	w, err := NewWidget()
	if err != nil {
		t.Fatalf("NewWidget: %v", err)
	}
	e := echo.New()
	e.GET("/widget.js", w.ServeLoader)
	e.GET("/widget/v1/*", w.ServeAsset)
	return e, w
}

func get(e *echo.Echo, path string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestWidgetServesFiles(t *testing.T) {
	e, w := newWidgetServer(t)
	loader, _ := widgetFS.ReadFile("widget/v1/widget.js")
	tests := []struct {
		name, path, contentType, cache string
		crossOrigin                    bool
		body                           []byte
	}{
		{name: "unversioned loader", path: "/widget.js", contentType: "text/javascript; charset=utf-8", cache: "public, max-age=300", crossOrigin: true, body: loader},
		{name: "pinned loader", path: "/widget/v1/widget.js", contentType: "text/javascript; charset=utf-8", cache: "public, max-age=3600", crossOrigin: true, body: loader},
		{name: "loader stylesheet", path: "/widget/v1/widget.css", contentType: "text/css; charset=utf-8", cache: "public, max-age=3600", crossOrigin: true},
		{name: "frame module", path: "/widget/v1/frame.js", contentType: "text/javascript; charset=utf-8", cache: "public, max-age=3600"},
		{name: "frame stylesheet", path: "/widget/v1/frame.css", contentType: "text/css; charset=utf-8", cache: "public, max-age=3600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(e, tt.path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status: got %d, want 200", rec.Code)
			}
			h := rec.Header()
			if got := h.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type: got %q, want %q", got, tt.contentType)
			}
			if got := h.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control: got %q, want %q", got, tt.cache)
			}
			wantACAO, wantCORP := "", ""
			if tt.crossOrigin {
				wantACAO, wantCORP = "*", "cross-origin"
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != wantACAO {
				t.Errorf("Access-Control-Allow-Origin: got %q, want %q", got, wantACAO)
			}
			if got := h.Get("Cross-Origin-Resource-Policy"); got != wantCORP {
				t.Errorf("Cross-Origin-Resource-Policy: got %q, want %q", got, wantCORP)
			}
			if tt.body != nil && !bytes.Equal(rec.Body.Bytes(), tt.body) {
				t.Errorf("body: got %d bytes, want the embedded file (%d bytes)", rec.Body.Len(), len(tt.body))
			}
			name := tt.path[strings.LastIndex(tt.path, "/")+1:]
			sri, _ := w.Integrity(name)
			if got := Integrity(rec.Body.Bytes()); got != sri {
				t.Errorf("integrity of the served body: got %s, want %s", got, sri)
			}
		})
	}
}

func TestWidgetRevalidates(t *testing.T) {
	e, _ := newWidgetServer(t)
	first := get(e, "/widget/v1/widget.js", nil)
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("ETag: got none, want one")
	}
	again := get(e, "/widget/v1/widget.js", map[string]string{"If-None-Match": etag})
	if again.Code != http.StatusNotModified {
		t.Errorf("status with If-None-Match: got %d, want 304", again.Code)
	}
	other := get(e, "/widget/v1/frame.js", nil).Header().Get("ETag")
	if other == etag {
		t.Errorf("ETag of frame.js: got the loader's %s, want a different one", etag)
	}
}

func TestWidgetUnknownFiles(t *testing.T) {
	e, _ := newWidgetServer(t)
	for _, p := range []string{"/widget/v1/missing.js", "/widget/v1/", "/widget/v1/../web.go", "/widget/v1/%2e%2e/web.go", "/widget/v1/README.md", "/widget/v2/widget.js"} {
		t.Run(p, func(t *testing.T) {
			if rec := get(e, p, nil); rec.Code != http.StatusNotFound {
				t.Errorf("status: got %d, want 404", rec.Code)
			}
		})
	}
}

// The loader injects its stylesheet with Subresource Integrity, so whoever pins the loader pins the
// styles too. After changing widget.css, put the new value in widget.js (see widget/README.md).
func TestLoaderPinsItsStylesheet(t *testing.T) {
	loader, _ := widgetFS.ReadFile("widget/v1/widget.js")
	css, _ := widgetFS.ReadFile("widget/v1/widget.css")
	m := regexp.MustCompile(`var CSS_INTEGRITY = '([^']+)'`).FindSubmatch(loader)
	if m == nil {
		t.Fatal("widget.js: got no CSS_INTEGRITY, want the stylesheet's SRI value")
	}
	if got, want := string(m[1]), Integrity(css); got != want {
		t.Errorf("CSS_INTEGRITY in widget.js: got %s, want %s", got, want)
	}
}

// Customers pin /widget/v1/widget.js with SRI: once published, the v1 loader and its stylesheet
// must not change (a change is a new version directory). go test ./web -update rewrites the record
// when a change is intended before the first release.
func TestLoaderV1IsFrozen(t *testing.T) {
	_, w := newWidgetServer(t)
	js, _ := w.Integrity("widget.js")
	css, _ := w.Integrity("widget.css")
	got := "widget.js " + js + "\nwidget.css " + css + "\n"
	const golden = "testdata/widget-v1.sri"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read %s: %v", golden, err)
	}
	if got != string(want) {
		t.Errorf("v1 loader hashes changed:\ngot  %s\nwant %s\nPublished SRI pins would break; ship the change as a new version.", got, want)
	}
}

// Every widget and workspace script renders text as text: no HTML sinks, no string evaluation, no
// wildcard postMessage target, no style attributes.
func TestScriptsUseNoMarkupSinks(t *testing.T) {
	banned := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\s*['"](style|on)|postMessage\([^)]*'\*'|\.cssText`)
	files := map[string][]byte{}
	_ = fs.WalkDir(widgetFS, "widget", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files[p], _ = widgetFS.ReadFile(p)
		}
		return err
	})
	for _, name := range []string{"static/console-chat.js", "static/console-chat-socket.js"} {
		b, err := staticFS.ReadFile(name)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		files[name] = b
	}
	if len(files) < 8 {
		t.Fatalf("scripts scanned: got %d, want the widget's and the workspace's", len(files))
	}
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			for i, line := range strings.Split(string(b), "\n") {
				if m := banned.FindString(line); m != "" {
					t.Errorf("line %d: got %q, want no markup sink", i+1, m)
				}
			}
		})
	}
}

// The widget's pages carry no inline script, style or event handler: the strict CSP holds.
func TestWidgetTemplatesHaveNoInlineCode(t *testing.T) {
	script := regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	other := regexp.MustCompile(`(?i)<style|\sstyle\s*=|\son[a-z]+\s*=|javascript:`)
	for _, name := range []string{"widget_frame.html", "demo.html", "demo_agent.html"} {
		t.Run(name, func(t *testing.T) {
			b, err := templateFS.ReadFile("templates/" + name)
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			scripts := script.FindAllStringSubmatch(s, -1)
			if len(scripts) == 0 {
				t.Fatal("got no script element, want the page's module or loader")
			}
			for _, m := range scripts {
				if !strings.Contains(m[1], " src=") || strings.TrimSpace(m[2]) != "" {
					t.Errorf("got <script%s>%s, want an empty element loaded by src", m[1], m[2])
				}
			}
			if m := other.FindString(s); m != "" {
				t.Errorf("got %q, want no inline style or handler", m)
			}
		})
	}
}
