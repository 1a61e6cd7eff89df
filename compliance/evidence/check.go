package evidence

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/policy/password"
	"github.com/parleyhq/parley/policy/rbac"
	"github.com/parleyhq/parley/policy/signin"
)

// Status is a check's or a control's outcome.
type Status string

// The outcomes. Manual means a person must attest: no automated check decides it.
const (
	Pass   Status = "pass"
	Fail   Status = "fail"
	Manual Status = "manual"
)

// Result is what one check found.
type Result struct {
	Check  string `json:"check"`
	Title  string `json:"title"`
	Status Status `json:"status"`
	// Evidence says, in one sentence, what was found.
	Evidence string `json:"evidence"`
	// Details lists the findings behind it (users without MFA, sites with transcript e-mail on).
	Details []string `json:"details,omitempty"`
}

// Check is one automated check over live configuration and data.
type Check struct {
	ID    string
	Title string
	Run   func(ctx context.Context, in Input) Result
}

// Input is what a check runs against: one organisation at one moment, through Sources.
type Input struct {
	Tenant string
	Now    time.Time
	Sources
}

// Sources are what the checks read. Platform is the process configuration; the interfaces read
// the organisation's stored settings and data.
type Sources struct {
	Platform  Platform
	Accounts  AccountSource
	Reviews   ReviewSource
	Keys      KeySource
	Audit     AuditSource
	Scans     ScanSource
	Sites     SiteSource
	Retention RetentionSource
}

// Platform is the installation's configuration as the checks see it.
type Platform struct {
	// TLS is true when Parley terminates TLS itself; TLSMinVersion and CertNotAfter describe it.
	TLS           bool      `json:"tls"`
	TLSMinVersion string    `json:"tls_min_version,omitempty"`
	CertNotAfter  time.Time `json:"cert_not_after,omitzero"`
	// PublicURL and TrustedProxies describe TLS terminated by a proxy in front of Parley.
	PublicURL      string   `json:"public_url"`
	TrustedProxies []string `json:"trusted_proxies,omitempty"`
	// KeyProvider is the key provider's kind ("vault", "local"); KeyProviderProduction is false
	// for the development provider.
	KeyProvider           string `json:"key_provider"`
	KeyProviderProduction bool   `json:"key_provider_production"`
	// AuditRetention is how long audit events stay online; AuditForwarding names the
	// destinations events are copied to.
	AuditRetention  time.Duration `json:"audit_retention"`
	AuditForwarding []string      `json:"audit_forwarding,omitempty"`
	// SecureForm is true when the secure card form is available to agents.
	SecureForm bool `json:"secure_form"`
	// ClockSynchronized reports the kernel's clock discipline (nil: unknown); TimeZone is the
	// zone timestamps are written in.
	ClockSynchronized *bool  `json:"clock_synchronized"`
	TimeZone          string `json:"time_zone"`
}

// AccountPolicies are an organisation's password, sign-in and session policies.
type AccountPolicies struct {
	Password password.Policy      `json:"password"`
	SignIn   signin.Policy        `json:"sign_in"`
	Session  signin.SessionPolicy `json:"session"`
}

// Person is a console user as the checks see them; no content, no secrets.
type Person struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Email string   `json:"email"`
	Roles []string `json:"roles"`
	// Status is the account's status (active, invited, disabled, locked).
	Status string `json:"status"`
	// MFAEnabled: a second factor is enrolled; MFAEnforced: the policy requires one.
	MFAEnabled  bool `json:"mfa_enabled"`
	MFAEnforced bool `json:"mfa_enforced"`
	// LastActive is the last sign-in, or the activation for a user never signed in.
	LastActive time.Time `json:"last_active,omitzero"`
}

// Label names a person in findings: the name, else the e-mail address.
func (p Person) Label() string {
	if p.Name != "" {
		return p.Name + " <" + p.Email + ">"
	}
	return p.Email
}

// AccountSource reads an organisation's policies and console users.
type AccountSource interface {
	Policies(ctx context.Context, tenant string) (AccountPolicies, error)
	People(ctx context.Context, tenant string) ([]Person, error)
}

// ReviewSource reads the access-review status (PCI DSS 7.2.4).
type ReviewSource interface {
	ReviewStatus(ctx context.Context, tenant string) (rbac.ReviewStatus, error)
}

// KeyStatus is an organisation's encryption key as the checks see it.
type KeyStatus struct {
	Provider             string    `json:"provider"`
	LatestVersion        int       `json:"latest_version"`
	MinDecryptionVersion int       `json:"min_decryption_version"`
	LastRotation         time.Time `json:"last_rotation,omitzero"`
	Created              time.Time `json:"created,omitzero"`
	NeedRewrap           int       `json:"need_rewrap"`
}

// KeySource reads the organisation's key status.
type KeySource interface {
	KeyStatus(ctx context.Context, tenant string) (KeyStatus, error)
}

// ChainStatus is the result of verifying an organisation's audit chain now.
type ChainStatus struct {
	Intact      bool   `json:"intact"`
	Events      int64  `json:"events"`
	FromSeq     int64  `json:"from_seq"`
	ToSeq       int64  `json:"to_seq"`
	Checkpoints int    `json:"checkpoints"`
	Damage      string `json:"damage,omitempty"`
}

// AuditSource verifies the organisation's audit chain.
type AuditSource interface {
	VerifyChain(ctx context.Context, tenant string) (ChainStatus, error)
}

// ScanStatus is the last PAN discovery scan.
type ScanStatus struct {
	Found      bool      `json:"found"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Outcome    string    `json:"outcome,omitempty"`
	Findings   int64     `json:"findings"`
	Locations  int       `json:"locations"`
}

// ScanSource reads the last PAN discovery scan.
type ScanSource interface {
	LastScan(ctx context.Context) (ScanStatus, error)
}

// Site is a website's settings that bear on the controls.
type Site struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	TranscriptEmail bool   `json:"transcript_email"`
}

// SiteSource reads an organisation's sites and its card masking mode.
type SiteSource interface {
	Sites(ctx context.Context, tenant string) ([]Site, error)
	MaskMode(ctx context.Context, tenant string) (string, error)
}

// RetentionPeriod is one kind of data's retention period in days (0: kept until deleted).
type RetentionPeriod struct {
	Kind    string `json:"kind"`
	Days    int    `json:"days"`
	Default bool   `json:"default"`
}

// RetentionSource reads the organisation's retention periods.
type RetentionSource interface {
	RetentionPeriods(ctx context.Context, tenant string) ([]RetentionPeriod, error)
}

// errorResult is the result of a check whose source failed: it fails, saying why.
func errorResult(what string, err error) Result {
	return Result{Status: Fail, Evidence: fmt.Sprintf("could not read %s: %v", what, err)}
}
