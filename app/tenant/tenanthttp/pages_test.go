package tenanthttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// page checks a console page's answer: status, no inline script or style, and the fragments.
func page(t *testing.T, what string, rec *httptest.ResponseRecorder, status int, contains ...string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("%s = %d, want %d: %s", what, rec.Code, status, rec.Body)
	}
	body := rec.Body.String()
	if strings.Contains(body, "<script>") || strings.Contains(body, "style=") || strings.Contains(body, " onclick") {
		t.Errorf("%s carries inline script or style", what)
	}
	for _, c := range contains {
		if !strings.Contains(body, c) {
			t.Errorf("%s does not contain %q", what, c)
		}
	}
}

// redirected checks a form's 303 and returns where it leads.
func redirected(t *testing.T, what string, rec *httptest.ResponseRecorder, prefix string) string {
	t.Helper()
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("%s = %d to %q, want 303 to %s…: %s", what, rec.Code, loc, prefix, rec.Body)
	}
	return loc
}

// settingsValues is the settings form as the page sends it with the default settings.
func settingsValues() url.Values {
	return url.Values{
		"cookie_mode": {"persistent"}, "default_language": {"en"}, "texts_lang": {""}, "texts_body": {""},
		"color": {"#1d4ed8"}, "position": {"right"}, "launcher_label": {""}, "prechat_enabled": {"on"}, "ask_name": {"on"},
		"ask_email": {"on"}, "consent_text": {""}, "question_id": {"", ""}, "question_label": {"", ""},
		"question_required": {"no", "no"}, "question_max_length": {"", ""}, "postchat_enabled": {"on"},
		"file_max_bytes": {"1048576"}, "queue_timeout_seconds": {"300"}, "sensitive_params": {""},
		"default_department_id": {""}, "hours_timezone": {""},
	}
}

