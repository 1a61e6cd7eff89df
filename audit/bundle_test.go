package audit

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
)

func TestBundleVerifiesOffline(t *testing.T) {
	c := newMemChain(t, 35, 10)
	all, info := c.bundle(t, 1, 35)
	if info.Events != 35 || info.FirstSeq != 1 || info.LastSeq != 35 || info.Checkpoints != 3 {
		t.Fatalf("got %+v, want events 1..35 and 3 checkpoints", info)
	}
	t.Run("intact with trusted key", func(t *testing.T) {
		r, err := VerifyBundle(bytes.NewReader(all), c.keys()...)
		if err != nil || !r.OK() {
			t.Fatalf("got %v, %v; want an intact bundle", r.Damage, err)
		}
		if !r.KeysTrusted || r.Events != 35 || r.Matched != 3 || r.Tenant != "t1" {
			t.Errorf("got %+v, want 35 events, 3 matched checkpoints, trusted keys", r)
		}
	})
	t.Run("intact without trusted keys reports fingerprints", func(t *testing.T) {
		r, err := VerifyBundle(bytes.NewReader(all))
		if err != nil || !r.OK() || r.KeysTrusted {
			t.Fatalf("got %+v, %v; want intact, keys not trusted", r, err)
		}
		if len(r.Keys) != 1 || r.Keys[0].Fingerprint != c.keys()[0].Fingerprint() {
			t.Errorf("got keys %+v, want the signer's fingerprint", r.Keys)
		}
	})
	t.Run("mid-chain bundle", func(t *testing.T) {
		b, _ := c.bundle(t, 15, 26)
		r, err := VerifyBundle(bytes.NewReader(b), c.keys()...)
		if err != nil || !r.OK() || r.FirstSeq != 15 || r.LastSeq != 26 || r.Matched != 1 {
			t.Fatalf("got %+v, %v; want intact 15..26 matching the checkpoint at 20", r, err)
		}
	})
	t.Run("bundle anchored by a checkpoint", func(t *testing.T) {
		b, _ := c.bundle(t, 21, 35)
		r, err := VerifyBundle(bytes.NewReader(b), c.keys()...)
		if err != nil || !r.OK() || r.FirstSeq != 21 || r.Matched != 1 {
			t.Fatalf("got %+v, %v; want intact 21..35 anchored at 20 and matching 30", r, err)
		}
	})
	t.Run("untrusted signer", func(t *testing.T) {
		r, err := VerifyBundle(bytes.NewReader(all), PublicKey{ID: "other", Key: seedSigner(7).PublicKey()})
		if err != nil || r.OK() || r.KeysTrusted {
			t.Fatalf("got %v, %v; want damage with untrusted keys", r.Damage, err)
		}
	})
}

func TestBundleDetectsTampering(t *testing.T) {
	c := newMemChain(t, 35, 10)
	all, _ := c.bundle(t, 1, 35)
	mid, _ := c.bundle(t, 15, 26)
	swap := func(i, j int) func([]string) []string {
		return func(ls []string) []string { ls[i], ls[j] = ls[j], ls[i]; return ls }
	}
	ev := "events-000001.jsonl"
	cases := []struct {
		name   string
		bundle []byte
		edit   func(string, []byte) []byte
		kind   DamageKind
		seq    int64
	}{
		{"modified event", all, editLines(ev, func(ls []string) []string {
			ls[11] = strings.Replace(ls[11], `"outcome":"success"`, `"outcome":"failure"`, 1)
			return ls
		}), DamageModified, 12},
		{"deleted event", all, editLines(ev, func(ls []string) []string { return append(ls[:11:11], ls[12:]...) }), DamageDeleted, 12},
		{"reordered events", all, editLines(ev, swap(11, 12)), DamageReordered, 12},
		{"duplicated event", all, editLines(ev, func(ls []string) []string { return append(ls[:12:12], ls[11:]...) }), DamageInserted, 12},
		{"truncated after the last checkpoint", all, editLines(ev, func(ls []string) []string { return ls[:33] }), DamageTruncated, 34},
		{"truncated before a checkpoint", all, editLines(ev, func(ls []string) []string { return ls[:25] }), DamageTruncated, 26},
		{"mid-chain bundle with a forged first event", mid, editLines(ev, func(ls []string) []string {
			ls[0] = strings.Replace(ls[0], `"outcome":"success"`, `"outcome":"failure"`, 1)
			return ls
		}), DamageModified, 15},
		{"forged checkpoint", all, editLines("checkpoints.jsonl", func(ls []string) []string {
			ls[1] = strings.Replace(ls[1], `"seq":20`, `"seq":21`, 1)
			return ls
		}), DamageCheckpoint, 21},
		{"manifest edited", all, func(n string, d []byte) []byte {
			if n == "manifest.json" {
				return bytes.Replace(d, []byte(`"events": 35`), []byte(`"events": 34`), 1)
			}
			return d
		}, DamageBundle, 0},
		{"signature replaced", all, func(n string, d []byte) []byte {
			if n == "manifest.sig" {
				return ed25519.Sign(seedSigner(7).priv, d)
			}
			return d
		}, DamageBundle, 0},
		{"key file reformatted", all, func(n string, d []byte) []byte {
			if n == "keys.json" {
				return append(d, ' ')
			}
			return d
		}, DamageBundle, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := rewriteTar(t, tc.bundle, tc.edit)
			r, err := VerifyBundle(bytes.NewReader(b), c.keys()...)
			if err != nil {
				t.Fatalf("got error %v, want a damage report", err)
			}
			if r.Damage == nil || r.Damage.Kind != tc.kind || r.Damage.Seq != tc.seq {
				t.Errorf("got %v, want %s at %d", r.Damage, tc.kind, tc.seq)
			}
		})
	}

	malformed := []struct {
		name string
		b    []byte
	}{
		{"not a tar", []byte("hello")},
		{"empty", nil},
		{"missing manifest", rewriteTar(t, all, func(n string, d []byte) []byte {
			if strings.HasPrefix(n, "manifest") {
				return nil
			}
			return d
		})},
		{"missing keys", rewriteTar(t, all, func(n string, d []byte) []byte {
			if n == "keys.json" {
				return nil
			}
			return d
		})},
		{"file after the signature", appendTarFile(t, all, "notes.txt", []byte("hello"))},
	}
	for _, tc := range malformed {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := VerifyBundle(bytes.NewReader(tc.b), c.keys()...); !errors.Is(err, ErrBundleFormat) {
				t.Errorf("got %v, want ErrBundleFormat", err)
			}
		})
	}
}

func TestBundleWriterSplitsEventFiles(t *testing.T) {
	c := newMemChain(t, bundleEventsPerFile+5, 0)
	b, info := c.bundle(t, 1, bundleEventsPerFile+5)
	r, err := VerifyBundle(bytes.NewReader(b), c.keys()...)
	if err != nil || !r.OK() || r.Events != info.Events {
		t.Fatalf("got %+v, %v; want %d intact events over two files", r, err, info.Events)
	}
	if !bytes.Contains(b, []byte("events-000002.jsonl")) {
		t.Error("got one events file, want two")
	}
}
