package secureform

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/compliance/nodeauth"
	"github.com/parleyhq/parley/compliance/pan"
)

var peerSecret = StaticPeerKeys{Secret: bytes.Repeat([]byte{7}, 32)}

// nodes returns a holding node's peer and store, with a card for keyA held for agent "a", and an
// asking node's peer sharing the secret.
func nodes(t *testing.T) (holder *Peer, store *Store, asker *Peer, clk *clock) {
	t.Helper()
	store, clk = newStore(t, Config{})
	if _, err := store.Put(context.Background(), keyA, "a", mustCard(t, "4111111111111111", "12/28", "123", "Ada")); err != nil {
		t.Fatal(err)
	}
	holder = &Peer{Keys: peerSecret, Node: "node-a", Now: clk.Now}
	asker = &Peer{Keys: peerSecret, Node: "node-b", Now: clk.Now}
	return holder, store, asker, clk
}

func TestPeerRoundTrip(t *testing.T) {
	holder, store, asker, _ := nodes(t)
	ctx := context.Background()
	ask := func(op Op) (PeerRequest, []byte) {
		t.Helper()
		req, body, sig, err := asker.Sign(ctx, PeerRequest{Op: op, Tenant: "t1", Conversation: "c1", Request: "r1", Agent: "a", Mode: "bin_last4"})
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(body, []byte("4111")) {
			t.Fatalf("request body %s holds card data", body)
		}
		got, err := holder.Verify(ctx, body, sig)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if got.Node != "node-b" || got.Op != op {
			t.Errorf("verified request = %+v", got)
		}
		reply, err := holder.Answer(ctx, store, got)
		if err != nil {
			t.Fatalf("Answer: %v", err)
		}
		if bytes.Contains(reply, []byte("4111")) || bytes.Contains(reply, []byte("Ada")) {
			t.Fatal("reply is not sealed")
		}
		return req, reply
	}
	req, reply := ask(OpView)
	m, until, err := asker.OpenView(ctx, req, reply)
	if err != nil || m.Number != "411111••••••1111" || !until.Equal(testNow.Add(DefaultTTL)) {
		t.Fatalf("OpenView = %+v, %v, %v", m, until, err)
	}
	req, reply = ask(OpReveal)
	r, err := asker.OpenReveal(ctx, req, reply)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_ = r.WriteJSON(&out)
	if !strings.Contains(out.String(), `"number":"4111111111111111"`) || !strings.Contains(out.String(), `"cvc":"123"`) || r.Brand() != pan.BrandVisa {
		t.Errorf("revealed %s", out.String())
	}
	r.Wipe()
	// A reply opens only for its own request.
	req2, reply2 := ask(OpView)
	if _, err := asker.OpenReveal(ctx, req2, reply); !errors.Is(err, ErrPeerReply) {
		t.Errorf("OpenReveal of another request's reply = %v, want ErrPeerReply", err)
	}
	reply2[len(reply2)-1] ^= 1
	if _, _, err := asker.OpenView(ctx, req2, reply2); !errors.Is(err, ErrPeerReply) {
		t.Errorf("OpenView of a tampered reply = %v, want ErrPeerReply", err)
	}
	req, reply = ask(OpPurge)
	if err := asker.OpenPurge(ctx, req, reply); err != nil {
		t.Fatal(err)
	}
	if store.Len() != 0 {
		t.Error("OpPurge left the card")
	}
}