func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// TestSitePages: the sites list and a site's page through the real router: adding a site (PRG,
// once however often the form is sent), field errors shown next to their field, the embed code
// pinned with SRI, the widget settings form saved through the chat service (and audited), the
// disable form asking for confirmation; another organisation's site is not found, and a user
// without site.manage is refused.
func TestSitePages(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		ctx := context.Background()

		page(t, "sites page", h.owner.Do(http.MethodGet, "/sites?notice=%3Cb%3Eowned", ""), 200,
			`action="/sites"`, `name="csrf_token"`, `<label for="allowed_origins"`, "No site yet")
		if strings.Contains(h.owner.Do(http.MethodGet, "/sites?notice=%3Cb%3Eowned", "").Body.String(), "owned") {
			t.Error("the notice reflects the query string")
		}
		add := url.Values{"name": {"Web shop"}, "allowed_origins": {"https://web.acme.test\r\nhttps://b.acme.test:8443\r\n"}}
		loc := redirected(t, "add site", form(h.owner, "/sites", add), "/sites/")
		id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/sites/")
		site, err := h.a.Tenants.Site(ctx, h.acme.ID, id)
		if err != nil || site.AllowedOrigins != "https://web.acme.test https://b.acme.test:8443" {
			t.Fatalf("added site = %+v, %v", site, err)
		}
		page(t, "add site again", form(h.owner, "/sites", add), http.StatusConflict, `id="name-error"`, "Another site of the organisation has that name.", `aria-invalid="true"`)
		page(t, "plain http origin", form(h.owner, "/sites", url.Values{"name": {"Plain"}, "allowed_origins": {"http://plain.acme.test"}}),
			http.StatusBadRequest, `id="origins-error"`, "Origin 1:", "http://plain.acme.test")
		page(t, "card number in the name", form(h.owner, "/sites", url.Values{"name": {"Shop 4111 1111 1111 1111"}, "allowed_origins": {"https://x.acme.test"}}),
			http.StatusBadRequest, `id="name-error"`, "A card number is not allowed")
		if sites, _ := h.a.Tenants.Sites(ctx, h.acme.ID); len(sites) != 1 {
			t.Errorf("Acme has %d sites, want 1", len(sites))
		}
		if n := len(h.events(h.acme.ID, audit.ActionCardRefused)); n != 1 {
			t.Errorf("card.data.refused audited %d times, want 1", n)
		}

		page(t, "site page", h.owner.Do(http.MethodGet, "/sites/"+id+"?notice=site_created", ""), 200,
			"The site was added.", "/widget/v1/widget.js", `data-site=&#34;`+site.SiteKey, "integrity=&#34;sha384-", `data-copy="embed-code"`,
			`<code>`+site.ID+`</code>`, `action="/sites/`+id+`/settings"`, `<label for="queue_timeout_seconds"`, `action="/sites/`+id+`/disable"`)

		// Name and origins.
		redirected(t, "rename", form(h.owner, "/sites/"+id, url.Values{"name": {"Web store"}, "allowed_origins": {"https://web.acme.test"}}), "/sites/"+id+"?notice=site_changed")
		page(t, "rename without origins", form(h.owner, "/sites/"+id, url.Values{"name": {"Web store"}, "allowed_origins": {""}}), 400,
			`id="origins-error"`, "at least one origin")

		// Widget settings, saved through the chat service.
		dep, err := h.a.Tenants.CreateDepartment(ctx, h.acme.ID, "Cards")
		if err != nil {
			t.Fatal(err)
		}
		good := with(settingsValues(), "color", "#112233", "queue_timeout_seconds", "600", "file_transfer", "on", "default_department_id", dep.ID,
			"hours_enabled", "on", "hours_timezone", "Europe/Berlin", "hours_mon", "09:00-12:00, 13:00-17:00", "sensitive_params", "token\nsession_id",
			"rate_messages_per_minute", "6", "rate_message_burst", "", "rate_chats_per_hour", "5")
		good["texts_lang"], good["texts_body"] = []string{"de", ""}, []string{"greeting = Hallo!\ntitle = Chat mit uns\n", ""}
		good["question_id"], good["question_label"], good["question_required"], good["question_max_length"] = []string{"account", ""}, []string{"Account number", ""}, []string{"yes", "no"}, []string{"20", ""}
		redirected(t, "save settings", form(h.owner, "/sites/"+id+"/settings", good), "/sites/"+id+"?notice=settings_changed")
		set, err := h.a.Chat.SiteSettings(migrations.WithTenant(ctx, h.acme.ID), id)
		if err != nil {
			t.Fatal(err)
		}
		if set.Appearance.Color != "#112233" || set.QueueTimeoutSeconds != 600 || !set.FileTransfer || set.DefaultDepartmentID != dep.ID ||
			set.Texts["de"]["greeting"] != "Hallo!" || set.BusinessHours == nil || len(set.BusinessHours.Days["mon"]) != 2 ||
			len(set.Prechat.Questions) != 1 || !set.Prechat.Questions[0].Required || set.Prechat.Questions[0].MaxLength != 20 ||
			len(set.SensitiveParams) != 2 || set.Prechat.AskEmail != true || set.Prechat.RequireName ||
			set.RateLimits == nil || *set.RateLimits != (chat.RateLimits{MessagesPerMinute: 6, ChatsPerHour: 5}) {
			t.Fatalf("saved settings = %+v", set)
		}
		page(t, "site page with settings", h.owner.Do(http.MethodGet, "/sites/"+id, ""), 200,
			`value="#112233"`, "greeting = Hallo!", `value="account"`, `value="09:00-12:00, 13:00-17:00"`, `value="`+dep.ID+`" selected`,
			`<label for="rate_messages_per_minute">`, `id="rate_messages_per_minute" name="rate_messages_per_minute" value="6"`,
			`id="rate_message_burst" name="rate_message_burst" value=""`, `id="rate_chats_per_hour" name="rate_chats_per_hour" value="5"`,
			"60 messages per minute after a burst of 10", "can only tighten")
		for _, tt := range []struct {
			name   string
			form   url.Values
			status int
			want   []string
		}{
			{"bad colour", with(good, "color", "red"), 400, []string{`id="color-error"`, "The color must be #RRGGBB."}},
			{"bad queue timeout", with(good, "queue_timeout_seconds", "5"), 400, []string{`id="queue-error"`, "30 seconds to one day"}},
			{"queue timeout not a number", with(good, "queue_timeout_seconds", "soon"), 400, []string{`id="queue-error"`, `value="soon"`}},
			{"bad file size", with(good, "file_max_bytes", "lots"), 400, []string{`id="file-error"`}},
			{"bad hours", with(good, "hours_mon", "17:00-09:00"), 400, []string{`id="days-error"`}},
			{"bad time zone", with(good, "hours_timezone", "Mars/Olympus"), 400, []string{`id="tz-error"`}},
			{"bad text line", with(good, "texts_body", "greeting Hallo"), 400, []string{`id="texts-error"`}},
			{"card number in a question id", with(good, "question_id", "4111111111111111"), 400, []string{`id="questions-error"`, "card number"}},
			{"unknown department", with(good, "default_department_id", "nope"), 400, []string{`id="department-error"`}},
			{"messages per minute above the installation's", with(good, "rate_messages_per_minute", "61"), 400,
				[]string{`id="rate-messages-error"`, "1 to 60 messages per minute", `value="61"`}},
			{"burst below one", with(good, "rate_message_burst", "-1"), 400, []string{`id="rate-burst-error"`, "only tighten"}},
			{"chats per hour not a number", with(good, "rate_chats_per_hour", "many"), 400, []string{`id="rate-chats-error"`, `value="many"`}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				page(t, tt.name, form(h.owner, "/sites/"+id+"/settings", tt.form), tt.status, append(tt.want, `role="alert"`)...)
			})
		}
		if again, _ := h.a.Chat.SiteSettings(migrations.WithTenant(ctx, h.acme.ID), id); again.Appearance.Color != "#112233" || again.QueueTimeoutSeconds != 600 {
			t.Errorf("a refused form changed the settings: %+v", again)
		}
		var settingsChanges int
		for _, e := range h.events(h.acme.ID, audit.ActionSiteUpdate) {
			if e.Details["change"] == "chat_settings" {
				settingsChanges++
			}
		}
		if settingsChanges != 1 {
			t.Errorf("settings changes audited %d times, want 1", settingsChanges)
		}

		// Disable asks for confirmation.
		page(t, "disable unconfirmed", form(h.owner, "/sites/"+id+"/disable", url.Values{}), 400, `id="confirm-error"`)
		if s, _ := h.a.Tenants.Site(ctx, h.acme.ID, id); !s.Enabled {
			t.Fatal("an unconfirmed disable disabled the site")
		}
		redirected(t, "disable", form(h.owner, "/sites/"+id+"/disable", url.Values{"confirm": {"yes"}}), "/sites/"+id+"?notice=site_disabled")
		if s, _ := h.a.Tenants.Site(ctx, h.acme.ID, id); s.Enabled {
			t.Fatal("the site is still enabled")
		}
		page(t, "disabled site page", h.owner.Do(http.MethodGet, "/sites/"+id, ""), 200, "<strong>disabled</strong>", `action="/sites/`+id+`/enable"`)
		redirected(t, "enable", form(h.owner, "/sites/"+id+"/enable", url.Values{}), "/sites/"+id+"?notice=site_enabled")

		// Another organisation's site, and a user without site.manage.
		theirs, err := h.a.Tenants.CreateSite(ctx, h.other.ID, "Their shop", []string{"https://other.test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []struct {
			method, path string
			form         url.Values
		}{
			{http.MethodGet, "/sites/" + theirs.ID, nil},
			{http.MethodPost, "/sites/" + theirs.ID, url.Values{"name": {"Mine"}, "allowed_origins": {"https://evil.test"}}},
			{http.MethodPost, "/sites/" + theirs.ID + "/settings", good},
			{http.MethodPost, "/sites/" + theirs.ID + "/disable", url.Values{"confirm": {"yes"}}},
		} {
			var rec, agent *httptest.ResponseRecorder
			if r.method == http.MethodGet {
				rec, agent = h.owner.Do(r.method, r.path, ""), h.agent.Do(r.method, "/sites", "")
			} else {
				rec, agent = form(h.owner, r.path, r.form), form(h.agent, strings.Replace(r.path, theirs.ID, id, 1), r.form)
			}
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s %s (other tenant) = %d, want 404", r.method, r.path, rec.Code)
			}
			if agent.Code != http.StatusForbidden {
				t.Errorf("%s %s (agent) = %d, want 403", r.method, r.path, agent.Code)
			}
		}
		if s, _ := h.a.Tenants.Site(ctx, h.other.ID, theirs.ID); s.Name != "Their shop" || !s.Enabled {
			t.Errorf("the other organisation's site changed: %+v", s)
		}
	})
}

