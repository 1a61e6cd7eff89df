package secureform

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/parleyhq/parley/compliance/pan"
)

// Tokenizer forwards a card to a payment or tokenization endpoint and returns the reference it
// answers with. It must not keep the card.
type Tokenizer interface {
	Tokenize(ctx context.Context, c *Card, reference string) (string, error)
}

// HTTPSTokenizerConfig configures an HTTPSTokenizer.
type HTTPSTokenizerConfig struct {
	// URL is the endpoint; only https:// is accepted.
	URL string
	// Header and Value authenticate Parley to the endpoint (e.g. "Authorization", "Bearer …").
	// The value is never logged or put in an error.
	Header, Value string
	// Timeout bounds one call; zero means 10 seconds.
	Timeout time.Duration
	// RootCAs replaces the system's trusted roots (a private payment gateway's CA); nil keeps
	// them.
	RootCAs *x509.CertPool
}

// HTTPSTokenizer posts the card as JSON over TLS 1.2 or newer:
//
//	{"reference":"<form request id>","number":"…","exp_month":12,"exp_year":2028,"cvc":"…","name":"…"}
//
// and expects 2xx with {"token":"…"}: 1–256 printable ASCII characters that hold no card number.
// Anything else is ErrTokenizer, with the status code at most.
type HTTPSTokenizer struct {
	url    string
	header string
	value  string
	client *http.Client
}

var _ Tokenizer = (*HTTPSTokenizer)(nil)

// NewHTTPSTokenizer checks cfg and returns the tokenizer.
func NewHTTPSTokenizer(cfg HTTPSTokenizerConfig) (*HTTPSTokenizer, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%w: the tokenization endpoint must be an https:// URL without credentials", ErrConfig)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs},
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        4,
		IdleConnTimeout:     30 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second,
	}
	return &HTTPSTokenizer{url: u.String(), header: cfg.Header, value: cfg.Value,
		client: &http.Client{Timeout: cfg.Timeout, Transport: tr, CheckRedirect: noRedirect}}, nil
}

// noRedirect refuses redirects: card data is posted to the configured endpoint only.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Tokenize implements Tokenizer.
func (t *HTTPSTokenizer) Tokenize(ctx context.Context, c *Card, reference string) (string, error) {
	var arr [512]byte
	body := appendTokenRequest(arr[:0], &c.d, reference)
	defer func() { clear(body); clear(arr[:]) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("%w: build request", ErrTokenizer)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if t.header != "" {
		req.Header.Set(t.header, t.value)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: endpoint unreachable", ErrTokenizer)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return "", fmt.Errorf("%w: endpoint answered %d", ErrTokenizer, resp.StatusCode)
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<10)).Decode(&out); err != nil {
		return "", fmt.Errorf("%w: unreadable answer", ErrTokenizer)
	}
	if !validToken(out.Token) {
		return "", fmt.Errorf("%w: the answer holds no usable token", ErrTokenizer)
	}
	return out.Token, nil
}

// validToken accepts 1–256 printable ASCII characters that hold no card number.
func validToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return !pan.Contains(s)
}

// appendTokenRequest appends the JSON the endpoint receives.
func appendTokenRequest(b []byte, d *data, reference string) []byte {
	b = append(b, `{"reference":`...)
	b = appendJSONString(b, []byte(reference))
	b = append(b, `,"number":"`...)
	b = append(b, d.number[:d.nlen]...)
	b = append(b, `","exp_month":`...)
	b = strconv.AppendUint(b, uint64(d.month), 10)
	b = append(b, `,"exp_year":`...)
	b = strconv.AppendUint(b, uint64(d.year), 10)
	b = append(b, `,"cvc":"`...)
	b = append(b, d.cvc[:d.clen]...)
	b = append(b, `","name":`...)
	b = appendJSONString(b, d.name[:d.namelen])
	return append(b, '}')
}
