package retentionhttp

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/retention"
)

// PeriodBody is one kind's retention as the API shows it.
type PeriodBody struct {
	Kind      string         `json:"kind"`
	Label     string         `json:"label"`
	Days      int            `json:"days"`
	IsDefault bool           `json:"is_default"`
	Min       int            `json:"min_days"`
	Sites     map[string]int `json:"sites"`
}

// HoldBody is a legal hold as the API shows it.
type HoldBody struct {
	ID            string     `json:"id"`
	Kind          string     `json:"kind"`
	TargetID      string     `json:"target_id"`
	Reason        string     `json:"reason"`
	PlacedBy      string     `json:"placed_by"`
	PlacedAt      time.Time  `json:"placed_at"`
	ReleasedAt    *time.Time `json:"released_at,omitempty"`
	ReleaseReason string     `json:"release_reason,omitempty"`
}

// RunBody is the job's last run as the API shows it.
type RunBody struct {
	ID         string           `json:"id"`
	Status     string           `json:"status"`
	StartedBy  string           `json:"started_by"`
	Node       string           `json:"node"`
	StartedAt  time.Time        `json:"started_at"`
	FinishedAt *time.Time       `json:"finished_at,omitempty"`
	Removed    retention.Counts `json:"removed"`
	Failure    string           `json:"failure,omitempty"`
}

// RetentionBody is GET /api/v1/retention.
type RetentionBody struct {
	Periods []PeriodBody `json:"periods"`
	Holds   []HoldBody   `json:"holds"`
	LastRun *RunBody     `json:"last_run"`
}

func holdBody(h retention.Hold) HoldBody {
	return HoldBody{ID: h.ID, Kind: string(h.Kind), TargetID: h.TargetID, Reason: h.Reason, PlacedBy: h.PlacedBy, PlacedAt: h.PlacedAt,
		ReleasedAt: h.ReleasedAt, ReleaseReason: h.ReleaseReason}
}

func runBody(r *retention.Run) *RunBody {
	if r == nil {
		return nil
	}
	return &RunBody{ID: r.ID, Status: r.Status, StartedBy: r.StartedBy, Node: r.Node, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		Removed: r.Counts, Failure: r.Failure}
}

func (m *Module) getRetention(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	periods, err := m.Service.Periods(ctx, p.TenantID)
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	holds, err := m.Service.Holds(ctx, p.TenantID)
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	run, err := m.Service.LastRun(ctx, p.TenantID)
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	out := RetentionBody{Periods: []PeriodBody{}, Holds: []HoldBody{}, LastRun: runBody(run)}
	for _, pr := range periods {
		out.Periods = append(out.Periods, PeriodBody{Kind: string(pr.Kind), Label: pr.Label, Days: pr.Days, IsDefault: pr.IsDefault, Min: pr.Min, Sites: pr.Sites})
	}
	for _, h := range holds {
		out.Holds = append(out.Holds, holdBody(h))
	}
	return c.JSON(http.StatusOK, out)
}

type daysBody struct {
	Days int `json:"days"`
}

func (m *Module) putPeriod(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	k := retention.Kind(c.Param("kind"))
	if _, ok := retention.Info(k); !ok {
		return api.ErrNotFound
	}
	var in daysBody
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	if _, err := m.Service.SetPeriod(c.Request().Context(), actor(c, p), k, in.Days); err != nil {
		return apiError(err)
	}
	return c.JSON(http.StatusOK, in)
}

type holdIn struct {
	Kind     string `json:"kind"`
	TargetID string `json:"target_id"`
	Reason   string `json:"reason"`
}

func (m *Module) postHold(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var in holdIn
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	h, err := m.Service.PlaceHold(c.Request().Context(), actor(c, p), retention.HoldKind(in.Kind), in.TargetID, in.Reason)
	if err != nil {
		if errors.Is(err, retention.ErrNotFound) {
			return errNoTarget
		}
		return apiError(err)
	}
	return c.JSON(http.StatusCreated, holdBody(h))
}

type reasonIn struct {
	Reason string `json:"reason"`
}

func (m *Module) postRelease(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var in reasonIn
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	h, err := m.Service.ReleaseHold(c.Request().Context(), actor(c, p), c.Param("hold"), in.Reason)
	if err != nil {
		return apiError(err)
	}
	return c.JSON(http.StatusOK, holdBody(h))
}

func (m *Module) deleteTranscript(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	if _, err := m.visible(c, p, c.Param("conversation")); err != nil {
		return err
	}
	if err := m.Service.DeleteConversation(c.Request().Context(), actor(c, p), c.Param("conversation")); err != nil {
		return apiError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (m *Module) getVisitorRetention(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	pr, err := m.Service.Period(c.Request().Context(), p.TenantID, retention.Visitors)
	if err != nil {
		return api.ErrUnavailable.Wrap(err)
	}
	return c.JSON(http.StatusOK, daysBody{Days: pr.Days})
}

func (m *Module) putVisitorRetention(c echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var in daysBody
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	if _, err := m.Service.SetPeriod(c.Request().Context(), actor(c, p), retention.Visitors, in.Days); err != nil {
		return apiError(err)
	}
	return c.JSON(http.StatusOK, in)
}
