package config

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// LoadKeyPair reads and checks a PEM certificate chain and key.
func LoadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("certificate or key is not valid PEM, or they do not match: %w", err)
	}
	return &c, nil
}

// CertReloader serves the certificate in two files and picks up a renewed pair without a restart:
// on a handshake at most every Interval it compares the files' modification times and reloads
// them when they changed. A pair that fails to load keeps the previous one in service and is logged.
type CertReloader struct {
	CertFile, KeyFile string
	Interval          time.Duration
	Log               *slog.Logger
	Now               func() time.Time

	mu        sync.Mutex
	cert      *tls.Certificate
	modCert   time.Time
	modKey    time.Time
	lastCheck time.Time
}

// NewCertReloader loads the pair once and returns the reloader.
func NewCertReloader(certFile, keyFile string, log *slog.Logger) (*CertReloader, error) {
	r := &CertReloader{CertFile: certFile, KeyFile: keyFile, Interval: 10 * time.Second, Log: log, Now: time.Now}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *CertReloader) reload() error {
	cs, err := os.Stat(r.CertFile)
	if err != nil {
		return err
	}
	ks, err := os.Stat(r.KeyFile)
	if err != nil {
		return err
	}
	c, err := LoadKeyPair(r.CertFile, r.KeyFile)
	if err != nil {
		return err
	}
	r.cert, r.modCert, r.modKey = c, cs.ModTime(), ks.ModTime()
	return nil
}

// GetCertificate implements tls.Config.GetCertificate.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.Now()
	if now.Sub(r.lastCheck) >= r.Interval {
		r.lastCheck = now
		cs, err1 := os.Stat(r.CertFile)
		ks, err2 := os.Stat(r.KeyFile)
		if err1 == nil && err2 == nil && (!cs.ModTime().Equal(r.modCert) || !ks.ModTime().Equal(r.modKey)) {
			if err := r.reload(); err != nil {
				r.Log.Error("TLS certificate reload failed; keeping the previous certificate", "cause", err.Error())
			} else {
				r.Log.Info("TLS certificate reloaded", "file", r.CertFile)
			}
		}
	}
	return r.cert, nil
}

// TLSConfig returns Parley's server TLS settings: TLS 1.2 minimum with forward-secret AEAD suites
// only (TLS 1.3 suites are fixed by Go), and the reloader as certificate source.
func (r *CertReloader) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		},
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256},
		NextProtos:       []string{"h2", "http/1.1"},
	}
}
