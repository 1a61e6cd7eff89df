package chat

import (
	"context"
	"time"
)

// Run does the engine's background work until ctx ends: conversations nobody accepted in time
// become missed, invitations nobody answered in time expire, presence rows of dead nodes are removed, and visitor data past the tenant's
// retention is purged. Several nodes may run it at once; every step is idempotent.
func (s *Service) Run(ctx context.Context) error {
	queue := time.NewTicker(s.limits.QueueSweep)
	defer queue.Stop()
	hourly := time.NewTicker(time.Hour)
	defer hourly.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-queue.C:
			if _, err := s.SweepMissed(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "chat queue sweep", "error", err.Error())
			}
			if _, err := s.SweepInvitations(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "chat invitation sweep", "error", err.Error())
			}
			if err := s.PurgePresence(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "agent presence purge", "error", err.Error())
			}
		case <-hourly.C:
			if n, err := s.visitors.Purge(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "visitor retention purge", "error", err.Error())
			} else if n > 0 {
				s.log.InfoContext(ctx, "visitor retention purge", "rows", n)
			}
		}
	}
}
