package chat

import (
	"context"
	"time"

	"github.com/parleyhq/parley/app/identity"
)

// maxLive bounds the live chats one listing shows.
const maxLive = 500

// LiveChat is one open conversation as the supervisor's live chats page lists it: where it came
// from, who handles it and since when. It holds no visitor data and no message.
type LiveChat struct {
	ID           string
	SiteID       string
	DepartmentID string
	// AgentID is the agent handling (or offered) the chat; "" while it waits in the queue.
	AgentID    string
	Status     string
	QueuedAt   time.Time
	AcceptedAt *time.Time
}

// Live lists the open conversations (queued, offered and active) p may monitor: every one of
// the tenant when p holds chat.monitor tenant-wide, else those of the departments where p holds
// it. ErrForbidden when p holds chat.monitor nowhere. Oldest first, at most 500.
func (s *Service) Live(ctx context.Context, p *identity.Principal) ([]LiveChat, error) {
	all, depts, err := s.DepartmentsWith(ctx, p, permMonitor)
	if err != nil {
		return nil, err
	}
	if !all && len(depts) == 0 {
		return nil, ErrForbidden
	}
	convs, err := s.store.live(ctx, p.TenantID, all, depts, maxLive)
	if err != nil {
		return nil, err
	}
	out := make([]LiveChat, 0, len(convs))
	for _, c := range convs {
		out = append(out, LiveChat{ID: c.ID, SiteID: c.SiteID, DepartmentID: c.Department(), AgentID: deref(c.AgentID),
			Status: c.Status, QueuedAt: c.QueuedAt, AcceptedAt: c.AcceptedAt})
	}
	return out, nil
}

// TakesChats reports whether p holds chat.accept tenant-wide or in a department: whether chats
// are offered to them when they open the workspace.
func (s *Service) TakesChats(ctx context.Context, p *identity.Principal) (bool, error) {
	return s.acceptsSomewhere(ctx, p)
}

// DepartmentWith returns a department where p holds permission, for a page that serves every
// department where p holds it: "" when p holds it tenant-wide — or nowhere, so that a check
// there refuses.
func (s *Service) DepartmentWith(ctx context.Context, p *identity.Principal, permission string) (string, error) {
	all, depts, err := s.DepartmentsWith(ctx, p, permission)
	if err != nil || all || len(depts) == 0 {
		return "", err
	}
	return depts[0], nil
}

// DepartmentsWith returns where p holds permission: all when tenant-wide, else the departments.
func (s *Service) DepartmentsWith(ctx context.Context, p *identity.Principal, permission string) (all bool, depts []string, err error) {
	if ok, err := s.authz.Allowed(ctx, p, permission, ""); err == nil && ok {
		return true, nil, nil
	}
	ds, err := s.tenants.Departments(ctx, p.TenantID)
	if err != nil {
		return false, nil, err
	}
	for _, d := range ds {
		if ok, err := s.authz.Allowed(ctx, p, permission, d.ID); err == nil && ok {
			depts = append(depts, d.ID)
		}
	}
	return false, depts, nil
}
