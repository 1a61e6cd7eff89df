package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/vault/api"
)

// login obtains a fresh token with AppRole. stale is the token a request was refused with: when
// another request has already replaced it, login returns at once, so a burst of 403s logs in once.
func (t *Transit) login(ctx context.Context, stale string) error {
	t.loginMu.Lock()
	defer t.loginMu.Unlock()
	if cur := t.client.Token(); cur != "" && cur != stale {
		return nil
	}
	c, err := t.client.Clone()
	if err != nil {
		return fmt.Errorf("%w: %s", ErrUnavailable, describe(err))
	}
	c.ClearToken()
	if ns := t.client.Namespace(); ns != "" {
		c.SetNamespace(ns)
	}
	sec, err := c.Logical().WriteWithContext(ctx, "auth/"+t.appRole.Mount+"/login", map[string]any{
		"role_id":   t.appRole.RoleID,
		"secret_id": t.appRole.SecretID,
	})
	if err != nil {
		if s := statusOf(err); s == http.StatusBadRequest || s == http.StatusForbidden {
			t.log.Error("vault: AppRole login refused", "status", s)
			return fmt.Errorf("AppRole login: %w: %w", ErrUnavailable, ErrDenied)
		}
		return fmt.Errorf("AppRole login: %w", classify("login", err))
	}
	if sec == nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		return fmt.Errorf("AppRole login: %w: no token in Vault's answer", ErrUnavailable)
	}
	t.client.SetToken(sec.Auth.ClientToken)
	t.log.Info("vault: logged in with AppRole", "ttl_seconds", sec.Auth.LeaseDuration, "renewable", sec.Auth.Renewable)
	return nil
}

// maintain keeps the token alive until ctx ends: it renews a renewable token when two thirds of
// its lifetime have passed and, with AppRole, logs in again when the token can no longer be
// renewed. Failures are retried with an exponential backoff capped at a minute.
func (t *Transit) maintain(ctx context.Context) {
	defer close(t.done)
	var delay time.Duration
	failures := 0
	for {
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		next, err := t.refresh(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			delay = min(time.Second<<min(failures-1, 6), time.Minute)
			t.log.Warn("vault: token maintenance failed", "error", err.Error(), "retry_in", delay.String())
			continue
		}
		failures = 0
		delay = next
	}
}

// refresh looks the token up, renews or replaces it when due, and returns when to look again.
func (t *Transit) refresh(ctx context.Context) (time.Duration, error) {
	sec, err := t.call(ctx, "token lookup", func(ctx context.Context) (*api.Secret, error) {
		return t.client.Auth().Token().LookupSelfWithContext(ctx)
	})
	if err != nil {
		return 0, err
	}
	ttl, err := sec.TokenTTL()
	if err != nil {
		return 0, fmt.Errorf("vault token lookup: %w: unreadable ttl", ErrUnavailable)
	}
	if ttl <= 0 {
		// A token without expiry (a root or periodic-less service token): nothing to renew.
		return 10 * time.Minute, nil
	}
	creation := numberSeconds(sec.Data["creation_ttl"])
	if creation <= 0 {
		creation = ttl
	}
	if ttl > creation*2/3 {
		return max(ttl-creation*2/3, 500*time.Millisecond), nil
	}
	renewable, _ := sec.TokenIsRenewable()
	var renewErr error
	if renewable {
		rs, err := t.call(ctx, "token renewal", func(ctx context.Context) (*api.Secret, error) {
			return t.client.Auth().Token().RenewSelfWithContext(ctx, int(creation/time.Second))
		})
		renewErr = err
		if err == nil && rs != nil && rs.Auth != nil {
			granted := time.Duration(rs.Auth.LeaseDuration) * time.Second
			if granted >= creation {
				return max(granted/3, 500*time.Millisecond), nil
			}
			// Vault granted less than asked: the token is near its maximum lifetime.
			ttl = granted
		}
	}
	if t.appRole != nil {
		if err := t.login(ctx, t.client.Token()); err != nil {
			return 0, err
		}
		return time.Second, nil
	}
	if renewErr != nil {
		return 0, renewErr
	}
	t.log.Warn("vault: Parley's token cannot be renewed further and will expire; give Parley a fresh token or use AppRole",
		"ttl_seconds", int(ttl/time.Second))
	return max(ttl/2, time.Second), nil
}

// numberSeconds reads a Vault duration given in seconds (json.Number or float64).
func numberSeconds(v any) time.Duration {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return 0
		}
		return time.Duration(i) * time.Second
	case float64:
		return time.Duration(n) * time.Second
	case int:
		return time.Duration(n) * time.Second
	}
	return 0
}
