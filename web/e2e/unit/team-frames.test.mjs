// Unit test of the workspace's extension point in the agent socket (web/static/console-chat-socket.js):
// every frame it receives, team frames included, is emitted as a 'frame' event (the workspace
// dispatches it on its root as parley:socket-frame for the team panel), and frame() sends what
// the panel asks for once the socket is open.
import test from 'node:test';
import assert from 'node:assert/strict';
import { AgentSocket } from '../../static/console-chat-socket.js';
import { FakeSockets, FakeClock } from './fakes.mjs';

test('every received frame is emitted, and frames from the panel go out once open', () => {
  const sockets = new FakeSockets();
  const clock = new FakeClock();
  const agent = new AgentSocket({
    url: 'ws://parley.test/api/v1/chat/agent/ws', WebSocket: sockets.WebSocket, random: () => 0.5,
    setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout,
  });
  const frames = [];
  agent.addEventListener('frame', (e) => frames.push(e.detail.frame.type));
  agent.start();
  agent.frame({ type: 'team_message', to_user_id: 'u2', key: 't-a', text: 'early' });
  sockets.last.open();
  assert.equal(sockets.last.sent.length, 1, 'only the hello: a frame before the welcome is dropped');
  sockets.last.receive({ type: 'welcome', protocol: 1, agent: { id: 'a1', name: 'Ann' }, departments: [], conversations: [], queue: [] });
  sockets.last.receive({ type: 'team_event', thread_id: 'th1', seq: 1, sender: { kind: 'agent', id: 'u2', name: 'Ben' }, text: 'hi', at: '2026-01-05T09:00:00Z' });
  sockets.last.receive({ type: 'invite_result', invitation_id: 'i1', visitor_id: 'v1', status: 'accepted', conversation_id: 'c1', expires_at: '2026-01-05T09:02:00Z' });
  assert.deepEqual(frames, ['welcome', 'team_event', 'invite_result']);
  agent.frame({ type: 'team_message', thread_id: 'th1', key: 't-b', text: 'thanks' });
  assert.deepEqual(sockets.last.sent.at(-1), { type: 'team_message', thread_id: 'th1', key: 't-b', text: 'thanks' });
});
