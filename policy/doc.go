// Package policy holds Parley's access decisions: the Casbin RBAC model with its
// permission catalogue and default roles, and, in subpackages, the password policy
// (policy/password), sign-in defence and session timing (policy/signin) and IP
// allowlists (policy/allowlist). Every decision here is a pure function of its
// inputs and an injected clock; nothing here speaks HTTP, touches a database or
// imports app, so an assessor can review and test each control on its own.
//
// This package itself holds what the policies share: Problem and PolicyError, the one way a
// password, sign-in or session policy reports settings it refuses.
package policy
