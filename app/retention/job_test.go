package retention_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/parleyhq/parley/app/retention"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestJob: the job removes what is past its period — per site, per kind — keeps what a hold
// covers and what is live, lists the same in a dry run without touching anything, records its
// run and one audit event with counts, and runs on one node at a time.
func TestJob(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		bg := context.Background()
		ctx := migrations.WithTenant(bg, w.ten.ID)
		// Visitor tracking: one visitor last seen 40 days ago (the default period is 30), one now.
		view := visitor.View{TenantID: w.ten.ID, SiteID: w.siteA.ID, CookieMode: visitor.CookiePersistent, URL: "https://www.acme.test/"}
		if _, err := w.a.Visitors.Record(ctx, view); err != nil {
			t.Fatal(err)
		}
		w.a.Clock.Advance(40 * day)
		if _, err := w.a.Visitors.Record(ctx, view); err != nil {
			t.Fatal(err)
		}
		for _, set := range []struct {
			k    retention.Kind
			days int
		}{{retention.Transcripts, 30}, {retention.Files, 7}, {retention.Offline, 30}} {
			if _, err := w.svc.SetPeriod(bg, w.actor, set.k, set.days); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.svc.SetSitePeriod(bg, w.actor, w.siteB.ID, retention.Transcripts, 90); err != nil {
			t.Fatal(err)
		}
		heldVisitor := w.visitorID()
		expired := w.conversation(w.siteA, w.visitorID(), "ended", 40*day)
		missed := w.conversation(w.siteA, w.visitorID(), "missed", 31*day)
		siteB := w.conversation(w.siteB, w.visitorID(), "ended", 40*day)    // its site keeps 90 days
		recent := w.conversation(w.siteA, w.visitorID(), "ended", 10*day)   // kept; its 10-day file goes
		live := w.conversation(w.siteA, w.visitorID(), "active", 40*day)    // never while live
		heldConv := w.conversation(w.siteA, w.visitorID(), "ended", 40*day) // held itself
		byVisitor := w.conversation(w.siteA, heldVisitor, "ended", 40*day)  // held through its visitor
		foreign := w.conversation(w.siteO, w.visitorID(), "ended", 400*day) // another organisation's
		oldOffline := w.offline(w.siteA, w.visitorID(), 31*day)
		w.offline(w.siteA, heldVisitor, 31*day)
		w.offline(w.siteA, w.visitorID(), 2*day)
		if _, err := w.svc.PlaceHold(bg, w.actor, retention.HoldConversation, heldConv.ID, "Complaint 77."); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.PlaceHold(bg, w.actor, retention.HoldVisitor, heldVisitor, "Subpoena 12."); err != nil {
			t.Fatal(err)
		}
		wantGone := []string{expired.ID, missed.ID}
		slices.Sort(wantGone)
		want := retention.Counts{Transcripts: 2, Files: 3, Offline: 1, Visitors: 1, PageViews: 1, Held: 2}
		check := func(name string, reps []retention.Report) {
			t.Helper()
			if len(reps) != 1 {
				t.Fatalf("%s: %d reports, want 1", name, len(reps))
			}
			r := reps[0]
			if r.Counts != want {
				t.Errorf("%s: counts = %+v, want %+v", name, r.Counts, want)
			}
			got := slices.Clone(r.Conversations)
			slices.Sort(got)
			if !slices.Equal(got, wantGone) || !slices.Equal(r.OfflineMessages, []string{oldOffline}) {
				t.Errorf("%s: conversations %v offline %v; want %v and %s", name, got, r.OfflineMessages, wantGone, oldOffline)
			}
		}

		dry, err := w.svc.RunLeased(bg, retention.RunOptions{TenantID: w.ten.ID, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		check("dry run", dry)
		if n := w.count("conversations", "tenant_id = ?", w.ten.ID); n != 7 {
			t.Errorf("the dry run removed conversations: %d left, want 7", n)
		}
		if run, _ := w.svc.LastRun(bg, w.ten.ID); run != nil || len(w.events(w.ten.ID, audit.ActionRetentionRun)) != 0 {
			t.Error("a dry run was recorded")
		}

		// Another node holds the lease: this one does not run.
		now := w.a.Clock.Now()
		if err := w.raw.Exec("INSERT INTO job_leases (name, owner, until_us) VALUES ('retention', 'node-b', ?)", now.Add(day).UnixMicro()).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.RunLeased(bg, retention.RunOptions{TenantID: w.ten.ID}); !errors.Is(err, retention.ErrLeaseHeld) {
			t.Fatalf("run while another node holds the lease = %v, want ErrLeaseHeld", err)
		}
		if err := w.raw.Exec("UPDATE job_leases SET until_us = ? WHERE name = 'retention'", now.Add(-1).UnixMicro()).Error; err != nil {
			t.Fatal(err)
		}

		reps, err := w.svc.RunLeased(bg, retention.RunOptions{TenantID: w.ten.ID, StartedBy: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		check("run", reps)
		for _, c := range []chat{siteB, recent, live, heldConv, byVisitor, foreign} {
			if w.count("conversations", "id = ?", c.ID) != 1 || w.count("conversation_events", "conversation_id = ?", c.ID) != 1 {
				t.Errorf("conversation %s was removed", c.ID)
			}
		}
		if n := w.count("chat_files", "conversation_id = ?", recent.ID); n != 0 {
			t.Errorf("the 10-day-old file of a kept transcript survived the 7-day file period")
		}
		if n := w.count("chat_files", "conversation_id IN ?", []string{heldConv.ID, byVisitor.ID}); n != 2 {
			t.Errorf("held conversations keep %d files, want 2", n)
		}
		if n := w.count("data_keys", "scope_id IN ? AND shredded_at IS NOT NULL", append(wantGone, oldOffline)); n != 3 {
			t.Errorf("shredded keys = %d, want 3", n)
		}
		if n := w.count("offline_messages", "tenant_id = ?", w.ten.ID); n != 2 {
			t.Errorf("offline messages left = %d, want 2 (held, recent)", n)
		}
		run, err := w.svc.LastRun(bg, w.ten.ID)
		if err != nil || run == nil || run.Status != "done" || run.Counts != want || run.StartedBy != "cli" || run.FinishedAt == nil {
			t.Fatalf("last run = %+v, %v", run, err)
		}
		evs := w.events(w.ten.ID, audit.ActionRetentionRun)
		if len(evs) != 1 {
			t.Fatalf("retention.run records = %d, want 1", len(evs))
		}
		d := evs[0].Details
		if d["transcripts"] != "2" || d["files"] != "3" || d["offline"] != "1" || d["held"] != "2" || d["page_views"] != "1" || evs[0].Actor.Kind != audit.ActorSystem {
			t.Errorf("retention.run record = %+v", evs[0].Event)
		}
		if n := w.count("job_leases", "name = 'retention'"); n != 0 {
			t.Error("the run kept its lease")
		}

		// A second run finds nothing more; an organisation hold suspends the run altogether.
		if _, err := w.svc.PlaceHold(bg, w.actor, retention.HoldOrganisation, "", "Litigation."); err != nil {
			t.Fatal(err)
		}
		w.a.Clock.Advance(200 * day)
		reps, err = w.svc.RunLeased(bg, retention.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reps {
			if r.TenantID == w.ten.ID && (!r.OrganisationHeld || r.Counts != (retention.Counts{})) {
				t.Errorf("run under an organisation hold = %+v", r)
			}
			if r.TenantID == w.other.ID && (r.Counts.Transcripts != 0 || r.Counts.Files != 1) {
				t.Errorf("the other organisation's run = %+v, want its 600-day-old file only (defaults: files 365 days, transcripts 2555)", r.Counts)
			}
		}
		if run, _ := w.svc.LastRun(bg, w.ten.ID); run == nil || run.Failure != "organisation_held" {
			t.Errorf("last run under hold = %+v", run)
		}
	})
}
