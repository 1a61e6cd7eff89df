package report

import (
	"context"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
)

// Directory names a tenant's departments and sites; *tenant.Store implements it.
type Directory interface {
	Departments(ctx context.Context, tenantID string) ([]tenant.Department, error)
	Sites(ctx context.Context, tenantID string) ([]tenant.Site, error)
}

// People names console users; *account.Store implements it.
type People interface {
	People(ctx context.Context, tenantID string, ids []string) (map[string]account.Person, error)
}

var (
	_ Directory = (*tenant.Store)(nil)
	_ People    = (*account.Store)(nil)
)

// Service builds reports: the store's rows, named from the directory and the user list.
type Service struct {
	Store     *Store
	Directory Directory
	People    People
}

// Report builds the report of tenantID's conversations queued in p within scope.
func (s *Service) Report(ctx context.Context, tenantID string, scope Scope, p Period) (Report, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	convs, err := s.Store.Conversations(ctx, tenantID, scope, p.Start(), p.End())
	if err != nil {
		return Report{}, err
	}
	names, err := s.names(ctx, tenantID, convs)
	if err != nil {
		return Report{}, err
	}
	return Build(p, convs, names), nil
}

func (s *Service) names(ctx context.Context, tenantID string, convs []Conversation) (Names, error) {
	n := Names{Agents: map[string]string{}, Departments: map[string]string{}, Sites: map[string]string{}}
	depts, err := s.Directory.Departments(ctx, tenantID)
	if err != nil {
		return n, err
	}
	for _, d := range depts {
		n.Departments[d.ID] = d.Name
	}
	sites, err := s.Directory.Sites(ctx, tenantID)
	if err != nil {
		return n, err
	}
	for _, st := range sites {
		n.Sites[st.ID] = st.Name
	}
	seen := map[string]bool{}
	var ids []string
	for _, c := range convs {
		if c.AgentID != "" && !seen[c.AgentID] {
			seen[c.AgentID] = true
			ids = append(ids, c.AgentID)
		}
	}
	for len(ids) > 0 {
		batch := ids[:min(len(ids), account.MaxPeople)]
		ids = ids[len(batch):]
		people, err := s.People.People(ctx, tenantID, batch)
		if err != nil {
			return n, err
		}
		for id, p := range people {
			name := p.DisplayName
			if name == "" {
				name = p.Email
			}
			n.Agents[id] = name
		}
	}
	return n, nil
}
