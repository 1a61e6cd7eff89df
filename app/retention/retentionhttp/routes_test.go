package retentionhttp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// conversation stores an ended (or live) conversation of the tenant's new site, with no content.
func (h *harness) conversation(tenantID, status string) string {
	h.t.Helper()
	ctx := migrations.WithTenant(context.Background(), tenantID)
	site, err := h.App.Tenants.CreateSite(ctx, tenantID, "Site "+uuid.NewString()[:8], []string{"https://" + uuid.NewString()[:8] + ".example"})
	if err != nil {
		h.t.Fatal(err)
	}
	id, at := uuid.Must(uuid.NewV7()).String(), h.App.Clock.Now().UTC().Add(-time.Hour)
	var ended *time.Time
	if status == "ended" {
		ended = &at
	}
	if err := migratetest.Beneath(h.t, h.db).Gorm.WithContext(ctx).Exec(`INSERT INTO conversations (id, tenant_id, site_id, visitor_id, status, queued_at, ended_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, tenantID, site.ID, uuid.NewString(), status, at, ended, at, at).Error; err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *harness) exists(id string) bool {
	h.t.Helper()
	var n int64
	if err := migratetest.Beneath(h.t, h.db).Gorm.WithContext(migrations.AcrossTenants(context.Background())).Table("conversations").Where("id = ?", id).Count(&n).Error; err != nil {
		h.t.Fatal(err)
	}
	return n == 1
}

// TestTranscriptButtons: the transcript page's delete and hold buttons and DELETE
// /api/v1/transcripts/:conversation — scope, legal hold, redirects, audit.
func TestTranscriptButtons(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		h.db = db
		// A role that may delete but sees no transcript: every conversation is out of its scope.
		by := authz.Actor{TenantID: h.Tenant.ID, UserID: h.OwnerID}
		if _, err := h.App.Authz.CreateRole(context.Background(), by, authz.RoleInput{Name: "shredder", Permissions: []string{"transcript.delete"}}); err != nil {
			t.Fatal(err)
		}
		h.App.CreateUser("Acme Bank", "shredder@acme.test", testPassword, "shredder", false)
		h.App.CreateUser("Acme Bank", "admin@acme.test", testPassword, "admin", false)
		shredder, admin := h.SignIn(h.Tenant.Slug, "shredder@acme.test"), h.SignIn(h.Tenant.Slug, "admin@acme.test")

		held, live, gone := h.conversation(h.Tenant.ID, "ended"), h.conversation(h.Tenant.ID, "active"), h.conversation(h.Tenant.ID, "ended")
		foreign := h.conversation(h.Other.ID, "ended")

		// Hold and release from the transcript page (retention.manage: the admin may).
		if rec := form(admin, "/transcripts/"+held+"/hold", url.Values{"reason": {"Complaint 4411."}}); rec.Code != http.StatusSeeOther ||
			rec.Header().Get("Location") != "/transcripts/"+held+"?notice=hold_placed" {
			t.Fatalf("hold = %d %s", rec.Code, rec.Header().Get("Location"))
		}
		if rec := form(admin, "/transcripts/"+held+"/hold", url.Values{"reason": {"Again."}}); rec.Code != http.StatusConflict {
			t.Errorf("second hold = %d, want 409", rec.Code)
		}
		if rec := form(admin, "/transcripts/"+gone+"/hold", url.Values{"reason": {"Card 4111 1111 1111 1111"}}); rec.Code != http.StatusBadRequest ||
			strings.Contains(rec.Body.String(), "4111 1111") {
			t.Errorf("hold with a card number = %d", rec.Code)
		}
		if rec := form(admin, "/transcripts/"+foreign+"/hold", url.Values{"reason": {"Matter."}}); rec.Code != http.StatusNotFound {
			t.Errorf("hold on another tenant's conversation = %d, want 404", rec.Code)
		}

		cases := []struct {
			name   string
			client func() int
			want   int
			exists bool
			id     string
		}{
			{"agent", func() int { return form(h.Agent, "/transcripts/"+gone+"/delete", url.Values{}).Code }, http.StatusForbidden, true, gone},
			{"admin (no transcript.delete)", func() int { return form(admin, "/transcripts/"+gone+"/delete", url.Values{}).Code }, http.StatusForbidden, true, gone},
			{"out of scope", func() int { return form(shredder, "/transcripts/"+gone+"/delete", url.Values{}).Code }, http.StatusNotFound, true, gone},
			{"other tenant", func() int { return form(h.Owner, "/transcripts/"+foreign+"/delete", url.Values{}).Code }, http.StatusNotFound, true, foreign},
			{"held", func() int { return form(h.Owner, "/transcripts/"+held+"/delete", url.Values{}).Code }, http.StatusConflict, true, held},
			{"held, API", func() int { return h.Owner.Do(http.MethodDelete, "/api/v1/transcripts/"+held, "").Code }, http.StatusConflict, true, held},
			{"live", func() int { return h.Owner.Do(http.MethodDelete, "/api/v1/transcripts/"+live, "").Code }, http.StatusConflict, true, live},
			{"owner", func() int { return form(h.Owner, "/transcripts/"+gone+"/delete", url.Values{}).Code }, http.StatusSeeOther, false, gone},
			{"again", func() int { return h.Owner.Do(http.MethodDelete, "/api/v1/transcripts/"+gone, "").Code }, http.StatusNotFound, false, gone},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if got := tc.client(); got != tc.want {
					t.Errorf("status = %d, want %d", got, tc.want)
				}
				if h.exists(tc.id) != tc.exists {
					t.Errorf("conversation exists = %v, want %v", !tc.exists, tc.exists)
				}
			})
		}
		rec := h.Owner.Do(http.MethodDelete, "/api/v1/transcripts/"+held, "")
		if code, _ := accounttest.ErrorOf(t, rec); code != "legal_hold" {
			t.Errorf("held delete code = %q, want legal_hold", code)
		}
		if evs := h.AuditEvents(h.Tenant.ID, audit.ActionTranscriptDelete); len(evs) != 1 || evs[0].Target.ID != gone {
			t.Errorf("transcript.delete records = %+v", evs)
		}

		if rec := form(admin, "/transcripts/"+held+"/hold/release", url.Values{"reason": {"Resolved."}}); rec.Code != http.StatusSeeOther ||
			rec.Header().Get("Location") != "/transcripts/"+held+"?notice=hold_released" {
			t.Fatalf("release = %d %s", rec.Code, rec.Header().Get("Location"))
		}
		if rec := form(admin, "/transcripts/"+held+"/hold/release", url.Values{"reason": {"Resolved."}}); rec.Code != http.StatusConflict {
			t.Errorf("release without a hold = %d, want 409", rec.Code)
		}
		if rec := h.Owner.Do(http.MethodDelete, "/api/v1/transcripts/"+held, ""); rec.Code != http.StatusNoContent || h.exists(held) {
			t.Errorf("delete after release = %d", rec.Code)
		}
		if n := len(h.AuditEvents(h.Tenant.ID, audit.ActionLegalHoldPlace)) + len(h.AuditEvents(h.Tenant.ID, audit.ActionLegalHoldRelease)); n != 2 {
			t.Errorf("hold records = %d, want 2", n)
		}
	})
}

// TestRetentionAPIAndPage: periods with the minimum named in the error, holds by visitor id from
// the page, site periods, and GET /api/v1/retention.
func TestRetentionAPIAndPage(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		h.db = db
		rec := h.Owner.Do(http.MethodPut, "/api/v1/retention/periods/transcripts", `{"days":10}`)
		if code, field := accounttest.ErrorOf(t, rec); rec.Code != http.StatusBadRequest || code != "below_minimum" || field != "days" ||
			!strings.Contains(rec.Body.String(), "at least 30 days") {
			t.Errorf("10 days = %d %s", rec.Code, rec.Body)
		}
		if rec := h.Owner.Do(http.MethodPut, "/api/v1/retention/periods/transcripts", `{"days":400}`); rec.Code != http.StatusOK {
			t.Errorf("400 days = %d %s", rec.Code, rec.Body)
		}
		if rec := h.Owner.Do(http.MethodPut, "/api/v1/retention/periods/nothing", `{"days":400}`); rec.Code != http.StatusNotFound {
			t.Errorf("unknown kind = %d", rec.Code)
		}
		// The page's forms: a period under the minimum, the minimum itself, a site period.
		rec = form(h.Owner, "/retention", url.Values{"kind": {"offline"}, "days": {"3"}})
		if body := rec.Body.String(); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "Offline messages must be kept at least 30 days") ||
			!strings.Contains(body, `id="days-offline-error"`) {
			t.Errorf("offline 3 days = %d", rec.Code)
		}
		if rec := form(h.Owner, "/retention/minimums", url.Values{"kind": {"offline"}, "days": {"2"}}); rec.Code != http.StatusSeeOther {
			t.Errorf("minimum 2 = %d %s", rec.Code, rec.Body)
		}
		if rec := form(h.Owner, "/retention", url.Values{"kind": {"offline"}, "days": {"3"}}); rec.Code != http.StatusSeeOther {
			t.Errorf("offline 3 days under a 2-day minimum = %d", rec.Code)
		}
		site, err := h.App.Tenants.CreateSite(migrations.WithTenant(context.Background(), h.Tenant.ID), h.Tenant.ID, "Loans", []string{"https://loans.acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		if rec := form(h.Owner, "/retention/sites", url.Values{"site_id": {site.ID}, "kind": {"files"}, "days": {"14"}}); rec.Code != http.StatusSeeOther {
			t.Errorf("site period = %d %s", rec.Code, rec.Body)
		}
		if rec := form(h.Owner, "/retention/sites", url.Values{"site_id": {"nope"}, "kind": {"files"}, "days": {"14"}}); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("unknown site = %d", rec.Code)
		}
		if rec := form(h.Agent, "/retention/minimums", url.Values{"kind": {"offline"}, "days": {"1"}}); rec.Code != http.StatusForbidden {
			t.Errorf("agent minimum = %d, want 403", rec.Code)
		}
		// A visitor hold placed from the page by visitor id.
		conv := h.conversation(h.Tenant.ID, "ended")
		var visitorID string
		if err := migratetest.Beneath(t, db).Gorm.Table("conversations").Where("id = ?", conv).Pluck("visitor_id", &visitorID).Error; err != nil {
			t.Fatal(err)
		}
		if rec := form(h.Owner, "/retention/holds", url.Values{"kind": {"visitor"}, "target_id": {visitorID}, "reason": {"Subpoena 12."}}); rec.Code != http.StatusSeeOther {
			t.Fatalf("visitor hold = %d %s", rec.Code, rec.Body)
		}
		if rec := form(h.Owner, "/retention/holds", url.Values{"kind": {"visitor"}, "target_id": {"4111111111111111"}, "reason": {"x"}}); rec.Code != http.StatusUnprocessableEntity ||
			strings.Contains(rec.Body.String(), "4111111111111111") || !strings.Contains(rec.Body.String(), "No conversation or visitor") {
			t.Errorf("unknown visitor = %d", rec.Code)
		}
		if rec := form(h.Owner, "/retention/holds", url.Values{"kind": {"organisation"}, "reason": {"Card 4111-1111-1111-1111 dispute"}}); rec.Code != http.StatusUnprocessableEntity ||
			strings.Contains(rec.Body.String(), "4111-1111") || !strings.Contains(rec.Body.String(), "A card number is not allowed") {
			t.Errorf("hold reason with a card number = %d", rec.Code)
		}
		if n := len(h.AuditEvents(h.Tenant.ID, audit.ActionCardRefused)); n != 1 {
			t.Errorf("card.data.refused records = %d, want 1", n)
		}
		holds, err := h.App.Retention.Holds(context.Background(), h.Tenant.ID)
		if err != nil || len(holds) != 1 {
			t.Fatalf("holds = %v, %v", holds, err)
		}
		if rec := form(h.Owner, "/retention/holds/"+holds[0].ID+"/release", url.Values{"reason": {""}}); rec.Code != http.StatusUnprocessableEntity ||
			!strings.Contains(rec.Body.String(), `id="release-`+holds[0].ID+`-error"`) {
			t.Errorf("release without a reason = %d", rec.Code)
		}
		page := h.Owner.Do(http.MethodGet, "/retention?notice=hold_placed", "").Body.String()
		for _, want := range []string{"The legal hold was placed", "Subpoena 12.", visitorID, "Loans", "14 days", "Save minimum", "has not run for your organisation yet",
			`<caption>Periods per kind of data, with the organisation's minimum</caption>`} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		var body struct {
			Periods []struct {
				Kind string         `json:"kind"`
				Days int            `json:"days"`
				Min  int            `json:"min_days"`
				Site map[string]int `json:"sites"`
			} `json:"periods"`
			Holds []struct {
				ID, Kind, TargetID string
			} `json:"holds"`
		}
		rec = h.Owner.Do(http.MethodGet, "/api/v1/retention", "")
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("GET = %d %v", rec.Code, err)
		}
		if len(body.Periods) != 4 || body.Periods[0].Days != 400 || body.Periods[1].Site[site.ID] != 14 || body.Periods[2].Min != 2 || len(body.Holds) != 1 {
			t.Errorf("GET body = %s", rec.Body)
		}
		// The API places and lifts holds too.
		rec = h.Owner.Do(http.MethodPost, "/api/v1/retention/holds", `{"kind":"organisation","reason":"Litigation 9."}`)
		var hold struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &hold); err != nil || rec.Code != http.StatusCreated {
			t.Fatalf("POST hold = %d %s", rec.Code, rec.Body)
		}
		if rec := h.Owner.Do(http.MethodPost, "/api/v1/retention/holds/"+hold.ID+"/release", `{"reason":"Card 4111 1111 1111 1111"}`); rec.Code != http.StatusBadRequest {
			t.Errorf("release with a card number = %d", rec.Code)
		} else if code, field := accounttest.ErrorOf(t, rec); code != "card_number_not_allowed" || field != "reason" {
			t.Errorf("release with a card number: %s on %s", code, field)
		}
		if rec := h.Owner.Do(http.MethodPost, "/api/v1/retention/holds/"+hold.ID+"/release", `{"reason":"Settled."}`); rec.Code != http.StatusOK {
			t.Errorf("release = %d %s", rec.Code, rec.Body)
		}
	})
}
