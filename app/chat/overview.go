package chat

import (
	"context"
	"time"

	"github.com/parleyhq/parley/migrations"
)

// Overview is the state of an organisation's chat at one moment, as the console's overview shows
// it: figures only, never content.
type Overview struct {
	AgentsOnline int64
	Queued       int64
	Active       int64
	// LongestWait is how long the longest-waiting visitor has waited (0 when nobody waits).
	LongestWait time.Duration
}

// Overview counts the tenant's agents online and its queued and active conversations.
func (s *Service) Overview(ctx context.Context, tenantID string) (Overview, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var o Overview
	var err error
	if o.AgentsOnline, err = s.store.agentsOnlineDistinct(ctx, tenantID, s.onlineSince()); err != nil {
		return Overview{}, err
	}
	counts, err := s.store.openByStatus(ctx, tenantID)
	if err != nil {
		return Overview{}, err
	}
	for _, c := range counts {
		switch c.Status {
		case StatusQueued, StatusAssigned:
			o.Queued += c.N
		case StatusActive:
			o.Active += c.N
		}
	}
	oldest, err := s.store.oldestQueued(ctx, tenantID)
	if err != nil {
		return Overview{}, err
	}
	if oldest != nil {
		if w := s.now().Sub(*oldest); w > 0 {
			o.LongestWait = w
		}
	}
	return o, nil
}
