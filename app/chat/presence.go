package chat

import (
	"context"
	"github.com/parleyhq/parley/migrations"
	"time"
)

// anyDepartment marks an agent who may accept chats of every department (and those without one).
const anyDepartment = "*"

// onlineSince is the oldest heartbeat that still counts an agent connection as online.
func (s *Service) onlineSince() time.Time { return s.now().UTC().Add(-s.limits.PresenceTTL) }

// PurgePresence removes presence rows whose connection stopped beating (a node that died).
func (s *Service) PurgePresence(ctx context.Context) error {
	ctx = migrations.AcrossTenants(ctx) // housekeeping spans tenants (SECURITY.md)
	return s.store.purgePresence(ctx, s.now().UTC().Add(-2*s.limits.PresenceTTL))
}
