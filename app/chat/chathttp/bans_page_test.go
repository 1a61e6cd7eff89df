package chathttp_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestBansPage(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newPageHarness(t, db)
		ctx := context.Background()
		bans := func(tenantID string) []chat.Ban {
			t.Helper()
			bs, err := h.App.Chat.Bans(ctx, tenantID)
			if err != nil {
				t.Fatal(err)
			}
			return bs
		}
		rec := h.Owner.Do(http.MethodGet, "/bans", "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "No active bans.") || !strings.Contains(rec.Body.String(), h.Owner.CSRF) {
			t.Fatalf("empty page = %d %s", rec.Code, rec.Body)
		}
		now := h.App.Clock.Now().UTC()
		future := now.Add(48 * time.Hour).Format("2006-01-02T15:04")
		past := now.Add(-time.Hour).Format("2006-01-02T15:04")
		cases := []struct {
			name   string
			form   url.Values
			status int
			// field is the field the page marks; contains what it must say; absent what it must not.
			field    string
			contains string
			absent   string
			added    int
		}{
			{name: "ip address", form: url.Values{"kind": {"ip"}, "value": {"203.0.113.7"}, "reason": {"Abusive language"}}, status: http.StatusSeeOther, added: 1},
			{name: "double submit", form: url.Values{"kind": {"ip"}, "value": {"203.0.113.7"}, "reason": {"Abusive language"}}, status: http.StatusConflict, field: "value", contains: "That ban already exists."},
			{name: "network with expiry", form: url.Values{"kind": {"cidr"}, "value": {"198.51.100.77/24"}, "expires_at": {future}}, status: http.StatusSeeOther, added: 1},
			{name: "not an address", form: url.Values{"kind": {"ip"}, "value": {"300.1.1.1"}}, status: http.StatusUnprocessableEntity, field: "value", contains: "Enter an IP address."},
			{name: "unknown kind", form: url.Values{"kind": {"asn"}, "value": {"64496"}}, status: http.StatusUnprocessableEntity, field: "kind", contains: "The kind is ip, cidr or visitor."},
			{name: "not a visitor id", form: url.Values{"kind": {"visitor"}, "value": {"someone"}}, status: http.StatusUnprocessableEntity, field: "value", contains: "Enter a visitor id."},
			{name: "card number as value", form: url.Values{"kind": {"ip"}, "value": {"4111 1111 1111 1111"}}, status: http.StatusUnprocessableEntity, field: "value", contains: "A card number is not allowed", absent: "4111 1111 1111 1111"},
			{name: "expiry in the past", form: url.Values{"kind": {"ip"}, "value": {"203.0.113.9"}, "expires_at": {past}, "reason": {"paid with 5500 0000 0000 0004"}}, status: http.StatusUnprocessableEntity, field: "expires_at", contains: "The expiry must be in the future.", absent: "5500 0000 0000 0004"},
			{name: "expiry not a date", form: url.Values{"kind": {"ip"}, "value": {"203.0.113.9"}, "expires_at": {"tomorrow"}}, status: http.StatusUnprocessableEntity, field: "expires_at", contains: "Enter the expiry as a date and time"},
			{name: "reason too long", form: url.Values{"kind": {"ip"}, "value": {"203.0.113.9"}, "reason": {strings.Repeat("x", 501)}}, status: http.StatusUnprocessableEntity, field: "reason", contains: "The reason is at most 500 characters."},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before, records := len(bans(h.Tenant.ID)), len(h.AuditEvents(h.Tenant.ID, audit.ActionBanListChange))
				rec := postForm(h.Owner, "/bans", tc.form)
				if rec.Code != tc.status {
					t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.status, rec.Body)
				}
				body := rec.Body.String()
				if tc.status == http.StatusSeeOther {
					if loc := rec.Header().Get("Location"); loc != "/bans?notice=ban_added" {
						t.Errorf("redirect to %q", loc)
					}
				} else {
					if !strings.Contains(body, `id="ban-`) || !strings.Contains(body, `aria-invalid="true"`) {
						t.Errorf("the page marks no field")
					}
					if want := map[string]string{"value": "ban-value-error", "kind": "ban-kind-error", "expires_at": "ban-expires-error", "reason": "ban-reason-error"}[tc.field]; !strings.Contains(body, `<p id="`+want+`"`) {
						t.Errorf("the page does not mark field %s", tc.field)
					}
				}
				if tc.contains != "" && !strings.Contains(body, tc.contains) {
					t.Errorf("page lacks %q", tc.contains)
				}
				if tc.absent != "" && strings.Contains(body, tc.absent) {
					t.Errorf("page shows %q", tc.absent)
				}
				if got := len(bans(h.Tenant.ID)) - before; got != tc.added {
					t.Errorf("bans added = %d, want %d", got, tc.added)
				}
				evs := h.AuditEvents(h.Tenant.ID, audit.ActionBanListChange)
				if got := len(evs) - records; got != tc.added {
					t.Fatalf("ban list records = %d, want %d", got, tc.added)
				}
				if tc.added > 0 {
					ev := evs[len(evs)-1]
					if ev.Actor.ID != h.OwnerID || ev.Details["change"] != "add" || ev.Details["kind"] != tc.form.Get("kind") || ev.Outcome != audit.Success {
						t.Errorf("audit record = %+v", ev.Event)
					}
				}
			})
		}

		// The list names who banned, by e-mail with the id to copy, and the network canonical.
		rec = h.Owner.Do(http.MethodGet, "/bans?notice=ban_added", "")
		body := rec.Body.String()
		for _, want := range []string{"The ban was added.", "<code>203.0.113.7</code>", "<code>198.51.100.0/24</code>", "Abusive language",
			"&lt;owner@acme.test&gt;", "<code>" + h.OwnerID + "</code>"} {
			if !strings.Contains(body, want) {
				t.Errorf("list lacks %q", want)
			}
		}
		for _, want := range []string{`href="/static/ops.css"`, `<a href="/bans" aria-current="page">`} {
			if !strings.Contains(body, want) {
				t.Errorf("the page is not in the console shell: lacks %q", want)
			}
		}
		if strings.Contains(body, "Expired bans") {
			t.Error("the list shows an expired section before any ban expired")
		}
		// A ban that has expired is listed apart.
		soon := h.App.Clock.Now().Add(time.Minute)
		if _, err := h.App.Chat.AddBan(ctx, &identity.Principal{TenantID: h.Tenant.ID, UserID: h.OwnerID},
			chat.BanInput{Kind: chat.BanCIDR, Value: "2001:db8:7::/48", ExpiresAt: &soon}, chat.Origin{}); err != nil {
			t.Fatal(err)
		}
		h.App.Clock.Advance(2 * time.Minute)
		body = h.Owner.Do(http.MethodGet, "/bans", "").Body.String()
		if i := strings.Index(body, "Expired bans"); i < 0 || !strings.Contains(body[i:], "2001:db8:7::/48") || strings.Contains(body[:i], "2001:db8:7::/48") ||
			!strings.Contains(body[:i], "198.51.100.0/24") {
			t.Error("the expired ban is not listed under Expired bans, apart from the active ones")
		}

		// Lift: audited, and lifting again (a double submit) finds nothing.
		var ipBan chat.Ban
		for _, b := range bans(h.Tenant.ID) {
			if b.Value == "203.0.113.7" {
				ipBan = b
			}
		}
		records := len(h.AuditEvents(h.Tenant.ID, audit.ActionBanListChange))
		rec = postForm(h.Owner, "/bans/"+ipBan.ID+"/delete", url.Values{})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/bans?notice=ban_lifted" {
			t.Fatalf("lift = %d %s", rec.Code, rec.Header().Get("Location"))
		}
		evs := h.AuditEvents(h.Tenant.ID, audit.ActionBanListChange)
		if len(evs) != records+1 || evs[len(evs)-1].Details["change"] != "remove" || evs[len(evs)-1].Target.ID != ipBan.ID {
			t.Errorf("lift records = %d, last %+v", len(evs)-records, evs[len(evs)-1].Event)
		}
		if rec := postForm(h.Owner, "/bans/"+ipBan.ID+"/delete", url.Values{}); rec.Code != http.StatusNotFound {
			t.Errorf("second lift = %d, want 404", rec.Code)
		}
		if rec := postForm(h.Owner, "/bans/not-an-id/delete", url.Values{}); rec.Code != http.StatusNotFound {
			t.Errorf("lift of a malformed id = %d, want 404", rec.Code)
		}

		// Another tenant's ban is not found, and stays.
		other, err := h.App.Chat.AddBan(ctx, &identity.Principal{TenantID: h.Other.ID, UserID: "someone"},
			chat.BanInput{Kind: chat.BanIP, Value: "192.0.2.1"}, chat.Origin{})
		if err != nil {
			t.Fatal(err)
		}
		if rec := postForm(h.Owner, "/bans/"+other.ID+"/delete", url.Values{}); rec.Code != http.StatusNotFound || len(bans(h.Other.ID)) != 1 {
			t.Errorf("lift of another tenant's ban = %d, want 404 and the ban kept", rec.Code)
		}
		if strings.Contains(h.Owner.Do(http.MethodGet, "/bans", "").Body.String(), "192.0.2.1") {
			t.Error("the list shows another tenant's ban")
		}

		// ban.manage only.
		if rec := h.Agent.Do(http.MethodGet, "/bans", ""); rec.Code != http.StatusForbidden {
			t.Errorf("agent page = %d, want 403", rec.Code)
		}
		if rec := postForm(h.Agent, "/bans", url.Values{"kind": {"ip"}, "value": {"203.0.113.50"}}); rec.Code != http.StatusForbidden {
			t.Errorf("agent add = %d, want 403", rec.Code)
		}
		if rec := postForm(h.Agent, "/bans/"+other.ID+"/delete", url.Values{}); rec.Code != http.StatusForbidden {
			t.Errorf("agent lift = %d, want 403", rec.Code)
		}
	})
}
