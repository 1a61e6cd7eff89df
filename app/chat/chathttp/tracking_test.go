package chathttp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/chathttp"
	"github.com/parleyhq/parley/app/visitor/visitorhttp"
	"github.com/parleyhq/parley/audit"
)

// TestVisitorTracking reports page views through the widget API and reads the live visitors as
// the console does: pages, referrer, browser and returning state for visitor.view; the IP address
// only for visitor.view_pii, and that view is audited. Sensitive query parameters never reach
// the database.
func TestVisitorTracking(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		var id chathttp.Identity
		ua := "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
		if code := do(t, http.MethodPost, n.widgetURL(e, "/pageviews"), "", map[string]any{"url": siteOrigin + "/cards?session=abc123&plan=gold",
			"title": "Cards", "referrer": "https://search.example/?q=bank", "language": "de-DE"}, &id, "User-Agent", ua); code != http.StatusOK || !id.NewToken {
			t.Fatalf("first page view = %d %+v", code, id)
		}
		var again chathttp.Identity
		do(t, http.MethodPost, n.widgetURL(e, "/pageviews"), id.VisitorToken, map[string]any{"url": siteOrigin + "/loans", "title": "Loans"}, &again, "User-Agent", ua)
		if again.NewToken || again.VisitorID != id.VisitorID || again.VisitorToken != id.VisitorToken {
			t.Fatalf("second page view = %+v, want the same visitor and token", again)
		}
		if code := do(t, http.MethodPost, n.widgetURL(e, "/pageviews"), "", map[string]any{"url": 42}, nil); code != http.StatusBadRequest {
			t.Fatalf("malformed page view = %d, want 400", code)
		}

		viewer := e.agent("Vic", map[string][]string{"visitor.view": nil})
		var live struct{ Visitors []visitorhttp.LiveVisitor }
		if code := do(t, http.MethodGet, n.srv.URL+"/api/v1/visitors", "", nil, &live, "X-Test-User", viewer); code != http.StatusOK || len(live.Visitors) != 1 {
			t.Fatalf("live visitors = %d %+v", code, live)
		}
		v := live.Visitors[0]
		if v.CurrentURL != siteOrigin+"/loans" || v.VisitPages != 2 || v.Browser != "Safari" || v.Device != "mobile" ||
			v.Referrer != "https://search.example/?q=bank" || v.Language != "de-DE" || v.IP != "" {
			t.Fatalf("live visitor = %+v, want current page, 2 pages, Safari on mobile, referrer, language, no IP", v)
		}
		var detail struct {
			Visitor visitorhttp.LiveVisitor
			Pages   []visitorhttp.Page
		}
		do(t, http.MethodGet, n.srv.URL+"/api/v1/visitors/"+id.VisitorID, "", nil, &detail, "X-Test-User", viewer)
		if len(detail.Pages) != 2 || detail.Pages[1].URL != siteOrigin+"/cards?plan=gold" {
			t.Fatalf("pages = %+v, want two with the session parameter stripped", detail.Pages)
		}
		if e.audit.count(audit.ActionVisitorPIIView) != 0 {
			t.Fatal("a view without PII was audited as a PII view")
		}
		pii := e.agent("Pia", map[string][]string{"visitor.view": nil, "visitor.view_pii": nil})
		do(t, http.MethodGet, n.srv.URL+"/api/v1/visitors", "", nil, &live, "X-Test-User", pii)
		if len(live.Visitors) != 1 || live.Visitors[0].IP != "127.0.0.1" {
			t.Fatalf("live visitors with PII = %+v, want the IP", live.Visitors)
		}
		if e.audit.count(audit.ActionVisitorPIIView) != 1 {
			t.Fatal("the PII view was not audited")
		}
		if code := do(t, http.MethodGet, n.srv.URL+"/api/v1/visitors", "", nil, nil, "X-Test-User", e.agent("Nobody", nil)); code != http.StatusForbidden {
			t.Fatalf("live visitors without visitor.view = %d, want 403", code)
		}
		for _, v := range dumpDatabase(t, e.db) {
			if strings.Contains(v, "abc123") || strings.Contains(v, id.VisitorToken) {
				t.Fatalf("database holds a stripped parameter or the raw token: %q", v)
			}
		}
	})
}
