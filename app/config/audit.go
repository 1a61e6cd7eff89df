package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MinAuditRetentionDays is PCI DSS 10.5.1's twelve months of audit history online.
const MinAuditRetentionDays = 365

// auditForward validates the forwarding settings, reporting each problem through bad.
func (r *rawValues) auditForward(bad func(env, format string, a ...any), p *Problems) AuditForward {
	f := AuditForward{
		SyslogAddr: strings.TrimSpace(r.fwdSyslog), SyslogCA: r.fwdCA, SyslogServerName: strings.TrimSpace(r.fwdServerName),
		SyslogCert: r.fwdCert, SyslogKey: r.fwdKey, File: r.fwdFile,
	}
	if f.SyslogAddr == "" {
		for _, s := range [][2]string{{"PARLEY_AUDIT_FORWARD_SYSLOG_CA", f.SyslogCA}, {"PARLEY_AUDIT_FORWARD_SYSLOG_SERVER_NAME", f.SyslogServerName},
			{"PARLEY_AUDIT_FORWARD_SYSLOG_CERT", f.SyslogCert}, {"PARLEY_AUDIT_FORWARD_SYSLOG_KEY", f.SyslogKey}} {
			if s[1] != "" {
				bad(s[0], "is only used with PARLEY_AUDIT_FORWARD_SYSLOG")
			}
		}
	} else {
		f.checkSyslog(bad)
	}
	if f.File != "" {
		f.File = filepath.Clean(f.File)
		if st, err := os.Stat(filepath.Dir(f.File)); err != nil || !st.IsDir() {
			bad("PARLEY_AUDIT_FORWARD_FILE", "folder %s does not exist", filepath.Dir(f.File))
		} else if st, err := os.Stat(f.File); err == nil && !st.Mode().IsRegular() {
			bad("PARLEY_AUDIT_FORWARD_FILE", "%s is not a regular file", f.File)
		}
	}
	f.Interval = parseDuration(r.fwdInterval, "PARLEY_AUDIT_FORWARD_INTERVAL", p)
	if n, err := strconv.Atoi(strings.TrimSpace(r.fwdBatch)); err != nil || n < 1 || n > 10000 {
		bad("PARLEY_AUDIT_FORWARD_BATCH", "%q must be a whole number from 1 to 10000", r.fwdBatch)
	} else {
		f.Batch = n
	}
	return f
}

// checkSyslog validates the collector's address, CA file and client certificate.
func (f AuditForward) checkSyslog(bad func(env, format string, a ...any)) {
	if host, port, err := net.SplitHostPort(f.SyslogAddr); err != nil || host == "" || port == "" {
		bad("PARLEY_AUDIT_FORWARD_SYSLOG", "%q is not host:port", f.SyslogAddr)
	}
	if f.SyslogCA != "" {
		if _, err := loadCAPool(f.SyslogCA); err != nil {
			bad("PARLEY_AUDIT_FORWARD_SYSLOG_CA", "%v", err)
		}
	}
	switch {
	case f.SyslogCert != "" && f.SyslogKey == "":
		bad("PARLEY_AUDIT_FORWARD_SYSLOG_KEY", "must be set with PARLEY_AUDIT_FORWARD_SYSLOG_CERT")
	case f.SyslogKey != "" && f.SyslogCert == "":
		bad("PARLEY_AUDIT_FORWARD_SYSLOG_CERT", "must be set with PARLEY_AUDIT_FORWARD_SYSLOG_KEY")
	case f.SyslogCert != "":
		if _, err := LoadKeyPair(f.SyslogCert, f.SyslogKey); err != nil {
			bad("PARLEY_AUDIT_FORWARD_SYSLOG_CERT", "%v", oneLine(err))
		}
	}
}

// SyslogTLS returns the TLS settings for the syslog collector: TLS 1.2 or later, the collector
// verified against SyslogCA (or the system roots) under SyslogServerName, and the client
// certificate when one is configured.
func (f AuditForward) SyslogTLS() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.SyslogServerName}
	if c.ServerName == "" {
		host, _, err := net.SplitHostPort(f.SyslogAddr)
		if err != nil {
			return nil, fmt.Errorf("syslog address %q is not host:port", f.SyslogAddr)
		}
		c.ServerName = host
	}
	if f.SyslogCA != "" {
		pool, err := loadCAPool(f.SyslogCA)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if f.SyslogCert != "" {
		kp, err := LoadKeyPair(f.SyslogCert, f.SyslogKey)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{*kp}
	}
	return c, nil
}

// loadCAPool reads PEM certificates into a pool; a file without any is an error.
func loadCAPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- the operator names this file in the configuration.
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, errors.Unwrap(err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// parseRetention reads the audit retention in days, at least MinAuditRetentionDays.
func parseRetention(s string, p *Problems) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < MinAuditRetentionDays || n > 100*366 {
		*p = append(*p, fmt.Sprintf("PARLEY_AUDIT_RETENTION_DAYS: %q must be a whole number of days, at least %d (PCI DSS 10.5.1)", s, MinAuditRetentionDays))
		return 0
	}
	return time.Duration(n) * 24 * time.Hour
}

// oneLine keeps an error message to its first line, for the one-line problem list.
func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
