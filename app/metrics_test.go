package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

const metricsToken = "m3tr1cs-t0ken-for-tests-0123456789abcdef"

var (
	metricName  = `[a-zA-Z_:][a-zA-Z0-9_:]*`
	sampleLine  = regexp.MustCompile(`^(` + metricName + `)(\{[^}]*\})? (\S+)$`)
	labelPair   = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"`)
	helpLine    = regexp.MustCompile(`^# HELP (` + metricName + `) \S.*$`)
	typeLine    = regexp.MustCompile(`^# TYPE (` + metricName + `) (counter|gauge|histogram|summary|untyped)$`)
	errorCodeOf = func(t *testing.T, body []byte) string {
		t.Helper()
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("error body %q is not JSON: %v", body, err)
		}
		return e.Error.Code
	}
)

// parseExposition checks a Prometheus text exposition (format 0.0.4) line by line: each family
// has one HELP and one TYPE before its samples, its samples are together (a histogram's or
// summary's as name_bucket, name_sum, name_count), every sample is `name{labels} value` with
// well-formed, escaped labels and a number. It returns the samples by `name{labels}`.
func parseExposition(t *testing.T, body string) map[string]float64 {
	t.Helper()
	if !strings.HasSuffix(body, "\n") {
		t.Errorf("exposition does not end with a newline")
	}
	out := map[string]float64{}
	typed := map[string]bool{}
	helped := map[string]bool{}
	done := map[string]bool{}
	kinds := map[string]string{}
	current := ""
	for i, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		switch {
		case helpLine.MatchString(line):
			name := helpLine.FindStringSubmatch(line)[1]
			if helped[name] {
				t.Errorf("line %d: second HELP for %s", i+1, name)
			}
			helped[name] = true
		case typeLine.MatchString(line):
			name := typeLine.FindStringSubmatch(line)[1]
			if typed[name] {
				t.Errorf("line %d: second TYPE for %s", i+1, name)
			}
			if current != "" {
				done[current] = true
			}
			typed[name], current = true, name
			kinds[name] = typeLine.FindStringSubmatch(line)[2]
		case sampleLine.MatchString(line):
			m := sampleLine.FindStringSubmatch(line)
			name, labels, value := m[1], m[2], m[3]
			family := name
			if kinds[current] == "histogram" || kinds[current] == "summary" {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if name == current+suffix {
						family = current
					}
				}
			}
			if family != current || !typed[family] || !helped[family] || done[family] {
				t.Errorf("line %d: sample %q is not under its family's HELP and TYPE", i+1, line)
			}
			if labels != "" {
				rest := labels[1 : len(labels)-1]
				for rest != "" {
					pair := labelPair.FindString(rest)
					if pair == "" {
						t.Errorf("line %d: malformed labels %s", i+1, labels)
						break
					}
					rest = strings.TrimPrefix(rest[len(pair):], ",")
				}
			}
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Errorf("line %d: value %q is not a number", i+1, value)
			}
			if _, dup := out[name+labels]; dup {
				t.Errorf("line %d: sample %s twice", i+1, name+labels)
			}
			out[name+labels] = v
		default:
			t.Errorf("line %d: not a HELP, TYPE or sample line: %q", i+1, line)
		}
	}
	return out
}

// probeLines is the part of an exposition the probes publish: the families of the audit
// controls, the hasher, the key provider, the probes' state and the build.
func probeLines(body string) string {
	var b strings.Builder
	for _, line := range strings.Split(body, "\n") {
		for _, p := range []string{"parley_audit_", "parley_password_hash_", "parley_key_provider_", "parley_metrics_probe_up", "parley_build_info"} {
			if strings.HasPrefix(line, p) || strings.HasPrefix(line, "# HELP "+p) || strings.HasPrefix(line, "# TYPE "+p) {
				b.WriteString(line)
				b.WriteByte('\n')
				break
			}
		}
	}
	return b.String()
}

func scrape(a *apptest.App, auth string) (*http.Response, string) {
	h := http.Header{}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	rec := a.Do(apptest.Request{Method: http.MethodGet, Path: "/metrics", Header: h})
	return rec.Result(), rec.Body.String()
}

