package chat

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// RoutingOverview is what the Routing page shows: the tenant's settings, every department's
// routing and the routing of the agents named.
type RoutingOverview struct {
	Settings    RoutingSettings     `json:"settings"`
	Departments []DepartmentRouting `json:"departments"`
	Agents      []AgentRouting      `json:"agents"`
}

// Routing returns the tenant's routing: settings, each department's routing (by name), and the
// routing of the users named (by name; users is id → display name).
func (s *Service) Routing(ctx context.Context, tenantID string, users map[string]string) (RoutingOverview, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	rs, err := s.routingState(ctx, tenantID)
	if err != nil {
		return RoutingOverview{}, err
	}
	depts, err := s.tenants.Departments(ctx, tenantID)
	if err != nil {
		return RoutingOverview{}, err
	}
	out := RoutingOverview{Settings: rs.set, Departments: []DepartmentRouting{}, Agents: []AgentRouting{}}
	for _, d := range depts {
		r := rs.department(d.ID)
		r.Name = d.Name
		if r.RequiredSkills == nil {
			r.RequiredSkills = []string{}
		}
		out.Departments = append(out.Departments, r)
	}
	slices.SortFunc(out.Departments, func(a, b DepartmentRouting) int { return strings.Compare(a.Name, b.Name) })
	for id, name := range users {
		ar := rs.agents[id]
		sk := splitSkills(ar.Skills)
		if sk == nil {
			sk = []string{}
		}
		out.Agents = append(out.Agents, AgentRouting{UserID: id, Name: name, Capacity: ar.Capacity, Skills: sk, Status: rs.status(id)})
	}
	slices.SortFunc(out.Agents, func(a, b AgentRouting) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.UserID, b.UserID)
	})
	return out, nil
}

func (s *Service) routingAudit(p *identity.Principal, o Origin, kind, id string, details map[string]string) audit.Event {
	return audit.Event{Tenant: p.TenantID, Actor: userActor(p.UserID), Origin: audit.Origin{IP: o.IP, UserAgent: o.UserAgent, Node: s.node},
		Action: audit.ActionRoutingUpdate, Target: audit.Target{Kind: kind, ID: id}, Outcome: audit.Success, RequestID: o.RequestID, Details: details}
}

// SaveRoutingSettings changes the tenant's routing settings (the caller checked routing.manage).
func (s *Service) SaveRoutingSettings(ctx context.Context, p *identity.Principal, set RoutingSettings, o Origin) error {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if set.IdleMinutes < 1 || set.IdleMinutes > MaxIdleMinutes {
		return invalid("idle_minutes", "Idle minutes are 1 to 480.")
	}
	if set.DefaultCapacity < 1 || set.DefaultCapacity > MaxCapacity {
		return invalid("default_capacity", "The default capacity is 1 to 50 chats.")
	}
	if err := s.store.saveRoutingSettings(ctx, p.TenantID, set, s.routingAudit(p, o, "tenant", p.TenantID, map[string]string{
		"idle_minutes": strconv.Itoa(set.IdleMinutes), "default_capacity": strconv.Itoa(set.DefaultCapacity)})); err != nil {
		return err
	}
	s.routeLater(ctx, p.TenantID)
	return nil
}

// SaveDepartmentRouting changes a department's routing (the caller checked routing.manage).
func (s *Service) SaveDepartmentRouting(ctx context.Context, p *identity.Principal, d DepartmentRouting, o Origin) (DepartmentRouting, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	dep, err := s.tenants.Department(ctx, p.TenantID, d.DepartmentID)
	if errors.Is(err, tenant.ErrNotFound) {
		return DepartmentRouting{}, ErrNotFound
	} else if err != nil {
		return DepartmentRouting{}, err
	}
	if d.Mode != ModeManual && d.Mode != ModeAutomatic {
		return DepartmentRouting{}, invalid("mode", "The mode is manual or automatic.")
	}
	if d.Capacity < 0 || d.Capacity > MaxCapacity {
		return DepartmentRouting{}, invalid("capacity", "The capacity is 0 (the agents' own) to 50 chats.")
	}
	if d.OfferTimeoutSeconds < MinOfferTimeout || d.OfferTimeoutSeconds > MaxOfferTimeout {
		return DepartmentRouting{}, invalid("offer_timeout_seconds", "The offer timeout is 5 to 600 seconds.")
	}
	if d.Priority < 0 || d.Priority > MaxPriority {
		return DepartmentRouting{}, invalid("priority", "The priority is 0 to 9.")
	}
	if d.RequiredSkills, err = CleanSkills("required_skills", d.RequiredSkills); err != nil {
		return DepartmentRouting{}, err
	}
	d.SkillQuestion = strings.TrimSpace(d.SkillQuestion)
	if err := noCardNumber("skill_question", d.SkillQuestion); err != nil {
		return DepartmentRouting{}, err
	}
	if d.SkillQuestion != "" && !questID.MatchString(d.SkillQuestion) {
		return DepartmentRouting{}, invalid("skill_question", "Name a pre-chat question by its id.")
	}
	if err := s.store.saveDepartmentRouting(ctx, p.TenantID, d, s.routingAudit(p, o, "department", d.DepartmentID, map[string]string{
		"mode": d.Mode, "capacity": strconv.Itoa(d.Capacity), "offer_timeout_seconds": strconv.Itoa(d.OfferTimeoutSeconds),
		"priority": strconv.Itoa(d.Priority), "required_skills": strings.Join(d.RequiredSkills, " "), "skill_question": d.SkillQuestion})); err != nil {
		return DepartmentRouting{}, err
	}
	s.forgetRouting(p.TenantID)
	s.signal(queueSignal(p.TenantID, ""))
	s.routeLater(ctx, p.TenantID)
	d.Name = dep.Name
	return d, nil
}

