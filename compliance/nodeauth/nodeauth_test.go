package nodeauth

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

type staticKeys []byte

func (k staticKeys) PeerKey(context.Context, string) ([]byte, error) { return k, nil }

func TestSignatureAndReplay(t *testing.T) {
	keys := staticKeys(bytes.Repeat([]byte{3}, 32))
	a, err := Derive(context.Background(), keys, "t1", "label/a")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Derive(context.Background(), keys, "t1", "label/b")
	body := []byte(`{"x":1}`)
	sig := Signature(a, "domain/1", body)
	for _, c := range []struct {
		name   string
		key    []byte
		domain string
		body   []byte
		want   bool
	}{
		{"same key, domain and body", a, "domain/1", body, true},
		{"another label's key", b, "domain/1", body, false},
		{"another domain", a, "domain/2", body, false},
		{"another body", a, "domain/1", []byte(`{"x":2}`), false},
	} {
		if got := Check(c.key, c.domain, c.body, sig); got != c.want {
			t.Errorf("%s: Check = %v, want %v", c.name, got, c.want)
		}
	}
	if _, err := Derive(context.Background(), staticKeys([]byte("short")), "t1", "l"); !errors.Is(err, ErrAuth) {
		t.Errorf("short secret: %v, want ErrAuth", err)
	}

	now := time.Unix(1_700_000_000, 0)
	var r Replay
	nonce := "0123456789abcdef0123456789abcdef"
	for _, c := range []struct {
		name  string
		at    int64
		nonce string
		ok    bool
	}{
		{"fresh", now.Unix(), nonce, true},
		{"replayed", now.Unix(), nonce, false},
		{"same nonce, other scope is fine below", now.Unix(), "ffffffffffffffffffffffffffffffff", true},
		{"stale", now.Add(-time.Minute).Unix(), "11111111111111111111111111111111", false},
		{"future", now.Add(time.Minute).Unix(), "22222222222222222222222222222222", false},
		{"short nonce", now.Unix(), "abc", false},
		{"not hex", now.Unix(), "zz23456789abcdef0123456789abcdef", false},
	} {
		err := r.Admit(now, 0, c.at, "t1", c.nonce)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrAuth)) {
			t.Errorf("%s: Admit = %v, want ok %v", c.name, err, c.ok)
		}
	}
	if err := r.Admit(now, 0, now.Unix(), "t2", nonce); err != nil {
		t.Errorf("a nonce seen for another tenant: %v", err)
	}
}
