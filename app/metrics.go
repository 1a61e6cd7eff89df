package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/parleyhq/parley/app/account/passhash"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/server"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/auditlog"
	"github.com/parleyhq/parley/audit/forward"
	"github.com/parleyhq/parley/compliance/mode"
	"github.com/parleyhq/parley/vault"
)

// metricsContentType is the Prometheus text exposition format, version 0.0.4.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// alertKinds are the audit controls' alerts (audit/alert.go): each has an active gauge and a
// raised counter from the start, so an alert rule sees 0 before the first failure.
var alertKinds = []audit.AlertKind{
	audit.AlertChainDamaged, audit.AlertVerifyFailed, audit.AlertSealFailed,
	audit.AlertCheckpointFailed, audit.AlertForwardFailed,
}

// errMetricsToken is the answer to a scrape without the configured bearer token.
var errMetricsToken = api.ErrUnauthenticated.WithMessage("Send the metrics token as a bearer token.")

// metrics serves GET /metrics in the Prometheus text format: the probes read at each scrape
// (collect: the audit controls' alerts (PCI DSS 10.7.2), the audit outbox, the background
// verifier, the forwarding destinations, the password hasher's queue and the key provider) and
// the instruments (metrics_instruments.go: HTTP requests by route, chat messages, acks,
// deliveries, sockets and queues, the Go runtime and the process). It publishes counts, kinds
// and times only: never a tenant, a user, an address, a destination's name, a raw URL or anything
// from an event.
type metrics struct {
	// token is the SHA-256 of PARLEY_METRICS_TOKEN; the endpoint is off (404) without one.
	token   [sha256.Size]byte
	enabled bool
	version string
	alerts  *Alerts
	audit   interface {
		Pending(ctx context.Context) (int64, error)
	}
	monitor interface{ Status() auditlog.MonitorStatus }
	// forwarder returns the running audit forwarder, or nil when forwarding is off or stopped.
	forwarder func() *forward.Forwarder
	hasher    interface{ Stats() passhash.Stats }
	keys      vault.KeyProvider
	log       *slog.Logger
	// timeout bounds each probe (outbox count, key provider health) of one scrape.
	timeout time.Duration
	// drift returns the compliance drift across organisations (counts only).
	drift func() mode.Totals
	// instruments are the node's running measurements (HTTP, chat, Go runtime, process),
	// published with the probes.
	instruments *instruments
}

// routes declares GET /metrics. Its Access is Public because a scraper holds no console session
// (the Authenticated guard would refuse it before the handler runs): the handler itself requires
// the PARLEY_METRICS_TOKEN bearer token, and answers 404 when no token is configured.
func (m *metrics) Routes() []server.Route {
	return []server.Route{
		{Method: http.MethodGet, Path: "/metrics", Access: server.Public, API: true,
			Summary: "Prometheus metrics: audit controls, hasher, key provider, HTTP requests, chat, Go runtime, process (bearer token).",
			Handler: m.serve},
	}
}

// authorized reports whether header carries the configured token, comparing digests in constant
// time so neither the token's content nor its length shows in the answer's timing.
func (m *metrics) authorized(header string) bool {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], m.token[:]) == 1
}

// detailsAllowed reports whether req may see the per-check details of /readyz: only with the
// metrics bearer token, so only the operator's monitoring learns the key provider's kind, the
// database dialect and the standing audit alerts. Without PARLEY_METRICS_TOKEN nobody does.
func (m *metrics) detailsAllowed(req *http.Request) bool {
	return m.enabled && m.authorized(req.Header.Get(echo.HeaderAuthorization))
}

