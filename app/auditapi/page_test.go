package auditapi_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/auditlog"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

const testPassword = "Quiet-harbour-2026-lamp"

// harness is Parley over a test database with two tenants: Acme Bank (its owner, signed in, and
// Ada, an agent) and Globex (Grace, whose name Acme must never see).
type harness struct {
	t     *testing.T
	a     *accounttest.App
	acme  tenant.Tenant
	ada   account.User
	grace account.User
	owner *accounttest.Client
}

func newHarness(t *testing.T, db *migrations.DB) *harness {
	t.Helper()
	a := accounttest.New(t, db, nil)
	h := &harness{t: t, a: a}
	h.acme, _ = a.CreateUser("Acme Bank", "owner@acme.example", testPassword, "owner", false)
	_, h.ada = a.CreateUser("Acme Bank", "ada@acme.example", testPassword, "agent", false)
	globex, grace := a.CreateUser("Globex", "grace@globex.example", testPassword, "owner", false)
	h.grace = grace
	h.rename(h.acme.ID, h.ada.ID, "Ada Lovelace")
	h.rename(globex.ID, h.grace.ID, "Grace Hopper")
	h.owner = a.Client("192.0.2.10:4000")
	if rec := h.owner.Login(h.acme.Slug, "owner@acme.example", testPassword, nil); rec.Code != http.StatusOK {
		t.Fatalf("sign in: %d %s", rec.Code, rec.Body)
	}
	return h
}

func (h *harness) rename(tenantID, userID, name string) {
	h.t.Helper()
	ctx := migrations.WithTenant(context.Background(), tenantID)
	err := h.a.DB.Gorm.WithContext(ctx).Model(&account.User{}).
		Where("tenant_id = ? AND id = ?", tenantID, userID).Update("display_name", name).Error
	if err != nil {
		h.t.Fatal(err)
	}
}

// record writes events to Acme's audit log and chains them.
func (h *harness) record(events ...audit.Event) {
	h.t.Helper()
	ctx := context.Background()
	for _, ev := range events {
		ev.Tenant = h.acme.ID
		if err := h.a.App.Audit.Record(ctx, ev); err != nil {
			h.t.Fatal(err)
		}
	}
	if _, err := h.a.App.Audit.Seal(ctx); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) page(query string) string {
	h.t.Helper()
	rec := h.owner.Do(http.MethodGet, "/audit"+query, "")
	if rec.Code != http.StatusOK {
		h.t.Fatalf("GET /audit%s: %d %s", query, rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func user(id string) audit.Actor { return audit.Actor{ID: id, Kind: audit.ActorUser, Role: "agent"} }

func TestAuditPageNamesUsers(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		h.record(
			audit.Event{Actor: user(h.ada.ID), Action: audit.ActionTranscriptView,
				Target: audit.Target{Kind: "conversation", ID: "c-1"}, Outcome: audit.Success},
			audit.Event{Actor: audit.Actor{ID: "node-7", Kind: audit.ActorSystem}, Action: audit.ActionUserDisable,
				Target: audit.Target{Kind: "user", ID: h.ada.ID}, Outcome: audit.Success},
			audit.Event{Actor: user("0b9f3c1e-0000-4000-8000-00000000dead"), Action: audit.ActionUserEnable,
				Target: audit.Target{Kind: "user", ID: "0b9f3c1e-0000-4000-8000-00000000beef"}, Outcome: audit.Success},
		)
		body := h.page("")
		name := html.EscapeString("Ada Lovelace (ada@acme.example)")
		tests := []struct {
			name, want string
		}{
			{"actor name", `<span title="` + h.ada.ID + `">` + name + `</span>`},
			{"actor id kept", `<small class="muted">` + h.ada.ID + `</small>`},
			{"user target named", "user <span title=\"" + h.ada.ID + "\">" + name},
			{"system actor as is", "system node-7"},
			{"unknown user as is", "user 0b9f3c1e-0000-4000-8000-00000000dead</td>"},
			{"unknown target as is", "user 0b9f3c1e-0000-4000-8000-00000000beef</td>"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if !strings.Contains(body, tc.want) {
					t.Errorf("page lacks %q:\n%s", tc.want, body)
				}
			})
		}
		if n := strings.Count(body, name); n != 2 {
			t.Errorf("got Ada's name %d times, want 2 (actor, target)", n)
		}
	})
}

func TestAuditPageHidesOtherTenantsUsers(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		// Acme's log names Globex's user by id (as a forged or mistaken event would): the id is
		// shown, never the name or address.
		h.record(
			audit.Event{Actor: user(h.grace.ID), Action: audit.ActionTranscriptView,
				Target: audit.Target{Kind: "user", ID: h.grace.ID}, Outcome: audit.Success},
			audit.Event{Actor: user(h.ada.ID), Action: audit.ActionUserDisable,
				Target: audit.Target{Kind: "user", ID: h.grace.ID}, Outcome: audit.Success},
		)
		body := h.page("")
		for _, leak := range []string{"Grace Hopper", "grace@globex.example", "Grace"} {
			if strings.Contains(body, leak) {
				t.Errorf("Acme's audit page shows %q of another tenant", leak)
			}
		}
		if !strings.Contains(body, "user "+h.grace.ID+"</td>") {
			t.Errorf("the other tenant's user id is not shown as is:\n%s", body)
		}
		if !strings.Contains(body, "Ada Lovelace") {
			t.Errorf("Acme's own user is not named:\n%s", body)
		}
	})
}