// TestDepartmentPages: the departments list and a department's page: adding one with hours and
// a queue timeout (once however often the form is sent), field errors, its members linked to
// their user pages, and delete refused while roles are granted there, then done after
// confirmation; another organisation's department is not found.
func TestDepartmentPages(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		ctx := context.Background()

		page(t, "departments page", h.owner.Do(http.MethodGet, "/departments", ""), 200,
			`action="/departments"`, `<label for="open_mon"`, "No department yet")
		add := url.Values{"name": {"Cards"}, "queue_timeout_seconds": {"90"}, "hours_enabled": {"on"}, "hours_timezone": {"Europe/Berlin"},
			"open_mon": {"09:00"}, "close_mon": {"17:00"}, "open_tue": {""}, "close_tue": {""}}
		loc := redirected(t, "add department", form(h.owner, "/departments", add), "/departments/")
		id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/departments/")
		d, err := h.a.Tenants.Department(ctx, h.acme.ID, id)
		if err != nil || d.QueueTimeoutSeconds != 90 || d.Hours() == nil || d.Hours().Days["mon"].Close != "17:00" || len(d.Hours().Days) != 1 {
			t.Fatalf("added department = %+v, %v", d, err)
		}
		page(t, "add department again", form(h.owner, "/departments", add), http.StatusConflict, `id="name-error"`, "Another department")
		page(t, "half a day", form(h.owner, "/departments", with(add, "name", "Loans", "close_mon", "")), 400, `id="days-error"`, "Monday")
		page(t, "short timeout", form(h.owner, "/departments", with(add, "name", "Loans", "queue_timeout_seconds", "10")), 400, `id="queue-error"`)
		page(t, "bad time zone", form(h.owner, "/departments", with(add, "name", "Loans", "hours_timezone", "Nowhere")), 400, `id="tz-error"`)
		if ds, _ := h.a.Tenants.Departments(ctx, h.acme.ID); len(ds) != 1 {
			t.Errorf("Acme has %d departments, want 1", len(ds))
		}

		owner := authz.Actor{TenantID: h.acme.ID, UserID: h.ownerID}
		grant, err := h.a.Authz.Assign(ctx, owner, h.agentID, "agent", id)
		if err != nil {
			t.Fatal(err)
		}
		page(t, "department page", h.owner.Do(http.MethodGet, "/departments/"+id+"?notice=department_created", ""), 200,
			"The department was added.", `value="Cards"`, `value="90"`, `value="09:00"`, `href="/users/`+h.agentID+`"`, "agent@acme.test",
			`<code>`+id+`</code>`, `action="/departments/`+id+`/delete"`)
		redirected(t, "change", form(h.owner, "/departments/"+id, url.Values{"name": {"Card desk"}, "queue_timeout_seconds": {""}}), "/departments/"+id+"?notice=department_changed")
		if d, _ := h.a.Tenants.Department(ctx, h.acme.ID, id); d.Name != "Card desk" || d.QueueTimeoutSeconds != 0 || d.Hours() != nil {
			t.Errorf("changed department = %+v", d)
		}

		page(t, "delete unconfirmed", form(h.owner, "/departments/"+id+"/delete", url.Values{}), 400, `id="confirm-error"`)
		page(t, "delete in use", form(h.owner, "/departments/"+id+"/delete", url.Values{"confirm": {"yes"}}), http.StatusConflict, "still has open chats or role grants", "Open chats: 0", "Roles granted here: 1")
		if err := h.a.Authz.Unassign(ctx, owner, h.agentID, grant.ID); err != nil {
			t.Fatal(err)
		}
		h.agent = h.login(h.acme, "agent@acme.test") // role changes end the agent's sessions
		redirected(t, "delete", form(h.owner, "/departments/"+id+"/delete", url.Values{"confirm": {"yes"}}), "/departments?notice=department_deleted")
		if _, err := h.a.Tenants.Department(ctx, h.acme.ID, id); err == nil {
			t.Error("the department is still there")
		}
		if n := len(h.events(h.acme.ID, audit.ActionDepartmentDelete)); n != 1 {
			t.Errorf("department.delete audited %d times, want 1", n)
		}

		theirs, err := h.a.Tenants.CreateDepartment(ctx, h.other.ID, "Their desk")
		if err != nil {
			t.Fatal(err)
		}
		if rec := h.owner.Do(http.MethodGet, "/departments/"+theirs.ID, ""); rec.Code != http.StatusNotFound {
			t.Errorf("other tenant's department page = %d, want 404", rec.Code)
		}
		if rec := form(h.owner, "/departments/"+theirs.ID+"/delete", url.Values{"confirm": {"yes"}}); rec.Code != http.StatusNotFound {
			t.Errorf("other tenant's department delete = %d, want 404", rec.Code)
		}
		if rec := h.agent.Do(http.MethodGet, "/departments", ""); rec.Code != http.StatusForbidden {
			t.Errorf("agent's departments page = %d, want 403", rec.Code)
		}
	})
}
