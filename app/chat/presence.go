package chat

import (
	"context"
	"strings"
	"time"
)

type presenceRow struct {
	SocketID    string `gorm:"primaryKey"`
	TenantID    string
	UserID      string
	NodeID      string
	Departments string
	SeenAt      time.Time
}

func (presenceRow) TableName() string { return "agent_presence" }

// anyDepartment marks an agent who may accept chats of every department (and those without one).
const anyDepartment = "*"

// presenceUp records an agent socket as online for the departments it serves.
func (s *Service) presenceUp(ctx context.Context, socketID, tenantID, userID string, depts []string) error {
	return s.db.WithContext(ctx).Create(&presenceRow{SocketID: socketID, TenantID: tenantID, UserID: userID, NodeID: s.node,
		Departments: " " + strings.Join(depts, " ") + " ", SeenAt: s.now().UTC()}).Error
}

// presenceBeat keeps an agent socket online.
func (s *Service) presenceBeat(ctx context.Context, socketID string) error {
	return s.db.WithContext(ctx).Model(&presenceRow{}).Where("socket_id = ?", socketID).Update("seen_at", s.now().UTC()).Error
}

// presenceDown removes an agent socket.
func (s *Service) presenceDown(ctx context.Context, socketID string) {
	if err := s.db.WithContext(ctx).Where("socket_id = ?", socketID).Delete(&presenceRow{}).Error; err != nil {
		s.log.WarnContext(ctx, "remove agent presence", "error", err.Error())
	}
}

// agentsOnline counts agent sockets online that serve dept ("" = any agent who serves chats
// without a department).
func (s *Service) agentsOnline(ctx context.Context, tenantID, dept string) (int64, error) {
	var n int64
	q := s.db.WithContext(ctx).Model(&presenceRow{}).Where("tenant_id = ? AND seen_at > ?", tenantID, s.now().UTC().Add(-s.limits.PresenceTTL))
	if dept != "" {
		q = q.Where("(departments LIKE ? OR departments LIKE ?)", "% "+dept+" %", "% "+anyDepartment+" %")
	} else {
		q = q.Where("departments LIKE ?", "% "+anyDepartment+" %")
	}
	err := q.Count(&n).Error
	return n, err
}

// userOnline counts a user's online agent sockets.
func (s *Service) userOnline(ctx context.Context, tenantID, userID string) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&presenceRow{}).
		Where("tenant_id = ? AND user_id = ? AND seen_at > ?", tenantID, userID, s.now().UTC().Add(-s.limits.PresenceTTL)).Count(&n).Error
	return n, err
}

// PurgePresence removes presence rows whose socket stopped beating (a node that died).
func (s *Service) PurgePresence(ctx context.Context) error {
	return s.db.WithContext(ctx).Where("seen_at < ?", s.now().UTC().Add(-2*s.limits.PresenceTTL)).Delete(&presenceRow{}).Error
}
