package transcripthttp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// listed returns the conversation ids GET /api/v1/transcripts answers the client (query appended).
func listed(t *testing.T, c *accounttest.Client, query string) ([]string, int) {
	t.Helper()
	rec := c.Do(http.MethodGet, "/api/v1/transcripts"+query, "")
	if rec.Code != http.StatusOK {
		return nil, rec.Code
	}
	var body struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, it := range body.Items {
		ids = append(ids, it.ID)
	}
	sort.Strings(ids)
	return ids, rec.Code
}

func sorted(ids ...string) []string {
	out := append([]string{}, ids...)
	sort.Strings(out)
	return out
}

// TestTranscriptScopeByRole: each default role lists and opens exactly the conversations its
// scope reaches — agent its own, supervisor its department's, admin (tenant-wide) every
// department's, owner all, auditor none — and another tenant's conversation is 404 for everyone.
func TestTranscriptScopeByRole(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		all := sorted(h.c1, h.c2, h.c3)
		cases := []struct {
			name   string
			c      *accounttest.Client
			list   []string
			status int
			// open and export are the statuses of opening and exporting c1, c2, c3 and the other
			// tenant's cx: 404 outside the reader's scope or tenant, 403 without the permission
			// in the conversation's department (the route guard's answer, audited as a denial).
			open, export [4]int
		}{
			{name: "owner", c: h.owner, list: all, status: 200, open: [4]int{200, 200, 200, 404}, export: [4]int{200, 200, 200, 404}},
			{name: "admin tenant-wide", c: h.admin, list: all, status: 200, open: [4]int{200, 200, 200, 404}, export: [4]int{200, 200, 200, 404}},
			{name: "supervisor of billing", c: h.supervisor, list: sorted(h.c1, h.c2), status: 200, open: [4]int{200, 200, 403, 404}, export: [4]int{200, 200, 403, 404}},
			{name: "agent of billing", c: h.agent, list: sorted(h.c1), status: 200, open: [4]int{200, 404, 403, 404}, export: [4]int{403, 403, 403, 404}},
			{name: "second agent of billing", c: h.agent2, list: sorted(h.c2), status: 200, open: [4]int{404, 200, 403, 404}, export: [4]int{403, 403, 403, 404}},
			{name: "reviewer: own chats and export, tenant-wide", c: h.reviewer, list: []string{}, status: 200, open: [4]int{404, 404, 404, 404}, export: [4]int{404, 404, 404, 404}},
			// Custom roles holding only the broader forms reach the pages transcript.view.own guards.
			{name: "department reader of billing", c: h.deptReader, list: sorted(h.c1, h.c2), status: 200, open: [4]int{200, 200, 403, 404}, export: [4]int{403, 403, 403, 404}},
			{name: "reader of all", c: h.allReader, list: all, status: 200, open: [4]int{200, 200, 200, 404}, export: [4]int{403, 403, 403, 404}},
			{name: "auditor", c: h.auditor, status: 403, open: [4]int{403, 403, 403, 404}, export: [4]int{403, 403, 403, 404}},
			{name: "other tenant's owner", c: h.otherOwner, list: sorted(h.cx), status: 200, open: [4]int{404, 404, 404, 200}, export: [4]int{404, 404, 404, 200}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, status := listed(t, tc.c, "")
				if status != tc.status {
					t.Fatalf("list status = %d, want %d", status, tc.status)
				}
				if tc.status == 200 && strings.Join(got, ",") != strings.Join(tc.list, ",") {
					t.Errorf("list = %v, want %v", got, tc.list)
				}
				page := tc.c.Do(http.MethodGet, "/transcripts", "")
				if page.Code != tc.status {
					t.Errorf("GET /transcripts = %d, want %d", page.Code, tc.status)
				}
				// The navigation links to the page exactly when the reader reaches it.
				if linked := strings.Contains(tc.c.Do(http.MethodGet, "/account", "").Body.String(), `href="/transcripts"`); linked != (tc.status == 200) {
					t.Errorf("navigation links to /transcripts: %v, want %v", linked, tc.status == 200)
				}
				// The department filter offers only departments the reader may list.
				if offersClaims := strings.Contains(page.Body.String(), `value="`+h.claims.ID+`"`); page.Code == 200 && offersClaims != (len(tc.list) == 3 || strings.HasPrefix(tc.name, "reviewer")) {
					t.Errorf("department filter offers Claims: %v", offersClaims)
				}
				for i, id := range []string{h.c1, h.c2, h.c3, h.cx} {
					rec := tc.c.Do(http.MethodGet, "/transcripts/"+id, "")
					if rec.Code != tc.open[i] {
						t.Errorf("open conversation %d: status %d, want %d", i+1, rec.Code, tc.open[i])
					}
					if rec.Code != 200 && strings.Contains(rec.Body.String(), "charged twice") {
						t.Errorf("refused answer shows content")
					}
					exp := tc.c.Do(http.MethodGet, "/transcripts/"+id+"/export?format=json", "")
					if exp.Code != tc.export[i] {
						t.Errorf("export conversation %d: status %d, want %d", i+1, exp.Code, tc.export[i])
					}
				}
			})
		}
		// Only openings that showed content were recorded.
		views := h.events(audit.ActionTranscriptView)
		if len(views) != 15 {
			t.Errorf("transcript.view records = %d, want 15 (owner 3, admin 3, supervisor 2, agents 1 each, department reader 2, reader of all 3)", len(views))
		}
		if exports := h.events(audit.ActionTranscriptExport); len(exports) != 8 {
			t.Errorf("transcript.export records = %d, want 8 (owner 3, admin 3, supervisor 2)", len(exports))
		}
	})
}

