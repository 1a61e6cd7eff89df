package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Check is one readiness probe: the database, the key provider, the audit log.
type Check struct {
	Name string
	// Run returns nil when the dependency works. Detail is safe to publish (no causes, no
	// addresses): e.g. {"provider":"local-dev","production":false}.
	Run func(ctx context.Context) (detail map[string]any, err error)
}

// CheckResult is one check's entry in the /readyz body.
type CheckResult struct {
	Status string         `json:"status"`
	Detail map[string]any `json:"detail,omitempty"`
}

// Readiness is the /readyz body for a caller allowed its details.
type Readiness struct {
	Status string                 `json:"status"`
	Checks map[string]CheckResult `json:"checks"`
}

// ReadySummary is the /readyz body for anyone else: ready or unavailable, nothing about what
// Parley runs on.
type ReadySummary struct {
	Status string `json:"status"`
}

type health struct {
	checks  []Check
	log     *slog.Logger
	timeout time.Duration
	// details reports whether the request may see each check's result and detail; nil: nobody.
	details func(*http.Request) bool
}

func (h *health) routes() []Route {
	return []Route{
		{Method: http.MethodGet, Path: "/healthz", Access: Public, API: true, Summary: "Liveness: the process answers.", Handler: h.live},
		{Method: http.MethodGet, Path: "/readyz", Access: Public, API: true, Summary: "Readiness: database, key provider and audit log reachable (per-check details with the metrics token).", Handler: h.ready},
	}
}

func (h *health) live(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// Ready runs every check concurrently with a timeout and reports each.
func (h *health) Ready(ctx context.Context) Readiness {
	out := Readiness{Status: "ready", Checks: make(map[string]CheckResult, len(h.checks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ch := range h.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, h.timeout)
			defer cancel()
			detail, err := ch.Run(cctx)
			res := CheckResult{Status: "ok", Detail: detail}
			if err != nil {
				res.Status = "unavailable"
				h.log.WarnContext(ctx, "readiness check failed", "check", ch.Name, "cause", err.Error())
			}
			mu.Lock()
			out.Checks[ch.Name] = res
			if err != nil {
				out.Status = "unavailable"
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// ready answers 200 when every check passes, else 503. The body says only ready or unavailable,
// unless the caller may see the details (Deps.ReadyDetails: the metrics bearer token), for the
// key provider's kind, the database dialect and the audit alerts tell an attacker what to aim at.
func (h *health) ready(c echo.Context) error {
	r := h.Ready(c.Request().Context())
	status := http.StatusOK
	if r.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	if h.details != nil && h.details(c.Request()) {
		return c.JSON(status, r)
	}
	return c.JSON(status, ReadySummary{Status: r.Status})
}
