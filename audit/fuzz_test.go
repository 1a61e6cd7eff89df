package audit

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzEntryJSON checks the strict entry decoder: whatever it accepts re-encodes to bytes that
// decode to the same entry with the same canonical encoding.
func FuzzEntryJSON(f *testing.F) {
	e := Entry{Event: vectorEvent()}
	e.Hash = ChainHash(e.Event, e.PrevHash)
	b, err := json.Marshal(e)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"tenant":"t","seq":1,"time":"2026-03-01T09:30:00.000000Z","actor":{"id":"a","role":"","kind":"user"},"origin":{"ip":"","user_agent":"","node":""},"action":"auth.sign_out","target":{"kind":"","id":""},"outcome":"success","reason":"\u00e9\ud83d\ude00","request_id":"","details":{"a\"b":"c\\d"},"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","hash":"0000000000000000000000000000000000000000000000000000000000000000"}`))
	f.Add([]byte(`{"time":"2026-03-01T09:30:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Entry
		if err := json.Unmarshal(data, &a); err != nil {
			return
		}
		out, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var b Entry
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("decode of re-encoded %q: %v", out, err)
		}
		if !bytes.Equal(CanonicalEvent(a.Event), CanonicalEvent(b.Event)) || a.Hash != b.Hash || a.PrevHash != b.PrevHash {
			t.Fatalf("round trip changed the entry: %q -> %q", data, out)
		}
		if a.Time.Location() != time.UTC || a.Time.Nanosecond()%1000 != 0 {
			t.Fatalf("decoded time %v is not canonical", a.Time)
		}
	})
}

// FuzzVerifyBundle feeds the offline verifier arbitrary bytes and mutations of a real bundle.
// It must never panic, and any bundle it accepts under the trusted key must state the same
// range of events as the genuine one.
func FuzzVerifyBundle(f *testing.F) {
	c := newMemChain(f, 12, 5)
	genuine, info := c.bundle(f, 1, 12)
	f.Add(genuine)
	f.Add(genuine[:len(genuine)/2])
	f.Add([]byte{})
	f.Add(rewriteTar(f, genuine, editLines("events-000001.jsonl", func(ls []string) []string { return ls[:5] })))
	keys := c.keys()
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := VerifyBundle(bytes.NewReader(data), keys...)
		if err != nil || !r.OK() {
			return
		}
		if r.Events != info.Events || r.FirstSeq != info.FirstSeq || r.LastSeq != info.LastSeq || r.Tenant != "t1" {
			t.Fatalf("accepted a bundle stating events %d..%d (%d) of %q, want %d..%d", r.FirstSeq, r.LastSeq, r.Events, r.Tenant, info.FirstSeq, info.LastSeq)
		}
	})
}
