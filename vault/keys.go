package vault

import (
	"context"
	"errors"
	"fmt"
	"github.com/parleyhq/parley/migrations"
	"io"
	"time"
)

// ErrKeysBelowVersion means raising the minimum decryption version would make stored data keys
// unreadable: rewrap them first.
var ErrKeysBelowVersion = errors.New("data keys are still wrapped under a version below the requested minimum")

// Keys is the key administration Parley's CLI (`parley keys …`), the console and the evidence
// report use: rotation, rewrap, minimum decryption version and status, per tenant.
type Keys struct {
	provider  KeyProvider
	store     *Store
	batchSize int
}

// NewKeys returns the key tools over a provider and the wrapped key store; batchSize is the number
// of data keys rewrapped per provider call (default 100).
func NewKeys(provider KeyProvider, store *Store, batchSize int) *Keys {
	if batchSize <= 0 {
		batchSize = 100
	}
	return &Keys{provider: provider, store: store, batchSize: batchSize}
}

// Rotate adds a version to the tenant's key and returns the key's new status. New data keys are
// wrapped under the new version; existing ones stay readable until rewrapped.
func (k *Keys) Rotate(ctx context.Context, tenantID string) (KeyStatus, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if err := k.provider.RotateTenantKey(ctx, tenantID); err != nil {
		return KeyStatus{}, err
	}
	return k.provider.TenantKeyStatus(ctx, tenantID)
}

// RewrapSummary reports a rewrap run.
type RewrapSummary struct {
	// TargetVersion is the key version data keys were rewrapped to.
	TargetVersion int `json:"target_version"`
	// Pending is how many data keys were below TargetVersion when the run started.
	Pending int `json:"pending"`
	// Rewrapped counts keys moved to TargetVersion.
	Rewrapped int `json:"rewrapped"`
	// Skipped counts keys shredded or rewrapped by someone else during the run.
	Skipped int `json:"skipped"`
	// Failed counts keys the provider could not rewrap (damaged, or below the minimum decryption
	// version); they stay as they are.
	Failed int `json:"failed"`
}

// Rewrap rewraps every stored data key of the tenant that is below the latest key version, in
// batches ordered by scope id, with the provider's rewrap (transit never reveals the plaintext).
// It is resumable: an interrupted run leaves finished batches done, and a rerun only touches keys
// still below the latest version. Progress lines go to progress (may be nil). Keys the provider
// cannot rewrap are counted and reported with ErrRewrapIncomplete; provider outages stop the run
// with ErrUnavailable.
func (k *Keys) Rewrap(ctx context.Context, tenantID string, progress io.Writer) (RewrapSummary, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if progress == nil {
		progress = io.Discard
	}
	if err := validTenantID(tenantID); err != nil {
		return RewrapSummary{}, err
	}
	st, err := k.provider.TenantKeyStatus(ctx, tenantID)
	if err != nil {
		return RewrapSummary{}, err
	}
	sum := RewrapSummary{TargetVersion: st.LatestVersion}
	counts, err := k.store.CountByVersion(ctx, tenantID)
	if err != nil {
		return sum, err
	}
	for v, n := range counts.ByVersion {
		if v < st.LatestVersion {
			sum.Pending += n
		}
	}
	_, _ = fmt.Fprintf(progress, "rewrap tenant %s: %d data keys below key version %d\n", tenantID, sum.Pending, st.LatestVersion)
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		batch, err := k.store.ListBelowVersion(ctx, tenantID, st.LatestVersion, after, k.batchSize)
		if err != nil {
			return sum, err
		}
		if len(batch) == 0 {
			break
		}
		wrapped := make([]string, len(batch))
		for i, b := range batch {
			wrapped[i] = b.Wrapped
		}
		results, err := k.provider.RewrapDataKeys(ctx, tenantID, wrapped)
		if err != nil {
			return sum, err
		}
		for i, r := range results {
			switch {
			case r.Err != nil:
				sum.Failed++
			case r.KeyVersion < st.LatestVersion:
				sum.Failed++
			default:
				ok, err := k.store.ReplaceWrapped(ctx, tenantID, batch[i].ScopeID, batch[i].Wrapped, r.Wrapped, r.KeyVersion)
				if err != nil {
					return sum, err
				}
				if ok {
					sum.Rewrapped++
				} else {
					sum.Skipped++
				}
			}
		}
		after = batch[len(batch)-1].ScopeID
		done := sum.Rewrapped + sum.Skipped + sum.Failed
		_, _ = fmt.Fprintf(progress, "rewrap tenant %s: %d/%d (%d%%) rewrapped %d, failed %d\n",
			tenantID, done, sum.Pending, percent(done, sum.Pending), sum.Rewrapped, sum.Failed)
	}
	if sum.Failed > 0 {
		return sum, fmt.Errorf("%w: %d data keys of tenant %s could not be rewrapped", ErrRewrapIncomplete, sum.Failed, tenantID)
	}
	return sum, nil
}

