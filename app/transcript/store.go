package transcript

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/migrations"
)

// store holds the package's SQL: it reads the chat's conversations, events and files (never the
// files' contents) and owns transcript_settings, transcript_notes and transcript_tags.
type store struct {
	db *gorm.DB
}

// convRow is a conversation as the transcript reads it; the visitor's name and e-mail address,
// pre-chat and survey answers are ciphertext.
type convRow struct {
	ID           string
	TenantID     string
	SiteID       string
	DepartmentID *string
	AgentID      *string
	VisitorID    string
	Status       string
	Rating       *int
	QueuedAt     time.Time
	EndedAt      *time.Time
	Messages     int64
	VisitorName  string
	VisitorEmail string
	Prechat      string
	Survey       string
}

const convColumns = "c.id, c.tenant_id, c.site_id, c.department_id, c.agent_id, c.visitor_id, c.status, c.rating, c.queued_at, c.ended_at, " +
	"(SELECT COUNT(*) FROM conversation_events e WHERE e.conversation_id = c.id AND e.tenant_id = c.tenant_id AND e.kind = 'message') AS messages"

// where builds the scope and filter conditions over conversations c of tenantID.
func where(tenantID string, sc Scope, f Filter) (string, []any) {
	conds := []string{"c.tenant_id = ?"}
	args := []any{tenantID}
	scope, sargs := sc.clause()
	conds = append(conds, scope)
	args = append(args, sargs...)
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if !f.From.IsZero() {
		add("c.queued_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		add("c.queued_at < ?", f.To.UTC().AddDate(0, 0, 1))
	}
	if f.SiteID != "" {
		add("c.site_id = ?", f.SiteID)
	}
	if f.DepartmentID != "" {
		add("c.department_id = ?", f.DepartmentID)
	}
	if f.AgentID != "" {
		add("(c.agent_id = ? OR EXISTS (SELECT 1 FROM conversation_participants ap WHERE ap.conversation_id = c.id "+
			"AND ap.tenant_id = c.tenant_id AND ap.kind = 'agent' AND ap.participant_id = ?))", f.AgentID, f.AgentID)
	}
	if f.Status != "" {
		add("c.status = ?", f.Status)
	}
	if f.Rating > 0 {
		add("c.rating = ?", f.Rating)
	}
	if f.Tag != "" {
		add("EXISTS (SELECT 1 FROM transcript_tags tt WHERE tt.conversation_id = c.id AND tt.tenant_id = c.tenant_id AND tt.tag = ?)", f.Tag)
	}
	if f.VisitorID != "" {
		add("c.visitor_id = ?", f.VisitorID)
	}
	return strings.Join(conds, " AND "), args
}

// list returns up to limit conversations of the scope matching f, newest first, after skipping
// offset.
func (st *store) list(ctx context.Context, tenantID string, sc Scope, f Filter, limit, offset int) ([]convRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	cond, args := where(tenantID, sc, f)
	args = append(args, limit, offset)
	var rows []convRow
	err := st.db.WithContext(ctx).Raw("SELECT "+convColumns+" FROM conversations c WHERE "+cond+
		" ORDER BY c.queued_at DESC, c.id DESC LIMIT ? OFFSET ?", args...).Scan(&rows).Error
	return rows, err
}

// byIDs returns the conversations of ids (the search's matches), newest first.
func (st *store) byIDs(ctx context.Context, tenantID string, ids []string) ([]convRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []convRow
	err := st.db.WithContext(ctx).Raw("SELECT "+convColumns+" FROM conversations c WHERE c.tenant_id = ? AND c.id IN ? "+
		"ORDER BY c.queued_at DESC, c.id DESC", tenantID, ids).Scan(&rows).Error
	return rows, err
}

// conversation returns one conversation of the scope with its sealed fields, or ErrNotFound.
func (st *store) conversation(ctx context.Context, tenantID string, sc Scope, id string) (convRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	scope, args := sc.clause()
	args = append([]any{tenantID, id}, args...)
	var rows []convRow
	err := st.db.WithContext(ctx).Raw("SELECT "+convColumns+", c.visitor_name, c.visitor_email, c.prechat, c.survey FROM conversations c "+
		"WHERE c.tenant_id = ? AND c.id = ? AND "+scope, args...).Scan(&rows).Error
	if err != nil {
		return convRow{}, err
	}
	if len(rows) == 0 {
		return convRow{}, ErrNotFound
	}
	return rows[0], nil
}

// eventRow is a stored event as the transcript reads it; Body is ciphertext.
type eventRow struct {
	Seq        int64
	Kind       string
	SenderKind string
	SenderID   string
	Body       string
	Event      string
	Data       string
	FileID     *string
	Audience   string
	CreatedAt  time.Time
}

// maxEvents bounds the events one transcript reads.
const maxEvents = 10000

func (st *store) events(ctx context.Context, tenantID, convID string, messagesOnly bool) ([]eventRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	q := st.db.WithContext(ctx).Table("conversation_events").
		Select("seq, kind, sender_kind, sender_id, body, event, data, file_id, audience, created_at").
		Where("tenant_id = ? AND conversation_id = ?", tenantID, convID)
	if messagesOnly {
		q = q.Where("kind = ? AND body <> ''", "message")
	}
	var rows []eventRow
	err := q.Order("seq").Limit(maxEvents).Scan(&rows).Error
	return rows, err
}

// fileRow is a file's metadata; Name is ciphertext.
type fileRow struct {
	ID          string
	Name        string
	ContentType string
	Size        int64
}

func (st *store) files(ctx context.Context, tenantID, convID string) (map[string]fileRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []fileRow
	if err := st.db.WithContext(ctx).Table("chat_files").Select("id, name, content_type, size").
		Where("tenant_id = ? AND conversation_id = ?", tenantID, convID).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]fileRow, len(rows))
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// participantNames returns the display names the conversation's agents and supervisors joined with.
func (st *store) participantNames(ctx context.Context, tenantID, convID string) (map[string]string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []struct{ ParticipantID, DisplayName string }
	if err := st.db.WithContext(ctx).Table("conversation_participants").Select("participant_id, display_name").
		Where("tenant_id = ? AND conversation_id = ? AND kind <> 'visitor'", tenantID, convID).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.ParticipantID] = r.DisplayName
	}
	return out, nil
}

