package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestAuditDefaults(t *testing.T) {
	cfg, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AuditForward.Enabled() || cfg.AuditForward.Interval != time.Second || cfg.AuditForward.Batch != 500 {
		t.Errorf("got forwarding %+v, want none, polling every second in batches of 500", cfg.AuditForward)
	}
	if cfg.AuditRetention != 365*24*time.Hour {
		t.Errorf("got retention %v, want 365 days", cfg.AuditRetention)
	}
}

// writePair writes a self-signed certificate and its key as PEM files in dir.
func writePair(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "parley-node"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestAuditForwardSettings(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writePair(t, dir)
	env := map[string]string{
		"PARLEY_AUDIT_FORWARD_SYSLOG": "siem.example.com:6514", "PARLEY_AUDIT_FORWARD_SYSLOG_CA": certFile,
		"PARLEY_AUDIT_FORWARD_SYSLOG_CERT": certFile, "PARLEY_AUDIT_FORWARD_SYSLOG_KEY": keyFile,
		"PARLEY_AUDIT_FORWARD_FILE": filepath.Join(dir, "audit.jsonl"), "PARLEY_AUDIT_FORWARD_INTERVAL": "250ms",
		"PARLEY_AUDIT_FORWARD_BATCH": "100", "PARLEY_AUDIT_RETENTION_DAYS": "730",
	}
	cfg, err := load(t, env, "--audit-forward-syslog-server-name", "collector.internal")
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.AuditForward
	if !f.Enabled() || f.SyslogAddr != "siem.example.com:6514" || f.File != filepath.Join(dir, "audit.jsonl") || f.Interval != 250*time.Millisecond || f.Batch != 100 {
		t.Errorf("got %+v", f)
	}
	if cfg.AuditRetention != 730*24*time.Hour {
		t.Errorf("got retention %v, want 730 days", cfg.AuditRetention)
	}
	tc, err := f.SyslogTLS()
	if err != nil {
		t.Fatal(err)
	}
	if tc.ServerName != "collector.internal" || tc.RootCAs == nil || len(tc.Certificates) != 1 || tc.MinVersion != tls.VersionTLS12 || tc.InsecureSkipVerify {
		t.Errorf("got TLS %+v, want the flag's server name, the CA file's roots, the client pair, TLS 1.2+", tc)
	}

	// Without a server name or CA the collector is verified under its host against the system roots.
	cfg, err = load(t, map[string]string{"PARLEY_AUDIT_FORWARD_SYSLOG": "siem.example.com:6514"})
	if err != nil {
		t.Fatal(err)
	}
	if tc, err := cfg.AuditForward.SyslogTLS(); err != nil || tc.ServerName != "siem.example.com" || tc.RootCAs != nil || len(tc.Certificates) != 0 {
		t.Errorf("got %+v, %v; want server name siem.example.com and system roots", tc, err)
	}
}