func (m *metrics) serve(c echo.Context) error {
	if !m.enabled {
		return api.ErrNotFound
	}
	if !m.authorized(c.Request().Header.Get(echo.HeaderAuthorization)) {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="parley-metrics"`)
		return errMetricsToken
	}
	ctx := c.Request().Context()
	e := &exposition{}
	m.collect(ctx, e)
	probes := prometheus.NewRegistry()
	if err := probes.Register(e); err != nil {
		return err
	}
	// A family that cannot be gathered is left out and logged; the others are published.
	families, err := prometheus.Gatherers{m.instruments.registry, probes}.Gather()
	if err != nil {
		m.log.WarnContext(ctx, "metrics: gather", "cause", err.Error())
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, metricsContentType)
	c.Response().WriteHeader(http.StatusOK)
	enc := expfmt.NewEncoder(c.Response(), expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}

// collect gathers every family. A probe that fails leaves its samples out (and says so in
// parley_metrics_probe_up) rather than failing the scrape, so the alerts are always published.
func (m *metrics) collect(ctx context.Context, e *exposition) {
	e.gauge("parley_build_info", "Parley's version; always 1.", 1, "version", m.version)

	raised := m.alerts.Raised()
	active := map[audit.AlertKind]bool{}
	for _, al := range m.alerts.Active() {
		active[al.Kind] = true
	}
	kinds := append([]audit.AlertKind(nil), alertKinds...)
	for k := range raised {
		if !containsKind(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	for k := range active {
		if !containsKind(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	for _, k := range kinds {
		e.counter("parley_audit_alerts_raised_total", "Audit control alerts raised since start, by kind (PCI DSS 10.7.2).",
			float64(raised[k]), "kind", string(k))
		e.gauge("parley_audit_alert_active", "1 while an audit control alert of this kind stands, else 0.",
			boolValue(active[k]), "kind", string(k))
	}

	pctx, cancel := context.WithTimeout(ctx, m.timeout)
	pending, err := m.audit.Pending(pctx)
	cancel()
	m.probe(ctx, e, "audit_outbox", err)
	if err == nil {
		e.gauge("parley_audit_outbox_pending", "Audit events appended and waiting to be sealed into their chain.", float64(pending))
	}

	st := m.monitor.Status()
	e.gauge("parley_audit_verify_last_run_timestamp_seconds", "When the background verifier last ran (0: not yet).", unixSeconds(st.LastRun))
	e.gauge("parley_audit_verify_last_full_timestamp_seconds", "When the background verifier last recomputed every chain from its start (0: not yet).", unixSeconds(st.LastFull))
	e.gauge("parley_audit_verify_ok", "0 while a chain is damaged or the last verification could not run, else 1.", boolValue(st.Healthy))
	e.gauge("parley_audit_verify_damaged_chains", "Chains the background verifier found damaged.", float64(len(st.Damaged)))
	e.gauge("parley_audit_verify_events_verified", "Events recomputed by the background verifier's last run.", float64(st.Verified))

	var sinks []forward.SinkStatus
	if f := m.forwarder(); f != nil {
		sinks = f.Status()
	}
	e.gauge("parley_audit_forward_running", "1 while audit forwarding runs on this node, else 0.", boolValue(len(sinks) > 0))
	for _, s := range sinks {
		kind := sinkKind(s.Name)
		e.gauge("parley_audit_forward_sink_healthy", "1 while the forwarding destination accepts events, else 0.", boolValue(s.Healthy), "sink", kind)
		e.gauge("parley_audit_forward_sink_failures", "Consecutive failures of the forwarding destination.", float64(s.Failures), "sink", kind)
		e.gauge("parley_audit_forward_sink_last_success_timestamp_seconds", "When the forwarding destination last accepted events (0: not since start).", unixSeconds(s.LastSuccess), "sink", kind)
		e.counter("parley_audit_forward_events_total", "Audit entries sent to the forwarding destination since start.", float64(s.Forwarded), "sink", kind)
	}

	if m.drift != nil {
		e.gauge("parley_compliance_drift_checks", "Automated compliance checks failing while the compliance mode covering their control is on, summed over organisations.", float64(m.drift().Checks))
	}

	if m.hasher != nil {
		hs := m.hasher.Stats()
		e.gauge("parley_password_hash_in_flight", "Password hash derivations running now.", float64(hs.InFlight))
		e.gauge("parley_password_hash_waiting", "Callers queued for a password hash slot.", float64(hs.Waiting))
		e.gauge("parley_password_hash_max_concurrent", "Most password hash derivations run at once.", float64(hs.MaxConcurrent))
		e.gauge("parley_password_hash_max_waiting", "Most callers queued for a password hash slot.", float64(hs.MaxWaiting))
		e.counter("parley_password_hash_rejected_total", "Password hash requests refused because the queue was full, since start.", float64(hs.Rejected))
	}

	if m.keys != nil {
		kctx, cancel := context.WithTimeout(ctx, m.timeout)
		err := m.keys.Health(kctx)
		cancel()
		if err != nil {
			m.log.WarnContext(ctx, "metrics: key provider health", "cause", err.Error())
		}
		e.gauge("parley_key_provider_up", "1 when the key provider answers, else 0.", boolValue(err == nil), "provider", m.keys.Kind())
		e.gauge("parley_key_provider_production", "1 when the key provider is fit for production (Vault transit), else 0.", boolValue(m.keys.Production()), "provider", m.keys.Kind())
	}
}

// probe records whether a probe of the scrape worked, logging the cause of one that did not.
func (m *metrics) probe(ctx context.Context, e *exposition, name string, err error) {
	if err != nil {
		m.log.WarnContext(ctx, "metrics: probe failed", "probe", name, "cause", err.Error())
	}
	e.gauge("parley_metrics_probe_up", "1 when the probe behind a group of metrics answered during this scrape, else 0.", boolValue(err == nil), "probe", name)
}

// sinkKind names a forwarding destination by its kind only: its address or path stays out.
func sinkKind(name string) string {
	kind, _, _ := strings.Cut(name, ":")
	switch kind {
	case "syslog", "file":
		return kind
	}
	return "other"
}

func containsKind(kinds []audit.AlertKind, k audit.AlertKind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// unixSeconds is t in seconds since the epoch, 0 for the zero time.
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
}

// exposition gathers one scrape's samples of the probes (collect): each call to gauge or counter
// is one sample, so publishing a new value is one line. It is a prometheus.Collector over those
// samples; the registry sorts families by name and samples by labels, so two scrapes of the same
// state are byte-identical.
type exposition struct {
	families map[string]*family
	order    []string
}

type family struct {
	name, help string
	typ        prometheus.ValueType
	labels     []string
	samples    []metricSample
}

type metricSample struct {
	values []string
	value  float64
}

func (e *exposition) counter(name, help string, v float64, labels ...string) {
	e.add(name, prometheus.CounterValue, help, v, labels)
}

func (e *exposition) gauge(name, help string, v float64, labels ...string) {
	e.add(name, prometheus.GaugeValue, help, v, labels)
}

// add appends a sample; labels are name, value pairs in a fixed order per family.
func (e *exposition) add(name string, typ prometheus.ValueType, help string, v float64, labels []string) {
	if e.families == nil {
		e.families = map[string]*family{}
	}
	f := e.families[name]
	if f == nil {
		f = &family{name: name, typ: typ, help: help}
		for i := 0; i+1 < len(labels); i += 2 {
			f.labels = append(f.labels, labels[i])
		}
		e.families[name] = f
		e.order = append(e.order, name)
	}
	var values []string
	for i := 0; i+1 < len(labels); i += 2 {
		values = append(values, labels[i+1])
	}
	f.samples = append(f.samples, metricSample{values: values, value: v})
}

// Describe sends nothing: the families depend on the state the scrape found (an unchecked
// collector).
func (e *exposition) Describe(chan<- *prometheus.Desc) {}

// Collect sends every sample.
func (e *exposition) Collect(ch chan<- prometheus.Metric) {
	for _, name := range e.order {
		f := e.families[name]
		desc := prometheus.NewDesc(f.name, f.help, f.labels, nil)
		for _, s := range f.samples {
			m, err := prometheus.NewConstMetric(desc, f.typ, s.value, s.values...)
			if err != nil {
				m = prometheus.NewInvalidMetric(desc, err)
			}
			ch <- m
		}
	}
}

var _ prometheus.Collector = (*exposition)(nil)
