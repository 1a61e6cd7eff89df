// Unit tests of the visitor chat client (web/widget/v1/client.js): delivery order and exactly-once,
// gap replay, idempotent resend, throttling, close codes, backoff and the long-polling fallback.
import test from 'node:test';
import assert from 'node:assert/strict';
import { VisitorChat, backoffDelay, newKey, wsURL } from '../../widget/v1/client.js';
import { FakeSockets, FakeClock, flush, scriptedFetch } from './fakes.mjs';

function setup(extra = {}) {
  const sockets = new FakeSockets();
  const clock = new FakeClock();
  const seen = { events: [], acks: [], states: [], failed: [], fatal: [], signals: [], welcome: [] };
  const chat = new VisitorChat({
    base: '/api/v1/widget/sites/site_a', ws: 'ws://parley.test/api/v1/widget/sites/site_a/ws', token: 'vt_1',
    conversationId: 'c1', WebSocket: sockets.WebSocket, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout,
    random: () => 0.5, pingEvery: 1e9,
    listener: {
      event: (e) => seen.events.push(e.seq),
      ack: (a) => seen.acks.push(a),
      state: (s) => seen.states.push(s),
      failed: (k, c) => seen.failed.push([k, c]),
      fatal: (r) => seen.fatal.push(r),
      signal: (s) => seen.signals.push(s),
      welcome: (w) => seen.welcome.push(w),
    },
    ...extra,
  });
  return { chat, sockets, clock, seen };
}

const welcome = { type: 'welcome', protocol: 1, conversation: { conversation_id: 'c1', status: 'active', last_seq: 0 } };
const ev = (seq, extra = {}) => ({ type: 'event', conversation_id: 'c1', seq, kind: 'message', text: `m${seq}`, sender: { kind: 'agent' }, ...extra });

test('backoffDelay grows exponentially, stays within [cap/2, cap] and is capped', () => {
  for (const [attempt, cap] of [[0, 500], [1, 1000], [3, 4000], [6, 30000], [40, 30000]]) {
    assert.equal(backoffDelay(attempt, { random: () => 0 }), cap / 2, `attempt ${attempt} low`);
    assert.equal(backoffDelay(attempt, { random: () => 0.999999 }), cap, `attempt ${attempt} high`);
  }
});

test('newKey matches the protocol key syntax and differs each time', () => {
  const a = newKey('v');
  const b = newKey('v');
  assert.match(a, /^[A-Za-z0-9._:-]{1,64}$/);
  assert.match(a, /^v-[a-z]{24}$/, 'letters only: no digit group can read as a card number');
  assert.notEqual(a, b);
});

test('wsURL follows the page scheme', () => {
  assert.equal(wsURL('/api/ws', 'https://parley.example/widget/v1/frame'), 'wss://parley.example/api/ws');
  assert.equal(wsURL('/api/ws', 'http://127.0.0.1:8080/x'), 'ws://127.0.0.1:8080/api/ws');
});

test('hello first, then events exactly once and in order', () => {
  const { chat, sockets, seen } = setup({ lastSeq: 4 });
  chat.start();
  const s = sockets.last;
  s.open();
  assert.deepEqual(s.sent[0], { type: 'hello', token: 'vt_1', conversation_id: 'c1', last_seq: 4 });
  s.receive(welcome);
  for (const seq of [3, 4, 5, 5, 6]) s.receive(ev(seq));
  assert.deepEqual(seen.events, [5, 6]);
  assert.equal(seen.states.at(-1), 'open');
});

test('a gap closes the socket and the reconnect asks for the replay from the last delivered seq', async () => {
  const { chat, sockets, clock, seen } = setup();
  chat.start();
  sockets.last.open();
  sockets.last.receive(welcome);
  sockets.last.receive(ev(1));
  sockets.last.receive(ev(3));
  assert.deepEqual(seen.events, [1]);
  assert.equal(sockets.last.closed.code, 4000);
  await flush();
  assert.equal(clock.run(), 1);
  assert.equal(sockets.all.length, 2);
  sockets.last.open();
  assert.equal(sockets.last.sent[0].last_seq, 1);
  sockets.last.receive(welcome);
  sockets.last.receive(ev(2));
  sockets.last.receive(ev(3));
  assert.deepEqual(seen.events, [1, 2, 3]);
});

