package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// wireEntry is an Entry as JSON: in export bundles, forwarded JSON lines and the API. Times
// use TimeLayout exactly, so a decoded entry hashes as it was sealed.
type wireEntry struct {
	Tenant    string            `json:"tenant"`
	Seq       int64             `json:"seq"`
	Time      string            `json:"time"`
	Actor     Actor             `json:"actor"`
	Origin    Origin            `json:"origin"`
	Action    Action            `json:"action"`
	Target    Target            `json:"target"`
	Outcome   Outcome           `json:"outcome"`
	Reason    string            `json:"reason"`
	RequestID string            `json:"request_id"`
	Details   map[string]string `json:"details"`
	PrevHash  Hash              `json:"prev_hash"`
	Hash      Hash              `json:"hash"`
}

// MarshalJSON encodes the entry with its time in TimeLayout and details as an object.
func (en Entry) MarshalJSON() ([]byte, error) {
	d := en.Details
	if d == nil {
		d = map[string]string{}
	}
	return marshalNoEscape(wireEntry{
		Tenant: en.Tenant, Seq: en.Seq, Time: en.Time.UTC().Format(TimeLayout), Actor: en.Actor, Origin: en.Origin,
		Action: en.Action, Target: en.Target, Outcome: en.Outcome, Reason: en.Reason, RequestID: en.RequestID,
		Details: d, PrevHash: en.PrevHash, Hash: en.Hash,
	})
}

// UnmarshalJSON decodes an entry strictly: no unknown fields, the time exactly in TimeLayout.
func (en *Entry) UnmarshalJSON(b []byte) error {
	var w wireEntry
	if err := strictUnmarshal(b, &w); err != nil {
		return err
	}
	t, err := parseCanonicalTime(w.Time)
	if err != nil {
		return err
	}
	if len(w.Details) == 0 {
		w.Details = nil
	}
	*en = Entry{
		Event: Event{Tenant: w.Tenant, Seq: w.Seq, Time: t, Actor: w.Actor, Origin: w.Origin, Action: w.Action,
			Target: w.Target, Outcome: w.Outcome, Reason: w.Reason, RequestID: w.RequestID, Details: w.Details},
		PrevHash: w.PrevHash, Hash: w.Hash,
	}
	return nil
}

type wireCheckpoint struct {
	Tenant    string `json:"tenant"`
	Seq       int64  `json:"seq"`
	Head      Hash   `json:"head"`
	Time      string `json:"time"`
	KeyID     string `json:"key_id"`
	Signature []byte `json:"signature"`
}

// MarshalJSON encodes the checkpoint with its time in TimeLayout and the signature in base64.
func (c Checkpoint) MarshalJSON() ([]byte, error) {
	return marshalNoEscape(wireCheckpoint{Tenant: c.Tenant, Seq: c.Seq, Head: c.Head, Time: c.Time.UTC().Format(TimeLayout), KeyID: c.KeyID, Signature: c.Signature})
}

// UnmarshalJSON decodes a checkpoint strictly.
func (c *Checkpoint) UnmarshalJSON(b []byte) error {
	var w wireCheckpoint
	if err := strictUnmarshal(b, &w); err != nil {
		return err
	}
	t, err := parseCanonicalTime(w.Time)
	if err != nil {
		return err
	}
	*c = Checkpoint{Tenant: w.Tenant, Seq: w.Seq, Head: w.Head, Time: t, KeyID: w.KeyID, Signature: w.Signature}
	return nil
}

func parseCanonicalTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil || t.Format(TimeLayout) != s {
		return time.Time{}, fmt.Errorf("time %q is not in the canonical format %s", truncate(s, 40), TimeLayout)
	}
	return t, nil
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err == nil {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
