// Owns the session's WebSocket (docs/PROTOCOL.md, "WebSocket"): one connection,
// an event emitter for the server's messages, and reconnection after a drop; not after
// the server said the session is gone (close code 4404): then "gone", once.

const TYPES = ["snapshot", "frame", "trace", "status", "error", "pong", "open", "close", "gone"];
export const CLOSE_GONE = 4404;  // the session does not exist (any more): app/live.py

export class Connection {
  /** `sessionId`: the session to stream; `url` overrides the derived ws:// address. */
  constructor(sessionId, { url = null, WebSocketImpl = globalThis.WebSocket } = {}) {
    this.sessionId = sessionId;
    this.url = url || Connection.urlFor(sessionId);
    this.WebSocketImpl = WebSocketImpl;
    this.handlers = new Map(TYPES.map((t) => [t, new Set()]));
    this.queue = [];          // messages sent while the socket was not open
    this.retryMs = 250;
    this.closed = false;
    this.nextId = 1;
    this.last = {};           // the newest message of each type, for late subscribers
    this.open();
  }

  static urlFor(sessionId) {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}/api/sessions/${encodeURIComponent(sessionId)}/stream`;
  }

  open() {
    const ws = new this.WebSocketImpl(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 250;
      const pending = this.queue.splice(0);
      for (const msg of pending) ws.send(JSON.stringify(msg));
      this.emit("open", {});
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        this.emit("error", { field: "message", message: "the server sent a message that is not JSON" });
        return;
      }
      this.emit(msg.type, msg);
    };
    ws.onclose = (ev) => {
      this.emit("close", { code: ev.code });
      // 4410: the server set this session aside to make room (its status message says so
      // on the page); reconnecting would only take another person's place.
      if (ev.code === 4410) this.closed = true;
      if (this.closed) return;
      if (ev.code === CLOSE_GONE) {
        // Deleted, expired, or lost in a restart: connecting again would only hear it again.
        this.closed = true;
        this.emit("gone", { code: ev.code, reason: ev.reason });
        return;
      }
      // Back off up to 5 s; the server sends a fresh snapshot on reconnect.
      setTimeout(() => this.closed || this.open(), this.retryMs);
      this.retryMs = Math.min(5000, this.retryMs * 2);
    };
    ws.onerror = () => {};  // onclose follows and handles the retry
  }

  /** Subscribe to one message type; returns a function that unsubscribes. */
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type).delete(fn);
  }

  emit(type, msg) {
    this.last[type] = msg;
    const set = this.handlers.get(type);
    if (!set) return;
    for (const fn of set) {
      try {
        fn(msg);
      } catch (err) {
        console.error(`nnplay: a ${type} handler failed`, err);
      }
    }
  }

  /** Send one client message (an object with `type`); queued until the socket opens. Returns its id. */
  send(msg) {
    const body = { id: this.nextId++, ...msg };
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(body));
    else this.queue.push(body);
    return body.id;
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close();
  }
}