test('messages wait for welcome, are re-sent with the same key after a drop, and not after their ack', async () => {
  const { chat, sockets, clock, seen } = setup();
  chat.start();
  const k1 = chat.send('first');
  sockets.last.open();
  assert.equal(sockets.last.frames('message').length, 0, 'nothing before welcome');
  sockets.last.receive(welcome);
  assert.deepEqual(sockets.last.frames('message'), [{ type: 'message', key: k1, text: 'first' }]);
  const k2 = chat.send('second');
  sockets.last.receive({ type: 'ack', conversation_id: 'c1', key: k1, seq: 2, duplicate: false });
  sockets.last.drop(1006);
  clock.run();
  sockets.last.open();
  sockets.last.receive(welcome);
  assert.deepEqual(sockets.last.frames('message').map((f) => f.key), [k2], 'only the unacked message again');
  // The ack of the retry is lost too, but the replay brings our own message back: done.
  sockets.last.receive(ev(1, { kind: 'system' }));
  sockets.last.receive(ev(2, { sender: { kind: 'visitor' }, key: k1 }));
  sockets.last.receive(ev(3, { sender: { kind: 'visitor' }, key: k2 }));
  assert.deepEqual(chat.pending(), []);
  assert.deepEqual(seen.acks.map((a) => a.key), [k1]);
  sockets.last.drop(1006);
  clock.run();
  sockets.last.open();
  sockets.last.receive(welcome);
  assert.equal(sockets.last.frames('message').length, 0, 'nothing left to resend');
});

test('a throttled message is retried with the same key; a refused one is dropped', () => {
  const { chat, sockets, clock, seen } = setup();
  chat.start();
  sockets.last.open();
  sockets.last.receive(welcome);
  const slow = chat.send('slow down');
  const long = chat.send('x'.repeat(10));
  sockets.last.receive({ type: 'error', code: 'rate_limited', key: slow, retry_after_ms: 1500 });
  sockets.last.receive({ type: 'error', code: 'message_too_long', key: long });
  assert.deepEqual(seen.failed, [[long, 'message_too_long']]);
  assert.ok(clock.delays().includes(1500), `retry timer at 1500 ms, got ${clock.delays()}`);
  clock.run(1500);
  assert.deepEqual(sockets.last.frames('message').map((f) => f.key), [slow, long, slow]);
  assert.deepEqual(chat.pending().map((m) => m.key), [slow]);
});

test('close codes: final ones stop, 4401 asks for a new token and resume keeps the cursor', async () => {
  for (const [code, reason] of [[4403, 'chat_unavailable'], [4404, 'not_found'], [1000, 'bye'], [4400, 'client_error']]) {
    const { chat, sockets, clock, seen } = setup();
    chat.start();
    sockets.last.open();
    sockets.last.receive(welcome);
    sockets.last.drop(code);
    assert.deepEqual(seen.fatal, [reason], `close ${code}`);
    assert.equal(clock.run(), 0, `no reconnect after ${code}`);
  }
  const { chat, sockets, seen } = setup();
  chat.start();
  sockets.last.open();
  sockets.last.receive(welcome);
  sockets.last.receive(ev(1));
  sockets.last.drop(4401);
  assert.deepEqual(seen.fatal, ['unauthenticated']);
  chat.resume('vt_2');
  sockets.last.open();
  assert.deepEqual(sockets.last.sent[0], { type: 'hello', token: 'vt_2', conversation_id: 'c1', last_seq: 1 });
});

test('reconnect delays grow with each failure and reset after welcome', () => {
  const { chat, sockets, clock } = setup({ wsFailuresBeforePolling: 99 });
  chat.start();
  const delays = [];
  for (let i = 0; i < 4; i++) {
    sockets.last.drop(1011);
    delays.push(...clock.delays());
    clock.run();
  }
  assert.deepEqual(delays, [375, 750, 1500, 3000]);
  sockets.last.open();
  sockets.last.receive(welcome);
  sockets.last.drop(1001);
  assert.deepEqual(clock.delays(), [375]);
});

