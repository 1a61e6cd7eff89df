package chat

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

type routingSettingsRow struct {
	TenantID        string `gorm:"primaryKey"`
	IdleMinutes     int
	DefaultCapacity int
	UpdatedAt       time.Time
}

func (routingSettingsRow) TableName() string { return "routing_settings" }

type departmentRoutingRow struct {
	DepartmentID        string `gorm:"primaryKey"`
	TenantID            string
	Mode                string
	Capacity            int
	OfferTimeoutSeconds int
	Priority            int
	RequiredSkills      string
	SkillQuestion       string
	UpdatedAt           time.Time
}

func (departmentRoutingRow) TableName() string { return "department_routing" }

type agentRoutingRow struct {
	TenantID      string `gorm:"primaryKey"`
	UserID        string `gorm:"primaryKey"`
	Capacity      int
	Skills        string
	Status        string
	StatusReason  string
	StatusAt      *time.Time
	LastOfferedAt *time.Time
	OfflineAt     *time.Time
	UpdatedAt     time.Time
}

func (agentRoutingRow) TableName() string { return "agent_routing" }

// routingSettings returns the tenant's routing settings (the defaults when none are stored).
func (st *store) routingSettings(ctx context.Context, tenantID string) (RoutingSettings, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r routingSettingsRow
	err := st.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return DefaultRoutingSettings(), nil
	}
	if err != nil {
		return RoutingSettings{}, err
	}
	return RoutingSettings{IdleMinutes: r.IdleMinutes, DefaultCapacity: r.DefaultCapacity}, nil
}

// departmentRoutings returns the stored routing of the tenant's departments by department id
// (a department without a row routes by the defaults).
func (st *store) departmentRoutings(ctx context.Context, tenantID string) (map[string]DepartmentRouting, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []departmentRoutingRow
	if err := st.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]DepartmentRouting, len(rows))
	for _, r := range rows {
		out[r.DepartmentID] = DepartmentRouting{DepartmentID: r.DepartmentID, Mode: r.Mode, Capacity: r.Capacity,
			OfferTimeoutSeconds: r.OfferTimeoutSeconds, Priority: r.Priority, RequiredSkills: splitSkills(r.RequiredSkills),
			SkillQuestion: r.SkillQuestion}
	}
	return out, nil
}

// agentRoutings returns the stored routing of the tenant's agents by user id.
func (st *store) agentRoutings(ctx context.Context, tenantID string) (map[string]agentRoutingRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []agentRoutingRow
	if err := st.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]agentRoutingRow, len(rows))
	for _, r := range rows {
		out[r.UserID] = r
	}
	return out, nil
}

// agentRouting returns one agent's stored routing (zero capacity, no skills, online when none).
func (st *store) agentRouting(ctx context.Context, tenantID, userID string) (agentRoutingRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r agentRoutingRow
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND user_id = ?", tenantID, userID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return agentRoutingRow{TenantID: tenantID, UserID: userID, Status: AgentOnline, StatusReason: ReasonManual}, nil
	}
	return r, err
}

// saveRoutingSettings stores the tenant's routing settings with the audit record.
func (st *store) saveRoutingSettings(ctx context.Context, tenantID string, set RoutingSettings, rec audit.Event) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	row := routingSettingsRow{TenantID: tenantID, IdleMinutes: set.IdleMinutes, DefaultCapacity: set.DefaultCapacity, UpdatedAt: st.now().UTC()}
	return st.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "tenant_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"idle_minutes", "default_capacity", "updated_at"})}).Create(&row).Error; err != nil {
			return err
		}
		return st.audit.Append(ctx, tx, rec)
	})
}

// saveDepartmentRouting stores a department's routing with the audit record.
func (st *store) saveDepartmentRouting(ctx context.Context, tenantID string, d DepartmentRouting, rec audit.Event) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	row := departmentRoutingRow{DepartmentID: d.DepartmentID, TenantID: tenantID, Mode: d.Mode, Capacity: d.Capacity,
		OfferTimeoutSeconds: d.OfferTimeoutSeconds, Priority: d.Priority, RequiredSkills: joinSkills(d.RequiredSkills),
		SkillQuestion: d.SkillQuestion, UpdatedAt: st.now().UTC()}
	return st.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "department_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"mode", "capacity", "offer_timeout_seconds", "priority", "required_skills", "skill_question", "updated_at"})}).
			Create(&row).Error; err != nil {
			return err
		}
		return st.audit.Append(ctx, tx, rec)
	})
}

