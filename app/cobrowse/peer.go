package cobrowse

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/compliance/nodeauth"
	"github.com/parleyhq/parley/migrations"
)

// peerPath is the node-to-node endpoint.
const peerPath = "/internal/v1/cobrowse"

// Headers of the node-to-node attachment: the request (base64url JSON) and its signature.
const (
	attachHeader    = "X-Parley-Cobrowse-Attach"
	signatureHeader = "X-Parley-Peer-Signature"
	attachDomain    = "parley/cobrowse/attach/v1"
	macLabel        = "parley/cobrowse/peer/mac/v1"
	streamLabel     = "parley/cobrowse/stream/v1/"
)

// attachRequest asks the holding node to attach an agent served by the asking node. It carries
// ids only; Control says the asking node found cobrowse.control for the agent.
type attachRequest struct {
	Tenant       string `json:"tenant"`
	Conversation string `json:"conversation"`
	Session      string `json:"session"`
	Agent        string `json:"agent"`
	Control      bool   `json:"control"`
	Node         string `json:"node"`
	Time         int64  `json:"time"`
	Nonce        string `json:"nonce"`
}

func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// sealer seals (or opens) the frames of one direction of a node-to-node link with AES-256-GCM:
// the key is bound to the attach request's nonce and the direction, the GCM nonce is a counter,
// so a frame replayed, reordered or sent the other way does not open.
type sealer struct {
	aead cipher.AEAD
	n    uint64
}

func (s *Service) sealer(ctx context.Context, tenantID, nonce, dir string) (*sealer, error) {
	key, err := nodeauth.Derive(migrations.WithTenant(ctx, tenantID), s.keys, tenantID, streamLabel+dir+"/"+nonce)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func (z *sealer) nonce() []byte {
	var n [12]byte
	binary.BigEndian.PutUint64(n[4:], z.n)
	z.n++
	return n[:]
}

// seal seals the next frame. The GCM nonce is a counter: each key is fresh for one link and one
// direction (derived from the attach request's random nonce), so a counter never repeats under
// a key, and a frame replayed or reordered does not open.
func (z *sealer) seal(p []byte) []byte {
	return z.aead.Seal(nil, z.nonce(), p, nil) // #nosec G407 -- counter nonce under a per-link, per-direction key
}

func (z *sealer) open(c []byte) ([]byte, error) { return z.aead.Open(nil, z.nonce(), c, nil) }

// link is the asking node's end of a node-to-node attachment.
type link struct {
	conn     *websocket.Conn
	in, out  *sealer
	closeOne sync.Once
}

func (k *link) close() { k.closeOne.Do(func() { _ = k.conn.CloseNow() }) }

// dial attaches the agent to a session another node holds.
func (s *Service) dial(ctx context.Context, r sessionRow, agentID string, control bool) (*link, error) {
	if r.HolderURL == "" {
		return nil, ErrUnavailable
	}
	mac, err := nodeauth.Derive(migrations.WithTenant(ctx, r.TenantID), s.keys, r.TenantID, macLabel)
	if err != nil {
		return nil, err
	}
	nonce, err := nodeauth.NewNonce(s.rand)
	if err != nil {
		return nil, err
	}
	req := attachRequest{Tenant: r.TenantID, Conversation: r.ConversationID, Session: r.ID, Agent: agentID, Control: control,
		Node: s.node, Time: s.now().Unix(), Nonce: nonce}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(attachHeader, base64.RawURLEncoding.EncodeToString(body))
	h.Set(signatureHeader, nodeauth.Signature(mac, attachDomain, body))
	u := "ws" + strings.TrimPrefix(r.HolderURL, "http") + peerPath
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h, CompressionMode: websocket.CompressionDisabled})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			switch resp.StatusCode {
			case http.StatusNotFound:
				return nil, ErrClosed
			case http.StatusForbidden:
				return nil, ErrForbidden
			}
		}
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	conn.SetReadLimit(MaxVisitorFrame + 64)
	k := &link{conn: conn}
	if k.in, err = s.sealer(ctx, r.TenantID, nonce, "holder"); err == nil {
		k.out, err = s.sealer(ctx, r.TenantID, nonce, "agent")
	}
	if err != nil {
		k.close()
		return nil, err
	}
	return k, nil
}

