package cobrowse

import (
	"bytes"
	"context"
	"testing"

	"github.com/parleyhq/parley/compliance/secureform"
)

// TestSealedLink: a frame of the node-to-node link opens only in order, only in its direction
// and only under its attach request's nonce.
func TestSealedLink(t *testing.T) {
	s := &Service{keys: secureform.StaticPeerKeys{Secret: bytes.Repeat([]byte{9}, 32)}}
	ctx := context.Background()
	mk := func(nonce, dir string) *sealer {
		z, err := s.sealer(ctx, "t1", nonce, dir)
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	const n1, n2 = "0123456789abcdef0123456789abcdef", "ffffffffffffffffffffffffffffffff"
	out := mk(n1, "holder")
	a, b := out.seal([]byte("first")), out.seal([]byte("second"))
	for _, c := range []struct {
		name  string
		open  *sealer
		frame []byte
		ok    bool
	}{
		{"in order", mk(n1, "holder"), a, true},
		{"out of order", mk(n1, "holder"), b, false},
		{"other direction", mk(n1, "agent"), a, false},
		{"other request", mk(n2, "holder"), a, false},
		{"tampered", mk(n1, "holder"), append([]byte{a[0] ^ 1}, a[1:]...), false},
	} {
		got, err := c.open.open(c.frame)
		if (err == nil) != c.ok || (c.ok && string(got) != "first") {
			t.Errorf("%s: open = %q, %v; want ok %v", c.name, got, err, c.ok)
		}
	}
	in := mk(n1, "holder")
	if _, err := in.open(a); err != nil {
		t.Fatal(err)
	}
	if _, err := in.open(a); err == nil {
		t.Error("a replayed frame opened")
	}
}