// TestMetricsEndpoint: /metrics is off without PARLEY_METRICS_TOKEN, refuses a scrape without
// the token, and with it publishes the audit controls' alerts, the outbox, the verifier, the
// hasher and the key provider in the Prometheus text format, without a tenant's name.
func TestMetricsEndpoint(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		off := apptest.New(t, db, nil)
		res, body := scrape(off, "Bearer "+metricsToken)
		if res.StatusCode != http.StatusNotFound || errorCodeOf(t, []byte(body)) != "not_found" {
			t.Errorf("without the setting: got %d %s, want 404 not_found", res.StatusCode, body)
		}

		a := apptest.New(t, db, map[string]string{"PARLEY_METRICS_TOKEN": metricsToken})
		for _, tt := range []struct{ name, auth string }{
			{"no header", ""},
			{"wrong token", "Bearer " + strings.Repeat("x", len(metricsToken))},
			{"token prefix", "Bearer " + metricsToken[:32]},
			{"token as basic", "Basic " + metricsToken},
			{"token alone", metricsToken},
		} {
			t.Run(tt.name, func(t *testing.T) {
				res, body := scrape(a, tt.auth)
				if res.StatusCode != http.StatusUnauthorized || errorCodeOf(t, []byte(body)) != "unauthenticated" {
					t.Errorf("got %d %s, want 401 unauthenticated", res.StatusCode, body)
				}
				if got := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") {
					t.Errorf("got WWW-Authenticate %q, want a Bearer challenge", got)
				}
				if strings.Contains(body, "parley_") {
					t.Errorf("a refused scrape shows metrics: %s", body)
				}
			})
		}

		const tenant = "t-secret-tenant-name"
		a.Alerts.Alert(context.Background(), audit.Alert{Kind: audit.AlertSealFailed, Tenant: tenant, Message: "sealing failed", At: a.Clock.Now()})
		res, body = scrape(a, "Bearer "+metricsToken)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("with the token: got %d %s, want 200", res.StatusCode, body)
		}
		if got, want := res.Header.Get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8"; got != want {
			t.Errorf("got Content-Type %q, want %q", got, want)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("got Cache-Control %q, want no-store", got)
		}
		if strings.Contains(body, tenant) || strings.Contains(body, "sealing failed") {
			t.Errorf("metrics show an alert's tenant or message:\n%s", body)
		}
		got := parseExposition(t, body)
		if v, ok := got[`parley_audit_alerts_raised_total{kind="seal_failed"}`]; !ok || v < 1 {
			t.Errorf("got seal_failed raised_total %v (present %v), want ≥ 1", v, ok)
		}
		for _, k := range []audit.AlertKind{audit.AlertChainDamaged, audit.AlertVerifyFailed, audit.AlertSealFailed,
			audit.AlertCheckpointFailed, audit.AlertForwardFailed} {
			want := 0.0
			if k == audit.AlertSealFailed {
				want = 1
			}
			key := `parley_audit_alert_active{kind="` + string(k) + `"}`
			if v, ok := got[key]; !ok || v != want {
				t.Errorf("got %s = %v (present %v), want %v", key, v, ok, want)
			}
		}
		for _, key := range []string{
			`parley_build_info{version="dev"}`, "parley_audit_outbox_pending", `parley_metrics_probe_up{probe="audit_outbox"}`,
			"parley_audit_verify_ok", "parley_audit_verify_last_run_timestamp_seconds", "parley_audit_forward_running",
			"parley_password_hash_in_flight", "parley_password_hash_max_concurrent", "parley_password_hash_rejected_total",
			`parley_key_provider_up{provider="local-dev"}`, `parley_key_provider_production{provider="local-dev"}`,
		} {
			if _, ok := got[key]; !ok {
				t.Errorf("metrics lack %s:\n%s", key, body)
			}
		}
		if got[`parley_metrics_probe_up{probe="audit_outbox"}`] != 1 || got[`parley_key_provider_up{provider="local-dev"}`] != 1 ||
			got["parley_audit_forward_running"] != 0 || got[`parley_build_info{version="dev"}`] != 1 {
			t.Errorf("got outbox probe %v, key provider up %v, forwarding %v, build info %v; want 1, 1, 0, 1",
				got[`parley_metrics_probe_up{probe="audit_outbox"}`], got[`parley_key_provider_up{provider="local-dev"}`],
				got["parley_audit_forward_running"], got[`parley_build_info{version="dev"}`])
		}
		// The probes' families describe state: two scrapes of the same state publish them
		// byte-identical (the runtime's, the process's and the request counters move on).
		if _, again := scrape(a, "bearer "+metricsToken); probeLines(again) != probeLines(body) {
			t.Errorf("two scrapes of the same state differ:\n%s\n---\n%s", probeLines(body), probeLines(again))
		}

		a.Alerts.Alert(context.Background(), audit.Alert{Kind: audit.AlertSealFailed, Tenant: tenant, Cleared: true, At: a.Clock.Now()})
		_, body = scrape(a, "Bearer "+metricsToken)
		got = parseExposition(t, body)
		if v := got[`parley_audit_alert_active{kind="seal_failed"}`]; v != 0 {
			t.Errorf("got seal_failed active %v after it cleared, want 0", v)
		}
		if v := got[`parley_audit_alerts_raised_total{kind="seal_failed"}`]; v != 1 {
			t.Errorf("got seal_failed raised_total %v after it cleared, want 1", v)
		}
	})
}

