package reporthttp_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/report/reporthttp"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

const whole = "?from=" + dataStartDate + "&to=" + dataEndDate

// TestReportScopes checks what each default role sees, on both databases: the whole
// organisation for owner and admin and for a supervisor granted tenant-wide (a tenant-wide grant
// of a department permission reaches everything, as on the live chats), its own department for a
// supervisor granted there, nothing for agent and auditor; a department
// outside the scope is refused, another tenant's or an unknown one is not found.
func TestReportScopes(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db, 600)
		all := func(string) bool { return true }
		cardsOnly := func(d string) bool { return d == h.cards }
		loansOnly := func(d string) bool { return d == h.loans }
		cases := []struct {
			who   string
			scope string
			keep  func(string) bool
			// loans is the status of a request naming Loans.
			loans int
			depts []string
		}{
			{owner, "all", all, http.StatusOK, []string{"Cards", "Loans", "No department"}},
			{admin, "all", all, http.StatusOK, []string{"Cards", "Loans", "No department"}},
			{supervisor, "all", all, http.StatusOK, []string{"Cards", "Loans", "No department"}},
			{supervisorD1, "departments", cardsOnly, http.StatusForbidden, []string{"Cards"}},
			{agentRole, "", nil, http.StatusForbidden, nil},
			{auditor, "", nil, http.StatusForbidden, nil},
		}
		for _, tc := range cases {
			t.Run(tc.who, func(t *testing.T) {
				c := h.clients[tc.who]
				rec := c.Do(http.MethodGet, "/api/v1/reports"+whole, "")
				if tc.keep == nil {
					if rec.Code != http.StatusForbidden {
						t.Fatalf("status = %d, want 403; %s", rec.Code, rec.Body)
					}
					for _, path := range []string{"/reports" + whole, "/reports/export.csv" + whole} {
						if rec := c.Do(http.MethodGet, path, ""); rec.Code != http.StatusForbidden {
							t.Errorf("%s: status = %d, want 403", path, rec.Code)
						}
					}
				} else {
					if rec.Code != http.StatusOK {
						t.Fatalf("status = %d; %s", rec.Code, rec.Body)
					}
					got := accounttest.Decode[reporthttp.ReportJSON](t, rec)
					chats, missed := h.count(dataStartDate, dataEndDate, tc.keep)
					if got.Scope != tc.scope || got.Total.Chats != chats || got.Total.Missed != missed {
						t.Errorf("scope %q, %d chats, %d missed; want %q, %d, %d", got.Scope, got.Total.Chats, got.Total.Missed, tc.scope, chats, missed)
					}
					var names []string
					for _, g := range got.ByDepartment {
						names = append(names, g.Name)
					}
					if strings.Join(names, ",") != strings.Join(sortedByChats(got.ByDepartment, tc.depts), ",") {
						t.Errorf("departments %v, want %v", names, tc.depts)
					}
				}
				// One department by name.
				rec = c.Do(http.MethodGet, "/api/v1/reports"+whole+"&department="+h.loans, "")
				if rec.Code != tc.loans {
					t.Fatalf("Loans: status = %d, want %d; %s", rec.Code, tc.loans, rec.Body)
				}
				if tc.loans == http.StatusOK {
					got := accounttest.Decode[reporthttp.ReportJSON](t, rec)
					chats, _ := h.count(dataStartDate, dataEndDate, loansOnly)
					if got.Total.Chats != chats || got.DepartmentID != h.loans || len(got.ByDepartment) != 1 {
						t.Errorf("Loans: %d chats in %d departments, want %d in 1", got.Total.Chats, len(got.ByDepartment), chats)
					}
				}
				// Another tenant's department, and one that does not exist, are not found for anyone.
				for _, d := range []string{h.otherDept, "no-such-department", "../x", strings.Repeat("a", 100)} {
					for _, path := range []string{"/api/v1/reports", "/reports", "/reports/export.csv"} {
						if rec := c.Do(http.MethodGet, path+whole+"&department="+url.QueryEscape(d), ""); rec.Code != http.StatusNotFound {
							t.Errorf("%s?department=%.20s: status = %d, want 404", path, d, rec.Code)
						}
					}
				}
			})
		}
		// The supervisor of Cards sees Cards only, on the page too, and no other department's name.
		rec := h.clients[supervisorD1].Do(http.MethodGet, "/reports"+whole, "")
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(body, "your departments (Cards)") || strings.Contains(body, "Loans") {
			t.Errorf("the Cards supervisor's page (status %d) names the wrong scope:\n%.3000s", rec.Code, body)
		}
		// The navigation links the page exactly for those who may open it.
		for who, want := range map[string]bool{owner: true, admin: true, supervisor: true, supervisorD1: true, agentRole: false, auditor: false} {
			rec := h.clients[who].Do(http.MethodGet, "/account", "")
			if got := strings.Contains(rec.Body.String(), `<a href="/reports"`); got != want {
				t.Errorf("%s: Reports link shown %v, want %v", who, got, want)
			}
		}
	})
}

