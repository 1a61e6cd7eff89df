package audit

import (
	"context"
	"github.com/parleyhq/parley/migrations"
	"time"
)

// Checkpoint is a signed statement that a tenant's chain had the given head hash at the given
// sequence number. Anyone holding the public key can check it; someone with only database
// access cannot rewrite the history a checkpoint covers without the rewrite being detected.
type Checkpoint struct {
	Tenant    string    `json:"tenant"`
	Seq       int64     `json:"seq"`
	Head      Hash      `json:"head"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Signature []byte    `json:"signature"`
}

// Message returns the bytes the checkpoint's signature covers (see CANONICAL.md).
func (c Checkpoint) Message() []byte {
	b := make([]byte, 0, 160+len(c.Tenant)+len(c.KeyID))
	b = appendField(b, checkpointTag)
	b = appendField(b, c.Tenant)
	b = appendIntField(b, c.Seq)
	b = appendBytesField(b, c.Head[:])
	b = appendTimeField(b, c.Time)
	b = appendField(b, c.KeyID)
	return b
}

// VerifySignature checks the checkpoint's signature under one of keys.
func (c Checkpoint) VerifySignature(keys ...PublicKey) error {
	return NewKeyRing(keys...).Verify(c.KeyID, c.Message(), c.Signature)
}

// SignCheckpoint signs a checkpoint of (tenant, seq, head) at time at with s, and checks the
// signature under s's public key before returning it. Errors wrap ErrSign.
func SignCheckpoint(ctx context.Context, s Signer, tenant string, seq int64, head Hash, at time.Time) (Checkpoint, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	c := Checkpoint{Tenant: tenant, Seq: seq, Head: head, Time: CanonicalTime(at), KeyID: s.KeyID()}
	sig, err := signChecked(ctx, s, c.Message())
	if err != nil {
		return Checkpoint{}, err
	}
	c.Signature = sig
	return c, nil
}
