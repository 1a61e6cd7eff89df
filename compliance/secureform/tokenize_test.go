package secureform

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleyhq/parley/compliance/pan"
)

// tokenServer is a TLS tokenization endpoint that records what it received.
func tokenServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *x509.CertPool) {
	t.Helper()
	ts := httptest.NewTLSServer(h)
	t.Cleanup(ts.Close)
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	return ts, pool
}

func TestHTTPSTokenizer(t *testing.T) {
	var got map[string]any
	var auth string
	ts, pool := tokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got)
		_, _ = io.WriteString(w, `{"token":"tok_live_5f2c9a7e1b3d"}`)
	})
	tok, err := NewHTTPSTokenizer(HTTPSTokenizerConfig{URL: ts.URL + "/tokens", Header: "Authorization", Value: "Bearer sekrit", RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newStore(t, Config{Tokenizer: tok})
	c := mustCard(t, "4111 1111 1111 1111", "12/28", "123", "Ada")
	h, err := s.Put(context.Background(), keyA, "a", c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"reference": "r1", "number": "4111111111111111", "exp_month": 12.0, "exp_year": 2028.0, "cvc": "123", "name": "Ada"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("endpoint received %s = %v, want %v", k, got[k], v)
		}
	}
	if auth != "Bearer sekrit" {
		t.Errorf("Authorization = %q", auth)
	}
	var empty data
	if !h.Tokenized || c.d.number != empty.number || c.d.cvc != empty.cvc || c.d.name != empty.name || c.d.nlen+c.d.clen+c.d.namelen != 0 {
		t.Error("the tokenized card's data was kept")
	}
	m, _, err := s.View(keyA, "a", pan.ModeBINLast4)
	if err != nil {
		t.Fatal(err)
	}
	if m.Number != "••••1111" || m.Token != "tok_…1b3d" || !m.Tokenized || m.CVC != "" || m.Name != "" {
		t.Errorf("masked tokenized card = %+v", m)
	}
	if _, _, err := s.Reveal(keyA, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Reveal of a tokenized card = %v, want ErrNotFound", err)
	}
}

func TestHTTPSTokenizerFailures(t *testing.T) {
	tests := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"server error", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "card 4111111111111111 declined", 500) }},
		{"no token", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{}`) }},
		{"token is a card number", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"token":"4111111111111111"}`) }},
		{"not JSON", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `<html>`) }},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/", http.StatusTemporaryRedirect)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, pool := tokenServer(t, tt.h)
			tok, err := NewHTTPSTokenizer(HTTPSTokenizerConfig{URL: ts.URL, RootCAs: pool})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := newStore(t, Config{Tokenizer: tok})
			c := mustCard(t, "4111111111111111", "12/28", "123", "Ada")
			_, err = s.Put(context.Background(), keyA, "a", c)
			if !errors.Is(err, ErrTokenizer) {
				t.Fatalf("Put = %v, want ErrTokenizer", err)
			}
			if pan.Contains(err.Error()) || strings.Contains(err.Error(), "declined") {
				t.Errorf("error %q repeats the endpoint's answer", err)
			}
			if !zeroed(&c.d) || s.Len() != 0 {
				t.Error("a card that failed tokenization was kept")
			}
		})
	}
}

func TestHTTPSTokenizerUntrustedCertificate(t *testing.T) {
	ts, _ := tokenServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"token":"tok_1234567890"}`) })
	tok, err := NewHTTPSTokenizer(HTTPSTokenizerConfig{URL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	c := mustCard(t, "4111111111111111", "12/28", "123", "Ada")
	defer c.Wipe()
	if _, err := tok.Tokenize(context.Background(), c, "r"); !errors.Is(err, ErrTokenizer) {
		t.Errorf("Tokenize against an untrusted certificate = %v, want ErrTokenizer", err)
	}
}

func TestNewHTTPSTokenizerRejects(t *testing.T) {
	for _, u := range []string{"http://pay.example/tokens", "https://user:pw@pay.example/", "pay.example", ""} {
		if _, err := NewHTTPSTokenizer(HTTPSTokenizerConfig{URL: u}); !errors.Is(err, ErrConfig) {
			t.Errorf("NewHTTPSTokenizer(%q) = %v, want ErrConfig", u, err)
		}
	}
}