test('falls back to long polling when the socket never opens, with the same cursor and keys', async () => {
  let served = false;
  const { fetch, calls } = scriptedFetch((method, url, body) => {
    if (method === 'GET' && url.includes('/events?after=0') && !served) {
      served = true;
      return { status: 200, body: { events: [ev(1, { type: undefined }), ev(2, { type: undefined })], signals: [{ type: 'typing', sender_kind: 'agent', typing: true }], last_seq: 2, status: 'active', more: false } };
    }
    if (method === 'GET') return { status: 200, body: { events: [ev(3, { type: undefined, kind: 'system', event: 'ended' })], signals: [], last_seq: 3, status: 'ended', more: false } };
    if (method === 'POST' && url.endsWith('/messages')) return { status: 200, body: { type: 'ack', conversation_id: 'c1', key: body.key, seq: 9, duplicate: false } };
    return { status: 204 };
  });
  const { chat, sockets, clock, seen } = setup({ fetch });
  chat.start();
  const k = chat.send('over https');
  sockets.last.drop(1006);
  clock.run();
  sockets.last.drop(1006);
  clock.run();
  assert.equal(chat.mode, 'poll');
  for (let i = 0; i < 5; i++) await flush();
  assert.deepEqual(seen.events, [1, 2, 3]);
  assert.equal(seen.signals.length, 1);
  assert.deepEqual(seen.acks.map((a) => a.key), [k]);
  const gets = calls.filter((c) => c.method === 'GET').map((c) => c.url);
  assert.deepEqual(gets, ['/api/v1/widget/sites/site_a/chats/c1/events?after=0&wait=20', '/api/v1/widget/sites/site_a/chats/c1/events?after=2&wait=20']);
  const post = calls.find((c) => c.method === 'POST');
  assert.equal(post.headers.Authorization, 'Bearer vt_1');
  assert.deepEqual(post.body, { key: k, text: 'over https' });
  assert.equal(sockets.all.length, 2, 'no more sockets once polling');
});

test('long polling: 401 is fatal unauthenticated; a refused message is dropped, a 503 one retried', async () => {
  const { fetch } = scriptedFetch((method, url, body) => {
    if (method === 'GET') return { status: 401, body: { error: { code: 'visitor_unauthenticated' } } };
    if (body.text === 'bad') return { status: 400, body: { error: { code: 'empty_message' } } };
    return { status: 503, body: { error: { code: 'unavailable' } } };
  });
  const { chat, clock, seen } = setup({ fetch, ws: '' });
  chat.start();
  const bad = chat.send('bad');
  const later = chat.send('later');
  for (let i = 0; i < 5; i++) await flush();
  assert.deepEqual(seen.fatal, ['unauthenticated']);
  assert.deepEqual(seen.failed, [[bad, 'empty_message']]);
  assert.deepEqual(chat.pending().map((m) => m.key), [later]);
  assert.ok(clock.delays().length >= 1, 'a retry is scheduled for the 503');
});

test('a socket that opens but never welcomes is given up, and twice means long polling', async () => {
  const { fetch } = scriptedFetch(() => ({ status: 200, body: { events: [], signals: [], last_seq: 0, status: 'queued', more: false } }));
  const { chat, sockets, clock } = setup({ fetch, welcomeTimeout: 15000, pollWait: 0 });
  chat.start();
  for (let i = 0; i < 2; i++) {
    sockets.last.open();
    assert.ok(clock.delays().includes(15000), `welcome timer armed, got ${clock.delays()}`);
    clock.run(15000);
    assert.deepEqual(sockets.last.closed, { code: 4000, reason: 'welcome_timeout' });
    await flush();
    clock.run();
  }
  assert.equal(chat.mode, 'poll');
  assert.equal(sockets.all.length, 2);
  chat.stop();
});

test('a server error before welcome is retried over WebSocket, not taken for a blocked network', () => {
  const { chat, sockets, clock } = setup();
  chat.start();
  for (let i = 0; i < 4; i++) {
    sockets.last.drop(1011);
    clock.run();
  }
  assert.equal(chat.mode, 'ws');
  assert.equal(sockets.all.length, 5);
});

test('a read receipt says whether it went out: not before welcome, nor after a drop or stop', async () => {
  const { chat, sockets, clock } = setup();
  chat.start();
  assert.equal(chat.read(3), false, 'before the socket opens');
  sockets.last.open();
  assert.equal(chat.read(3), false, 'before welcome');
  sockets.last.receive(welcome);
  assert.equal(chat.read(3), true, 'after welcome');
  assert.deepEqual(sockets.last.frames('read'), [{ type: 'read', seq: 3 }]);
  sockets.last.drop(1001);
  assert.equal(chat.read(4), false, 'while reconnecting');
  clock.run();
  sockets.last.open();
  sockets.last.receive(welcome);
  assert.equal(chat.read(4), true, 'after the reconnect');
  chat.stop();
  assert.equal(chat.read(5), false, 'after stop');

  // The long poll waits (never answers here); the receipt is a POST of its own.
  const { fetch, calls } = scriptedFetch((method) => (method === 'GET' ? new Promise(() => {}) : { status: 204 }));
  const polling = setup({ fetch, ws: '', pollWait: 0 });
  polling.chat.start();
  assert.equal(polling.chat.read(2), true, 'long polling posts it');
  await flush();
  polling.chat.stop();
  assert.deepEqual(calls.filter((c) => c.method === 'POST').map((c) => [c.url, c.body]), [['/api/v1/widget/sites/site_a/chats/c1/read', { seq: 2 }]]);
});