// saveAgentRouting stores an agent's capacity and skills with the audit record.
func (st *store) saveAgentRouting(ctx context.Context, tenantID, userID string, capacity int, skills []string, rec audit.Event) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	row := agentRoutingRow{TenantID: tenantID, UserID: userID, Capacity: capacity, Skills: joinSkills(skills),
		Status: AgentOnline, StatusReason: ReasonManual, UpdatedAt: st.now().UTC()}
	return st.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "tenant_id"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"capacity", "skills", "updated_at"})}).Create(&row).Error; err != nil {
			return err
		}
		return st.audit.Append(ctx, tx, rec)
	})
}

// setStatus stores an agent's chosen status with the audit record; false when it was already so.
func (st *store) setStatus(ctx context.Context, tenantID, userID, status, reason string, rec audit.Event) (bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	now := st.now().UTC()
	changed := false
	err := st.tx(ctx, func(tx *gorm.DB) error {
		changed = false
		var cur agentRoutingRow
		err := tx.Where("tenant_id = ? AND user_id = ?", tenantID, userID).Take(&cur).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			if status == AgentOnline && reason == ReasonManual {
				return nil
			}
			if err := tx.Create(&agentRoutingRow{TenantID: tenantID, UserID: userID, Status: status, StatusReason: reason,
				StatusAt: &now, UpdatedAt: now}).Error; err != nil {
				return err
			}
		case err != nil:
			return err
		case cur.Status == status && cur.StatusReason == reason:
			return nil
		case cur.Status == status:
			// Only the reason changes (away by choice after away by inactivity): not a change of status.
			return tx.Model(&agentRoutingRow{}).Where("tenant_id = ? AND user_id = ?", tenantID, userID).
				Updates(map[string]any{"status_reason": reason, "updated_at": now}).Error
		default:
			if err := tx.Model(&agentRoutingRow{}).Where("tenant_id = ? AND user_id = ?", tenantID, userID).
				Updates(map[string]any{"status": status, "status_reason": reason, "status_at": now, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		changed = true
		return st.audit.Append(ctx, tx, rec)
	})
	return changed, err
}

// loads counts, per agent, the tenant's conversations they handle or were offered.
func (st *store) loads(ctx context.Context, tenantID string) (map[string]int, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	type row struct {
		UserID string
		N      int
	}
	var active, offered []row
	db := st.db.WithContext(ctx)
	if err := db.Model(&Conversation{}).Select("agent_id AS user_id, COUNT(*) AS n").
		Where("tenant_id = ? AND status = ? AND agent_id IS NOT NULL", tenantID, StatusActive).Group("agent_id").Scan(&active).Error; err != nil {
		return nil, err
	}
	if err := db.Model(&Conversation{}).Select("offered_to AS user_id, COUNT(*) AS n").
		Where("tenant_id = ? AND status = ? AND offered_to IS NOT NULL", tenantID, StatusAssigned).Group("offered_to").Scan(&offered).Error; err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, r := range append(active, offered...) {
		out[r.UserID] += r.N
	}
	return out, nil
}

// onlineAgents returns, per user with an agent connection seen since after, the departments
// their connections serve (anyDepartment for every one).
func (st *store) onlineAgents(ctx context.Context, tenantID string, after time.Time) (map[string]map[string]bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []presenceRow
	if err := st.db.WithContext(ctx).Where("tenant_id = ? AND seen_at > ?", tenantID, after).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := map[string]map[string]bool{}
	for _, r := range rows {
		m := out[r.UserID]
		if m == nil {
			m = map[string]bool{}
			out[r.UserID] = m
		}
		for _, d := range splitSkills(r.Departments) {
			m[d] = true
		}
	}
	return out, nil
}

// routable lists up to 200 of the tenant's queued conversations in depts, highest priority
// first, then longest waiting.
func (st *store) routable(ctx context.Context, tenantID string, depts []string) ([]Conversation, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []Conversation
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND status = ? AND department_id IN ?", tenantID, StatusQueued, depts).
		Order("priority DESC, queued_at, id").Limit(200).Find(&out).Error
	return out, err
}

// refusalsOf returns, per conversation of ids, the users who refused it or let its offer expire.
func (st *store) refusalsOf(ctx context.Context, tenantID string, ids []string) (map[string]map[string]bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []refusal
	if err := st.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id IN ?", tenantID, ids).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := map[string]map[string]bool{}
	for _, r := range rows {
		if out[r.ConversationID] == nil {
			out[r.ConversationID] = map[string]bool{}
		}
		out[r.ConversationID][r.UserID] = true
	}
	return out, nil
}

// offer offers the queued conversation c to userID until expires and records when the agent was
// last offered a chat (round-robin), with the audit record; false when c was no longer queued.
func (st *store) offer(ctx context.Context, c Conversation, userID string, at, expires time.Time, rec audit.Event) (bool, error) {
	ctx = migrations.WithTenant(ctx, c.TenantID)
	offered := false
	err := st.tx(ctx, func(tx *gorm.DB) error {
		offered = false
		res := tx.Model(&Conversation{}).Where("tenant_id = ? AND id = ? AND status = ?", c.TenantID, c.ID, StatusQueued).
			Updates(map[string]any{"status": StatusAssigned, "offered_to": userID, "offer_expires_at": expires, "updated_at": at})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		row := agentRoutingRow{TenantID: c.TenantID, UserID: userID, Status: AgentOnline, StatusReason: ReasonManual, LastOfferedAt: &at, UpdatedAt: at}
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "tenant_id"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"last_offered_at"})}).Create(&row).Error; err != nil {
			return err
		}
		offered = true
		return st.audit.Append(ctx, tx, rec)
	})
	return offered, err
}

