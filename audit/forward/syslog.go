package forward

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/audit"
)

// Syslog facility and severities Parley uses (RFC 5424 §6.2.1).
const (
	// FacilityAuthPriv is "security/authorization messages" (10), the default facility.
	FacilityAuthPriv = 10
	severityWarning  = 4
	severityNotice   = 5
	severityInfo     = 6
)

// DocumentationEnterpriseID is the private enterprise number RFC 5612 reserves for
// documentation; operators with their own number set SyslogConfig.EnterpriseID.
const DocumentationEnterpriseID = "32473"

// SyslogConfig configures a SyslogSink.
type SyslogConfig struct {
	// Name identifies the sink's cursor; "syslog:" + Addr when empty.
	Name string
	// Addr is the collector's host:port (RFC 5425 uses 6514).
	Addr string
	// TLS is required: RootCAs to trust the collector (system roots when nil), ServerName,
	// and Certificates for mutual TLS. MinVersion is raised to TLS 1.2 if lower.
	TLS *tls.Config
	// Hostname is the HOSTNAME field (this node's name).
	Hostname string
	// AppName is the APP-NAME field ("parley").
	AppName string
	// Facility defaults to FacilityAuthPriv.
	Facility int
	// EnterpriseID forms the structured-data ids ("parley@<id>"); DocumentationEnterpriseID
	// when empty.
	EnterpriseID string
	// DialTimeout and WriteTimeout default to 10 s.
	DialTimeout, WriteTimeout time.Duration
}

// SyslogSink sends each event and checkpoint as one RFC 5424 message over TLS, framed by
// octet counting (RFC 5425, RFC 6587 §3.4.1): "<len> <message>". The message carries the
// tenant, seq, outcome and hash as structured data and the full entry as JSON after a BOM.
// A write failure drops the connection; the forwarder retries and the sink reconnects. Before
// reusing an idle connection the sink checks that the collector has not closed it (a restarted
// collector), since a write into a closed connection can succeed locally and be lost.
// Syslog over TLS has no acknowledgement: messages in flight when a connection breaks may be
// lost, which the collector can see from the gap in seq numbers and the checkpoints.
type SyslogSink struct {
	cfg  SyslogConfig
	mu   sync.Mutex
	conn net.Conn
}

var _ Sink = (*SyslogSink)(nil)

// NewSyslogSink checks cfg and returns a sink; it connects on the first Send.
func NewSyslogSink(cfg SyslogConfig) (*SyslogSink, error) {
	if cfg.Addr == "" {
		return nil, fmt.Errorf("%w: syslog sink needs an address", ErrConfig)
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("%w: syslog address must be host:port", ErrConfig)
	}
	if cfg.TLS == nil {
		return nil, fmt.Errorf("%w: syslog forwarding requires TLS (PCI DSS 4.2.1)", ErrConfig)
	}
	cfg.TLS = cfg.TLS.Clone()
	if cfg.TLS.MinVersion < tls.VersionTLS12 {
		cfg.TLS.MinVersion = tls.VersionTLS12
	}
	if cfg.TLS.InsecureSkipVerify {
		return nil, fmt.Errorf("%w: syslog TLS must verify the collector's certificate", ErrConfig)
	}
	if cfg.Name == "" {
		cfg.Name = "syslog:" + cfg.Addr
	}
	cfg.Hostname = printable(cfg.Hostname, 255)
	if cfg.AppName == "" {
		cfg.AppName = "parley"
	}
	cfg.AppName = printable(cfg.AppName, 48)
	if cfg.Facility == 0 {
		cfg.Facility = FacilityAuthPriv
	}
	if cfg.Facility < 0 || cfg.Facility > 23 {
		return nil, fmt.Errorf("%w: syslog facility must be 0 to 23", ErrConfig)
	}
	if cfg.EnterpriseID == "" {
		cfg.EnterpriseID = DocumentationEnterpriseID
	}
	if strings.Trim(cfg.EnterpriseID, "0123456789.") != "" {
		return nil, fmt.Errorf("%w: enterprise id must be digits and dots", ErrConfig)
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	return &SyslogSink{cfg: cfg}, nil
}

// Name implements Sink.
func (s *SyslogSink) Name() string { return s.cfg.Name }

// Send implements Sink.
func (s *SyslogSink) Send(ctx context.Context, b Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil && !s.open() {
		// The collector closed it (a restart): a write would land in the local socket buffer,
		// succeed, and be lost with the connection, so dial again instead.
		_ = s.conn.Close()
		s.conn = nil
	}
	if s.conn == nil {
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: s.cfg.DialTimeout}, Config: s.cfg.TLS}
		c, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
		if err != nil {
			return fmt.Errorf("connect to %s: %w", s.cfg.Addr, err)
		}
		s.conn = c
	}
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout)); err != nil {
		return s.drop(err)
	}
	w := bufio.NewWriterSize(s.conn, 64<<10)
	for i := range b.Entries {
		msg, err := s.eventMessage(&b.Entries[i])
		if err != nil {
			return err
		}
		if err := writeFrame(w, msg); err != nil {
			return s.drop(err)
		}
	}
	for i := range b.Checkpoints {
		msg, err := s.checkpointMessage(&b.Checkpoints[i])
		if err != nil {
			return err
		}
		if err := writeFrame(w, msg); err != nil {
			return s.drop(err)
		}
	}
	if err := w.Flush(); err != nil {
		return s.drop(err)
	}
	return nil
}