// visitorRow is what the transcript shows of the visitor's tracking record (gone once the
// visitor data's retention passed).
type visitorRow struct {
	IP, Browser, OS, Language string
}

func (st *store) visitor(ctx context.Context, tenantID, visitorID string) (visitorRow, bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []visitorRow
	err := st.db.WithContext(ctx).Table("visitors").Select("ip, browser, os, language").
		Where("tenant_id = ? AND id = ?", tenantID, visitorID).Limit(1).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return visitorRow{}, false, err
	}
	return rows[0], true, nil
}

// noteRow is one row of transcript_notes; Body is ciphertext.
type noteRow struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	ConversationID string
	N              int `gorm:"column:n"`
	AuthorID       string
	Body           string
	CreatedAt      time.Time
}

func (noteRow) TableName() string { return "transcript_notes" }

func (st *store) notes(ctx context.Context, tenantID, convID string) ([]noteRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []noteRow
	err := st.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ?", tenantID, convID).Order("n").Limit(MaxNotes).Find(&rows).Error
	return rows, err
}

// nextNote returns the number the conversation's next note takes.
func (st *store) nextNote(ctx context.Context, tenantID, convID string) (int, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var n struct{ N int }
	err := st.db.WithContext(ctx).Raw("SELECT COALESCE(MAX(n), 0) AS n FROM transcript_notes WHERE tenant_id = ? AND conversation_id = ?", tenantID, convID).Scan(&n).Error
	return n.N + 1, err
}

// tagRow is one row of transcript_tags.
type tagRow struct {
	TenantID       string
	ConversationID string `gorm:"primaryKey"`
	Tag            string `gorm:"primaryKey"`
	AddedBy        string
	CreatedAt      time.Time
}

