package chat

import (
	"context"
	"errors"
	"regexp"

	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

var siteKeyPattern = regexp.MustCompile(`^site_[a-z2-7]{10,64}$`)

// SiteByKey resolves a widget's public site key: an unknown, malformed or disabled key is
// ErrNotFound.
func (s *Service) SiteByKey(ctx context.Context, key string) (tenant.Site, error) {
	if !siteKeyPattern.MatchString(key) {
		return tenant.Site{}, ErrNotFound
	}
	site, err := s.tenants.SiteByKey(ctx, key)
	if errors.Is(err, tenant.ErrNotFound) {
		return tenant.Site{}, ErrNotFound
	}
	return site, err
}

// Site returns a site of the tenant by id (ErrNotFound when it is not the tenant's).
func (s *Service) Site(ctx context.Context, tenantID, siteID string) (tenant.Site, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	sites, err := s.tenants.Sites(ctx, tenantID)
	if err != nil {
		return tenant.Site{}, err
	}
	for _, site := range sites {
		if site.ID == siteID {
			return site, nil
		}
	}
	return tenant.Site{}, ErrNotFound
}

// Departments lists the tenant's departments (those a visitor may choose).
func (s *Service) Departments(ctx context.Context, tenantID string) ([]tenant.Department, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	return s.tenants.Departments(ctx, tenantID)
}

// AuthenticateVisitor returns the visitor a widget token names on a site; a bad token wraps
// visitor.ErrUnauthenticated.
func (s *Service) AuthenticateVisitor(ctx context.Context, site tenant.Site, token string) (visitor.Visitor, error) {
	ctx = migrations.WithTenant(ctx, site.TenantID)
	return s.visitors.Authenticate(ctx, site.ID, token)
}

// RecordView records a page view of a visitor on a site — identifying the visitor by v.Token
// or creating one — under the site's cookie mode and sensitive parameters, within the visitor's
// and the address's page-view budgets (a RateError otherwise).
func (s *Service) RecordView(ctx context.Context, site tenant.Site, v visitor.View) (visitor.Identity, error) {
	key := ""
	if v.Token != "" {
		key = visitor.HashToken(v.Token)
	}
	if err := allow(s.visitorViews, s.ipViews, key, v.IP); err != nil {
		return visitor.Identity{}, err
	}
	set, err := s.store.settings(ctx, site.ID)
	if err != nil {
		return visitor.Identity{}, err
	}
	v.TenantID, v.SiteID, v.CookieMode, v.SensitiveParams = site.TenantID, site.ID, set.CookieMode, set.SensitiveParams
	return s.visitors.Record(ctx, v)
}

// AgentName is the name a console user is shown with to visitors and other agents: their
// display name, or "Agent".
func (s *Service) AgentName(ctx context.Context, p *identity.Principal) string {
	if s.names != nil {
		if n, err := s.names.DisplayName(ctx, p.TenantID, p.UserID); err == nil && n != "" {
			return n
		}
	}
	return "Agent"
}

// VisitorName is the name the visitor of c gave, opened ("" when none was given or it cannot be
// read).
func (s *Service) VisitorName(ctx context.Context, c Conversation) string {
	name, _ := s.open(ctx, c.TenantID, c.ID, vault.FieldVisitorName, 0, c.VisitorName)
	return name
}