// SaveAgentRouting changes an agent's capacity (0: the tenant's default) and skills (the caller
// checked routing.manage and that the user is the tenant's).
func (s *Service) SaveAgentRouting(ctx context.Context, p *identity.Principal, userID string, capacity int, skills []string, o Origin) (AgentRouting, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	if capacity < 0 || capacity > MaxCapacity {
		return AgentRouting{}, invalid("capacity", "The capacity is 0 (the default) to 50 chats.")
	}
	skills, err := CleanSkills("skills", skills)
	if err != nil {
		return AgentRouting{}, err
	}
	if err := s.store.saveAgentRouting(ctx, p.TenantID, userID, capacity, skills, s.routingAudit(p, o, "user", userID, map[string]string{
		"capacity": strconv.Itoa(capacity), "skills": strings.Join(skills, " ")})); err != nil {
		return AgentRouting{}, err
	}
	s.routeLater(ctx, p.TenantID)
	return AgentRouting{UserID: userID, Capacity: capacity, Skills: skills}, nil
}

// RosterAgent is an online agent in the transfer dialog.
type RosterAgent struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Status      string   `json:"status"`
	ActiveChats int      `json:"active_chats"`
	Capacity    int      `json:"capacity"`
	Departments []string `json:"departments"`
	Skills      []string `json:"skills"`
}

// RosterDepartment is a department in the transfer dialog.
type RosterDepartment struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	OnlineAgents int    `json:"online_agents"`
	Mode         string `json:"mode"`
}

// Roster lists who a chat can be transferred to.
type Roster struct {
	Agents      []RosterAgent      `json:"agents"`
	Departments []RosterDepartment `json:"departments"`
}

// Roster returns, for the transfer dialog, the departments where p holds chat.transfer with how
// many other agents are online (not away) in each, and the agents online in them (p excluded):
// status, chats held, capacity, departments and skills.
func (s *Service) Roster(ctx context.Context, p *identity.Principal) (Roster, error) {
	ctx = migrations.WithTenant(ctx, p.TenantID)
	depts, err := s.tenants.Departments(ctx, p.TenantID)
	if err != nil {
		return Roster{}, err
	}
	all, err := s.authz.Allowed(ctx, p, permTransfer, "")
	if err != nil {
		all = false
	}
	var mine []tenant.Department
	for _, d := range depts {
		if all {
			mine = append(mine, d)
			continue
		}
		if ok, err := s.authz.Allowed(ctx, p, permTransfer, d.ID); err == nil && ok {
			mine = append(mine, d)
		}
	}
	out := Roster{Agents: []RosterAgent{}, Departments: []RosterDepartment{}}
	if len(mine) == 0 {
		return out, nil
	}
	rs, err := s.routingState(ctx, p.TenantID)
	if err != nil {
		return Roster{}, err
	}
	for _, d := range mine {
		n := 0
		for u := range rs.online {
			if u != p.UserID && rs.serves(u, d.ID) && rs.status(u) == AgentOnline {
				n++
			}
		}
		out.Departments = append(out.Departments, RosterDepartment{ID: d.ID, Name: d.Name, OnlineAgents: n, Mode: rs.department(d.ID).Mode})
	}
	users := make([]string, 0, len(rs.online))
	for u := range rs.online {
		if u != p.UserID {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	for _, u := range users {
		var ds []string
		for _, d := range mine {
			if rs.serves(u, d.ID) {
				ds = append(ds, d.ID)
			}
		}
		if len(ds) == 0 {
			continue
		}
		name := ""
		if s.names != nil {
			name, _ = s.names.DisplayName(ctx, p.TenantID, u)
		}
		sk := splitSkills(rs.agents[u].Skills)
		if sk == nil {
			sk = []string{}
		}
		out.Agents = append(out.Agents, RosterAgent{ID: u, Name: name, Status: rs.status(u), ActiveChats: rs.loads[u],
			Capacity: rs.capacity(u, ""), Departments: ds, Skills: sk})
	}
	return out, nil
}