// pumpRemote joins an agent's socket to its node-to-node link.
func pumpRemote(ctx context.Context, conn *websocket.Conn, k *link) {
	defer k.close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			typ, data, err := conn.Read(ctx)
			if err != nil {
				k.close()
				return
			}
			if typ != websocket.MessageText {
				continue
			}
			if err := k.conn.Write(ctx, websocket.MessageBinary, k.out.seal(data)); err != nil {
				_ = conn.CloseNow()
				return
			}
		}
	}()
	for {
		_, data, err := k.conn.Read(ctx)
		if err != nil {
			break
		}
		plain, err := k.in.open(data)
		if err != nil {
			break
		}
		if write(ctx, conn, plain) != nil {
			break
		}
	}
	_ = conn.Close(websocket.StatusNormalClosure, "ended")
	<-done
}

// servePeer attaches an agent served by another node: the signed request is checked first
// (signature under the tenant's key, time, nonce), then the session, then the socket opens.
func (s *Service) servePeer(c echo.Context) error {
	ctx := c.Request().Context()
	body, err := base64.RawURLEncoding.DecodeString(c.Request().Header.Get(attachHeader))
	var req attachRequest
	if err != nil || len(body) > 4096 || strictJSON(body, &req) != nil || req.Tenant == "" {
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "unauthenticated"})
	}
	mac, err := nodeauth.Derive(migrations.WithTenant(ctx, req.Tenant), s.keys, req.Tenant, macLabel)
	if err == nil && !nodeauth.Check(mac, attachDomain, body, c.Request().Header.Get(signatureHeader)) {
		err = fmt.Errorf("%w: bad signature", nodeauth.ErrAuth)
	}
	if err == nil {
		err = s.replay.Admit(s.now(), 0, req.Time, req.Tenant, req.Nonce)
	}
	if err != nil {
		s.log.WarnContext(ctx, "node-to-node co-browsing request refused", "client_ip", c.RealIP(), "cause", err.Error())
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "unauthenticated"})
	}
	g, err := s.AttachAgent(req.Tenant, req.Conversation, req.Session, req.Agent, req.Control)
	switch {
	case errors.Is(err, ErrForbidden):
		return c.JSON(http.StatusForbidden, map[string]string{"error": "forbidden"})
	case err != nil:
		return c.JSON(http.StatusNotFound, map[string]string{"error": "not_found"})
	}
	out, err := s.sealer(ctx, req.Tenant, req.Nonce, "holder")
	var in *sealer
	if err == nil {
		in, err = s.sealer(ctx, req.Tenant, req.Nonce, "agent")
	}
	if err != nil {
		g.Detach()
		return err
	}
	conn, err := upgrade(c, MaxAgentFrame+64)
	if err != nil {
		g.Detach()
		return nil
	}
	go s.pumpPeer(context.WithoutCancel(ctx), conn, g, in, out)
	return nil
}

// pumpPeer runs the holder's end of a node-to-node link on a leg.
func (s *Service) pumpPeer(ctx context.Context, conn *websocket.Conn, g *Leg, in, out *sealer) {
	go func() {
		for {
			typ, data, err := conn.Read(ctx)
			if err != nil || typ != websocket.MessageBinary {
				g.Detach()
				_ = conn.CloseNow()
				return
			}
			plain, err := in.open(data)
			if err != nil {
				g.Detach()
				_ = conn.CloseNow()
				return
			}
			g.Send(ctx, plain)
		}
	}()
	send := func(b []byte) error { return conn.Write(ctx, websocket.MessageBinary, out.seal(b)) }
	for {
		select {
		case b := <-g.out:
			if send(b) != nil {
				g.Detach()
				_ = conn.CloseNow()
				return
			}
		case <-g.gone:
			_ = conn.Close(closeEnded, "replaced")
			return
		case <-g.s.done:
		drain:
			for {
				select {
				case b := <-g.out:
					_ = send(b)
				default:
					break drain
				}
			}
			_ = conn.Close(websocket.StatusNormalClosure, "ended")
			return
		}
	}
}
