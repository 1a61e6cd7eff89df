// Package rbac is Parley's authorization policy: the permission catalogue (every right a role can
// grant, with the PCI DSS and HIPAA controls it supports), the default roles with their
// least-privilege grants and separation of duties, the Casbin model of roles granted per tenant
// or per department, and the cached enforcer that answers "may this user do this here" in well
// under a microsecond.
//
// Domains are "tenant:<id>" and "tenant:<id>/dept:<id>"; a grant in a tenant covers every
// department inside it, a grant in a department covers only that department. The enforcer is
// built from a Source (the database, in app/authz) and reloads when the Source's policy version
// changes; any failure to evaluate is a denial. Nothing here speaks HTTP or imports app.
package rbac