// sortedByChats returns names in the order the report lists its groups (most chats first): the
// groups' own order when they hold exactly these names.
func sortedByChats(gs []reporthttp.GroupJSON, names []string) []string {
	if len(gs) != len(names) {
		return names
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := make([]string, 0, len(gs))
	for _, g := range gs {
		if !want[g.Name] {
			return names
		}
		out = append(out, g.Name)
	}
	return out
}

// TestReportInput checks the period and time zone: every mistake answers a stable code naming
// its field on the API and re-renders the page's form with the field marked, reflecting only
// values of a date's or a zone name's shape.
func TestReportInput(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db, 50)
		c := h.clients[owner]
		cases := []struct {
			name, query string
			code, field string
			message     string
		}{
			{"reversed", "from=2026-01-05&to=2026-01-01", "invalid_request", "to", "The end date must not be before the start date."},
			{"too long", "from=2025-01-01&to=2026-01-02", "invalid_request", "from", "Choose a range of at most 366 days."},
			{"not a date", "from=2026-13-01&to=2026-01-02", "invalid_request", "from", "Enter a date as YYYY-MM-DD."},
			{"script", "from=%3Cscript%3E&to=2026-01-02", "invalid_request", "from", "Enter a date as YYYY-MM-DD."},
			{"missing end", "from=2026-01-01", "invalid_request", "to", "Enter a date as YYYY-MM-DD."},
			{"far year", "from=1999-01-01&to=1999-01-02", "invalid_request", "from", "Enter a date as YYYY-MM-DD."},
			{"unknown zone", "from=2026-01-01&to=2026-01-02&tz=Mars%2FOlympus", "invalid_request", "tz", "Name a time zone such as Europe/Berlin"},
			{"zone path", "from=2026-01-01&to=2026-01-02&tz=..%2F..%2Fetc%2Fpasswd", "invalid_request", "tz", "Name a time zone"},
			{"card number", "from=2026-01-01&to=2026-01-02&tz=4111111111111111", "card_number_not_allowed", "", ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rec := c.Do(http.MethodGet, "/api/v1/reports?"+tc.query, "")
				code, field := accounttest.ErrorOf(t, rec)
				if rec.Code != http.StatusBadRequest || code != tc.code || field != tc.field {
					t.Errorf("API: %d %s %s, want 400 %s %s; %s", rec.Code, code, field, tc.code, tc.field, rec.Body)
				}
				page := c.Do(http.MethodGet, "/reports?"+tc.query, "")
				body := page.Body.String()
				if tc.field == "" {
					if page.Code != http.StatusBadRequest || strings.Contains(body, "4111111111111111") {
						t.Errorf("page: status %d, want 400 without the card number", page.Code)
					}
					return
				}
				if page.Code != http.StatusUnprocessableEntity || !strings.Contains(body, tc.message) ||
					!strings.Contains(body, `id="`+tc.field+`-error"`) || !strings.Contains(body, `aria-invalid="true"`) {
					t.Errorf("page: status %d, want 422 with %q on %s:\n%.2000s", page.Code, tc.message, tc.field, body)
				}
				if strings.Contains(body, "<script>") || strings.Contains(body, "passwd") {
					t.Errorf("page reflects the input")
				}
				if strings.Contains(body, "<svg") {
					t.Errorf("page shows figures for a refused period")
				}
			})
		}
		// The longest period allowed, and the default (the last 7 days up to the clock's today).
		if rec := c.Do(http.MethodGet, "/api/v1/reports?from=2025-01-05&to=2026-01-05", ""); rec.Code != http.StatusOK {
			t.Errorf("366 days: status %d; %s", rec.Code, rec.Body)
		}
		got := accounttest.Decode[reporthttp.ReportJSON](t, c.Do(http.MethodGet, "/api/v1/reports", ""))
		if got.From != "2025-12-30" || got.To != "2026-01-05" || got.TimeZone != "UTC" || len(got.Days) != 7 {
			t.Errorf("default period %s..%s %s (%d days), want 2025-12-30..2026-01-05 UTC", got.From, got.To, got.TimeZone, len(got.Days))
		}
	})
}

