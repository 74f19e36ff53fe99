// One training frame per display tick, with one frame of slack.
//
// While training plays, the server sends a few more frames a second than a 60 Hz display
// shows, but not in step with it: a frame that arrives while the page is painting waits
// for the next tick, so two land in one tick and none in the next. Showing the newest at
// each tick would then skip one and show the same picture twice. The pacer keeps at most
// two frames waiting and shows the older at each tick: every tick gets a new picture,
// one tick (~17 ms) later. A third waiting frame drops the oldest.

export class FramePacer {
  /** `show(frame)` draws one frame; it is called from an animation frame callback. */
  constructor(show) {
    this.show = show;
    this.queue = [];
    this.ticking = false;
  }

  push(frame) {
    this.queue.push(frame);
    if (this.queue.length > 2) this.queue.shift();
    if (!this.ticking) {
      this.ticking = true;
      requestAnimationFrame(() => this.tick());
    }
  }

  tick() {
    const frame = this.queue.shift();
    if (this.queue.length) requestAnimationFrame(() => this.tick());
    else this.ticking = false;
    if (frame) this.show(frame);
  }

  /** Forget the waiting frames (a newer snapshot or a paused frame supersedes them). */
  clear() {
    this.queue.length = 0;
  }
}