// TestMetricsForwarding: while Background forwards the audit log, /metrics shows each
// destination by kind, healthy and counting, never by its path.
func TestMetricsForwarding(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		dir := t.TempDir()
		file := filepath.Join(dir, "forwarded-audit.jsonl")
		a := apptest.New(t, db, map[string]string{
			"PARLEY_DATA_DIR": dir, "PARLEY_METRICS_TOKEN": metricsToken,
			"PARLEY_AUDIT_FORWARD_FILE": file, "PARLEY_AUDIT_FORWARD_INTERVAL": "20ms",
		})
		stop := runBackground(t, a)
		recordViews(t, a, "t-acme", 2)
		if _, err := a.Audit.Seal(context.Background()); err != nil {
			t.Fatal(err)
		}
		var body string
		eventually(t, "forwarded events in the metrics", func() bool {
			_, body = scrape(a, "Bearer "+metricsToken)
			got := parseExposition(t, body)
			return got["parley_audit_forward_running"] == 1 && got[`parley_audit_forward_sink_healthy{sink="file"}`] == 1 &&
				got[`parley_audit_forward_events_total{sink="file"}`] >= 2 &&
				got[`parley_audit_forward_sink_last_success_timestamp_seconds{sink="file"}`] > 0
		})
		if strings.Contains(body, file) || strings.Contains(body, "forwarded-audit") {
			t.Errorf("metrics show the destination's path:\n%s", body)
		}
		stop()
		_, body = scrape(a, "Bearer "+metricsToken)
		if got := parseExposition(t, body); got["parley_audit_forward_running"] != 0 {
			t.Errorf("got forwarding running %v after Background stopped, want 0", got["parley_audit_forward_running"])
		}
	})
}

// TestExpositionEscaping: label values and help text are escaped as the format requires.
func TestExpositionEscaping(t *testing.T) {
	a := apptest.New(t, migratetest.Open(t, migrations.SQLite), map[string]string{"PARLEY_METRICS_TOKEN": metricsToken})
	a.Alerts.Alert(context.Background(), audit.Alert{Kind: audit.AlertKind("odd\"kind\\with\nnewline"), At: a.Clock.Now()})
	_, body := scrape(a, "Bearer "+metricsToken)
	got := parseExposition(t, body)
	if v := got[`parley_audit_alert_active{kind="odd\"kind\\with\nnewline"}`]; v != 1 {
		t.Errorf("escaped kind: got %v, want 1 in\n%s", v, body)
	}
}

// TestMetricsInstruments: requests are counted by method, route template and status class —
// never by the path a client sent — and the chat, Go runtime and process families are
// published.
func TestMetricsInstruments(t *testing.T) {
	a := apptest.New(t, migratetest.Open(t, migrations.SQLite), map[string]string{"PARLEY_METRICS_TOKEN": metricsToken})
	for range 3 {
		a.Do(apptest.Request{Method: http.MethodGet, Path: "/healthz"})
	}
	a.Do(apptest.Request{Method: http.MethodGet, Path: "/no-such-page-4111111111111111"})
	a.Do(apptest.Request{Method: "BREW", Path: "/healthz"})
	_, body := scrape(a, "Bearer "+metricsToken)
	got := parseExposition(t, body)
	for _, tt := range []struct {
		key  string
		want float64
	}{
		{`parley_http_requests_total{method="GET",route="/healthz",status="2xx"}`, 3},
		{`parley_http_request_duration_seconds_count{method="GET",route="/healthz",status="2xx"}`, 3},
		{`parley_http_requests_total{method="GET",route="unmatched",status="4xx"}`, 1},
		{`parley_http_requests_total{method="OTHER",route="/healthz",status="4xx"}`, 1},
		{`parley_chat_messages_total{sender="visitor"}`, 0},
		{`parley_chat_messages_total{sender="agent"}`, 0},
		{`parley_chat_sockets_open{kind="visitor"}`, 0},
		{`parley_chat_sockets_open{kind="agent"}`, 0},
		{`parley_chat_delivery_queue_length`, 0},
		{`parley_chat_commit_batch_size_count`, 0},
	} {
		if v, ok := got[tt.key]; !ok || v != tt.want {
			t.Errorf("got %s = %v (present %v), want %v", tt.key, v, ok, tt.want)
		}
	}
	for _, key := range []string{"go_goroutines", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", "process_cpu_seconds_total"} {
		if _, ok := got[key]; !ok {
			t.Errorf("metrics lack %s", key)
		}
	}
	if strings.Contains(body, "no-such-page") || strings.Contains(body, "4111") || strings.Contains(body, "BREW") {
		t.Errorf("metrics show a client's path or method:\n%s", body)
	}
}
