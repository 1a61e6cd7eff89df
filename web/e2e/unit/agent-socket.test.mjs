// Unit tests of the console's agent socket (web/static/console-chat-socket.js): queue offers,
// assignment, per-conversation cursors in hello after a reconnect, gap replay, acks and resends.
import test from 'node:test';
import assert from 'node:assert/strict';
import { AgentSocket, backoff } from '../../static/console-chat-socket.js';
import { FakeSockets, FakeClock } from './fakes.mjs';

function setup() {
  const sockets = new FakeSockets();
  const clock = new FakeClock();
  const agent = new AgentSocket({
    url: 'ws://parley.test/api/v1/chat/agent/ws', WebSocket: sockets.WebSocket, random: () => 0.5,
    setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout,
  });
  const seen = { states: [], events: [], notices: [] };
  agent.addEventListener('state', (e) => seen.states.push(e.detail.state));
  agent.addEventListener('event', (e) => seen.events.push(`${e.detail.id}:${e.detail.event.seq}`));
  agent.addEventListener('notice', (e) => seen.notices.push(e.detail.code));
  agent.start();
  return { agent, sockets, clock, seen };
}

const offer = (id) => ({ conversation_id: id, status: 'queued', visitor: { name: `V ${id}` }, queued_at: '2026-01-05T09:00:00Z', transferred_to_me: false });
const welcome = (extra = {}) => ({ type: 'welcome', protocol: 1, agent: { id: 'a1', name: 'Alice' }, departments: ['d1'], conversations: [], queue: [], ...extra });
const ev = (id, seq, extra = {}) => ({ type: 'event', conversation_id: id, seq, kind: 'message', text: `t${seq}`, sender: { kind: 'visitor', name: 'Ada' }, ...extra });

test('backoff is exponential with jitter and capped', () => {
  assert.equal(backoff(0, () => 0), 250);
  assert.equal(backoff(2, () => 1), 2000);
  assert.equal(backoff(30, () => 1), 30000);
});

test('queue: welcome, offer, withdrawal and assignment', () => {
  const { agent, sockets } = setup();
  sockets.last.open();
  assert.deepEqual(sockets.last.sent[0], { type: 'hello', conversations: {} });
  sockets.last.receive(welcome({ queue: [offer('c1')] }));
  assert.deepEqual([...agent.queue.keys()], ['c1']);
  sockets.last.receive({ type: 'offer', offer: offer('c2') });
  sockets.last.receive({ type: 'offer_withdrawn', conversation_id: 'c1', reason: 'taken' });
  assert.deepEqual([...agent.queue.keys()], ['c2']);
  agent.accept('c2');
  assert.deepEqual(sockets.last.sent.at(-1), { type: 'accept', conversation_id: 'c2' });
  sockets.last.receive({ type: 'assigned', conversation: { conversation_id: 'c2', status: 'active', last_seq: 3 } });
  assert.deepEqual([...agent.queue.keys()], []);
  assert.equal(agent.conversations.get('c2').status, 'active');
});

test('events per conversation exactly once; hello after a reconnect names each cursor; a gap reconnects', async () => {
  const { agent, sockets, clock, seen } = setup();
  sockets.last.open();
  sockets.last.receive(welcome({ conversations: [{ conversation_id: 'c1', status: 'active', last_seq: 2 }] }));
  sockets.last.receive({ type: 'assigned', conversation: { conversation_id: 'c2', status: 'active', last_seq: 1 } });
  for (const f of [ev('c1', 1), ev('c2', 1), ev('c1', 2), ev('c1', 2), ev('c2', 1)]) sockets.last.receive(f);
  assert.deepEqual(seen.events, ['c1:1', 'c2:1', 'c1:2']);
  sockets.last.receive(ev('c1', 4));
  assert.equal(sockets.last.closed.code, 4000);
  await new Promise((r) => { setImmediate(r); });
  clock.run();
  sockets.last.open();
  assert.deepEqual(sockets.last.sent[0], { type: 'hello', conversations: { c1: 2, c2: 1 } });
  assert.equal(agent.conversations.get('c1').unread, 2);
});

