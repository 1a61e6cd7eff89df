package chat

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/sanitize"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
)

// Routing modes of a department.
const (
	// ModeManual offers a queued chat to every agent who serves its department; the first to
	// accept takes it.
	ModeManual = "manual"
	// ModeAutomatic offers a queued chat to one agent at a time: the least busy who holds the
	// chat's required skills and is below capacity, round-robin among equals. An offer not
	// accepted in the department's offer timeout moves on to the next agent.
	ModeAutomatic = "automatic"
)

// Agent statuses and the reasons of a status change.
const (
	AgentOnline  = "online"
	AgentAway    = "away"
	AgentOffline = "offline"
	// ReasonManual: the agent chose the status. ReasonIdle: the agent was set away after the
	// tenant's idle minutes without activity.
	ReasonManual = "manual"
	ReasonIdle   = "idle"
)

// Routing limits.
const (
	MaxCapacity      = 50
	MaxSkills        = 20
	MaxSkillLen      = 32
	MinOfferTimeout  = 5
	MaxOfferTimeout  = 600
	MaxPriority      = 9
	MaxIdleMinutes   = 480
	MaxTransferNote  = 1000
	defaultCapacity  = 3
	defaultIdle      = 10
	defaultOfferTime = 30
)

// RoutingSettings are a tenant's routing settings.
type RoutingSettings struct {
	// IdleMinutes is how long an online agent may be inactive before being set away.
	IdleMinutes int `json:"idle_minutes"`
	// DefaultCapacity is the most concurrent chats of an agent without a capacity of their own.
	DefaultCapacity int `json:"default_capacity"`
}

// DefaultRoutingSettings are the routing settings of a tenant that stored none.
func DefaultRoutingSettings() RoutingSettings {
	return RoutingSettings{IdleMinutes: defaultIdle, DefaultCapacity: defaultCapacity}
}

// DepartmentRouting is how a department's chats are routed.
type DepartmentRouting struct {
	DepartmentID string `json:"department_id"`
	// Name is the department's name (answers only).
	Name string `json:"name"`
	// Mode is ModeManual or ModeAutomatic.
	Mode string `json:"mode"`
	// Capacity, when above 0, replaces every agent's own capacity for the department's chats.
	Capacity int `json:"capacity"`
	// OfferTimeoutSeconds is how long an automatic offer waits for its agent.
	OfferTimeoutSeconds int `json:"offer_timeout_seconds"`
	// Priority orders the queue across departments (0 to 9, higher first).
	Priority int `json:"priority"`
	// RequiredSkills are the skills an agent needs for the department's chats.
	RequiredSkills []string `json:"required_skills"`
	// SkillQuestion names a pre-chat question whose answer, when it is a skill, is also required.
	SkillQuestion string `json:"skill_question"`
}

func defaultDepartmentRouting(id string) DepartmentRouting {
	return DepartmentRouting{DepartmentID: id, Mode: ModeManual, OfferTimeoutSeconds: defaultOfferTime, RequiredSkills: []string{}}
}

// AgentRouting is an agent's routing: capacity (0 = the tenant's default) and skills.
type AgentRouting struct {
	UserID   string   `json:"user_id"`
	Name     string   `json:"name"`
	Capacity int      `json:"capacity"`
	Skills   []string `json:"skills"`
	Status   string   `json:"status"`
}

var skillPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// CleanSkills normalises a list of skills (lower case, trimmed, sorted, once each) and checks
// it: at most MaxSkills of at most MaxSkillLen letters, digits, '-' or '_'. A card number is
// refused (field names the input).
func CleanSkills(field string, in []string) ([]string, error) {
	if err := noCardNumber(field, strings.Join(in, " ")); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" {
			continue
		}
		if len(s) > MaxSkillLen || !skillPattern.MatchString(s) {
			return nil, invalid(field, "A skill is one word of at most 32 letters, digits, '-' or '_'.")
		}
		if err := noCardNumber(field, s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxSkills {
		return nil, invalid(field, "At most 20 skills.")
	}
	return out, nil
}

func splitSkills(s string) []string { return strings.Fields(s) }

func joinSkills(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return " " + strings.Join(s, " ") + " "
}

// Candidate is an agent who might be offered a chat: their load (chats handled and offered),
// their capacity for the chat's department, their skills (sorted) and when they were last
// offered a chat.
type Candidate struct {
	UserID        string
	Load          int
	Capacity      int
	Skills        []string
	LastOfferedAt time.Time
}

// hasSkills reports whether have (sorted) holds every skill of need.
func hasSkills(have, need []string) bool {
	for _, n := range need {
		if _, ok := slices.BinarySearch(have, n); !ok {
			return false
		}
	}
	return true
}

