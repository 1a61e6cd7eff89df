package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

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

func TestDemoPage(t *testing.T) {
	sri, err := WidgetIntegrity("widget.js")
	if err != nil {
		t.Fatal(err)
	}
	body := render(t, "demo.html", DemoPage{SiteKey: "site_demo123", SiteName: `Example <Bank>`, ParleyOrigin: "http://127.0.0.1:8080", Integrity: sri})
	tests := []struct {
		name, want string
		present    bool
	}{
		{name: "loader tag with SRI", present: true, want: `<script src="/widget/v1/widget.js" data-site="site_demo123" integrity="` + sri + `" crossorigin="anonymous" async></script>`},
		{name: "embed code names Parley's origin", present: true, want: "http://127.0.0.1:8080/widget/v1/widget.js"},
		{name: "site name escaped", present: true, want: "Example &lt;Bank&gt;"},
		{name: "own stylesheet", present: true, want: `href="/static/widget-demo.css"`},
		{name: "no console header", present: false, want: `class="bar"`},
		{name: "no raw markup from data", present: false, want: "<Bank>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Contains(body, tt.want); got != tt.present {
				t.Errorf("contains %q: got %v, want %v", tt.want, got, tt.present)
			}
		})
	}
}

func TestWorkspacePage(t *testing.T) {
	body := render(t, "workspace.html", nil)
	for _, want := range []string{`data-chat-workspace`, `<script type="module" src="/static/console-chat.js"></script>`, `href="/static/console-chat.css"`, `class="bar"`} {
		if !strings.Contains(body, want) {
			t.Errorf("agent page: got no %s", want)
		}
	}
}

func TestWorkspaceAssetsAreServed(t *testing.T) {
	for _, p := range []string{"/static/console-chat.js", "/static/console-chat-socket.js", "/static/console-chat.css", "/static/widget-demo.css"} {
		t.Run(p, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Static().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
			if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
				t.Errorf("status: got %d with %d bytes, want 200 with the file", rec.Code, rec.Body.Len())
			}
		})
	}
}
