// Parley agent chat socket (protocol version 1, docs/chat-protocol.md §4.2–4.4): the console's
// connection to GET /api/v1/chat/agent/ws. It keeps the queue of offers and, per followed
// conversation, the event log with its seq cursor and the outbox of unacknowledged messages, and
// reconnects with exponential backoff and jitter, naming every conversation's last seq in hello so
// the server replays exactly the gap. It knows nothing of the DOM.
//
// Events (EventTarget): 'state' {state}, 'welcome', 'queue', 'conversation' {id}, 'event' {id, event},
// 'signal' {id, signal}, 'notice' {code, message, id}, 'status' {status, reason}, 'frame' {frame}
// (every frame received, before it is handled).

const FATAL = new Map([[1000, 'bye'], [1003, 'client_error'], [1009, 'client_error'], [4400, 'client_error'], [4401, 'unauthenticated'], [4403, 'forbidden'], [4409, 'client_error']]);
const DROP = new Set(['empty_message', 'message_too_long', 'conversation_ended', 'forbidden', 'not_found', 'invalid_request']);

/** backoff returns the wait before reconnect attempt n: exponential, capped, half of it random. */
export function backoff(n, random = Math.random, base = 500, max = 30000) {
  const ceiling = Math.min(max, base * 2 ** Math.min(n, 16));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Conversation is the agent's view of one followed conversation. */
export class Conversation {
  constructor(summary) {
    this.id = summary.conversation_id;
    this.summary = summary;
    this.lastSeq = 0;
    this.events = []; // in seq order
    this.outbox = new Map(); // key → {key, text, acked, seq}: ours, not yet back as an event
    this.failed = new Map(); // key → {key, text, code}
    this.visitorTyping = false;
    this.visitorRead = 0;
    this.readSent = 0;
    this.unread = 0;
    this.visitorName = (summary.visitor && summary.visitor.name) || '';
    // mode is '' for the agent's own chats, 'monitor' or 'join' for a supervised one; ended says
    // why supervision stopped (supervising_ended's reason).
    this.mode = '';
    this.ended = '';
  }

  get status() {
    return this.summary.status;
  }
}

export class AgentSocket extends EventTarget {
  /** opts: url (default: the agent socket on this origin), WebSocket, random, crypto, setTimeout. */
  constructor(opts = {}) {
    super();
    const u = new URL(opts.url || '/api/v1/chat/agent/ws', globalThis.location ? globalThis.location.href : undefined);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    this.url = u.toString();
    this.WebSocket = opts.WebSocket || globalThis.WebSocket;
    this.random = opts.random || Math.random;
    this.crypto = opts.crypto || globalThis.crypto;
    this.setTimeout = opts.setTimeout || globalThis.setTimeout.bind(globalThis);
    this.clearTimeout = opts.clearTimeout || globalThis.clearTimeout.bind(globalThis);
    this.agent = null;
    this.departments = [];
    this.queue = new Map(); // conversation id → offer
    this.conversations = new Map(); // conversation id → Conversation
    this.socket = null;
    this.ready = false;
    this.attempt = 0;
    this.stopped = false;
    this.state = 'connecting';
    // status is the agent's routing status as the server last said it ('' until it does).
    this.status = '';
  }

  start() {
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, 'bye');
    this.setState('closed');
  }

  accept(id) { this.frame({ type: 'accept', conversation_id: id }); }

  refuse(id) { this.frame({ type: 'refuse', conversation_id: id }); }

  end(id) { this.frame({ type: 'end', conversation_id: id }); }

  typing(id, on) { this.frame({ type: 'typing', conversation_id: id, typing: !!on }); }

  transfer(id, to) { this.frame({ type: 'transfer', conversation_id: id, ...to }); }

  /** setStatus asks the server for the routing status 'online' or 'away'. */
  setStatus(status) { this.frame({ type: 'status', status }); }

  /** monitor follows a live chat unseen (chat.monitor); the server answers supervising. */
  monitor(id) {
    const c = this.conversations.get(id);
    this.frame({ type: 'monitor', conversation_id: id, last_seq: c ? c.lastSeq : 0 });
  }

  unmonitor(id) { this.frame({ type: 'unmonitor', conversation_id: id }); }

  /** join makes the supervisor a participant of the chat (chat.join). */
  join(id) {
    const c = this.conversations.get(id);
    this.frame({ type: 'join', conversation_id: id, last_seq: c ? c.lastSeq : 0 });
  }

  leave(id) { this.frame({ type: 'leave', conversation_id: id }); }

  /** whisper sends the agents of conversation id a message the visitor never sees. */
  whisper(id, text) { return this.send(id, text, 'whisper'); }

  read(id, seq) {
    const c = this.conversations.get(id);
    if (!c || seq <= c.readSent) return;
    c.readSent = seq;
    c.unread = 0;
    this.frame({ type: 'read', conversation_id: id, seq });
    this.emit('conversation', { id });
  }

  /** send queues text for conversation id and returns its idempotency key. */
  send(id, text, type = 'message') {
    const c = this.conversations.get(id);
    if (!c) return '';
    const key = letterKey(type === 'whisper' ? 'w' : 'a', this.crypto);
    c.outbox.set(key, { key, text, type });
    this.transmit(c, key);
    this.emit('conversation', { id });
    return key;
  }

  // --- internals -------------------------------------------------------------------------------

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setState(state) {
    this.state = state;
    this.emit('state', { state });
  }

  /** frame sends any frame once the socket is open, else drops it (the parley:send-frame hook). */
  frame(f) {
    if (this.socket && this.ready) this.socket.send(JSON.stringify(f));
  }

  transmit(c, key) {
    const m = c.outbox.get(key);
    if (m && !m.acked) this.frame({ type: m.type || 'message', conversation_id: c.id, key: m.key, text: m.text });
  }

  connect() {
    if (this.stopped) return;
    this.setState(this.attempt ? 'reconnecting' : 'connecting');
    this.ready = false;
    let s;
    try {
      s = new this.WebSocket(this.url);
    } catch {
      this.retry(1006);
      return;
    }
    this.socket = s;
    s.onopen = () => {
      if (this.socket !== s) return;
      const seen = {};
      for (const c of this.conversations.values()) seen[c.id] = c.lastSeq;
      s.send(JSON.stringify({ type: 'hello', conversations: seen }));
    };
    s.onmessage = (m) => {
      if (this.socket !== s || typeof m.data !== 'string') return;
      let f;
      try { f = JSON.parse(m.data); } catch { return; }
      this.onFrame(f, s);
    };
    s.onclose = (e) => {
      if (this.socket !== s) return;
      this.socket = null;
      this.ready = false;
      this.retry(e.code);
    };
  }

  retry(code) {
    if (this.stopped) return;
    if (FATAL.has(code)) {
      this.stopped = true;
      this.setState(FATAL.get(code));
      return;
    }
    const wait = backoff(this.attempt, this.random, code === 4429 ? 5000 : 500);
    this.attempt++;
    this.setState('reconnecting');
    this.timer = this.setTimeout(() => this.connect(), wait);
  }

  follow(summary) {
    let c = this.conversations.get(summary.conversation_id);
    if (!c) {
      c = new Conversation(summary);
      this.conversations.set(c.id, c);
    } else {
      c.summary = { ...c.summary, ...summary };
      if (summary.visitor && summary.visitor.name) c.visitorName = summary.visitor.name;
    }
    return c;
  }

  onFrame(f, s) {
    this.emit('frame', { frame: f });
    switch (f.type) {
      case 'welcome':
        this.ready = true;
        this.attempt = 0;
        this.agent = f.agent || null;
        this.departments = f.departments || [];
        for (const summary of f.conversations || []) this.follow(summary);
        this.queue = new Map((f.queue || []).map((o) => [o.conversation_id, o]));
        this.setState('open');
        this.emit('welcome', {});
        this.emit('queue', {});
        for (const c of this.conversations.values()) {
          // Monitoring lasts as long as the socket: ask again with the last seq seen.
          if (c.mode === 'monitor' && !c.ended) this.monitor(c.id);
          for (const key of c.outbox.keys()) this.transmit(c, key);
          this.emit('conversation', { id: c.id });
        }
        break;
      case 'status':
        this.status = f.status || '';
        this.emit('status', { status: this.status, reason: f.reason || '' });
        break;
      case 'supervising': {
        const c = this.follow(f.conversation);
        c.mode = f.mode;
        c.ended = '';
        this.emit('conversation', { id: c.id, supervising: f.mode });
        break;
      }
      case 'supervising_ended': {
        const c = this.conversations.get(f.conversation_id);
        if (c) {
          c.ended = f.reason || 'ended';
          this.emit('conversation', { id: c.id });
        }
        break;
      }
      case 'offer':
        this.queue.set(f.offer.conversation_id, f.offer);
        this.emit('queue', { id: f.offer.conversation_id, added: true });
        break;
      case 'offer_withdrawn':
        this.queue.delete(f.conversation_id);
        this.emit('queue', { id: f.conversation_id, reason: f.reason });
        break;
      case 'assigned': {
        const c = this.follow(f.conversation);
        this.queue.delete(c.id);
        this.emit('queue', {});
        this.emit('conversation', { id: c.id, assigned: true });
        break;
      }
      case 'unassigned': {
        const c = this.conversations.get(f.conversation_id);
        if (c) {
          c.summary = { ...c.summary, status: f.reason === 'requeued' ? 'requeued' : 'transferred' };
          this.emit('conversation', { id: c.id });
        }
        break;
      }
      case 'event':
        this.onEvent(f, s);
        break;
      case 'ack': {
        // Stored: never re-sent. It stays on screen as pending until its event arrives.
        const c = this.conversations.get(f.conversation_id);
        const m = c && c.outbox.get(f.key);
        if (m) {
          m.acked = true;
          m.seq = f.seq;
          this.emit('conversation', { id: c.id });
        }
        break;
      }
      case 'typing':
      case 'read':
        this.onSignal(f);
        break;
      case 'error':
        this.onError(f);
        break;
      default:
        break;
    }
  }

  onEvent(ev, s) {
    const c = this.conversations.get(ev.conversation_id);
    if (!c || ev.seq <= c.lastSeq) return;
    if (ev.seq > c.lastSeq + 1) {
      s.close(4000, 'gap'); // lost frames: reconnect, hello names lastSeq, the server replays
      return;
    }
    c.lastSeq = ev.seq;
    c.events.push(ev);
    if (ev.key) c.outbox.delete(ev.key);
    const fromVisitor = ev.sender && ev.sender.kind === 'visitor';
    if (fromVisitor && ev.sender.name) c.visitorName = ev.sender.name;
    if (fromVisitor && (ev.kind === 'message' || ev.kind === 'file') && ev.seq > c.readSent) c.unread++;
    if (ev.kind === 'message' && fromVisitor) c.visitorTyping = false;
    if (ev.kind === 'system' && (ev.event === 'ended' || ev.event === 'missed')) c.summary = { ...c.summary, status: ev.event };
    if (ev.kind === 'system' && ev.event === 'joined') c.summary = { ...c.summary, status: 'active' };
    this.emit('event', { id: c.id, event: ev });
    this.emit('conversation', { id: c.id });
  }

  onSignal(f) {
    const c = this.conversations.get(f.conversation_id);
    if (!c) return;
    if (f.type === 'typing' && f.sender_kind === 'visitor') c.visitorTyping = !!f.typing;
    if (f.type === 'read' && f.reader_kind === 'visitor') c.visitorRead = Math.max(c.visitorRead, f.seq || 0);
    this.emit('signal', { id: c.id, signal: f });
  }

  onError(f) {
    const c = f.conversation_id ? this.conversations.get(f.conversation_id) : null;
    if (f.key) {
      for (const conv of c ? [c] : this.conversations.values()) {
        const m = conv.outbox.get(f.key);
        if (!m) continue;
        if (DROP.has(f.code)) {
          conv.outbox.delete(f.key);
          conv.failed.set(f.key, { ...m, code: f.code });
          this.emit('conversation', { id: conv.id });
        } else {
          this.setTimeout(() => this.transmit(conv, f.key), Math.max(250, f.retry_after_ms || 1000));
        }
      }
    }
    this.emit('notice', { code: f.code, message: f.message || '', id: f.conversation_id || '' });
  }
}

/**
 * letterKey returns a fresh idempotency key: prefix, a dash and 24 random lower-case letters.
 * Letters only, as the widget's keys: the server refuses a key whose digits read as a card number,
 * which a random UUID's digit groups do now and then.
 */
function letterKey(prefix, cryptoImpl) {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const bytes = cryptoImpl.getRandomValues(new Uint8Array(32));
  let out = '';
  for (let i = 0; out.length < 24; i++) {
    if (i === bytes.length) { cryptoImpl.getRandomValues(bytes); i = 0; }
    if (bytes[i] < 234) out += letters[bytes[i] % 26];
  }
  return `${prefix}-${out}`;
}