// expiredOffers lists up to 500 automatic offers of every tenant that expired before now.
func (st *store) expiredOffers(ctx context.Context, now time.Time) ([]Conversation, error) {
	var out []Conversation
	err := st.db.WithContext(ctx).Where("status = ? AND offer_expires_at IS NOT NULL AND offer_expires_at < ?", StatusAssigned, now).
		Limit(500).Find(&out).Error
	return out, err
}

// withdrawOffer hands the conversation offered to userID back to its queue, remembers that the
// agent let it pass (they are not offered it again) and appends the audit record; false when
// the offer was answered meanwhile.
func (st *store) withdrawOffer(ctx context.Context, c Conversation, userID string, rec audit.Event) (bool, error) {
	ctx = migrations.WithTenant(ctx, c.TenantID)
	now := st.now().UTC()
	done := false
	err := st.tx(ctx, func(tx *gorm.DB) error {
		done = false
		res := tx.Model(&Conversation{}).Where("tenant_id = ? AND id = ? AND status = ? AND offered_to = ?", c.TenantID, c.ID, StatusAssigned, userID).
			Updates(map[string]any{"status": StatusQueued, "offered_to": nil, "offer_expires_at": nil, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		if err := tx.Where("conversation_id = ? AND user_id = ?", c.ID, userID).Delete(&refusal{}).Error; err != nil {
			return err
		}
		if err := tx.Create(&refusal{ConversationID: c.ID, TenantID: c.TenantID, UserID: userID, RefusedAt: now}).Error; err != nil {
			return err
		}
		done = true
		return st.audit.Append(ctx, tx, rec)
	})
	return done, err
}

// orphaned lists up to 500 open conversations of every tenant held by or offered to a user with
// no agent connection seen since after, unless their last connection closed after gone (a short
// absence, a reload, keeps their chats).
func (st *store) orphaned(ctx context.Context, after, gone time.Time) ([]Conversation, error) {
	var out []Conversation
	live := st.db.Model(&presenceRow{}).Select("user_id").Where("seen_at > ?", after)
	back := st.db.Model(&agentRoutingRow{}).Select("user_id").Where("offline_at IS NOT NULL AND offline_at > ?", gone)
	err := st.db.WithContext(ctx).
		Where("(status = ? AND agent_id NOT IN (?) AND agent_id NOT IN (?)) OR (status = ? AND offered_to NOT IN (?) AND offered_to NOT IN (?))",
			StatusActive, live, back, StatusAssigned, live, back).
		Limit(500).Find(&out).Error
	return out, err
}

// markOffline records that a user's agent connection socketID is closing now, unless another
// one of theirs is still seen since after.
func (st *store) markOffline(ctx context.Context, tenantID, userID, socketID string, after time.Time) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	now := st.now().UTC()
	return st.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&presenceRow{}).Where("tenant_id = ? AND user_id = ? AND socket_id <> ? AND seen_at > ?", tenantID, userID, socketID, after).
			Count(&n).Error; err != nil || n > 0 {
			return err
		}
		row := agentRoutingRow{TenantID: tenantID, UserID: userID, Status: AgentOnline, StatusReason: ReasonManual, OfflineAt: &now, UpdatedAt: now}
		return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "tenant_id"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"offline_at"})}).Create(&row).Error
	})
}

