package chat

import (
	"context"

	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/redaction"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// Sealer is envelope encryption of a conversation's sensitive fields; *vault.Envelope satisfies
// it. Failures wrap vault.ErrUnavailable when the key provider is unreachable: the chat then
// refuses the operation (nothing is stored in clear) with a retryable error.
type Sealer interface {
	SealString(ctx context.Context, b vault.Binding, plaintext string) (string, error)
	OpenString(ctx context.Context, b vault.Binding, ciphertext string) (string, error)
	Seal(ctx context.Context, b vault.Binding, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, b vault.Binding, ciphertext []byte) ([]byte, error)
	// Forget drops a scope's data key from memory.
	Forget(tenantID, scopeID string)
}

// Authorizer answers whether a console user holds a permission tenant-wide (departmentID "") or
// in a department. The app wires the RBAC policy; an error means deny.
type Authorizer interface {
	Allowed(ctx context.Context, p *identity.Principal, permission, departmentID string) (bool, error)
}

// Names resolves the display name of a console user shown to visitors and other agents.
type Names interface {
	DisplayName(ctx context.Context, tenantID, userID string) (string, error)
}

// NamesFunc adapts a function to Names.
type NamesFunc func(ctx context.Context, tenantID, userID string) (string, error)

// DisplayName implements Names.
func (f NamesFunc) DisplayName(ctx context.Context, tenantID, userID string) (string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	return f(ctx, tenantID, userID)
}

// Decider is the RBAC policy's question; *rbac.Enforcer satisfies it.
type Decider interface {
	Allowed(ctx context.Context, tenantID, userID, departmentID, permission string) (bool, error)
}

// DeciderAuthorizer answers Authorizer's question with a Decider.
type DeciderAuthorizer struct{ Decider Decider }

var _ Authorizer = DeciderAuthorizer{}

// Allowed implements Authorizer.
func (d DeciderAuthorizer) Allowed(ctx context.Context, p *identity.Principal, permission, departmentID string) (bool, error) {
	if p == nil || d.Decider == nil {
		return false, nil
	}
	return d.Decider.Allowed(ctx, p.TenantID, p.UserID, departmentID, permission)
}

// SessionChecker tells whether the console session an agent socket was opened with is still
// live: not signed out or revoked, not rotated by a role change, not past its absolute lifetime,
// its user neither disabled nor removed. An open socket is re-checked on an interval and closed
// (4401 unauthenticated) when it is not; an error (the database is unreachable) keeps it until
// the next check. Sending and receiving over the socket is the agent at work, so the idle timeout
// is the console's HTTP requests' concern, not the socket's.
type SessionChecker interface {
	SessionLive(ctx context.Context, p *identity.Principal) (bool, error)
}

// SessionFunc adapts a function to SessionChecker.
type SessionFunc func(ctx context.Context, p *identity.Principal) (bool, error)

// SessionLive calls f.
func (f SessionFunc) SessionLive(ctx context.Context, p *identity.Principal) (bool, error) {
	return f(ctx, p)
}

// Policies gives each tenant's text policy — its card-number masking mode (BIN and last four, or
// last four only) and its enabled redaction rules; *redaction.Policies satisfies it. An error
// (the policy cannot be read) refuses the text: nothing is stored unmasked.
type Policies interface {
	For(ctx context.Context, tenantID string) (*redaction.Policy, error)
}
