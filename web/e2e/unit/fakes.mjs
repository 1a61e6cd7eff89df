// Test doubles for the chat clients: a WebSocket whose server side the test plays, a manual clock
// and a scripted fetch.

/** FakeSockets builds FakeSocket instances and remembers them in order. */
export class FakeSockets {
  constructor() {
    this.all = [];
    const registry = this;
    this.WebSocket = class {
      constructor(url) {
        this.url = url;
        this.sent = [];
        this.readyState = 0;
        this.closed = null;
        registry.all.push(this);
      }

      send(data) {
        if (this.readyState !== 1) throw new Error('send on a socket that is not open');
        this.sent.push(JSON.parse(data));
      }

      close(code = 1000, reason = '') {
        if (this.readyState === 3) return;
        this.readyState = 3;
        this.closed = { code, reason };
        queueMicrotask(() => this.onclose && this.onclose({ code, reason }));
      }

      // --- the server's side -------------------------------------------------------------------
      open() {
        this.readyState = 1;
        this.onopen && this.onopen({});
      }

      receive(frame) {
        this.onmessage && this.onmessage({ data: JSON.stringify(frame) });
      }

      drop(code = 1006) {
        this.readyState = 3;
        this.onclose && this.onclose({ code, reason: '' });
      }

      frames(type) {
        return this.sent.filter((f) => f.type === type);
      }
    };
  }

  get last() {
    return this.all[this.all.length - 1];
  }
}

/** FakeClock collects timers; run() fires the due ones in order of delay. */
export class FakeClock {
  constructor() {
    this.timers = new Map();
    this.next = 1;
    this.setTimeout = (fn, ms) => {
      const id = this.next++;
      this.timers.set(id, { fn, ms: ms || 0 });
      return id;
    };
    this.clearTimeout = (id) => { this.timers.delete(id); };
  }

  /** delays lists the pending timers' delays. */
  delays() {
    return [...this.timers.values()].map((t) => t.ms);
  }

  /** run fires every pending timer with a delay of at most max (not ones they schedule). */
  run(max = Infinity) {
    const due = [...this.timers.entries()].filter(([, t]) => t.ms <= max).sort((a, b) => a[1].ms - b[1].ms);
    for (const [id, t] of due) {
      this.timers.delete(id);
      t.fn();
    }
    return due.length;
  }
}

/** flush lets queued microtasks and promise callbacks run. */
export function flush() {
  return new Promise((resolve) => { setImmediate(resolve); });
}

/** scriptedFetch answers requests from handler(method, url, body) → {status, body, headers}. */
export function scriptedFetch(handler) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const body = init.body ? JSON.parse(init.body) : undefined;
    calls.push({ method: init.method || 'GET', url, body, headers: init.headers || {} });
    const r = await handler(init.method || 'GET', url, body);
    if (r instanceof Error) throw r;
    return {
      status: r.status,
      ok: r.status >= 200 && r.status < 300,
      headers: { get: (k) => (r.headers || {})[k] || null },
      json: async () => (r.body === undefined ? null : r.body),
    };
  };
  return { fetch, calls };
}
