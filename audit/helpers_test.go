package audit

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// seedSigner returns a FileSigner over a key derived from seed, without touching the disk.
func seedSigner(seed byte) *FileSigner {
	var s [ed25519.SeedSize]byte
	for i := range s {
		s[i] = seed
	}
	priv := ed25519.NewKeyFromSeed(s[:])
	pub, _ := priv.Public().(ed25519.PublicKey)
	return &FileSigner{id: KeyIDFor(pub), priv: priv}
}

// memChain is a chain built in memory: entries 1..n of tenant t1 and a signed checkpoint
// every cpEvery events.
type memChain struct {
	signer  *FileSigner
	entries []Entry
	cps     []Checkpoint
}

func newMemChain(t testing.TB, n, cpEvery int) *memChain {
	t.Helper()
	c := &memChain{signer: seedSigner(1)}
	h := NewHasher()
	var prev Hash
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		e := Entry{Event: Event{
			Tenant: "t1", Seq: int64(i), Time: at.Add(time.Duration(i) * time.Second),
			Actor: Actor{ID: fmt.Sprintf("user-%d", i%5), Role: "admin", Kind: ActorUser}, Origin: Origin{IP: "203.0.113.9", Node: "n1"},
			Action: ActionUserUpdate, Target: Target{Kind: "user", ID: fmt.Sprintf("u%d", i)}, Outcome: Success,
			RequestID: fmt.Sprintf("r%d", i), Details: map[string]string{"field": "email", "n": fmt.Sprint(i)},
		}}
		e.PrevHash = prev
		e.Hash = h.Chain(&e.Event, prev)
		prev = e.Hash
		c.entries = append(c.entries, e)
		if cpEvery > 0 && i%cpEvery == 0 {
			cp, err := SignCheckpoint(context.Background(), c.signer, "t1", e.Seq, e.Hash, e.Time)
			if err != nil {
				t.Fatal(err)
			}
			c.cps = append(c.cps, cp)
		}
	}
	return c
}

func (c *memChain) keys() []PublicKey {
	return []PublicKey{{ID: c.signer.KeyID(), Key: c.signer.PublicKey()}}
}

// bundle writes entries [from, to] (1-based, inclusive) with the checkpoints from from-1 on
// and the first one after to, as the database export does.
func (c *memChain) bundle(t testing.TB, from, to int) ([]byte, BundleInfo) {
	t.Helper()
	var buf bytes.Buffer
	last := c.entries[len(c.entries)-1]
	w, err := NewBundleWriter(&buf, BundleHeader{Tenant: "t1", Created: last.Time, ChainHead: SeqHash{Seq: last.Seq, Hash: last.Hash}}, c.signer)
	if err != nil {
		t.Fatal(err)
	}
	after := false
	for _, cp := range c.cps {
		switch {
		case cp.Seq >= int64(from-1) && cp.Seq <= int64(to):
		case cp.Seq > int64(to) && !after:
			after = true
		default:
			continue
		}
		if err := w.AddCheckpoint(cp); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range c.entries[from-1 : to] {
		if err := w.AddEntry(e); err != nil {
			t.Fatal(err)
		}
	}
	info, err := w.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), info
}

// rewriteTar re-packs a bundle, passing each file through fn; fn returning nil drops the file.
func rewriteTar(t testing.TB, b []byte, fn func(name string, data []byte) []byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		data = fn(h.Name, data)
		if data == nil {
			continue
		}
		h.Size = int64(len(data))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// appendTarFile adds a file at the end of a bundle.
func appendTarFile(t testing.TB, b []byte, name string, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// editLines applies fn to the lines of one file of a bundle.
func editLines(name string, fn func(lines []string) []string) func(string, []byte) []byte {
	return func(n string, data []byte) []byte {
		if n != name {
			return data
		}
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		return []byte(strings.Join(fn(lines), "\n") + "\n")
	}
}

// sampleEvent returns a valid event of tenant t, numbered i for recognisability.
func sampleEvent(tenant string, i int) Event {
	return Event{
		Tenant:    tenant,
		Actor:     Actor{ID: fmt.Sprintf("user-%d", i%7), Role: "admin", Kind: ActorUser},
		Origin:    Origin{IP: "203.0.113.9", UserAgent: "Mozilla/5.0 (test)"},
		Action:    ActionUserUpdate,
		Target:    Target{Kind: "user", ID: fmt.Sprintf("target-%d", i)},
		Outcome:   Success,
		RequestID: fmt.Sprintf("req-%d", i),
		Details:   map[string]string{"field": "display_name", "n": fmt.Sprint(i)},
	}
}

// withoutDetails returns the same chain with no details, rehashed and re-signed.
func (c *memChain) withoutDetails(t testing.TB) *memChain {
	t.Helper()
	out := &memChain{signer: c.signer}
	h := NewHasher()
	var prev Hash
	for _, e := range c.entries {
		e.Details = nil
		e.PrevHash = prev
		e.Hash = h.Chain(&e.Event, prev)
		prev = e.Hash
		out.entries = append(out.entries, e)
	}
	for _, cp := range c.cps {
		e := out.entries[cp.Seq-1]
		ncp, err := SignCheckpoint(context.Background(), c.signer, "t1", e.Seq, e.Hash, e.Time)
		if err != nil {
			t.Fatal(err)
		}
		out.cps = append(out.cps, ncp)
	}
	return out
}