func percent(n, total int) int {
	if total == 0 {
		return 100
	}
	return n * 100 / total
}

// SetMinDecryptionVersion retires the tenant key's versions below version. Unless force is set it
// refuses (ErrKeysBelowVersion) while stored data keys are still wrapped under a retired version,
// because their scopes would become unreadable: run Rewrap first.
func (k *Keys) SetMinDecryptionVersion(ctx context.Context, tenantID string, version int, force bool) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	if err := validTenantID(tenantID); err != nil {
		return err
	}
	if !force {
		counts, err := k.store.CountByVersion(ctx, tenantID)
		if err != nil {
			return err
		}
		stale := 0
		for v, n := range counts.ByVersion {
			if v < version {
				stale += n
			}
		}
		if stale > 0 {
			return fmt.Errorf("%w: %d data keys (run rewrap first)", ErrKeysBelowVersion, stale)
		}
	}
	return k.provider.SetMinDecryptionVersion(ctx, tenantID, version)
}

// TenantKeyReport is a tenant's key status for the console and the evidence report.
type TenantKeyReport struct {
	TenantID string `json:"tenant_id"`
	// Provider is the provider kind; Production is false for the local development provider.
	Provider   string    `json:"provider"`
	Production bool      `json:"production"`
	Key        KeyStatus `json:"key"`
	// WrappedByVersion counts stored data keys per key version.
	WrappedByVersion map[int]int `json:"wrapped_by_version"`
	// NeedRewrap counts data keys below the latest version.
	NeedRewrap int `json:"need_rewrap"`
	// Retired counts data keys below the minimum decryption version: their scopes are unreadable.
	Retired int `json:"retired"`
	// Shredded counts crypto-shredded scopes.
	Shredded int `json:"shredded"`
	// CheckedAt is when the report was made.
	CheckedAt time.Time `json:"checked_at"`
}

// Status reports the tenant's key versions, minimum decryption version, last rotation and stored
// data keys per version.
func (k *Keys) Status(ctx context.Context, tenantID string) (TenantKeyReport, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if err := validTenantID(tenantID); err != nil {
		return TenantKeyReport{}, err
	}
	st, err := k.provider.TenantKeyStatus(ctx, tenantID)
	if err != nil {
		return TenantKeyReport{}, err
	}
	counts, err := k.store.CountByVersion(ctx, tenantID)
	if err != nil {
		return TenantKeyReport{}, err
	}
	r := TenantKeyReport{
		TenantID:         tenantID,
		Provider:         k.provider.Kind(),
		Production:       k.provider.Production(),
		Key:              st,
		WrappedByVersion: counts.ByVersion,
		Shredded:         counts.Shredded,
		CheckedAt:        k.store.now().UTC(),
	}
	for v, n := range counts.ByVersion {
		if v < st.LatestVersion {
			r.NeedRewrap += n
		}
		if v < st.MinDecryptionVersion {
			r.Retired += n
		}
	}
	return r, nil
}