// open probes the idle connection before it is reused. An RFC 5425 collector never sends, so a
// read that times out at once means the connection is still open; end of stream, a reset or any
// data means the collector closed it or is not one to trust with the next batch.
func (s *SyslogSink) open() bool {
	if err := s.conn.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
		return false
	}
	var b [1]byte
	_, err := s.conn.Read(b[:])
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		return false
	}
	return s.conn.SetReadDeadline(time.Time{}) == nil
}

func (s *SyslogSink) drop(err error) error {
	_ = s.conn.Close()
	s.conn = nil
	return fmt.Errorf("write to %s: %w", s.cfg.Addr, err)
}

// Close implements Sink.
func (s *SyslogSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

func writeFrame(w *bufio.Writer, msg []byte) error {
	if _, err := w.WriteString(strconv.Itoa(len(msg))); err != nil {
		return err
	}
	if err := w.WriteByte(' '); err != nil {
		return err
	}
	_, err := w.Write(msg)
	return err
}

const bom = "\xef\xbb\xbf"

func (s *SyslogSink) eventMessage(e *audit.Entry) ([]byte, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	sev := severityNotice
	if e.Outcome == audit.Failure {
		sev = severityWarning
	}
	sd := sdElement("parley@"+s.cfg.EnterpriseID,
		"tenant", e.Tenant, "seq", strconv.FormatInt(e.Seq, 10), "outcome", string(e.Outcome),
		"actor", e.Actor.ID, "hash", e.Hash.String())
	return s.message(sev, e.Time, string(e.Action), sd, body), nil
}

func (s *SyslogSink) checkpointMessage(c *audit.Checkpoint) ([]byte, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	sd := sdElement("parleyCheckpoint@"+s.cfg.EnterpriseID,
		"tenant", c.Tenant, "seq", strconv.FormatInt(c.Seq, 10), "head", c.Head.String(), "key", c.KeyID)
	return s.message(severityInfo, c.Time, string(audit.ActionAuditCheckpoint), sd, body), nil
}

// message builds "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD BOM MSG".
func (s *SyslogSink) message(sev int, at time.Time, msgid, sd string, body []byte) []byte {
	var b strings.Builder
	b.Grow(len(body) + len(sd) + 128)
	b.WriteByte('<')
	b.WriteString(strconv.Itoa(s.cfg.Facility*8 + sev))
	b.WriteString(">1 ")
	b.WriteString(at.UTC().Format(audit.TimeLayout))
	b.WriteByte(' ')
	b.WriteString(s.cfg.Hostname)
	b.WriteByte(' ')
	b.WriteString(s.cfg.AppName)
	b.WriteString(" - ")
	b.WriteString(printable(msgid, 32))
	b.WriteByte(' ')
	b.WriteString(sd)
	b.WriteByte(' ')
	b.WriteString(bom)
	b.Write(body)
	return []byte(b.String())
}

// sdElement renders one structured-data element with escaped parameter values.
func sdElement(id string, kv ...string) string {
	var b strings.Builder
	b.WriteByte('[')
	b.WriteString(id)
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteByte(' ')
		b.WriteString(kv[i])
		b.WriteString(`="`)
		b.WriteString(sdEscape(kv[i+1]))
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return b.String()
}

// sdEscape escapes '"', '\' and ']' as RFC 5424 §6.3.3 requires.
func sdEscape(v string) string {
	if !strings.ContainsAny(v, `"\]`) {
		return v
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`)
	return r.Replace(v)
}

// printable keeps a header field to printable US-ASCII without spaces (RFC 5424 PRINTUSASCII),
// "-" when empty.
func printable(s string, max int) string {
	out := strings.Map(func(r rune) rune {
		if r < 33 || r > 126 {
			return '_'
		}
		return r
	}, s)
	if len(out) > max {
		out = out[:max]
	}
	if out == "" {
		return "-"
	}
	return out
}
