// Parley co-browsing, the visitor's side in the chat frame (docs/chat-protocol.md §8). The
// frame asks the visitor; on Share it opens the co-browsing socket (its hello is the consent)
// and tells the loader on the host page to record the page; the loader's frames come back here
// and go to Parley, which sanitises them before the agent sees anything. Parley's commands
// (a fresh snapshot, the agent's request for control, the mode, the agent's clicks and typing
// in control mode) go to the loader. The socket closing ends the session: so does leaving the
// page, as the frame goes with it.

/** CobrowseLink is one co-browsing session of the visitor. */
export class CobrowseLink {
  /**
   * opts: { url (the socket URL), token, conversationId, sessionId, toHost(msg), texts,
   *         askControl(answer) — shows the second consent and calls answer(true|false),
   *         ended(reason), started() }
   */
  constructor(opts) {
    this.opts = opts;
    this.ws = null;
    this.live = false;
  }

  start() {
    const o = this.opts;
    const ws = new WebSocket(o.url);
    this.ws = ws;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ t: 'hello', token: o.token, conversation_id: o.conversationId, session_id: o.sessionId }));
    });
    ws.addEventListener('message', (e) => this.frame(e.data));
    ws.addEventListener('close', () => this.finish('visitor_left'));
  }

  frame(data) {
    let f;
    try { f = JSON.parse(data); } catch { return; }
    if (!f || typeof f.t !== 'string') return;
    const o = this.opts;
    switch (f.t) {
      case 'started':
        this.live = true;
        o.toHost({ type: 'cobrowse-start', allow: Array.isArray(f.input_allowlist) ? f.input_allowlist : [], texts: o.texts });
        if (o.started) o.started();
        break;
      case 'control_request':
        o.askControl((yes) => this.send({ t: yes ? 'control_consent' : 'control_decline' }));
        break;
      case 'end':
        this.finish(String(f.reason || ''));
        break;
      case 'resync': case 'mode': case 'click': case 'scroll': case 'input':
        o.toHost({ type: 'cobrowse-cmd', cmd: f });
        break;
      default:
        break;
    }
  }

  send(v) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(v));
  }

  /** fromHost takes the loader's messages: page frames, Stop, Take back control. */
  fromHost(d) {
    if (!this.live) return;
    if (d.type === 'cobrowse-frame' && d.frame && typeof d.frame.t === 'string') this.send(d.frame);
    else if (d.type === 'cobrowse-stop-request') this.stop();
    else if (d.type === 'cobrowse-revoke') this.send({ t: 'control_revoke' });
  }

  stop() {
    this.send({ t: 'stop' });
    this.finish('visitor_stopped');
  }

  finish(reason) {
    if (this.done) return;
    this.done = true;
    this.live = false;
    this.opts.toHost({ type: 'cobrowse-stop' });
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) {
      try { this.ws.close(1000); } catch { /* already closed */ }
    }
    this.opts.ended(reason);
  }
}
