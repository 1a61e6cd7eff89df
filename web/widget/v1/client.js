// Parley visitor chat client (protocol version 1, docs/chat-protocol.md).
//
// One conversation, one cursor: the client keeps the highest seq it has delivered, hands every
// event to its listener exactly once and in seq order, and after a reconnect asks the server to
// replay everything above that seq. Messages carry an idempotency key and stay in an outbox until
// the server acknowledges them (or delivers them back as events), so a message re-sent after a
// reconnect is never stored twice. WebSocket first; when the socket cannot be opened the client
// falls back to long polling over HTTPS with the same guarantees.
//
// The client knows nothing of the DOM. Everything it needs from the browser (WebSocket, fetch,
// timers, randomness) is passed in, so it can be exercised under Node's test runner.

/** Protocol version this client speaks. */
export const PROTOCOL = 1;

/** Close codes after which reconnecting cannot help (docs/chat-protocol.md §4.4). */
const FATAL_CLOSES = new Map([
  [1000, 'bye'],
  [1003, 'client_error'],
  [1009, 'client_error'],
  [4400, 'client_error'],
  [4403, 'chat_unavailable'],
  [4404, 'not_found'],
  [4409, 'client_error'],
]);

/**
 * Closes before welcome that point at the network rather than the server: no connection or an
 * abnormal end (1006), a TLS failure (1015), no welcome in time (4000, ours) or a hello the server
 * never saw (4408).
 */
const TRANSPORT_FAILURES = new Set([1006, 1015, 4000, 4408]);

/** Error codes of a message that must not be retried: the message was not stored. */
const DROP_CODES = new Set(['empty_message', 'message_too_long', 'conversation_ended', 'invalid_request', 'forbidden']);

/**
 * backoffDelay returns how long to wait before reconnect attempt number attempt (0-based):
 * exponential growth from base, capped at max, with "equal jitter" (half fixed, half random) so
 * that many visitors cut off together do not come back together.
 */