test('messages: acked ones stay pending until their event and are never re-sent; unacked ones are', () => {
  const { agent, sockets, clock } = setup();
  sockets.last.open();
  sockets.last.receive(welcome({ conversations: [{ conversation_id: 'c1', status: 'active', last_seq: 0 }] }));
  const k1 = agent.send('c1', 'one');
  const k2 = agent.send('c1', 'two');
  assert.deepEqual(sockets.last.frames('message').map((f) => [f.conversation_id, f.key, f.text]), [['c1', k1, 'one'], ['c1', k2, 'two']]);
  sockets.last.receive({ type: 'ack', conversation_id: 'c1', key: k1, seq: 1, duplicate: false });
  assert.equal(agent.conversations.get('c1').outbox.size, 2, 'acked but not yet delivered back');
  sockets.last.drop(1001);
  clock.run();
  sockets.last.open();
  sockets.last.receive(welcome({ conversations: [{ conversation_id: 'c1', status: 'active', last_seq: 1 }] }));
  assert.deepEqual(sockets.last.frames('message').map((f) => f.key), [k2]);
  sockets.last.receive(ev('c1', 1, { sender: { kind: 'agent', id: 'a1' }, key: k1 }));
  sockets.last.receive(ev('c1', 2, { sender: { kind: 'agent', id: 'a1' }, key: k2 }));
  assert.equal(agent.conversations.get('c1').outbox.size, 0);
});

test('errors: refused messages move to failed, throttled ones are retried, conflicts become notices', () => {
  const { agent, sockets, clock, seen } = setup();
  sockets.last.open();
  sockets.last.receive(welcome({ conversations: [{ conversation_id: 'c1', status: 'active', last_seq: 0 }] }));
  const bad = agent.send('c1', 'x');
  const slow = agent.send('c1', 'y');
  sockets.last.receive({ type: 'error', code: 'conversation_ended', key: bad, conversation_id: 'c1' });
  sockets.last.receive({ type: 'error', code: 'rate_limited', key: slow, conversation_id: 'c1', retry_after_ms: 700 });
  sockets.last.receive({ type: 'error', code: 'conflict', conversation_id: 'c9', message: 'Another agent has taken this chat.' });
  const c = agent.conversations.get('c1');
  assert.deepEqual([...c.failed.keys()], [bad]);
  assert.deepEqual([...c.outbox.keys()], [slow]);
  clock.run(700);
  assert.deepEqual(sockets.last.frames('message').map((f) => f.key), [bad, slow, slow]);
  assert.deepEqual(seen.notices, ['conversation_ended', 'rate_limited', 'conflict']);
});

test('a session that ends (4401) stops reconnecting', () => {
  const { sockets, clock, seen } = setup();
  sockets.last.open();
  sockets.last.drop(4401);
  assert.equal(seen.states.at(-1), 'unauthenticated');
  assert.equal(clock.run(), 0);
});

test('supervision: monitor follows the chat, whispers go out as whisper frames, a reconnect monitors again', async () => {
  const { agent, sockets, clock } = setup();
  const frames = [];
  agent.addEventListener('frame', (e) => frames.push(e.detail.frame.type));
  sockets.last.open();
  sockets.last.receive(welcome());
  agent.monitor('c9');
  assert.deepEqual(sockets.last.sent.at(-1), { type: 'monitor', conversation_id: 'c9', last_seq: 0 });
  sockets.last.receive({ type: 'supervising', mode: 'monitor', conversation: { conversation_id: 'c9', status: 'active', last_seq: 3 } });
  const c = agent.conversations.get('c9');
  assert.equal(c.mode, 'monitor');
  sockets.last.receive(ev('c9', 1));
  const key = agent.whisper('c9', 'Offer the refund');
  assert.match(key, /^w-[a-z]{24}$/);
  assert.deepEqual(sockets.last.frames('whisper').map((f) => [f.conversation_id, f.key, f.text]), [['c9', key, 'Offer the refund']]);
  sockets.last.drop(1001);
  clock.run();
  sockets.last.open();
  sockets.last.receive(welcome());
  assert.deepEqual(sockets.last.frames('monitor'), [{ type: 'monitor', conversation_id: 'c9', last_seq: 1 }], 'monitoring lasts as long as the socket: asked again');
  assert.deepEqual(sockets.last.frames('whisper').map((f) => f.key), [key], 'the unacked whisper is sent again with its key');
  sockets.last.receive({ type: 'supervising_ended', mode: 'monitor', conversation_id: 'c9', reason: 'ended' });
  assert.equal(c.ended, 'ended');
  assert.ok(frames.includes('supervising') && frames.includes('supervising_ended'), 'every frame is reported');
});

test('status: the server says online or away; setStatus asks for it', () => {
  const { agent, sockets } = setup();
  const seen = [];
  agent.addEventListener('status', (e) => seen.push(`${e.detail.status}/${e.detail.reason}`));
  sockets.last.open();
  sockets.last.receive(welcome());
  agent.setStatus('away');
  assert.deepEqual(sockets.last.sent.at(-1), { type: 'status', status: 'away' });
  sockets.last.receive({ type: 'status', status: 'away', reason: 'idle' });
  assert.equal(agent.status, 'away');
  assert.deepEqual(seen, ['away/idle']);
});