// TestTranscriptFilters: date, site, department, agent, status, rating, tag and visitor narrow the
// list; bad values answer 400 with the field.
func TestTranscriptFilters(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		if rec := h.owner.PostForm("/transcripts/"+h.c2+"/tags", url.Values{"tag": {"  Refund  Case "}}); rec.Code != http.StatusSeeOther {
			t.Fatalf("tag: %d %s", rec.Code, rec.Body)
		}
		if rec := h.owner.PostForm("/transcripts/"+h.c3+"/notes", url.Values{"body": {"Escalated to the claims team"}}); rec.Code != http.StatusSeeOther {
			t.Fatalf("note: %d %s", rec.Code, rec.Body)
		}
		day := h.a.Clock.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02")
		cases := []struct {
			name, query string
			want        []string
			status      int
		}{
			{name: "department", query: "?department=" + h.claims.ID, want: sorted(h.c3)},
			{name: "agent", query: "?agent=" + h.users["agent2"].ID, want: sorted(h.c2, h.c3)},
			{name: "rating", query: "?rating=5", want: sorted(h.c1)},
			{name: "status", query: "?status=ended", want: sorted(h.c1, h.c2, h.c3)},
			{name: "status none", query: "?status=queued", want: []string{}},
			{name: "site", query: "?site=" + h.site.ID, want: sorted(h.c1, h.c2, h.c3)},
			{name: "tag normalised", query: "?tag=refund+case", want: sorted(h.c2)},
			{name: "dates", query: "?from=" + day + "&to=" + day, want: sorted(h.c1, h.c2, h.c3)},
			{name: "dates before", query: "?to=2020-01-01", want: []string{}},
			{name: "search", query: "?q=REFUND", want: sorted(h.c2)},
			{name: "search whisper", query: "?q=goodwill", want: sorted(h.c1)},
			{name: "search note", query: "?q=escalated", want: sorted(h.c3)},
			{name: "bad rating", query: "?rating=9", status: 400},
			{name: "bad date", query: "?from=yesterday", status: 400},
			{name: "bad status", query: "?status=deleted", status: 400},
			{name: "unknown department", query: "?department=nope", status: 404},
			{name: "search too short", query: "?q=a", status: 400},
			{name: "card number in search", query: "?q=" + url.QueryEscape(testCard), status: 400},
			{name: "card number as visitor", query: "?visitor=" + testCardDigits, status: 400},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, status := listed(t, h.owner, tc.query)
				want := tc.status
				if want == 0 {
					want = 200
				}
				if status != want {
					t.Fatalf("status = %d, want %d", status, want)
				}
				if want == 200 && strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Errorf("list = %v, want %v", got, tc.want)
				}
			})
		}
		// The page shows a refused search without echoing it.
		rec := h.owner.Do(http.MethodGet, "/transcripts?q="+url.QueryEscape(testCard), "")
		if rec.Code != http.StatusUnprocessableEntity || strings.Contains(rec.Body.String(), testCard) || !strings.Contains(rec.Body.String(), `id="f-q-error"`) {
			t.Errorf("page with a card number searched: %d", rec.Code)
		}
		// Searches are audited without their terms.
		searches := h.events(audit.ActionTranscriptSearch)
		if len(searches) != 3 {
			t.Fatalf("transcript.search records = %d", len(searches))
		}
		for _, e := range searches {
			for _, v := range e.Details {
				if strings.Contains(strings.ToLower(v), "refund") || strings.Contains(v, "goodwill") || strings.Contains(v, "scalated") {
					t.Errorf("search record holds its terms: %v", e.Details)
				}
			}
		}
	})
}

