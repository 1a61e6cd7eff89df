package integrity

import (
	"context"
	"path"
	"strings"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/forward"
	"github.com/parleyhq/parley/migrations"
)

// CheckpointLimit is how many of the latest checkpoints the page and the API list.
const CheckpointLimit = 20

// Checkpoint is a signed checkpoint as the page shows it, with its signature checked now.
type Checkpoint struct {
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	// KeyID names the signing key; KeyVersion is its version at the key provider (0: unknown).
	KeyID      string `json:"key_id"`
	KeyVersion int    `json:"key_version,omitempty"`
	// Verified is true when the signature verifies under a trusted key; Problem says why not.
	Verified bool   `json:"verified"`
	Problem  string `json:"problem,omitempty"`
	// Head is the chain's hash at Seq that the checkpoint vouches for.
	Head string `json:"head"`
}

// Checkpoints returns the tenant's latest signed checkpoints, newest first, each with its
// signature verified under the trusted keys now.
func (s *Service) Checkpoints(ctx context.Context, tenantID string) ([]Checkpoint, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	cps, err := s.Chain.RecentCheckpoints(ctx, tenantID, CheckpointLimit)
	if err != nil {
		return nil, err
	}
	ring := audit.NewKeyRing(s.Chain.TrustedKeys()...)
	var versions map[string]int
	if s.KeyVersions != nil {
		versions = s.KeyVersions(ctx)
	}
	out := make([]Checkpoint, 0, len(cps))
	for _, c := range cps {
		cp := Checkpoint{Seq: c.Seq, Time: c.Time.UTC(), KeyID: c.KeyID, KeyVersion: versions[c.KeyID], Verified: true, Head: c.Head.String()}
		if err := ring.Verify(c.KeyID, c.Message(), c.Signature); err != nil {
			cp.Verified, cp.Problem = false, "the signature does not verify under a trusted key"
		}
		out = append(out, cp)
	}
	return out, nil
}

// The states of a forwarding destination.
const (
	// DestinationCurrent: every event of the chain has been delivered.
	DestinationCurrent = "current"
	// DestinationBehind: events wait to be delivered and no failure is reported.
	DestinationBehind = "behind"
	// DestinationFailing: the destination refuses or cannot be reached (a standing alert).
	DestinationFailing = "failing"
	// DestinationNever: the destination has received none of the organisation's events.
	DestinationNever = "never_delivered"
)

// Destination is one forwarding destination's state for the organisation, with a name safe to
// show to an auditor: a syslog collector's host and port, a file's name without its folder.
type Destination struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
	State string `json:"state"`
	// Forwarded is the last event delivered; Lag how many of the chain's events wait.
	Forwarded int64 `json:"forwarded_seq"`
	Lag       int64 `json:"lag_events"`
	// LastSuccess is when the destination last accepted the organisation's events (nil: never).
	LastSuccess *time.Time `json:"last_success,omitempty"`
	// OldestPending is when the oldest event still waiting was written; LagSeconds how long ago.
	OldestPending *time.Time `json:"oldest_pending,omitempty"`
	LagSeconds    int64      `json:"lag_seconds"`
}

// Forwarding is the organisation's audit forwarding.
type Forwarding struct {
	// Configured is false when no destination is configured (PARLEY_AUDIT_FORWARD_*).
	Configured   bool          `json:"configured"`
	Head         int64         `json:"head"`
	Destinations []Destination `json:"destinations"`
}

// Forwarding reads how far each configured destination got in the tenant's chain.
func (s *Service) Forwarding(ctx context.Context, tenantID string) (Forwarding, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	out := Forwarding{Configured: len(s.Destinations) > 0, Destinations: []Destination{}}
	if !out.Configured {
		return out, nil
	}
	head, _, err := s.Chain.Head(ctx, tenantID)
	if err != nil {
		return out, err
	}
	out.Head = head
	pos, err := forward.Positions(ctx, s.DB, tenantID)
	if err != nil {
		return out, err
	}
	failing := map[string]bool{}
	if s.Health != nil {
		for _, h := range s.Health() {
			failing[h.Name] = !h.Healthy
		}
	}
	if s.Alerts != nil {
		for _, a := range s.Alerts() {
			if a.Kind == audit.AlertForwardFailed && !a.Cleared && a.Sink != "" {
				failing[a.Sink] = true
			}
		}
	}
	now := s.Now()
	for _, name := range s.Destinations {
		d := Destination{}
		d.Kind, d.Label = label(name)
		p, ok := pos[name]
		d.Forwarded = p.Event
		d.Lag = max(head-p.Event, 0)
		if ok && !p.Updated.IsZero() {
			t := p.Updated
			d.LastSuccess = &t
		}
		if d.Lag > 0 {
			if e, err := s.Chain.Get(ctx, tenantID, p.Event+1); err == nil {
				t := e.Time.UTC()
				d.OldestPending = &t
				d.LagSeconds = max(int64(now.Sub(t)/time.Second), 0)
			}
		}
		switch {
		case failing[name]:
			d.State = DestinationFailing
		case !ok && head > 0:
			d.State = DestinationNever
		case d.Lag > 0:
			d.State = DestinationBehind
		default:
			d.State = DestinationCurrent
		}
		out.Destinations = append(out.Destinations, d)
	}
	return out, nil
}

// label names a destination for an auditor: "syslog:HOST:PORT" is the syslog collector at
// HOST:PORT, "file:PATH" the JSON-lines file named by PATH's last element (the server's folders
// are not shown).
func label(name string) (kind, text string) {
	kind, rest, _ := strings.Cut(name, ":")
	switch kind {
	case "syslog":
		return kind, "syslog collector " + rest
	case "file":
		return kind, "JSON-lines file " + path.Base(strings.ReplaceAll(rest, "\\", "/"))
	}
	return "other", "destination"
}
