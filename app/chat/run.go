package chat

import (
	"context"
	"time"
)

// Run does the engine's background work until ctx ends: conversations nobody accepted in time
// become missed, invitations nobody answered in time expire, presence rows of dead nodes are
// removed and the routing sweep runs (expired offers, chats of agents gone offline, idle agents,
// queued chats). Several nodes may run it at once; every step is idempotent. Data past its
// retention (visitor data included) is the retention job's (app/retention), which honours site
// periods and legal holds.
func (s *Service) Run(ctx context.Context) error {
	queue := time.NewTicker(s.limits.QueueSweep)
	defer queue.Stop()
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
			if err := s.SweepRouting(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "chat routing sweep", "error", err.Error())
			}
		}
	}
}
