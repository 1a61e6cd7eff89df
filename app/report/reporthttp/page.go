package reporthttp

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/report"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
)

// build computes the report of a checked request.
func (m *Module) build(c echo.Context, req request) (report.Report, error) {
	p := api.PrincipalOf(c)
	if p == nil {
		return report.Report{}, api.ErrUnauthenticated
	}
	return m.Reports.Report(c.Request().Context(), p.TenantID, req.Scope, req.Period)
}

// presetLink is one of the page's period shortcuts.
type presetLink struct {
	Label   string
	URL     string
	Current bool
}

// row is one line of a breakdown table, formatted.
type row struct {
	Name                                string
	Chats, Missed                       int
	MissedPct                           string
	WaitMean, WaitMedian, WaitP90       string
	FirstMean, FirstMedian, FirstP90    string
	HandleMean, HandleMedian, HandleP90 string
	Rated                               int
	CSAT                                string
}

// table is one breakdown: its caption, the heading of its first column and its rows.
type table struct {
	ID, Caption, Heading string
	Rows                 []row
}

// chartView is a bar chart with the id and title of its SVG element.
type chartView struct {
	ID, Title string
	Chart     report.BarChart
}

// heatRow is one weekday of the heatmap's table.
type heatRow struct {
	Day    string
	Counts [24]int
}

// csatRow is one rating of the satisfaction table.
type csatRow struct {
	Rating, Count int
	Percent       string
}

// reportsPage is what reports.html renders.
type reportsPage struct {
	// Form values as submitted (only safe shapes are reflected), errors by field.
	From, To, TZ, Department string
	Errors                   map[string]string
	Presets                  []presetLink
	Departments              []tenant.Department
	All                      bool
	// Zone is the time zone the figures are in; ScopeLabel says what they cover.
	Zone       string
	ScopeLabel string
	Shown      bool
	Days       int
	Total      row
	Tables     []table
	DaysChart  chartView
	DayRows    []report.Day
	Heat       report.Heatmap
	HeatRows   []heatRow
	Hours      [24]int
	CSATChart  chartView
	CSATRows   []csatRow
	Rated      int
	ExportURL  string
}

func pct(n, of int) string {
	if of == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(n)/float64(of))
}

func format(name string, f report.Figures) row {
	d := report.FormatDuration
	r := row{Name: name, Chats: f.Chats, Missed: f.Missed, MissedPct: pct(f.Missed, f.Chats),
		WaitMean: d(f.Wait.Mean, f.Wait.N), WaitMedian: d(f.Wait.Median, f.Wait.N), WaitP90: d(f.Wait.P90, f.Wait.N),
		FirstMean: d(f.FirstResponse.Mean, f.FirstResponse.N), FirstMedian: d(f.FirstResponse.Median, f.FirstResponse.N), FirstP90: d(f.FirstResponse.P90, f.FirstResponse.N),
		HandleMean: d(f.Handle.Mean, f.Handle.N), HandleMedian: d(f.Handle.Median, f.Handle.N), HandleP90: d(f.Handle.P90, f.Handle.N),
		Rated: f.Rated, CSAT: "–"}
	if f.Rated > 0 {
		r.CSAT = fmt.Sprintf("%.2f", f.MeanRating())
	}
	return r
}

func formatAll(gs []report.Group) []row {
	out := make([]row, 0, len(gs))
	for _, g := range gs {
		out = append(out, format(g.Name, g.Figures))
	}
	return out
}

// Shapes of query values the page shows again in its form; anything else is dropped, so no
// text, and never a card number, is reflected.
var (
	dateShape = regexp.MustCompile(`^[0-9-]{1,10}$`)
	zoneShape = regexp.MustCompile(`^[A-Za-z0-9_/+-]{1,64}$`)
)

// shapeOf returns v when it has the shape, else "".
func shapeOf(v string, shape *regexp.Regexp) string {
	if !shape.MatchString(v) || pan.Contains(v) {
		return ""
	}
	return v
}

// query builds a report URL's query string.
func query(from, to, tz, dept string) string {
	v := url.Values{}
	v.Set("from", from)
	v.Set("to", to)
	if tz != "" && tz != "UTC" {
		v.Set("tz", tz)
	}
	if dept != "" {
		v.Set("department", dept)
	}
	return v.Encode()
}