// Pick chooses the agent to offer a chat needing required to: among the candidates below
// capacity who hold every required skill, the least busy; among equals the one offered a chat
// longest ago (round-robin), then the lowest user id. It returns -1 when nobody qualifies.
func Pick(cands []Candidate, required []string) int {
	best := -1
	for i := range cands {
		c := &cands[i]
		if c.Load >= c.Capacity || !hasSkills(c.Skills, required) {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		b := &cands[best]
		switch {
		case c.Load != b.Load:
			if c.Load < b.Load {
				best = i
			}
		case !c.LastOfferedAt.Equal(b.LastOfferedAt):
			if c.LastOfferedAt.Before(b.LastOfferedAt) {
				best = i
			}
		case c.UserID < b.UserID:
			best = i
		}
	}
	return best
}

// routingCache remembers each tenant's automatic departments for a few seconds: the agents'
// queue reads it on every queue change.
type routingCache struct {
	mu sync.Mutex
	m  map[string]routingCacheEntry
}

type routingCacheEntry struct {
	auto map[string]bool
	at   time.Time
}

const routingCacheTTL = 5 * time.Second

// automatic returns the tenant's departments in automatic mode.
func (s *Service) automatic(ctx context.Context, tenantID string) (map[string]bool, error) {
	now := s.now()
	s.routing.mu.Lock()
	e, ok := s.routing.m[tenantID]
	s.routing.mu.Unlock()
	if ok && now.Sub(e.at) < routingCacheTTL && !now.Before(e.at) {
		return e.auto, nil
	}
	depts, err := s.store.departmentRoutings(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	auto := map[string]bool{}
	for id, d := range depts {
		if d.Mode == ModeAutomatic {
			auto[id] = true
		}
	}
	s.routing.mu.Lock()
	if s.routing.m == nil {
		s.routing.m = map[string]routingCacheEntry{}
	}
	s.routing.m[tenantID] = routingCacheEntry{auto: auto, at: now}
	s.routing.mu.Unlock()
	return auto, nil
}

func (s *Service) forgetRouting(tenantID string) {
	s.routing.mu.Lock()
	delete(s.routing.m, tenantID)
	s.routing.mu.Unlock()
}

func routingActor() audit.Actor { return audit.Actor{ID: "chat-routing", Kind: audit.ActorSystem} }

// routeLater routes the tenant's queue after the caller's work, on the tenant's own delivery
// queue (one routing pass of a tenant at a time on this node).
func (s *Service) routeLater(ctx context.Context, tenantID string) {
	s.later(ctx, "routing:"+tenantID, func(ctx context.Context) {
		if _, err := s.Route(ctx, tenantID); err != nil {
			s.log.WarnContext(ctx, "chat routing", "error", err.Error())
		}
	})
}

// Route offers the tenant's queued chats of departments in automatic mode to agents, highest
// priority first, then longest waiting: each to the agent Pick chooses among those online (not
// away) who serve its department, did not refuse it or let its offer expire, hold its required
// skills and are below capacity. It returns how many chats were offered.
func (s *Service) Route(ctx context.Context, tenantID string) (int, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	s.routeMu.Lock()
	defer s.routeMu.Unlock()
	n := 0
	err := s.store.routingTurn(ctx, tenantID, func() error {
		var err error
		n, err = s.route(ctx, tenantID)
		return err
	})
	return n, err
}

// route is one routing pass of a tenant's queue (Route).
func (s *Service) route(ctx context.Context, tenantID string) (int, error) {
	depts, err := s.store.departmentRoutings(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	var auto []string
	for id, d := range depts {
		if d.Mode == ModeAutomatic {
			auto = append(auto, id)
		}
	}
	if len(auto) == 0 {
		return 0, nil
	}
	convs, err := s.store.routable(ctx, tenantID, auto)
	if err != nil || len(convs) == 0 {
		return 0, err
	}
	online, err := s.store.onlineAgents(ctx, tenantID, s.onlineSince())
	if err != nil || len(online) == 0 {
		return 0, err
	}
	agents, err := s.store.agentRoutings(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	loads, err := s.store.loads(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	set, err := s.store.routingSettings(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	ids := make([]string, len(convs))
	for i, c := range convs {
		ids[i] = c.ID
	}
	refused, err := s.store.refusalsOf(ctx, tenantID, ids)
	if err != nil {
		return 0, err
	}
	users := make([]string, 0, len(online))
	for u := range online {
		if agents[u].Status != AgentAway {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	skills := make(map[string][]string, len(users))
	last := make(map[string]time.Time, len(users))
	for _, u := range users {
		skills[u] = splitSkills(agents[u].Skills)
		if t := agents[u].LastOfferedAt; t != nil {
			last[u] = *t
		}
	}
	now := s.now().UTC()
	cands := make([]Candidate, 0, len(users))
	n := 0
	for _, c := range convs {
		d := depts[c.Department()]
		cands = cands[:0]
		for _, u := range users {
			if (!online[u][c.Department()] && !online[u][anyDepartment]) || refused[c.ID][u] {
				continue
			}
			capacity := d.Capacity
			if capacity == 0 {
				capacity = agents[u].Capacity
			}
			if capacity == 0 {
				capacity = set.DefaultCapacity
			}
			cands = append(cands, Candidate{UserID: u, Load: loads[u], Capacity: capacity, Skills: skills[u], LastOfferedAt: last[u]})
		}
		i := Pick(cands, splitSkills(c.RequiredSkills))
		if i < 0 {
			continue
		}
		u := cands[i].UserID
		// Offers of one pass are a microsecond apart, so round-robin keeps their order.
		at := now.Add(time.Duration(n) * time.Microsecond)
		timeout := time.Duration(d.OfferTimeoutSeconds) * time.Second
		ok, err := s.store.offer(ctx, c, u, at, at.Add(timeout), s.auditEvent(tenantID, routingActor(), audit.ActionConversationOffer, c.ID, Origin{},
			map[string]string{"department": c.Department(), "agent_id": u, "priority": strconv.Itoa(c.Priority)}))
		if err != nil {
			return n, err
		}
		if !ok {
			continue
		}
		n++
		loads[u]++
		last[u] = at
		s.signal(queueSignal(tenantID, c.ID), userSignal(u, c.ID))
	}
	return n, nil
}

// noteText cleans a transfer note: plain text of at most MaxTransferNote characters, card
// numbers masked and the tenant's redaction rules applied.
func (s *Service) noteText(ctx context.Context, tenantID, note string) (string, error) {
	if note == "" {
		return "", nil
	}
	clean, err := sanitizeNote(note)
	if err != nil {
		return "", err
	}
	return s.maskText(ctx, tenantID, clean)
}

// prechatSkill returns the skill a pre-chat answer names for the department's skill question,
// or "" when the answer is not a skill.
func prechatSkill(d DepartmentRouting, answers map[string]string) string {
	if d.SkillQuestion == "" {
		return ""
	}
	a := strings.ToLower(strings.TrimSpace(answers[d.SkillQuestion]))
	if a == "" || len(a) > MaxSkillLen || !skillPattern.MatchString(a) || pan.Contains(a) {
		return ""
	}
	return a
}

func sanitizeNote(note string) (string, error) {
	clean, err := sanitize.Optional(note, sanitize.Limits{MaxRunes: MaxTransferNote, MultiLine: true})
	if err != nil {
		return "", invalid("note", "The note is at most 1000 characters.")
	}
	return clean, nil
}

// withNote puts a transfer's note into the event's data, for agents: the visitor's view drops it
// (visitorView).
func withNote(ev *protocol.Event, note string) {
	if note == "" {
		return
	}
	d := make(map[string]string, len(ev.Data)+1)
	for k, v := range ev.Data {
		d[k] = v
	}
	d["note"] = note
	ev.Data = d
}

// routingState is a tenant's routing as it stands: its settings, departments' and agents'
// routing, who is online serving what, and each agent's load.
type routingState struct {
	set    RoutingSettings
	depts  map[string]DepartmentRouting
	agents map[string]agentRoutingRow
	online map[string]map[string]bool
	loads  map[string]int
}

func (s *Service) routingState(ctx context.Context, tenantID string) (*routingState, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	rs := &routingState{}
	var err error
	if rs.set, err = s.store.routingSettings(ctx, tenantID); err != nil {
		return nil, err
	}
	if rs.depts, err = s.store.departmentRoutings(ctx, tenantID); err != nil {
		return nil, err
	}
	if rs.agents, err = s.store.agentRoutings(ctx, tenantID); err != nil {
		return nil, err
	}
	if rs.online, err = s.store.onlineAgents(ctx, tenantID, s.onlineSince()); err != nil {
		return nil, err
	}
	if rs.loads, err = s.store.loads(ctx, tenantID); err != nil {
		return nil, err
	}
	return rs, nil
}

func (rs *routingState) department(id string) DepartmentRouting {
	if d, ok := rs.depts[id]; ok {
		return d
	}
	return defaultDepartmentRouting(id)
}

// capacity is the most chats of dept the agent may hold: the department's override, else the
// agent's own, else the tenant's default.
func (rs *routingState) capacity(user, dept string) int {
	if c := rs.department(dept).Capacity; c > 0 {
		return c
	}
	if c := rs.agents[user].Capacity; c > 0 {
		return c
	}
	return rs.set.DefaultCapacity
}

// serves reports whether an online agent serves dept.
func (rs *routingState) serves(user, dept string) bool {
	return rs.online[user][dept] || rs.online[user][anyDepartment]
}

// status is an agent's status: offline without a live connection, else the chosen one.
func (rs *routingState) status(user string) string {
	if _, ok := rs.online[user]; !ok {
		return AgentOffline
	}
	if rs.agents[user].Status == AgentAway {
		return AgentAway
	}
	return AgentOnline
}

// departmentFull reports whether dept has agents online (not away, other than except) and all
// of them are at capacity.
func (rs *routingState) departmentFull(dept, except string) bool {
	n := 0
	for u := range rs.online {
		if u == except || !rs.serves(u, dept) || rs.status(u) != AgentOnline {
			continue
		}
		if rs.loads[u] < rs.capacity(u, dept) {
			return false
		}
		n++
	}
	return n > 0
}