// TestTranscriptSearchLimited: a search scans at most MaxScan conversations and says so.
func TestTranscriptSearchLimited(t *testing.T) {
	h := newHarness(t, migratetest.Open(t, migrations.SQLite))
	h.a.Transcripts.MaxScan = 1
	rec := h.owner.Do(http.MethodGet, "/transcripts?q=refund", "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Search limited") {
		t.Fatalf("limited search page: %d", rec.Code)
	}
	var body struct {
		Search struct {
			Scanned int  `json:"scanned"`
			Limited bool `json:"limited"`
		} `json:"search"`
	}
	rec = h.owner.Do(http.MethodGet, "/api/v1/transcripts?q=refund", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Search.Scanned != 1 || !body.Search.Limited {
		t.Errorf("search = %+v, want 1 scanned, limited", body.Search)
	}
}

// TestTranscriptWithoutDepartment: a conversation of no department is read by transcript.view.all
// (owner) and by whoever took part in it with transcript.view.own tenant-wide — not through
// transcript.view.department, even held tenant-wide (admin).
func TestTranscriptWithoutDepartment(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		start := h.a.Clock.Now().UTC().Add(-time.Hour)
		other := h.seed(h.tenant.ID, h.site.ID, "", h.users["owner"].ID, start, nil, seedChat{messages: []seedMessage{{sender: "visitor", text: "no department"}}})
		mine := h.seed(h.tenant.ID, h.site.ID, "", h.users["admin"].ID, start, nil, seedChat{messages: []seedMessage{{sender: "visitor", text: "mine"}}})
		for _, tc := range []struct {
			name        string
			c           *accounttest.Client
			other, mine int
		}{
			{name: "owner", c: h.owner, other: 200, mine: 200},
			{name: "admin", c: h.admin, other: 404, mine: 200},
			{name: "supervisor of billing", c: h.supervisor, other: 403, mine: 403},
		} {
			if got := tc.c.Do(http.MethodGet, "/transcripts/"+other, "").Code; got != tc.other {
				t.Errorf("%s opens another's conversation without a department: %d, want %d", tc.name, got, tc.other)
			}
			if got := tc.c.Do(http.MethodGet, "/transcripts/"+mine, "").Code; got != tc.mine {
				t.Errorf("%s opens the admin's conversation without a department: %d, want %d", tc.name, got, tc.mine)
			}
		}
	})
}
