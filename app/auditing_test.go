package app_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// syslogCollector is an RFC 5425 syslog receiver over TLS with a self-signed certificate for
// "collector.test". While down it accepts connections and closes them before the handshake.
type syslogCollector struct {
	addr   string
	caFile string
	down   atomic.Bool

	mu     sync.Mutex
	frames []string
}

func newSyslogCollector(t *testing.T) *syslogCollector {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "collector.test"}, DNSNames: []string{"collector.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c := &syslogCollector{caFile: filepath.Join(t.TempDir(), "collector-ca.pem")}
	if err := os.WriteFile(c.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.addr = ln.Addr().String()
	tc := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	var conns sync.WaitGroup
	go func() {
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			if c.down.Load() {
				_ = raw.Close()
				continue
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				c.read(tls.Server(raw, tc))
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return c
}

// read parses octet-counted frames ("<len> <message>") until the connection ends.
func (c *syslogCollector) read(conn net.Conn) {
	defer func() { _ = conn.Close() }()
	r := bufio.NewReader(conn)
	for {
		n, err := r.ReadString(' ')
		if err != nil {
			return
		}
		size, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || size <= 0 || size > 1<<20 {
			return
		}
		buf := make([]byte, size)
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		c.mu.Lock()
		c.frames = append(c.frames, string(buf))
		c.mu.Unlock()
	}
}

// forwarded is what a destination received: "tenant/e<seq>" for events and "tenant/c<seq>"
// for checkpoints, in order.
type forwarded []string

func (f forwarded) count(item string) int {
	n := 0
	for _, x := range f {
		if x == item {
			n++
		}
	}
	return n
}

// received parses the collector's frames, checking each entry's hash and each checkpoint's
// signature.
func (c *syslogCollector) received(t *testing.T, keys []audit.PublicKey) forwarded {
	t.Helper()
	c.mu.Lock()
	frames := append([]string(nil), c.frames...)
	c.mu.Unlock()
	var out forwarded
	for _, fr := range frames {
		// <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] BOM JSON
		fields := strings.SplitN(fr, " ", 7)
		_, body, ok := strings.Cut(fr, "\xef\xbb\xbf")
		if len(fields) < 7 || !ok || !strings.HasPrefix(fields[0], "<") || !strings.HasSuffix(fields[0], ">1") || fields[2] != "node-a" {
			t.Fatalf("frame is not RFC 5424 from node-a: %q", fr)
		}
		if fields[5] == string(audit.ActionAuditCheckpoint) {
			out = append(out, checkpointItem(t, []byte(body), keys))
			continue
		}
		out = append(out, entryItem(t, []byte(body)))
	}
	return out
}

func entryItem(t *testing.T, b []byte) string {
	t.Helper()
	var e audit.Entry
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("forwarded event %q: %v", b, err)
	}
	if !e.Verify() {
		t.Errorf("forwarded event %s/%d does not match its hash", e.Tenant, e.Seq)
	}
	return fmt.Sprintf("%s/e%d", e.Tenant, e.Seq)
}

func checkpointItem(t *testing.T, b []byte, keys []audit.PublicKey) string {
	t.Helper()
	var cp audit.Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		t.Fatalf("forwarded checkpoint %q: %v", b, err)
	}
	if err := cp.VerifySignature(keys...); err != nil {
		t.Errorf("forwarded checkpoint %s/%d: %v", cp.Tenant, cp.Seq, err)
	}
	return fmt.Sprintf("%s/c%d", cp.Tenant, cp.Seq)
}

// fileReceived parses the JSON-lines file sink.
func fileReceived(t *testing.T, path string, keys []audit.PublicKey) forwarded {
	t.Helper()
	b, err := os.ReadFile(path) // #nosec G304 -- a file the test created
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out forwarded
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var l struct {
			Type       string          `json:"type"`
			Event      json.RawMessage `json:"event"`
			Checkpoint json.RawMessage `json:"checkpoint"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		switch l.Type {
		case "audit_event":
			out = append(out, entryItem(t, l.Event))
		case "audit_checkpoint":
			out = append(out, checkpointItem(t, l.Checkpoint, keys))
		default:
			t.Fatalf("line of unknown type %q", l.Type)
		}
	}
	return out
}

// runBackground runs the app's background work (audit sealer, verifier, forwarder, …) and
// returns the function that stops it and waits.
func runBackground(t *testing.T, a *apptest.App) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Background(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("background: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func recordViews(t *testing.T, a *apptest.App, tenant string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		err := a.Audit.Record(context.Background(), audit.Event{Tenant: tenant, Actor: audit.Actor{ID: "u1", Role: "agent", Kind: audit.ActorUser},
			Action: audit.ActionTranscriptView, Target: audit.Target{Kind: "conversation", ID: fmt.Sprint("c", i)}, Outcome: audit.Success})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// eventually polls cond until it holds or a minute passes (generous: CI runs packages side by side).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkChains checks that a destination received every chain from seq 1 without a gap and
// nothing twice.
func checkChains(t *testing.T, name string, got forwarded) {
	t.Helper()
	next := map[string]int64{}
	seen := map[string]bool{}
	for _, item := range got {
		if seen[item] {
			t.Errorf("%s received %s twice", name, item)
		}
		seen[item] = true
		tenant, rest, _ := strings.Cut(item, "/")
		if !strings.HasPrefix(rest, "e") {
			continue
		}
		seq, _ := strconv.ParseInt(rest[1:], 10, 64)
		if seq != next[tenant]+1 {
			t.Errorf("%s received %s after seq %d", name, item, next[tenant])
		}
		next[tenant] = seq
	}
}

// TestAuditForwardingFromServe runs the application as `parley serve` does, configured from the
// environment to forward to a TLS syslog collector and a JSON-lines file: events and signed
// checkpoints arrive at both, and after a restart forwarding resumes from its cursor with
// nothing lost and nothing sent twice.
func TestAuditForwardingFromServe(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		col := newSyslogCollector(t)
		dir := t.TempDir()
		file := filepath.Join(dir, "audit.jsonl")
		env := map[string]string{
			"PARLEY_DATA_DIR": dir, "PARLEY_NODE_ID": "node-a",
			"PARLEY_AUDIT_FORWARD_SYSLOG": col.addr, "PARLEY_AUDIT_FORWARD_SYSLOG_CA": col.caFile,
			"PARLEY_AUDIT_FORWARD_SYSLOG_SERVER_NAME": "collector.test",
			"PARLEY_AUDIT_FORWARD_FILE":               file, "PARLEY_AUDIT_FORWARD_INTERVAL": "20ms", "PARLEY_AUDIT_FORWARD_BATCH": "2",
		}
		a := apptest.New(t, db, env)
		keys := a.Audit.TrustedKeys()
		stop := runBackground(t, a)
		recordViews(t, a, "t-acme", 3)
		if _, err := a.Audit.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		cp, err := a.Audit.Checkpoint(ctx, "t-acme")
		if err != nil {
			t.Fatal(err)
		}
		if cp.Seq < 3 {
			t.Fatalf("checkpoint at %d, want at least the 3 views", cp.Seq)
		}
		// upTo lists the tenant's events from..to and its checkpoint at to: the chain may hold
		// events the background work recorded besides the views.
		upTo := func(from, to int64) []string {
			var items []string
			for i := from; i <= to; i++ {
				items = append(items, fmt.Sprintf("t-acme/e%d", i))
			}
			return append(items, fmt.Sprintf("t-acme/c%d", to))
		}
		var logged time.Time
		arrived := func(items ...string) func() bool {
			return func() bool {
				s, f := col.received(t, keys), fileReceived(t, file, keys)
				for _, it := range items {
					if s.count(it) == 0 || f.count(it) == 0 {
						if time.Since(logged) > 10*time.Second { // what is missing, now and then
							logged = time.Now()
							t.Logf("waiting for %s: syslog has %v; file has %v", it, s, f)
						}
						return false
					}
				}
				return true
			}
		}
		eventually(t, "the events and the checkpoint", arrived(append(upTo(1, cp.Seq), "_system/e1")...))
		stop()

		// A restart: the new process resumes from the cursors in the database.
		b := apptest.New(t, db, env)
		stop = runBackground(t, b)
		recordViews(t, b, "t-acme", 2)
		if _, err := b.Audit.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		cp2, err := b.Audit.Checkpoint(ctx, "t-acme")
		if err != nil {
			t.Fatal(err)
		}
		// The first run's audit.stop and the second's audit.start are _system events 2 and 3.
		eventually(t, "the new events, their checkpoint and the restart", arrived(append(upTo(cp.Seq+1, cp2.Seq), "_system/e3")...))
		stop()
		for name, got := range map[string]forwarded{"syslog": col.received(t, keys), "file": fileReceived(t, file, keys)} {
			checkChains(t, name, got)
			if i, j := indexOf(got, fmt.Sprintf("t-acme/e%d", cp.Seq)), indexOf(got, fmt.Sprintf("t-acme/c%d", cp.Seq)); i > j {
				t.Errorf("%s received the checkpoint at %d before its event: %v", name, cp.Seq, got)
			}
		}
		if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("forward file: %v, mode %v; want 0600", err, st.Mode())
		}
	})
}

func indexOf(f forwarded, item string) int {
	for i, x := range f {
		if x == item {
			return i
		}
	}
	return -1
}

// TestAuditForwardingFailureAlerts takes the collector down: the failure is raised through the
// audit alerts (error log, /readyz detail, count, console banner) and recorded in the audit log,
// the node stays ready, and when the collector is back the events arrive and the alert clears.
func TestAuditForwardingFailureAlerts(t *testing.T) {
	db := migratetest.Open(t, migrations.SQLite)
	col := newSyslogCollector(t)
	col.down.Store(true)
	a := apptest.New(t, db, map[string]string{
		"PARLEY_NODE_ID": "node-a", "PARLEY_AUDIT_FORWARD_SYSLOG": col.addr, "PARLEY_AUDIT_FORWARD_SYSLOG_CA": col.caFile,
		"PARLEY_AUDIT_FORWARD_SYSLOG_SERVER_NAME": "collector.test", "PARLEY_AUDIT_FORWARD_INTERVAL": "20ms",
		"PARLEY_METRICS_TOKEN": metricsToken,
	})
	keys := a.Audit.TrustedKeys()
	stop := runBackground(t, a)
	recordViews(t, a, "t-acme", 2)
	sink := "syslog:" + col.addr
	standing := func() bool {
		for _, al := range a.Alerts.Active() {
			if al.Kind == audit.AlertForwardFailed && al.Sink == sink {
				return true
			}
		}
		return false
	}
	eventually(t, "the forwarding alert", standing)

	var ready struct {
		Status string `json:"status"`
		Checks map[string]struct {
			Detail struct {
				Alerts []string         `json:"alerts"`
				Raised map[string]int64 `json:"alerts_raised"`
			} `json:"detail"`
		} `json:"checks"`
	}
	rec := a.Do(apptest.Request{Method: http.MethodGet, Path: "/readyz", Header: http.Header{"Authorization": {"Bearer " + metricsToken}}})
	if err := json.Unmarshal(rec.Body.Bytes(), &ready); err != nil {
		t.Fatal(err)
	}
	d := ready.Checks["audit_log"].Detail
	if rec.Code != http.StatusOK || len(d.Alerts) != 1 || d.Alerts[0] != string(audit.AlertForwardFailed) || d.Raised[string(audit.AlertForwardFailed)] != 1 {
		t.Errorf("got /readyz %d %s, want ready with the forward_failed alert listed and counted once", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), col.addr) {
		t.Errorf("/readyz shows the collector's address: %s", rec.Body)
	}

	col.down.Store(false)
	eventually(t, "the alert to clear", func() bool { return !standing() })
	eventually(t, "the events", func() bool {
		got := col.received(t, keys)
		return got.count("t-acme/e1") == 1 && got.count("t-acme/e2") == 1
	})
	stop()
	if n := a.Alerts.Raised()[audit.AlertForwardFailed]; n != 1 {
		t.Errorf("got %d forward_failed alerts raised, want 1 for the whole outage", n)
	}
	if _, err := a.Audit.Seal(context.Background()); err != nil {
		t.Fatal(err)
	}
	found := false
	for seq := int64(1); ; seq++ {
		e, err := a.Audit.Get(context.Background(), audit.SystemTenant, seq)
		if err != nil {
			break
		}
		if e.Action == audit.ActionAuditForwardFail && e.Target.ID == sink && e.Outcome == audit.Failure {
			found = true
		}
	}
	if !found {
		t.Error("the forwarding failure is not in the audit log")
	}
}
