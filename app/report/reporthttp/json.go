package reporthttp

import (
	"math"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/report"
)

// StatsJSON is a duration summary in whole seconds.
type StatsJSON struct {
	N             int   `json:"n"`
	MeanSeconds   int64 `json:"mean_seconds"`
	MedianSeconds int64 `json:"median_seconds"`
	P90Seconds    int64 `json:"p90_seconds"`
}

// FiguresJSON are the measures of a set of chats.
type FiguresJSON struct {
	Chats         int       `json:"chats"`
	Missed        int       `json:"missed"`
	Wait          StatsJSON `json:"wait"`
	FirstResponse StatsJSON `json:"first_response"`
	Handle        StatsJSON `json:"handle"`
	Rated         int       `json:"rated"`
	// CSATMean is the mean rating to two decimals (0 when nobody rated).
	CSATMean float64 `json:"csat_mean"`
}

// GroupJSON is one agent, department or site with its figures.
type GroupJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	FiguresJSON
}

// DayJSON is one day's chats.
type DayJSON struct {
	Date   string `json:"date"`
	Chats  int    `json:"chats"`
	Missed int    `json:"missed"`
}

// ReportJSON is GET /api/v1/reports' answer.
type ReportJSON struct {
	From         string      `json:"from"`
	To           string      `json:"to"`
	TimeZone     string      `json:"time_zone"`
	Scope        string      `json:"scope"`
	DepartmentID string      `json:"department_id"`
	Total        FiguresJSON `json:"total"`
	ByAgent      []GroupJSON `json:"by_agent"`
	ByDepartment []GroupJSON `json:"by_department"`
	BySite       []GroupJSON `json:"by_site"`
	Days         []DayJSON   `json:"days"`
	// Heatmap is 7 rows (Monday first) of 24 hourly counts.
	Heatmap [][]int `json:"heatmap"`
	// CSAT counts ratings 1 to 5.
	CSAT []int `json:"csat"`
}

func secs(d time.Duration) int64 { return int64(d.Round(time.Second) / time.Second) }

func statsJSON(s report.Stats) StatsJSON {
	return StatsJSON{N: s.N, MeanSeconds: secs(s.Mean), MedianSeconds: secs(s.Median), P90Seconds: secs(s.P90)}
}

func figuresJSON(f report.Figures) FiguresJSON {
	return FiguresJSON{Chats: f.Chats, Missed: f.Missed, Wait: statsJSON(f.Wait), FirstResponse: statsJSON(f.FirstResponse),
		Handle: statsJSON(f.Handle), Rated: f.Rated, CSATMean: math.Round(f.MeanRating()*100) / 100}
}

func groupsJSON(gs []report.Group) []GroupJSON {
	out := make([]GroupJSON, 0, len(gs))
	for _, g := range gs {
		out = append(out, GroupJSON{ID: g.ID, Name: g.Name, FiguresJSON: figuresJSON(g.Figures)})
	}
	return out
}

func present(req request, r report.Report) ReportJSON {
	out := ReportJSON{From: r.Period.From.Format(report.DateLayout), To: r.Period.To.Format(report.DateLayout),
		TimeZone: r.Period.Zone, Scope: "departments", DepartmentID: req.Department, Total: figuresJSON(r.Total),
		ByAgent: groupsJSON(r.ByAgent), ByDepartment: groupsJSON(r.ByDepartment), BySite: groupsJSON(r.BySite),
		Days: make([]DayJSON, 0, len(r.Days)), Heatmap: make([][]int, 7), CSAT: r.CSAT[:]}
	if req.Scope.All {
		out.Scope = "all"
	}
	for _, d := range r.Days {
		out.Days = append(out.Days, DayJSON{Date: d.Date.Format(report.DateLayout), Chats: d.Chats, Missed: d.Missed})
	}
	for i := range r.Heatmap {
		out.Heatmap[i] = r.Heatmap[i][:]
	}
	return out
}

// getJSON serves GET /api/v1/reports.
func (m *Module) getJSON(c echo.Context) error {
	req, err := m.read(c)
	if err != nil {
		return err
	}
	r, err := m.build(c, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, present(req, r))
}
