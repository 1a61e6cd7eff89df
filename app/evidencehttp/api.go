package evidencehttp

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/compliance/evidence"
	"github.com/parleyhq/parley/migrations"
)

// ReportBody is one evidence report as the API shows it: its request, its generation status and,
// once done, its summary and download link.
type ReportBody struct {
	ID        string             `json:"id"`
	Framework evidence.Framework `json:"framework"`
	// From is the period's first day and To its last (both included).
	From      string             `json:"from"`
	To        string             `json:"to"`
	CreatedAt time.Time          `json:"created_at"`
	Status    evidence.JobStatus `json:"status"`
	// Progress is in percent; Stage names the step generation is at.
	Progress int    `json:"progress"`
	Stage    string `json:"stage"`
	Attempts int    `json:"attempts"`
	// Failure names why a failed report failed, by kind.
	Failure     string    `json:"failure,omitempty"`
	Events      int64     `json:"events"`
	Pass        int       `json:"pass"`
	Fail        int       `json:"fail"`
	Manual      int       `json:"manual"`
	SHA256      string    `json:"sha256,omitempty"`
	Size        int64     `json:"size"`
	RetainUntil time.Time `json:"retain_until"`
	Download    string    `json:"download,omitempty"`
}

func reportBody(r evidence.Stored) ReportBody {
	b := ReportBody{ID: r.ID, Framework: r.Framework, From: r.PeriodFrom.Format(time.DateOnly), To: r.PeriodTo.AddDate(0, 0, -1).Format(time.DateOnly),
		CreatedAt: r.CreatedAt.UTC(), Status: r.Status, Progress: r.Progress, Stage: r.Stage, Attempts: r.Attempts, Failure: r.Failure,
		Events: r.Events, Pass: r.Pass, Fail: r.Fail, Manual: r.Manual, SHA256: r.SHA256, Size: r.Size, RetainUntil: r.RetainUntil.UTC()}
	if r.Status == evidence.JobDone {
		b.Download = "/evidence/" + r.ID + "/download"
	}
	return b
}

// ListBody is the answer of GET /api/v1/evidence/reports.
type ListBody struct {
	Reports []ReportBody `json:"reports"`
}

func (m *Module) listAPI(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	list, err := m.Store.List(migrations.WithTenant(c.Request().Context(), p.TenantID), p.TenantID, historyLimit)
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	out := ListBody{Reports: make([]ReportBody, 0, len(list))}
	for _, r := range list {
		out.Reports = append(out.Reports, reportBody(r))
	}
	return c.JSON(http.StatusOK, out)
}

func (m *Module) reportAPI(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	id := c.Param("report")
	if !validID(id) {
		return api.ErrNotFound
	}
	r, err := m.Store.Status(migrations.WithTenant(c.Request().Context(), p.TenantID), p.TenantID, id)
	if errors.Is(err, evidence.ErrNotFound) {
		return api.ErrNotFound
	}
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	return c.JSON(http.StatusOK, reportBody(r))
}

// GenerateRequest is the body of POST /api/v1/evidence/reports: a framework and the period's
// first and last days (YYYY-MM-DD, UTC, both included).
type GenerateRequest struct {
	Framework string `json:"framework"`
	From      string `json:"from"`
	To        string `json:"to"`
}

func (m *Module) generateAPI(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var in GenerateRequest
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	for field, v := range map[string]string{"framework": in.Framework, "from": in.From, "to": in.To} {
		if len(v) > 10 {
			return api.ErrInvalidRequest.WithField(field).WithMessage("The value is too long.")
		}
	}
	fw, from, to, problem, field := m.checkPeriod(strings.TrimSpace(in.Framework), strings.TrimSpace(in.From), strings.TrimSpace(in.To))
	if problem != "" {
		return api.ErrInvalidRequest.WithField(field).WithMessage(problem)
	}
	r, err := m.queue(c, p, fw, from, to)
	if err != nil {
		return err
	}
	status := http.StatusAccepted
	if r.Status == evidence.JobDone {
		status = http.StatusCreated
	}
	return c.JSON(status, reportBody(r))
}

// validID reports whether id has the form of a report id (32 lower-case hexadecimal digits).
func validID(id string) bool {
	return len(id) == 32 && strings.Trim(id, "0123456789abcdef") == ""
}