func TestPeerRefuses(t *testing.T) {
	holder, store, asker, clk := nodes(t)
	ctx := context.Background()
	base := PeerRequest{Op: OpReveal, Tenant: "t1", Conversation: "c1", Request: "r1", Agent: "a"}
	sign := func(p *Peer, r PeerRequest) ([]byte, string) {
		_, body, sig, err := p.Sign(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return body, sig
	}
	t.Run("replay", func(t *testing.T) {
		body, sig := sign(asker, base)
		if _, err := holder.Verify(ctx, body, sig); err != nil {
			t.Fatal(err)
		}
		if _, err := holder.Verify(ctx, body, sig); !errors.Is(err, ErrPeerAuth) {
			t.Errorf("replayed request = %v, want ErrPeerAuth", err)
		}
	})
	t.Run("tampered body", func(t *testing.T) {
		body, sig := sign(asker, base)
		body = bytes.Replace(body, []byte(`"agent":"a"`), []byte(`"agent":"b"`), 1)
		if _, err := holder.Verify(ctx, body, sig); !errors.Is(err, ErrPeerAuth) {
			t.Errorf("tampered request = %v, want ErrPeerAuth", err)
		}
	})
	t.Run("other secret", func(t *testing.T) {
		stranger := &Peer{Keys: StaticPeerKeys{Secret: bytes.Repeat([]byte{8}, 32)}, Now: clk.Now}
		body, sig := sign(stranger, base)
		if _, err := holder.Verify(ctx, body, sig); !errors.Is(err, ErrPeerAuth) {
			t.Errorf("request signed with another secret = %v, want ErrPeerAuth", err)
		}
	})
	t.Run("other tenant's key", func(t *testing.T) {
		body, sig := sign(asker, PeerRequest{Op: OpReveal, Tenant: "t2", Conversation: "c1", Request: "r1", Agent: "a"})
		body = bytes.Replace(body, []byte(`"tenant":"t2"`), []byte(`"tenant":"t1"`), 1)
		if _, err := holder.Verify(ctx, body, sig); !errors.Is(err, ErrPeerAuth) {
			t.Errorf("request re-addressed to another tenant = %v, want ErrPeerAuth", err)
		}
	})
	t.Run("stale", func(t *testing.T) {
		body, sig := sign(asker, base)
		clk.Advance(DefaultMaxSkew + time.Second)
		defer clk.Advance(-DefaultMaxSkew - time.Second)
		if _, err := holder.Verify(ctx, body, sig); !errors.Is(err, ErrPeerAuth) {
			t.Errorf("stale request = %v, want ErrPeerAuth", err)
		}
	})
	t.Run("missing signature", func(t *testing.T) {
		body, _ := sign(asker, base)
		if _, err := holder.Verify(ctx, body, ""); !errors.Is(err, ErrPeerAuth) {
			t.Errorf("unsigned request = %v, want ErrPeerAuth", err)
		}
	})
	t.Run("another agent", func(t *testing.T) {
		body, sig := sign(asker, PeerRequest{Op: OpReveal, Tenant: "t1", Conversation: "c1", Request: "r1", Agent: "b"})
		req, err := holder.Verify(ctx, body, sig)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := holder.Answer(ctx, store, req); !errors.Is(err, ErrForbidden) || PeerErrorOf(PeerError(err)) != ErrForbidden {
			t.Errorf("Answer for another agent = %v, want ErrForbidden", err)
		}
	})
	t.Run("another conversation", func(t *testing.T) {
		body, sig := sign(asker, PeerRequest{Op: OpView, Mode: "last4", Tenant: "t1", Conversation: "c2", Request: "r1", Agent: "a"})
		req, err := holder.Verify(ctx, body, sig)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := holder.Answer(ctx, store, req); !errors.Is(err, ErrNotFound) {
			t.Errorf("Answer for another conversation = %v, want ErrNotFound", err)
		}
	})
}

func TestStaticPeerKeys(t *testing.T) {
	if _, err := (StaticPeerKeys{Secret: []byte("short")}).PeerKey(context.Background(), "t"); !errors.Is(err, ErrConfig) {
		t.Errorf("short secret = %v, want ErrConfig", err)
	}
	a, _ := peerSecret.PeerKey(context.Background(), "t1")
	b, _ := peerSecret.PeerKey(context.Background(), "t2")
	if bytes.Equal(a, b) || len(a) != 32 {
		t.Error("tenants share a peer key")
	}
}

// FuzzPeerVerify: whatever arrives at the node-to-node endpoint, Verify never panics and never
// accepts a body whose signature was not made with the tenant's secret.
func FuzzPeerVerify(f *testing.F) {
	clk := newClock()
	asker := &Peer{Keys: peerSecret, Now: clk.Now}
	_, body, sig, err := asker.Sign(context.Background(), PeerRequest{Op: OpView, Tenant: "t1", Conversation: "c1", Request: "r1", Agent: "a", Mode: "last4"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body, sig)
	f.Add([]byte(`{"op":"reveal","tenant":"t1"}`), "v1=00")
	f.Add([]byte(`{}`), "")
	f.Add([]byte(`[`), "v1=")
	f.Fuzz(func(t *testing.T, b []byte, s string) {
		holder := &Peer{Keys: peerSecret, Now: clk.Now}
		req, err := holder.Verify(context.Background(), b, s)
		if err == nil {
			mac, _, kerr := holder.keys(context.Background(), req.Tenant)
			if kerr != nil || s != nodeauth.Signature(mac, peerDomain, b) {
				t.Fatalf("accepted a request not signed with the secret: %+v", req)
			}
		}
		if err != nil && !errors.Is(err, ErrPeerAuth) {
			t.Fatalf("error %v does not wrap ErrPeerAuth", err)
		}
	})
}
