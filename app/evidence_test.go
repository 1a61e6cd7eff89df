package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/compliance/evidence"
	"github.com/parleyhq/parley/compliance/scan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/signin"
)

// TestEvidenceChecksOnLiveData runs the evidence checks that read the database against the real
// stores on each database, with a passing and a failing configuration made through the services.
func TestEvidenceChecksOnLiveData(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		org, owner := a.CreateUser("Acme Bank", "owner@acme.test", "Tr1cky-Lantern-Harbour", "owner", false)
		ctx := migrations.WithTenant(context.Background(), org.ID)
		g := a.Evidence()
		run := func(id string) evidence.Result {
			t.Helper()
			c, _ := evidence.CheckByID(id)
			return c.Run(ctx, evidence.Input{Tenant: org.ID, Now: a.Clock.Now(), Sources: g.Sources})
		}
		want := func(id string, st evidence.Status) {
			t.Helper()
			if r := run(id); r.Status != st {
				t.Errorf("%s: %s (%s %v), want %s", id, r.Status, r.Evidence, r.Details, st)
			}
		}
		by := account.Actor{TenantID: org.ID, UserID: owner.ID}

		// The defaults a new organisation starts with hold.
		for _, id := range []string{evidence.CheckPasswordPolicy, evidence.CheckLockout, evidence.CheckIdleTimeout, evidence.CheckInactiveAccounts,
			evidence.CheckKeyRotation, evidence.CheckAuditChain, evidence.CheckRetention, evidence.CheckCardMasking, evidence.CheckTranscriptEmail} {
			want(id, evidence.Pass)
		}
		// Never reviewed, never scanned, MFA not required: these fail.
		for _, id := range []string{evidence.CheckAccessReview, evidence.CheckPANScan, evidence.CheckMFA} {
			want(id, evidence.Fail)
		}

		// Idle timeout: a non-PCI session policy with a 30-minute idle timeout fails.
		if err := a.Accounts.SetSessionPolicy(ctx, by, signin.SessionPolicy{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour, InactiveAfter: 90 * 24 * time.Hour}); err != nil {
			t.Fatal(err)
		}
		want(evidence.CheckIdleTimeout, evidence.Fail)

		// MFA: required by the policy and enrolled passes.
		if err := a.Accounts.SetMFAPolicy(ctx, by, account.MFAPolicy{Required: true, GraceSignIns: 3}); err != nil {
			t.Fatal(err)
		}
		want(evidence.CheckMFA, evidence.Fail) // required, not enrolled
		if err := db.Gorm.WithContext(ctx).Model(&account.User{}).Where("id = ?", owner.ID).Update("mfa_enabled", true).Error; err != nil {
			t.Fatal(err)
		}
		want(evidence.CheckMFA, evidence.Pass)

		// Access review: signed off passes.
		rep, err := a.AccessReviews.Report(ctx, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.AccessReviews.SignOff(ctx, authz.Actor{TenantID: org.ID, UserID: owner.ID}, rep.Digest, "quarterly review"); err != nil {
			t.Fatal(err)
		}
		want(evidence.CheckAccessReview, evidence.Pass)

		// PAN scan: a clean scan passes, one that found card numbers fails.
		now := a.Clock.Now()
		store := &scan.Store{DB: db.Gorm}
		if err := store.Save(context.Background(), scan.Report{ID: "scan-1", StartedAt: now.Add(-time.Minute), FinishedAt: now,
			Locations: []scan.Location{{Kind: "table", Name: "messages", Items: 10}}}); err != nil {
			t.Fatal(err)
		}
		want(evidence.CheckPANScan, evidence.Pass)
		if err := store.Save(context.Background(), scan.Report{ID: "scan-2", StartedAt: now, FinishedAt: now.Add(time.Second),
			Locations: []scan.Location{{Kind: "table", Name: "messages", Items: 10, Matches: 1, Hits: 1, Samples: []scan.Sample{{Ref: "row 1", Masked: "************1111"}}}}}); err != nil {
			t.Fatal(err)
		}
		want(evidence.CheckPANScan, evidence.Fail)

		// Transcript e-mail: turned on for a site fails, naming the site.
		site, err := a.Tenants.CreateSite(ctx, org.ID, "Support", []string{"https://www.acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		want(evidence.CheckTranscriptEmail, evidence.Pass)
		st, err := a.Chat.SiteSettings(ctx, site.ID)
		if err != nil {
			t.Fatal(err)
		}
		st.TranscriptEmail = true
		if err := a.Chat.SetSiteSettings(ctx, &identity.Principal{TenantID: org.ID, UserID: owner.ID}, site, st, chat.Origin{}); err != nil {
			t.Fatal(err)
		}
		if r := run(evidence.CheckTranscriptEmail); r.Status != evidence.Fail || len(r.Details) != 1 || r.Details[0] != "Support" {
			t.Errorf("transcript e-mail on: %+v", r)
		}

		// Time passes: the key outlives its cryptoperiod, the owner their 90 days, the review its six months.
		a.Clock.Advance(400 * 24 * time.Hour)
		for _, id := range []string{evidence.CheckKeyRotation, evidence.CheckInactiveAccounts, evidence.CheckAccessReview} {
			want(id, evidence.Fail)
		}

		// The audit chain, sealed, verifies with its signed checkpoints (its failures are the
		// audit package's tests and the table test's).
		if _, err := a.App.Audit.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		want(evidence.CheckAuditChain, evidence.Pass)
	})
}
