// The page's one holder of the session's current state: the newest snapshot (model,
// dataset spec, training, limits, data points), the loss history, the newest frame, the
// frame the page shows and the status line. The Connection's messages update it here and
// nowhere else; every panel reads it and subscribes to its changes (docs/ARCHITECTURE.md,
// "The page"). When a frame is drawn is the pacer's business (pacer.js, main.js); what is
// current is this module's.

const EVENTS = ["snapshot", "frame", "show", "status", "error", "trace"];

/** The loss history: a snapshot's `session.history`, then each frame's new points. */
export class History {
  constructor() {
    this.epoch = [];
    this.train = [];
    this.test = [];
    this.offset = 0;
    this.version = 0;  // goes up with every change (the chart redraws only then)
  }

  /** Replace the history (a snapshot's `session.history`). */
  reset(h) {
    this.epoch = (h && h.epoch ? h.epoch : []).slice();
    this.train = (h && h.train_loss ? h.train_loss : []).slice();
    this.test = (h && h.test_loss ? h.test_loss : []).slice();
    this.offset = (h && h.offset) || 0;
    this.version++;
  }

  /** Append a frame's `history` (points from index `start` on; docs/PROTOCOL.md "Frames"). */
  append(h) {
    if (!h || !h.epoch || !h.epoch.length) return;
    const at = Math.max(0, (h.start ?? this.offset + this.epoch.length) - (this.offset || 0));
    this.epoch.length = Math.min(this.epoch.length, at);
    this.train.length = this.epoch.length;
    this.test.length = this.epoch.length;
    this.epoch.push(...h.epoch);
    this.train.push(...h.train_loss);
    this.test.push(...h.test_loss);
    this.version++;
  }
}

export class PageState {
  /** Listens to `connection` (connection.js) for the whole life of the page. */
  constructor(connection) {
    this.session = null;    // snapshot.session: model, dataset spec, training, history
    this.dataset = null;    // snapshot.dataset: the data points
    this.limits = null;     // snapshot.limits
    this.snapshots = 0;     // snapshots received (the first is the page's own)
    this.history = new History();
    this.newest = null;     // the newest frame received
    this.frame = null;      // the frame the page shows: every panel draws this one
    this.playing = false;   // whether training plays, as the newest message says
    this.status = null;     // the status line: the newest status, or an error after it
    // While a step's trace is on screen, `step` is {before: the frame shown when it came,
    // after: the newest frame received since, or null}; `held` is true while the step is
    // explained (before its evaluation phase): frames received are not shown then.
    this.step = null;
    this.held = false;
    this.handlers = new Map(EVENTS.map((t) => [t, new Set()]));
    connection.on("snapshot", (msg) => this.takeSnapshot(msg));
    connection.on("frame", (msg) => this.takeFrame(msg));
    connection.on("trace", (msg) => this.takeTrace(msg));
    connection.on("status", (msg) => this.takeStatus(msg));
    connection.on("error", (msg) => this.takeError(msg));
  }

  get model() {
    return this.session ? this.session.model : null;
  }

  /** The network's inputs (the dataset spec's features). */
  get features() {
    return (this.session && this.session.dataset.features) || [];
  }

  get preprocessing() {
    return (this.session && this.session.dataset.preprocessing) || "none";
  }

  /**
   * Subscribe to one change; returns a function that unsubscribes. Events: "snapshot" (a
   * new session state, its frame shown), "frame" (a frame received: `newest`), "show"
   * (`frame` changed: draw it), "status" (the status line or `playing` changed), "error"
   * (an error message, given), "trace" (a step's trace, given: `step` began).
   */
  on(type, fn) {
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type).delete(fn);
  }

  emit(type, arg) {
    for (const fn of this.handlers.get(type)) {
      try {
        fn(arg);
      } catch (err) {
        console.error(`nnplay: a ${type} subscriber failed`, err);
      }
    }
  }

  takeSnapshot(msg) {
    this.snapshots++;
    this.session = msg.session;
    this.dataset = msg.dataset;
    this.limits = msg.limits || null;
    this.history.reset(msg.session && msg.session.history);
    this.playing = !!(msg.session && msg.session.training && msg.session.training.playing);
    this.step = null;  // a new session state ends any step on screen
    this.held = false;
    if (msg.frame) this.newest = this.frame = msg.frame;
    this.emit("snapshot", msg);
  }

  takeFrame(frame) {
    this.newest = frame;
    this.history.append(frame.history);
    if (typeof frame.playing === "boolean") this.playing = frame.playing;
    if (this.step) this.step.after = frame;
    this.emit("frame", frame);
  }

  takeTrace(msg) {
    this.step = { before: this.frame, after: null };
    this.emit("trace", msg.trace);
  }

  takeStatus(msg) {
    this.status = msg;
    if (typeof msg.playing === "boolean") this.playing = msg.playing;
    this.emit("status", msg);
  }

  takeError(msg) {
    // A diverged run's message says why training stopped: it stays on the status line.
    const s = this.status;
    if (!(s && s.reason === "diverged" && !s.playing)) {
      this.status = { reason: "error", message: `${msg.field ? msg.field + ": " : ""}${msg.message}` };
    }
    this.emit("error", msg);
  }

  /** Show `frame`: it becomes the frame every panel draws ("show"). */
  show(frame) {
    this.frame = frame;
    this.emit("show", frame);
  }

  /** Hold frames back (a step is explained) or let them through again. */
  hold(held) {
    this.held = held;
  }

  /** The step on screen is gone (unloaded). */
  endStep() {
    this.step = null;
    this.held = false;
  }
}
