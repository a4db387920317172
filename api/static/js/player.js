// Play / pause / step / reset over a job's recorded iterations.
//
// The job trains on a worker and its records arrive through the event stream. The player
// buffers them and moves a cursor through them at `speed` iterations a second, so a finished
// job replays like a live one and a live one is shown as soon as its records arrive.
import * as api from "./api.js";

export class Player {
  constructor({ render, onChange, speed = 150 }) {
    this.render = render; // (records, cursor) => void
    this.onChange = onChange || (() => {});
    this.speed = speed;
    this.reset_();
  }

  reset_() {
    this.job = null;
    this.records = [];
    this.cursor = -1;
    this.playing = false;
    this.ended = false;
    this.status = null;
    this.error = null;
    this.pendingSteps = 0;
  }

  /** Follow no job: stop, forget its records (a section whose settings changed). */
  unload() {
    this.close();
    this.reset_();
    this.onChange(this);
  }

  /** Follow a new job; the records already fetched (e.g. iteration 0) seed the buffer. */
  load(job, records = []) {
    this.close();
    this.reset_();
    this.job = job;
    this.status = job.status;
    this.records = [...records];
    this.cursor = this.records.length ? 0 : -1;
    this.show();
  }

  get record() {
    return this.cursor >= 0 ? this.records[this.cursor] : null;
  }

  get atEnd() {
    return this.ended && this.cursor === this.records.length - 1;
  }

  open() {
    if (this.source || this.ended || !this.job) return;
    const last = this.records.length ? this.records[this.records.length - 1].iteration : null;
    this.source = api.stream(this.job.id, {
      after: last,
      onRecord: (record) => {
        const tail = this.records[this.records.length - 1];
        if (tail && record.iteration <= tail.iteration) return; // already have it
        this.records.push(record);
        this.error = null; // records flow again: an earlier stream error is over
        if (this.pendingSteps > 0 && this.cursor + 1 < this.records.length) {
          this.pendingSteps -= 1;
          this.cursor += 1;
          this.show();
        }
        this.onChange(this);
      },
      onStatus: (status) => {
        this.status = status.status;
        this.error = null;
        this.onChange(this);
      },
      onEnd: (end) => {
        this.source = null;
        this.ended = true;
        this.status = end.status || (end.reason === "deleted" ? "deleted" : this.status);
        this.pendingSteps = 0;
        this.onChange(this);
      },
      onError: (detail, closed) => {
        this.error = detail;
        if (closed) { // the browser gave up on this stream: let play or step open a new one
          this.source = null;
          this.playing = false;
        }
        this.onChange(this);
      },
    });
  }

  close() {
    if (this.source) this.source.close();
    this.source = null;
    this.playing = false;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = null;
  }

  play() {
    if (!this.job) return;
    this.open();
    if (this.atEnd) this.cursor = 0; // play again from the start
    this.playing = true;
    this.lastTick = performance.now();
    this.budget = 0;
    this.tick();
    this.onChange(this);
  }

  pause() {
    this.playing = false;
    this.onChange(this);
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  /** One recorded iteration forward (waits for it if it has not arrived yet). */
  step() {
    this.playing = false;
    this.open();
    if (this.cursor + 1 < this.records.length) {
      this.cursor += 1;
      this.show();
    } else if (!this.ended) {
      this.pendingSteps += 1;
    }
    this.onChange(this);
  }

  /** Back to the network as initialized (iteration 0). */
  reset() {
    this.playing = false;
    this.pendingSteps = 0;
    this.cursor = this.records.length ? 0 : -1;
    this.show();
    this.onChange(this);
  }

  tick() {
    if (!this.playing) return;
    const now = performance.now();
    this.budget += ((now - this.lastTick) / 1000) * this.speed;
    this.lastTick = now;
    const records = this.records;
    let moved = false;
    if (this.cursor < 0 && records.length) {
      this.cursor = 0;
      moved = true;
    }
    while (this.cursor + 1 < records.length) {
      const gap = records[this.cursor + 1].iteration - records[this.cursor].iteration;
      if (gap > this.budget) break;
      this.budget -= gap;
      this.cursor += 1;
      moved = true;
    }
    if (this.cursor + 1 >= records.length) this.budget = Math.min(this.budget, 1); // caught up
    if (moved) this.show();
    if (this.atEnd) {
      this.playing = false;
      this.onChange(this);
      return;
    }
    this.frame = requestAnimationFrame(() => this.tick());
  }

  show() {
    if (this.cursor >= 0) this.render(this.records, this.cursor);
    this.onChange(this);
  }
}