// requeue hands the conversation back to its department's queue: from its agent (who leaves it,
// with the event ev) or from the agent it was offered to, with the audit record; false when it
// changed meanwhile.
func (st *store) requeue(ctx context.Context, c Conversation, ev *newEvent, rec audit.Event) (eventRow, bool, error) {
	ctx = migrations.WithTenant(ctx, c.TenantID)
	now := st.now().UTC()
	var row eventRow
	done := false
	err := st.tx(ctx, func(tx *gorm.DB) error {
		done = false
		q := tx.Model(&Conversation{}).Where("tenant_id = ? AND id = ? AND status = ?", c.TenantID, c.ID, c.Status)
		var who string
		if c.Status == StatusActive {
			who = deref(c.AgentID)
			q = q.Where("agent_id = ?", who)
		} else {
			who = deref(c.OfferedTo)
			q = q.Where("offered_to = ?", who)
		}
		res := q.Updates(map[string]any{"status": StatusQueued, "agent_id": nil, "offered_to": nil, "offer_expires_at": nil,
			"queued_at": now, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		if c.Status == StatusActive {
			if err := tx.Model(&participant{}).Where("conversation_id = ? AND kind = ? AND participant_id = ?", c.ID, SenderAgent, who).
				Update("left_at", now).Error; err != nil {
				return err
			}
		}
		if ev != nil {
			var err error
			if row, err = st.appendEvent(ctx, tx, c.TenantID, c.ID, *ev, nil, nil); err != nil {
				return err
			}
		}
		done = true
		return st.audit.Append(ctx, tx, rec)
	})
	return row, done, err
}

// heldBy lists the open conversations a user handles or was offered.
func (st *store) heldBy(ctx context.Context, tenantID, userID string) ([]Conversation, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []Conversation
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND ((status = ? AND agent_id = ?) OR (status = ? AND offered_to = ?))",
		tenantID, StatusActive, userID, StatusAssigned, userID).Find(&out).Error
	return out, err
}

// queuePosition returns how many of the tenant's conversations waiting in dept come before c
// (higher priority, or the same and queued earlier), and how long recently accepted chats of
// the department waited on average (0 when none).
func (st *store) queuePosition(ctx context.Context, c Conversation, since time.Time) (int64, time.Duration, error) {
	ctx = migrations.WithTenant(ctx, c.TenantID)
	db := st.db.WithContext(ctx)
	var ahead int64
	q := db.Model(&Conversation{}).Where("tenant_id = ? AND status IN ? AND id <> ?", c.TenantID, []string{StatusQueued, StatusAssigned}, c.ID).
		Where("(priority > ? OR (priority = ? AND queued_at < ?))", c.Priority, c.Priority, c.QueuedAt)
	if c.DepartmentID != nil {
		q = q.Where("department_id = ?", *c.DepartmentID)
	} else {
		q = q.Where("department_id IS NULL")
	}
	if err := q.Count(&ahead).Error; err != nil {
		return 0, 0, err
	}
	var recent []struct {
		QueuedAt   time.Time
		AcceptedAt time.Time
	}
	r := db.Model(&Conversation{}).Select("queued_at, accepted_at").
		Where("tenant_id = ? AND accepted_at IS NOT NULL AND accepted_at > ?", c.TenantID, since)
	if c.DepartmentID != nil {
		r = r.Where("department_id = ?", *c.DepartmentID)
	}
	if err := r.Order("accepted_at DESC").Limit(20).Scan(&recent).Error; err != nil {
		return 0, 0, err
	}
	var sum time.Duration
	n := 0
	for _, x := range recent {
		if d := x.AcceptedAt.Sub(x.QueuedAt); d >= 0 {
			sum += d
			n++
		}
	}
	if n == 0 {
		return ahead, 0, nil
	}
	return ahead, sum / time.Duration(n), nil
}

// departmentRouting returns one department's routing (the defaults when none is stored).
func (st *store) departmentRouting(ctx context.Context, tenantID, deptID string) (DepartmentRouting, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r departmentRoutingRow
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND department_id = ?", tenantID, deptID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return defaultDepartmentRouting(deptID), nil
	}
	if err != nil {
		return DepartmentRouting{}, err
	}
	return DepartmentRouting{DepartmentID: r.DepartmentID, Mode: r.Mode, Capacity: r.Capacity, OfferTimeoutSeconds: r.OfferTimeoutSeconds,
		Priority: r.Priority, RequiredSkills: splitSkills(r.RequiredSkills), SkillQuestion: r.SkillQuestion}, nil
}

// queuedTenants lists the tenants with chats waiting in the queue (the routing sweep).
func (st *store) queuedTenants(ctx context.Context) ([]string, error) {
	var out []string
	err := st.db.WithContext(ctx).Model(&Conversation{}).Distinct("tenant_id").Where("status = ?", StatusQueued).Limit(1000).Pluck("tenant_id", &out).Error
	return out, err
}

// routingTurn runs fn while this node holds the tenant's routing turn: on PostgreSQL a
// transaction-scoped advisory lock keyed by the tenant, so that several nodes route one tenant's
// queue one pass at a time (each pass reads the loads the previous one left); on SQLite, one
// node, the caller's mutex is enough. fn's own statements run outside the lock's transaction.
func (st *store) routingTurn(ctx context.Context, tenantID string, fn func() error) error {
	if st.dialect != migrations.Postgres {
		return fn()
	}
	ctx = migrations.WithTenant(ctx, tenantID)
	return migrations.Transaction(st.db.WithContext(ctx), func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext(?))", "parley.routing:"+tenantID).Error; err != nil {
			return err
		}
		return fn()
	})
}