// page serves GET /reports.
func (m *Module) page(c echo.Context) error {
	d := reportsPage{TZ: shapeOf(c.QueryParam("tz"), zoneShape), Department: c.QueryParam("department"),
		From: shapeOf(c.QueryParam("from"), dateShape), To: shapeOf(c.QueryParam("to"), dateShape)}
	req, err := m.read(c)
	var ae *api.Error
	if err != nil && errors.As(err, &ae) && ae.Field != "" {
		// The form again with the field marked, and no figures.
		d.Errors = map[string]string{ae.Field: ae.Message}
		return m.render(c, http.StatusUnprocessableEntity, d, req)
	}
	if err != nil {
		return err
	}
	r, err := m.build(c, req)
	if err != nil {
		return err
	}
	d.From, d.To = r.Period.From.Format(report.DateLayout), r.Period.To.Format(report.DateLayout)
	d.Shown, d.Zone, d.Days = true, r.Period.Zone, r.Period.Days()
	d.Total = format("All chats", r.Total)
	d.Tables = []table{
		{ID: "by-department", Caption: "Chats by department", Heading: "Department", Rows: formatAll(r.ByDepartment)},
		{ID: "by-site", Caption: "Chats by site", Heading: "Site", Rows: formatAll(r.BySite)},
		{ID: "by-agent", Caption: "Chats by agent (accepted chats)", Heading: "Agent", Rows: formatAll(r.ByAgent)},
	}
	d.DaysChart = chartView{ID: "days-chart", Title: "Chats per day, with the missed chats at the foot of each bar", Chart: report.DaysChart(r.Days)}
	d.DayRows = r.Days
	d.Heat = report.HeatmapChart(r.Heatmap)
	for i, counts := range r.Heatmap {
		d.HeatRows = append(d.HeatRows, heatRow{Day: report.Weekdays[i], Counts: counts})
	}
	for i := range d.Hours {
		d.Hours[i] = i
	}
	d.CSATChart = chartView{ID: "csat-chart", Title: "Chats by satisfaction rating, 1 to 5", Chart: report.CSATChart(r.CSAT)}
	for i, n := range r.CSAT {
		d.Rated += n
		d.CSATRows = append(d.CSATRows, csatRow{Rating: i + 1, Count: n})
	}
	for i := range d.CSATRows {
		d.CSATRows[i].Percent = pct(d.CSATRows[i].Count, d.Rated)
	}
	d.ExportURL = "/reports/export.csv?" + query(d.From, d.To, r.Period.Zone, req.Department)
	return m.render(c, http.StatusOK, d, req)
}

// render fills what every state of the page shows (presets, departments, scope) and renders it.
func (m *Module) render(c echo.Context, status int, d reportsPage, req request) error {
	d.Departments, d.All = req.InScope, req.All
	zone := d.Zone
	if zone == "" {
		zone = "UTC"
		if loc, name, err := report.Location(d.TZ); err == nil && loc != nil {
			zone = name
		}
	}
	loc, _, err := report.Location(zone)
	if err != nil {
		return err
	}
	for _, p := range report.Presets {
		per := report.LastDays(m.now(), loc, zone, p.Days)
		from, to := per.From.Format(report.DateLayout), per.To.Format(report.DateLayout)
		d.Presets = append(d.Presets, presetLink{Label: p.Name, URL: "/reports?" + query(from, to, zone, req.Department),
			Current: d.Shown && d.From == from && d.To == to})
	}
	switch {
	case req.Department != "":
		for _, dep := range req.InScope {
			if dep.ID == req.Department {
				d.ScopeLabel = "the " + dep.Name + " department"
			}
		}
	case req.All:
		d.ScopeLabel = "the whole organisation"
	default:
		names := make([]string, 0, len(req.InScope))
		for _, dep := range req.InScope {
			names = append(names, dep.Name)
		}
		d.ScopeLabel = "your departments (" + strings.Join(names, ", ") + ")"
	}
	return m.Pages.Render(c, status, "reports.html", d)
}

// exportCSV serves GET /reports/export.csv: the report as CSV, recorded in the audit log (an
// export that cannot be recorded is refused).
func (m *Module) exportCSV(c echo.Context) error {
	req, err := m.read(c)
	if err != nil {
		return err
	}
	r, err := m.build(c, req)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.WriteCSV(&buf, r); err != nil {
		return err
	}
	p := api.PrincipalOf(c)
	ctx := migrations.WithTenant(c.Request().Context(), p.TenantID)
	details := map[string]string{"from": r.Period.From.Format(report.DateLayout), "to": r.Period.To.Format(report.DateLayout),
		"time_zone": r.Period.Zone, "scope": "departments"}
	if req.Scope.All {
		details["scope"] = "all"
	}
	if req.Department != "" {
		details["department_id"] = req.Department
	}
	if m.Audit == nil {
		return api.ErrUnavailable.Wrap(errors.New("report: no audit log wired"))
	}
	if err := m.Audit.Record(ctx, audit.Event{
		Tenant: p.TenantID, Actor: audit.Actor{ID: p.UserID, Kind: audit.ActorUser},
		Origin: audit.Origin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), Node: m.Node},
		Action: audit.ActionReportExport, Target: audit.Target{Kind: "report", ID: p.TenantID},
		Outcome: audit.Success, RequestID: api.RequestID(c), Details: details,
	}); err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	name := fmt.Sprintf("parley-report-%s-%s.csv", details["from"], details["to"])
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
