package forward

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
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/audit"
)

// collector is a TLS syslog receiver that parses octet-counted frames.
type collector struct {
	ln     net.Listener
	pool   *x509.CertPool
	mu     sync.Mutex
	frames []string
	conns  []net.Conn
	got    chan struct{}
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "collector.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{ln: ln, pool: x509.NewCertPool(), got: make(chan struct{}, 1024)}
	c.pool.AddCert(cert)
	go c.accept()
	t.Cleanup(func() { _ = ln.Close(); c.dropAll() })
	return c
}

func (c *collector) accept() {
	for {
		conn, err := c.ln.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		c.conns = append(c.conns, conn)
		c.mu.Unlock()
		go c.read(conn)
	}
}

func (c *collector) read(conn net.Conn) {
	r := bufio.NewReader(conn)
	for {
		lenStr, err := r.ReadString(' ')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSuffix(lenStr, " "))
		if err != nil || n <= 0 || n > 1<<20 {
			return
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		c.mu.Lock()
		c.frames = append(c.frames, string(buf))
		c.mu.Unlock()
		c.got <- struct{}{}
	}
}

func (c *collector) dropAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
}

func (c *collector) waitFrames(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		have := len(c.frames)
		c.mu.Unlock()
		if have >= n {
			break
		}
		select {
		case <-c.got:
		case <-deadline:
			t.Fatalf("got %d frames, want %d", have, n)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.frames...)
}

func (c *collector) sink(t *testing.T) *SyslogSink {
	t.Helper()
	s, err := NewSyslogSink(SyslogConfig{Addr: c.ln.Addr().String(), TLS: &tls.Config{RootCAs: c.pool, MinVersion: tls.VersionTLS12}, Hostname: "node a"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testEntry(seq int64, outcome audit.Outcome) audit.Entry {
	e := audit.Entry{Event: audit.Event{
		Tenant: "t1", Seq: seq, Time: time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC),
		Actor: audit.Actor{ID: `ali"ce]`, Kind: audit.ActorUser}, Action: audit.ActionSignInFailure,
		Target: audit.Target{Kind: "user", ID: "alice"}, Outcome: outcome, Details: map[string]string{"note": "<b>"},
	}}
	e.Hash = audit.ChainHash(e.Event, e.PrevHash)
	return e
}

func TestSyslogSinkOverTLS(t *testing.T) {
	c := newCollector(t)
	s := c.sink(t)
	ctx := context.Background()
	cp := audit.Checkpoint{Tenant: "t1", Seq: 2, Time: time.Date(2026, 3, 1, 9, 31, 0, 0, time.UTC), KeyID: "ed25519:abc", Signature: []byte{1, 2, 3}}
	batch := Batch{Tenant: "t1", Entries: []audit.Entry{testEntry(1, audit.Failure), testEntry(2, audit.Success)}, Checkpoints: []audit.Checkpoint{cp}}
	if err := s.Send(ctx, batch); err != nil {
		t.Fatal(err)
	}
	frames := c.waitFrames(t, 3)

	wantPrefix := []string{
		"<84>1 2026-03-01T09:30:00.123456Z node_a parley - auth.sign_in.failure [parley@32473 tenant=\"t1\" seq=\"1\" outcome=\"failure\" actor=\"ali\\\"ce\\]\" hash=\"",
		"<85>1 2026-03-01T09:30:00.123456Z node_a parley - auth.sign_in.failure [parley@32473 tenant=\"t1\" seq=\"2\" outcome=\"success\"",
		"<86>1 2026-03-01T09:31:00.000000Z node_a parley - audit.checkpoint [parleyCheckpoint@32473 tenant=\"t1\" seq=\"2\" head=\"",
	}
	for i, want := range wantPrefix {
		if !strings.HasPrefix(frames[i], want) {
			t.Errorf("frame %d: got %q, want prefix %q", i, frames[i], want)
		}
	}
	_, body, ok := strings.Cut(frames[0], bom)
	if !ok {
		t.Fatalf("frame has no BOM-prefixed message: %q", frames[0])
	}
	var got audit.Entry
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Verify() || got.Seq != 1 || got.Details["note"] != "<b>" {
		t.Errorf("got %+v, want entry 1 that still verifies", got)
	}

	// The collector restarts: it closes the connection and accepts again. The next batch must
	// not be written into the dead connection (where the write succeeds locally and the batch
	// is lost) but reach the collector intact over a new one.
	c.dropAll()
	if err := s.Send(ctx, Batch{Tenant: "t1", Entries: []audit.Entry{testEntry(3, audit.Success)}}); err != nil {
		t.Fatalf("send after the collector restarted: %v", err)
	}
	frames = c.waitFrames(t, 4)
	if last := frames[len(frames)-1]; !strings.Contains(last, `seq="3"`) {
		t.Errorf("got %q, want seq 3 after the restart", last)
	}
	c.mu.Lock()
	conns := len(c.conns)
	c.mu.Unlock()
	if conns != 1 {
		t.Errorf("got %d connections after the restart, want 1 new one", conns)
	}
	// The new connection, idle and open, is reused.
	if err := s.Send(ctx, Batch{Tenant: "t1", Entries: []audit.Entry{testEntry(4, audit.Success)}}); err != nil {
		t.Fatal(err)
	}
	frames = c.waitFrames(t, 5)
	if last := frames[len(frames)-1]; !strings.Contains(last, `seq="4"`) {
		t.Errorf("got %q, want seq 4 on the same connection", last)
	}
	c.mu.Lock()
	conns = len(c.conns)
	c.mu.Unlock()
	if conns != 1 {
		t.Errorf("got %d connections, want the open one reused", conns)
	}
}

func TestSyslogSinkRefusesUntrustedCollector(t *testing.T) {
	c := newCollector(t)
	s, err := NewSyslogSink(SyslogConfig{Addr: c.ln.Addr().String(), TLS: &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS12}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), Batch{Tenant: "t1", Entries: []audit.Entry{testEntry(1, audit.Success)}})
	var uerr x509.UnknownAuthorityError
	if !errors.As(err, &uerr) {
		t.Errorf("got %v, want an unknown-authority error", err)
	}
}

func TestSyslogConfig(t *testing.T) {
	good := &tls.Config{MinVersion: tls.VersionTLS12}
	cases := []struct {
		name string
		cfg  SyslogConfig
		ok   bool
	}{
		{"valid", SyslogConfig{Addr: "siem.example:6514", TLS: good}, true},
		{"no TLS", SyslogConfig{Addr: "siem.example:6514"}, false},
		{"no port", SyslogConfig{Addr: "siem.example", TLS: good}, false},
		{"unverified TLS", SyslogConfig{Addr: "siem.example:6514", TLS: &tls.Config{InsecureSkipVerify: true}}, false}, // #nosec G402 -- the test checks that it is refused
		{"bad facility", SyslogConfig{Addr: "siem.example:6514", TLS: good, Facility: 30}, false},
		{"bad enterprise id", SyslogConfig{Addr: "siem.example:6514", TLS: good, EnterpriseID: "x] y"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSyslogSink(tc.cfg)
			if (err == nil) != tc.ok {
				t.Errorf("got %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrConfig) {
				t.Errorf("got %v, want ErrConfig", err)
			}
		})
	}
}