var olderHref = regexp.MustCompile(`<a href="([^"]*)">Older events</a>`)

func TestAuditPageOlderLinkKeepsFilters(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		match := audit.Event{Actor: user(h.ada.ID), Action: audit.ActionUserDisable,
			Target: audit.Target{Kind: "user", ID: "u-42"}, Outcome: audit.Failure, Reason: "night ward & co+1"}
		other := match
		other.Outcome = audit.Success
		h.record(match, other, match, other, match)

		filters := url.Values{
			"q":           {"ward & co+1"},
			"action":      {string(audit.ActionUserDisable), string(audit.ActionUserEnable)},
			"outcome":     {"failure"},
			"actor":       {h.ada.ID},
			"target_kind": {"user"},
			"target_id":   {"u-42"},
			"from":        {"2026-01-01T00:00:00Z"},
			"to":          {"2026-02-01T00:00:00+01:00"},
			"limit":       {"1"},
		}
		want, err := h.a.App.Audit.Search(context.Background(), auditlog.Query{Tenant: h.acme.ID, Outcome: audit.Failure, ActorID: h.ada.ID, Limit: 1})
		if err != nil || want.Next == 0 {
			t.Fatalf("search: %v, next %d", err, want.Next)
		}

		body := h.page("?" + filters.Encode())
		m := olderHref.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no Older events link:\n%s", body)
		}
		link, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		if link.Path != "/audit" {
			t.Errorf("got path %q, want /audit", link.Path)
		}
		got := link.Query()
		for name, vs := range filters {
			if !slices.Equal(got[name], vs) {
				t.Errorf("got %s=%q, want %q", name, got[name], vs)
			}
		}
		if b := got.Get("before"); b != strconv.FormatInt(want.Next, 10) {
			t.Errorf("got before=%q, want %d", b, want.Next)
		}

		// Following the link gives the next older matching event, still filtered.
		older := h.page("?" + link.RawQuery)
		if !strings.Contains(older, "failure (night ward &amp; co&#43;1)") || strings.Contains(older, "<td>success") {
			t.Errorf("the older page is not filtered:\n%s", older)
		}
	})
}

func TestAuditPageNoOlderLinkOnLastPage(t *testing.T) {
	h := newHarness(t, migratetest.Open(t, migrations.SQLite))
	h.record(audit.Event{Actor: user(h.ada.ID), Action: audit.ActionTranscriptView,
		Target: audit.Target{Kind: "conversation", ID: "c-1"}, Outcome: audit.Success})
	if body := h.page("?q=c-1"); strings.Contains(body, "Older events") {
		t.Errorf("the last page links to older events:\n%s", body)
	}
}

// TestAuditPageIntegrity: the page shows the background verifier's finding; "Verify the chain
// now" recomputes the chain, shows the result and records the verification; an agent cannot.
func TestAuditPageIntegrity(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		page := h.owner.Do(http.MethodGet, "/audit", "").Body.String()
		for _, want := range []string{"Integrity", "Background verification", `action="/audit/verify"`, `href="/api/v1/audit/export"`} {
			if !strings.Contains(page, want) {
				t.Errorf("audit page lacks %q", want)
			}
		}
		token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
		if token == nil {
			t.Fatal("no CSRF token on the verify form")
		}
		rec := h.owner.DoRequest(apptestForm("/audit/verify", url.Values{"csrf_token": {token[1]}}))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "The chain verifies.") {
			t.Fatalf("verify = %d %.300s", rec.Code, rec.Body)
		}
		if rec := h.owner.DoRequest(apptestForm("/audit/verify", url.Values{})); rec.Code != http.StatusForbidden {
			t.Errorf("verify without the CSRF token = %d, want 403", rec.Code)
		}
		ctx := migrations.WithTenant(context.Background(), h.acme.ID)
		if _, err := h.a.App.Audit.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		res, err := h.a.App.Audit.Search(ctx, auditlog.Query{Tenant: h.acme.ID, Actions: []audit.Action{audit.ActionAuditVerify}})
		if err != nil || len(res.Entries) != 1 || res.Entries[0].Outcome != audit.Success {
			t.Errorf("audit.verify records = %+v, %v; want the one verification, a success", res.Entries, err)
		}
		ada := h.a.Client("192.0.2.11:4000")
		if rec := ada.Login(h.acme.Slug, "ada@acme.example", testPassword, nil); rec.Code != http.StatusOK {
			t.Fatalf("sign in: %d", rec.Code)
		}
		if rec := ada.DoRequest(apptestForm("/audit/verify", url.Values{})); rec.Code != http.StatusForbidden {
			t.Errorf("an agent verifying = %d, want 403", rec.Code)
		}
	})
}

func apptestForm(path string, v url.Values) apptest.Request {
	return apptest.Request{Method: http.MethodPost, Path: path, Body: v.Encode(), ContentType: "application/x-www-form-urlencoded"}
}