// TestReportPage checks the page: the charts as SVG with classes (no inline style), each with
// its table, the time zone named, the presets and the export link.
func TestReportPage(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db, 400)
		c := h.clients[owner]
		rec := c.Do(http.MethodGet, "/reports"+whole, "")
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, body)
		}
		chats, _ := h.count(dataStartDate, dataEndDate, func(string) bool { return true })
		for _, want := range []string{
			`<a href="/reports" aria-current="page">Reports</a>`, `href="/static/reports.css"`,
			"Times are in UTC.", "the whole organisation", `<dd>` + strconv.Itoa(chats) + `</dd>`,
			`<svg class="chart" viewBox="0 0 720 240" role="img" aria-labelledby="days-chart-title"`,
			`<svg class="chart heatmap"`, `aria-labelledby="csat-chart-title"`, `class="bar-chats"`, `class="heat heat-`,
			`<caption id="days-caption">`, `<caption id="heat-caption">`, `<caption id="csat-caption">`, `<caption id="by-agent-caption">`,
			`<th scope="row">Cards</th>`, `<th scope="row">No department</th>`, `<th scope="col">Wait p90</th>`,
			`href="/reports/export.csv?from=2025-12-20&amp;to=2026-01-08"`, `href="/reports?from=2026-01-05&amp;to=2026-01-05"`,
			`>Last 30 days</a>`, `<input id="from" name="from" type="date" value="2025-12-20"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %s", want)
			}
		}
		if strings.Contains(body, "style=") || strings.Contains(body, "<script>") {
			t.Errorf("page has an inline style or script")
		}
		rec = c.Do(http.MethodGet, "/reports"+whole+"&tz=America%2FNew_York", "")
		if body := rec.Body.String(); rec.Code != http.StatusOK || !strings.Contains(body, "Times are in America/New_York.") ||
			!strings.Contains(body, `value="America/New_York"`) || !strings.Contains(body, "tz=America%2FNew_York") {
			t.Errorf("page in New York time: status %d", rec.Code)
		}
	})
}

// TestReportCSV checks the export: a CSV attachment whose formula-like cells are neutralised,
// within the caller's scope, and recorded in the audit log.
func TestReportCSV(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db, 300)
		rec := h.clients[owner].Do(http.MethodGet, "/reports/export.csv"+whole+"&tz=Europe%2FBerlin", "")
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
			rec.Header().Get("Content-Disposition") != `attachment; filename="parley-report-2025-12-20-2026-01-08.csv"` {
			t.Fatalf("export: %d %v", rec.Code, rec.Header())
		}
		rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		sections := map[string]int{}
		for _, r := range rows[1:] {
			sections[r[0]]++
			for _, cell := range r {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("cell %q would be read as a formula", cell)
				}
			}
			if r[0] == "site" && strings.Contains(r[1], "HYPERLINK") && !strings.HasPrefix(r[1], `'=HYPERLINK`) {
				t.Errorf("site cell %q not neutralised", r[1])
			}
		}
		if rows[1][0] != "total" || rows[1][1] != "2025-12-20..2026-01-08 Europe/Berlin" || sections["department"] != 3 ||
			sections["site"] != 2 || sections["csat"] != 5 || sections["hour"] != 7*24 {
			t.Errorf("export sections %v, first row %v", sections, rows[1])
		}
		evs := h.a.AuditEvents(h.acme.ID, audit.ActionReportExport)
		if len(evs) != 1 || evs[0].Details["scope"] != "all" || evs[0].Details["from"] != "2025-12-20" || evs[0].Details["time_zone"] != "Europe/Berlin" {
			t.Fatalf("report.export records %+v", evs)
		}
		// The Cards supervisor's export holds Cards only.
		rec = h.clients[supervisorD1].Do(http.MethodGet, "/reports/export.csv"+whole, "")
		rows, err = csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
		if err != nil || rec.Code != http.StatusOK {
			t.Fatalf("supervisor export: %d %v", rec.Code, err)
		}
		for _, r := range rows {
			if r[0] == "department" && r[1] != "Cards" {
				t.Errorf("supervisor of Cards exports department %q", r[1])
			}
		}
	})
}