export function backoffDelay(attempt, { base = 500, max = 30000, random = Math.random } = {}) {
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

const keyLetters = 'abcdefghijklmnopqrstuvwxyz';

/**
 * newKey returns a fresh idempotency key: prefix, a dash and 24 random lower-case letters (about
 * 112 bits; matches [A-Za-z0-9._:-]{1,64}). Letters only: a key is stored in clear, and the server
 * refuses one whose digits read as a card number, which a random UUID's digit groups do now and
 * then.
 */
export function newKey(prefix, cryptoImpl = globalThis.crypto) {
  const bytes = cryptoImpl.getRandomValues(new Uint8Array(24));
  let out = '';
  // 256 = 9 * 26 + 22: bytes of 234 and more are drawn again, so every letter is equally likely.
  for (let i = 0; out.length < 24; i++) {
    if (i === bytes.length) { cryptoImpl.getRandomValues(bytes); i = 0; }
    if (bytes[i] < 234) out += keyLetters[bytes[i] % 26];
  }
  return `${prefix}-${out}`;
}

/** wsURL turns the config's WebSocket path into an absolute ws:// or wss:// URL relative to page. */
export function wsURL(path, page) {
  const u = new URL(path, page);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

/**
 * VisitorChat is the visitor's connection to one conversation.
 *
 * listener methods (all optional):
 *   event(ev)          a stored event, exactly once, in seq order (messages, system, file, amend)
 *   ack(ack)           the server stored one of our messages
 *   signal(frame)      a typing or read frame
 *   state(name)        'connecting' | 'open' | 'reconnecting' | 'closed' (mode says 'ws' or 'poll')
 *   welcome(conv)      the conversation summary from the server's welcome (or a poll's status)
 *   failed(key, code)  a message was refused and will not be retried
 *   fatal(reason)      the connection ended for good: 'bye' | 'chat_unavailable' | 'not_found' |
 *                      'unauthenticated' | 'client_error'
 */
export class VisitorChat {
  constructor(opts) {
    this.base = opts.base; // HTTP base path of the site's widget API
    this.ws = opts.ws; // absolute WebSocket URL, or '' to poll only
    this.token = opts.token;
    this.conversationId = opts.conversationId;
    this.lastSeq = opts.lastSeq || 0;
    this.listener = opts.listener || {};
    this.WebSocket = opts.WebSocket === undefined ? globalThis.WebSocket : opts.WebSocket;
    this.fetch = opts.fetch || globalThis.fetch.bind(globalThis);
    this.setTimeout = opts.setTimeout || globalThis.setTimeout.bind(globalThis);
    this.clearTimeout = opts.clearTimeout || globalThis.clearTimeout.bind(globalThis);
    this.random = opts.random || Math.random;
    this.crypto = opts.crypto || globalThis.crypto;
    this.pingEvery = opts.pingEvery || 25000;
    this.welcomeTimeout = opts.welcomeTimeout || 15000;
    this.pollWait = opts.pollWait === undefined ? 20 : opts.pollWait;
    this.wsFailuresBeforePolling = opts.wsFailuresBeforePolling || 2;

    this.outbox = new Map(); // key → {key, text}; insertion order is send order
    this.mode = 'ws';
    this.socket = null;
    this.opened = false; // the current socket reached welcome
    this.attempt = 0;
    this.wsFailures = 0;
    this.timer = null;
    this.pingTimer = null;
    this.stopped = false;
    this.pollAbort = null;
    this.retryTimers = new Set();
  }

  /** start connects; call once. */
  start() {
    if (!this.ws || typeof this.WebSocket !== 'function') {
      this.mode = 'poll';
    }
    this.connect();
  }

  /** stop closes the connection for good (the page is going away or the chat view closed). */
  stop() {
    this.stopped = true;
    this.clearTimeout(this.timer);
    this.clearTimeout(this.pingTimer);
    for (const t of this.retryTimers) this.clearTimeout(t);
    this.retryTimers.clear();
    if (this.pollAbort) this.pollAbort.abort();
    if (this.socket) {
      const s = this.socket;
      this.socket = null;
      try { s.close(1000, 'bye'); } catch { /* already closed */ }
    }
    this.emit('state', 'closed');
  }

  /**
   * resume reconnects after fatal('unauthenticated') with a fresh visitor token. The cursor and the
   * outbox are kept, so nothing is replayed twice and nothing unacknowledged is lost.
   */
  resume(token) {
    this.token = token;
    this.attempt = 0;
    this.connect();
  }

  /** send queues text as a new message and returns its idempotency key. */
  send(text) {
    const key = newKey('v', this.crypto);
    this.outbox.set(key, { key, text });
    this.transmit(key);
    return key;
  }

  /** retry re-sends a message that is still in the outbox (same key, so it is stored once). */
  retry(key) {
    if (this.outbox.has(key)) this.transmit(key);
  }

  /** pending lists the messages not yet acknowledged, oldest first. */
  pending() {
    return [...this.outbox.values()];
  }

  typing(on) {
    this.signal({ type: 'typing', typing: !!on }, 'typing', { typing: !!on });
  }

  /**
   * read tells the server the visitor has seen everything up to seq. It returns false when the
   * receipt could not go out (no connection right now): the caller sends it again once the
   * connection is back (state 'open').
   */
  read(seq) {
    return this.signal({ type: 'read', seq }, 'read', { seq });
  }

  /** end asks the server to end the conversation; the 'ended' system event follows. */
  end() {
    this.signal({ type: 'end' }, 'end', {});
  }

  // --- internals -------------------------------------------------------------------------------

  emit(name, ...args) {
    const fn = this.listener[name];
    if (typeof fn === 'function') fn.apply(this.listener, args);
  }

  connect() {
    if (this.stopped) return;
    if (this.mode === 'poll') {
      this.emit('state', 'open');
      this.flush();
      this.poll();
      return;
    }
    this.emit('state', this.attempt === 0 ? 'connecting' : 'reconnecting');
    this.opened = false;
    let socket;
    try {
      socket = new this.WebSocket(this.ws);
    } catch {
      this.socketFailed(null, 1006);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      socket.send(JSON.stringify({ type: 'hello', token: this.token, conversation_id: this.conversationId, last_seq: this.lastSeq }));
      // A proxy that lets the upgrade through but not the frames leaves the socket silent. Until
      // the welcome, the ping timer is the welcome timer.
      this.pingTimer = this.setTimeout(() => {
        if (this.socket === socket && !this.opened) socket.close(4000, 'welcome_timeout');
      }, this.welcomeTimeout);
    };
    socket.onmessage = (m) => {
      if (this.socket !== socket || typeof m.data !== 'string') return;
      let frame;
      try { frame = JSON.parse(m.data); } catch { return; }
      this.armPing(socket);
      this.onFrame(frame, socket);
    };
    socket.onclose = (e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.socketFailed(socket, e.code);
    };
    socket.onerror = () => { /* onclose follows */ };
  }

  socketFailed(socket, code) {
    this.clearTimeout(this.pingTimer);
    if (this.stopped) return;
    if (code === 4401) {
      this.emit('fatal', 'unauthenticated');
      return;
    }
    if (FATAL_CLOSES.has(code)) {
      this.emit('fatal', FATAL_CLOSES.get(code));
      return;
    }
    if (!this.opened && TRANSPORT_FAILURES.has(code)) {
      this.wsFailures++;
      if (this.wsFailures >= this.wsFailuresBeforePolling) {
        // The socket never got to welcome and the way there, not the server, failed: WebSocket
        // is probably blocked by a proxy. Long polling keeps the same guarantees.
        this.mode = 'poll';
      }
    }
    const base = code === 4429 ? 5000 : 500;
    const delay = this.mode === 'poll' ? 0 : backoffDelay(this.attempt, { base, random: this.random });
    this.attempt++;
    this.emit('state', 'reconnecting');
    this.timer = this.setTimeout(() => this.connect(), delay);
  }

  armPing(socket) {
    this.clearTimeout(this.pingTimer);
    // The server pings on the protocol level, which a browser cannot see; an application ping
    // after a quiet period finds a half-open connection. No answer in time → reconnect.
    this.pingTimer = this.setTimeout(() => {
      if (this.socket !== socket) return;
      try { socket.send(JSON.stringify({ type: 'ping' })); } catch { /* closing */ }
      this.pingTimer = this.setTimeout(() => {
        if (this.socket === socket) socket.close(4000, 'ping_timeout');
      }, 10000);
    }, this.pingEvery);
  }

  onFrame(frame, socket) {
    switch (frame.type) {
      case 'welcome':
        this.opened = true;
        this.attempt = 0;
        this.wsFailures = 0;
        if (frame.conversation) this.emit('welcome', frame.conversation);
        this.emit('state', 'open');
        this.flush();
        break;
      case 'event':
        this.onEvent(frame, socket);
        break;
      case 'ack':
        this.onAck(frame);
        break;
      case 'typing':
      case 'read':
      case 'queue':
        this.emit('signal', frame);
        break;
      case 'error':
        this.onError(frame);
        break;
      default:
        break; // pong and frames of later protocol versions
    }
  }

  /** onEvent delivers ev if it is the next seq; a gap means frames were lost: replay from the server. */
  onEvent(ev, socket) {
    if (typeof ev.seq !== 'number' || ev.seq <= this.lastSeq) return;
    if (ev.seq > this.lastSeq + 1) {
      if (socket) socket.close(4000, 'gap');
      return;
    }
    this.lastSeq = ev.seq;
    if (ev.key && this.outbox.has(ev.key)) this.outbox.delete(ev.key);
    this.emit('event', ev);
  }

  onAck(ack) {
    if (!ack.key) return;
    this.outbox.delete(ack.key);
    this.emit('ack', ack);
  }

  onError(err) {
    if (!err.key || !this.outbox.has(err.key)) {
      if (err.code === 'conversation_ended') this.emit('fatal', 'bye');
      return;
    }
    if (DROP_CODES.has(err.code)) {
      this.outbox.delete(err.key);
      this.emit('failed', err.key, err.code);
      return;
    }
    // rate_limited, unavailable: not stored; the same key again later.
    const wait = Math.max(250, err.retry_after_ms || 1000);
    const t = this.setTimeout(() => { this.retryTimers.delete(t); this.retry(err.key); }, wait);
    this.retryTimers.add(t);
  }

  flush() {
    for (const key of this.outbox.keys()) this.transmit(key);
  }

  transmit(key) {
    const m = this.outbox.get(key);
    if (!m) return;
    if (this.mode === 'poll') {
      this.postMessage(m);
      return;
    }
    if (this.socket && this.opened) {
      this.socket.send(JSON.stringify({ type: 'message', key: m.key, text: m.text }));
    } // otherwise it goes out with flush() after the next welcome
  }

  /** signal sends an ephemeral frame; it returns whether it went out. */
  signal(frame, path, body) {
    if (this.stopped) return false;
    if (this.mode === 'poll') {
      this.request('POST', `/chats/${encodeURIComponent(this.conversationId)}/${path}`, body).catch(() => {});
      return true;
    }
    if (!this.socket || !this.opened) return false;
    try {
      this.socket.send(JSON.stringify(frame));
    } catch {
      return false; // closing: onclose follows
    }
    return true;
  }

  // --- long polling ----------------------------------------------------------------------------

  async request(method, path, body, signal) {
    const headers = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await this.fetch(this.base + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit', cache: 'no-store', signal,
    });
    let data = null;
    if (res.status !== 204) {
      try { data = await res.json(); } catch { data = null; }
    }
    return { status: res.status, data, retryAfter: Number(res.headers.get('Retry-After')) || 0 };
  }

  async poll() {
    while (!this.stopped && this.mode === 'poll') {
      const ctl = typeof AbortController === 'function' ? new AbortController() : null;
      this.pollAbort = ctl;
      let r;
      try {
        r = await this.request('GET', `/chats/${encodeURIComponent(this.conversationId)}/events?after=${this.lastSeq}&wait=${this.pollWait}`, undefined, ctl && ctl.signal);
      } catch {
        if (this.stopped) return;
        r = { status: 0 };
      }
      if (this.stopped) return;
      if (r.status === 200 && r.data) {
        this.attempt = 0;
        for (const ev of r.data.events || []) this.onEvent({ type: 'event', ...ev }, null);
        for (const s of r.data.signals || []) this.emit('signal', s);
        if (r.data.status) this.emit('welcome', { conversation_id: this.conversationId, status: r.data.status, last_seq: r.data.last_seq });
        if (r.data.status === 'ended' || r.data.status === 'missed') {
          if (!r.data.more) return; // the log is complete; nothing more will come
        }
        continue;
      }
      if (r.status === 401) { this.emit('fatal', 'unauthenticated'); return; }
      if (r.status === 403) { this.emit('fatal', 'chat_unavailable'); return; }
      if (r.status === 404) { this.emit('fatal', 'not_found'); return; }
      const delay = r.status === 429 && r.retryAfter
        ? r.retryAfter * 1000
        : backoffDelay(this.attempt++, { random: this.random });
      this.emit('state', 'reconnecting');
      await new Promise((resolve) => { this.timer = this.setTimeout(resolve, delay); });
      if (!this.stopped) this.emit('state', 'open');
    }
  }

  async postMessage(m) {
    let r;
    try {
      r = await this.request('POST', `/chats/${encodeURIComponent(this.conversationId)}/messages`, { key: m.key, text: m.text });
    } catch {
      r = { status: 0 };
    }
    if (this.stopped || !this.outbox.has(m.key)) return;
    if (r.status === 200 && r.data) {
      this.onAck(r.data);
      return;
    }
    const code = r.data && r.data.error && r.data.error.code;
    if ([400, 403, 404, 409, 413, 415].includes(r.status)) {
      // Refused for good: the message was not stored and the same text would be refused again.
      this.outbox.delete(m.key);
      this.emit('failed', m.key, code || 'invalid_request');
      return;
    }
    const wait = r.status === 429 && r.retryAfter ? r.retryAfter * 1000 : backoffDelay(1, { random: this.random });
    this.onError({ type: 'error', key: m.key, code: code || 'unavailable', retry_after_ms: wait });
  }
}