func (tagRow) TableName() string { return "transcript_tags" }

// tags returns the tags of each of convIDs, sorted.
func (st *store) tags(ctx context.Context, tenantID string, convIDs []string) (map[string][]string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	out := map[string][]string{}
	if len(convIDs) == 0 {
		return out, nil
	}
	var rows []tagRow
	if err := st.db.WithContext(ctx).Where("tenant_id = ? AND conversation_id IN ?", tenantID, convIDs).Order("tag").Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ConversationID] = append(out[r.ConversationID], r.Tag)
	}
	return out, nil
}

// vocabulary returns the tenant's tags in use, most used first.
func (st *store) vocabulary(ctx context.Context, tenantID string) ([]string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []struct{ Tag string }
	err := st.db.WithContext(ctx).Raw("SELECT tag FROM transcript_tags WHERE tenant_id = ? GROUP BY tag ORDER BY COUNT(*) DESC, tag LIMIT ?",
		tenantID, maxVocabulary).Scan(&rows).Error
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.Tag)
	}
	return out, err
}

// addTag stores a tag inside tx; added is false when the conversation already had it.
func (st *store) addTag(ctx context.Context, tx *gorm.DB, row tagRow) (added bool, err error) {
	ctx = migrations.WithTenant(ctx, row.TenantID)
	var count int64
	if err := tx.WithContext(ctx).Model(&tagRow{}).Where("tenant_id = ? AND conversation_id = ?", row.TenantID, row.ConversationID).Count(&count).Error; err != nil {
		return false, err
	}
	res := tx.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return false, res.Error
	}
	if res.RowsAffected > 0 && count >= MaxTags {
		return false, ErrTooMany
	}
	return res.RowsAffected > 0, nil
}

func (st *store) removeTag(ctx context.Context, tx *gorm.DB, tenantID, convID, tag string) (bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	res := tx.WithContext(ctx).Where("tenant_id = ? AND conversation_id = ? AND tag = ?", tenantID, convID, tag).Delete(&tagRow{})
	return res.RowsAffected > 0, res.Error
}

// settingsRow is one row of transcript_settings.
type settingsRow struct {
	TenantID      string `gorm:"primaryKey"`
	RequireReason bool
	UpdatedBy     string
	UpdatedAt     time.Time
}

func (settingsRow) TableName() string { return "transcript_settings" }

func (st *store) settings(ctx context.Context, tenantID string) (Settings, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var row settingsRow
	err := st.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Settings{}, nil
	}
	return Settings{RequireReason: row.RequireReason}, err
}

func (st *store) saveSettings(ctx context.Context, tx *gorm.DB, row settingsRow) error {
	ctx = migrations.WithTenant(ctx, row.TenantID)
	return tx.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"require_reason", "updated_by", "updated_at"}),
	}).Create(&row).Error
}

// agents returns the agents of the scope's conversations (for the list's agent filter).
func (st *store) agents(ctx context.Context, tenantID string, sc Scope) ([]string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	scope, args := sc.clause()
	args = append([]any{tenantID}, args...)
	var rows []struct{ AgentID string }
	err := st.db.WithContext(ctx).Raw("SELECT DISTINCT c.agent_id FROM conversations c WHERE c.tenant_id = ? AND c.agent_id IS NOT NULL AND "+
		scope+" LIMIT 500", args...).Scan(&rows).Error
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.AgentID)
	}
	return out, err
}

// department returns the department of a conversation of tenantID ("" when it has none), or
// ErrNotFound.
func (st *store) department(ctx context.Context, tenantID, convID string) (string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []struct{ DepartmentID *string }
	if err := st.db.WithContext(ctx).Table("conversations").Select("department_id").
		Where("tenant_id = ? AND id = ?", tenantID, convID).Limit(1).Scan(&rows).Error; err != nil {
		return "", err
	}
	if len(rows) == 0 {
		return "", ErrNotFound
	}
	return deref(rows[0].DepartmentID), nil
}
