package authz_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/rbac"
)

type reportJSON struct {
	TenantID string `json:"tenant_id"`
	Users    []struct {
		UserID string `json:"user_id"`
		Email  string `json:"email"`
		Status string `json:"status"`
		Grants []struct {
			Role           string `json:"role"`
			DepartmentID   string `json:"department_id"`
			DepartmentName string `json:"department_name"`
			GrantedBy      string `json:"granted_by"`
		} `json:"grants"`
		LastSignInAt *time.Time `json:"last_sign_in_at"`
		MFAEnabled   bool       `json:"mfa_enabled"`
		Sensitive    []string   `json:"sensitive_permissions"`
		IdleDays     int        `json:"idle_days"`
		Inactive     bool       `json:"inactive"`
	} `json:"users"`
	Digest string `json:"digest"`
	Status struct {
		LastSignedOff *time.Time `json:"last_signed_off"`
		DueBy         time.Time  `json:"due_by"`
		Overdue       bool       `json:"overdue"`
	} `json:"status"`
}

func TestAccessReview(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := newApp(t, db)
		ctx := context.Background()
		acme, depts := a.createTenant("Acme Bank", "Cards")
		owner := a.createUser(acme, "owner@acme.test", rbac.RoleOwner)
		a.createUser(acme, "admin@acme.test", rbac.RoleAdmin)
		a.createUser(acme, "auditor@acme.test", rbac.RoleAuditor)
		sup := a.createBareUser(acme.ID)
		if _, err := a.Authz.Assign(ctx, actor(acme.ID, owner.ID), sup.ID, rbac.RoleSupervisor, depts[0].ID); err != nil {
			t.Fatal(err)
		}
		aud, admin := a.login(acme.Slug, "auditor@acme.test"), a.login(acme.Slug, "admin@acme.test")

		rec := aud.do("GET", "/api/v1/access-review", "")
		rep := accounttest.Decode[reportJSON](t, rec)
		if rec.Code != 200 || rep.TenantID != acme.ID || len(rep.Users) != 4 || len(rep.Digest) != 64 {
			t.Fatalf("report: status %d, body %s", rec.Code, rec.Body)
		}
		if !rep.Status.Overdue || rep.Status.LastSignedOff != nil {
			t.Errorf("never reviewed: status = %+v, want overdue", rep.Status)
		}
		for _, u := range rep.Users {
			switch {
			case u.Email == "auditor@acme.test":
				if u.LastSignInAt == nil || u.Inactive || len(u.Sensitive) != 0 || u.Grants[0].Role != "auditor" {
					t.Errorf("auditor row = %+v", u)
				}
			case u.UserID == sup.ID:
				if len(u.Grants) != 1 || u.Grants[0].DepartmentID != depts[0].ID || u.Grants[0].DepartmentName != "Cards" || u.Grants[0].GrantedBy != owner.ID {
					t.Errorf("supervisor grants = %+v", u.Grants)
				}
				if u.LastSignInAt != nil || u.MFAEnabled || !strings.Contains(strings.Join(u.Sensitive, " "), "chat.monitor") {
					t.Errorf("supervisor row = %+v", u)
				}
			case u.Email == "owner@acme.test":
				if !strings.Contains(strings.Join(u.Sensitive, " "), "card.view_full") {
					t.Errorf("owner's sensitive permissions = %v", u.Sensitive)
				}
			}
		}

		if page := aud.do("GET", "/access-review", "").Body.String(); !strings.Contains(page, "No access review has been signed off yet") {
			t.Error("the page does not flag a tenant never reviewed")
		}
		t.Run("the admin may read but not sign off", func(t *testing.T) {
			if rec := admin.do("GET", "/api/v1/access-review", ""); rec.Code != 200 {
				t.Errorf("admin reads the report: status %d", rec.Code)
			}
			body := fmt.Sprintf(`{"report_digest":%q}`, rep.Digest)
			if rec := admin.do("POST", "/api/v1/access-review/sign-offs", body); rec.Code != 403 {
				t.Errorf("admin signs off: status %d, want 403", rec.Code)
			}
		})
		t.Run("a stale report cannot be signed off", func(t *testing.T) {
			u := a.createBareUser(acme.ID)
			if _, err := a.Authz.Assign(ctx, actor(acme.ID, owner.ID), u.ID, rbac.RoleAgent, ""); err != nil {
				t.Fatal(err)
			}
			rec := aud.do("POST", "/api/v1/access-review/sign-offs", fmt.Sprintf(`{"report_digest":%q}`, rep.Digest))
			if rec.Code != 409 || errorCode(t, rec) != "report_changed" {
				t.Errorf("status %d, body %s", rec.Code, rec.Body)
			}
			if rec := aud.do("POST", "/api/v1/access-review/sign-offs", `{}`); rec.Code != 400 {
				t.Errorf("no digest: status %d", rec.Code)
			}
		})
		t.Run("sign-off", func(t *testing.T) {
			rep = accounttest.Decode[reportJSON](t, aud.do("GET", "/api/v1/access-review", ""))
			rec := aud.do("POST", "/api/v1/access-review/sign-offs", fmt.Sprintf(`{"report_digest":%q,"notes":"Removed nobody.\nAll needed."}`, rep.Digest))
			if rec.Code != 201 {
				t.Fatalf("status %d, body %s", rec.Code, rec.Body)
			}
			so := accounttest.Decode[authz.SignOff](t, rec)
			if so.ReviewerEmail != "auditor@acme.test" || so.ReportDigest != rep.Digest || so.UserCount != 5 || so.Notes != "Removed nobody.\nAll needed." {
				t.Errorf("sign-off = %+v", so)
			}
			ev := a.Audit.find(authz.ActionAccessReviewSignOff)
			if len(ev) != 1 || ev[0].TargetID != so.ID || ev[0].Details["report_digest"] != rep.Digest {
				t.Errorf("audit = %+v", ev)
			}
			st := accounttest.Decode[reportJSON](t, aud.do("GET", "/api/v1/access-review", "")).Status
			if st.Overdue || st.LastSignedOff == nil || !st.DueBy.Equal(a.Clock.Now().UTC().AddDate(0, 6, 0)) {
				t.Errorf("after sign-off: status = %+v", st)
			}
			rec = aud.do("GET", "/api/v1/access-review/status", "")
			if body := accounttest.Decode[struct{ Overdue bool }](t, rec); rec.Code != 200 || body.Overdue {
				t.Errorf("status endpoint: %d %s", rec.Code, rec.Body)
			}
			list := accounttest.Decode[struct {
				SignOffs []authz.SignOff `json:"sign_offs"`
			}](t, aud.do("GET", "/api/v1/access-review/sign-offs", ""))
			if len(list.SignOffs) != 1 || list.SignOffs[0].ID != so.ID {
				t.Errorf("sign-offs = %+v", list.SignOffs)
			}
		})
		t.Run("console page and form", func(t *testing.T) {
			rec := aud.do("GET", "/access-review", "")
			page := rec.Body.String()
			if rec.Code != 200 || !strings.Contains(page, "next review due by") || !strings.Contains(page, `name="report_digest"`) {
				t.Fatalf("status %d", rec.Code)
			}
			rep, _ := a.AccessReviews.Report(ctx, acme.ID)
			rec = aud.doRequest(apptest.Request{Method: "POST", Path: "/access-review", Body: "report_digest=" + rep.Digest + "&notes=ok",
				ContentType: "application/x-www-form-urlencoded"})
			if rec.Code != 303 || rec.Header().Get("Location") != "/access-review?notice=review_signed" {
				t.Errorf("form: status %d, location %q", rec.Code, rec.Header().Get("Location"))
			}
			if st, _ := a.AccessReviews.Status(ctx, acme.ID); st.Overdue {
				t.Error("still overdue after the form sign-off")
			}
		})
		t.Run("no sign-off without an audit record", func(t *testing.T) {
			a.Audit.Fail = errBoom
			defer func() { a.Audit.Fail = nil }()
			rep, _ := a.AccessReviews.Report(ctx, acme.ID)
			before, _ := a.AccessReviews.SignOffs(ctx, acme.ID, 100)
			if _, err := a.AccessReviews.SignOff(ctx, actor(acme.ID, owner.ID), rep.Digest, ""); !errors.Is(err, authz.ErrAudit) {
				t.Fatalf("error = %v, want ErrAudit", err)
			}
			if after, _ := a.AccessReviews.SignOffs(ctx, acme.ID, 100); len(after) != len(before) {
				t.Error("sign-off stored without its audit record")
			}
		})
		t.Run("six months later the review is overdue and accounts are inactive", func(t *testing.T) {
			a.Clock.Advance(6*31*24*time.Hour + time.Hour)
			st, err := a.AccessReviews.Status(ctx, acme.ID)
			if err != nil || !st.Overdue {
				t.Errorf("Status = %+v, %v; want overdue", st, err)
			}
			rep, err := a.AccessReviews.Report(ctx, acme.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range rep.Users {
				if !u.Inactive || u.IdleDays < 180 {
					t.Errorf("%s: inactive %v after %d idle days", u.Email, u.Inactive, u.IdleDays)
				}
			}
		})
	})
}

func TestCleanNotes(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            bool
	}{
		{"trimmed", "  ok \n", "ok", false},
		{"lines", "a\nb\tc", "a\nb\tc", false},
		{"nul", "a\x00", "", true},
		{"escape", "a\x1b[31m", "", true},
		{"bidi", "a\u202eb", "", true},
		{"long", strings.Repeat("x", authz.MaxNotesLen+1), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := authz.CleanNotes(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("CleanNotes = %q, %v; want %q, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}
