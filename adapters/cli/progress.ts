/**
 * Progress on stderr, in one of two forms (stdout stays for results):
 *
 * - on a terminal, one line redrawn at most ten times a second: label, bar, percent, done/total, rate, time left,
 *   and what is being worked on — fitted to the terminal's width by shortening the detail in its middle (a file name
 *   keeps its end), never by cutting the line;
 * - off a terminal (a log, a pipe, a service), a plain line every few seconds while a phase runs, and one when it ends.
 *
 * What is shown is kept honest: within a phase the percentage never goes back and never passes 100 % (a total that
 * turns out too small grows to what was done), the rate is measured over the last few seconds, and a phase of
 * unknown length (`unit: 'steps'`) shows its elapsed time instead of a percentage that cannot move.
 */

export interface ProgressUpdate {
  readonly label: string;
  readonly done: number;
  readonly total: number;
  readonly unit: 'bytes' | 'files' | 'steps' | 'items';
  readonly detail?: string;
}

export type ProgressMode = 'tty' | 'lines' | 'off';

export interface ProgressOptions {
  /** Off a terminal: time between lines (default $PATCHSCAN_PROGRESS_SECONDS, else 5 s). */
  readonly intervalMs?: number;
  /** The clock, in milliseconds. */
  readonly now?: () => number;
}

const KIB = 1024,
  MIB = KIB * 1024,
  GIB = MIB * 1024;

/** A count with thousands separators; a size in B, KiB, MiB or GiB with the same precision whatever its value. */
export function human(n: number, unit: ProgressUpdate['unit']): string {
  if (unit !== 'bytes') return Math.round(n).toLocaleString('en-US');
  if (n >= GIB) return `${(n / GIB).toFixed(2)} GiB`;
  if (n >= MIB) return `${(n / MIB).toFixed(1)} MiB`;
  if (n >= KIB) return `${(n / KIB).toFixed(0)} KiB`;
  return `${Math.round(n)} B`;
}

/** A rate per second: sizes as sizes, counts whole from 10/s up, with one decimal below (never "19,666.503/s"). */
export function humanRate(perSecond: number, unit: ProgressUpdate['unit']): string {
  if (unit === 'bytes') return `${human(perSecond, 'bytes')}/s`;
  const name = unit === 'items' ? '' : ` ${unit}`;
  if (perSecond >= 10) return `${Math.round(perSecond).toLocaleString('en-US')}${name}/s`;
  return `${perSecond.toFixed(1)}${name}/s`;
}

/** Seconds as 0.4s, 7s, 2m05s, 1h02m. */
export function humanDuration(seconds: number): string {
  if (seconds < 9.95) return `${Math.max(0, seconds).toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Shortens `text` to `max` characters by replacing its middle with "…" (the end of a file name stays readable). */
export function elide(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return max === 1 ? '…' : '';
  const tail = Math.ceil((max - 1) * 0.6);
  return `${text.slice(0, max - 1 - tail)}…${text.slice(text.length - tail)}`;
}

const defaultInterval = (): number => {
  const raw = Number(process.env.PATCHSCAN_PROGRESS_SECONDS);
  return Number.isFinite(raw) && raw > 0 ? raw * 1000 : 5000;
};

/** The rate over the last few seconds (samples kept in a small ring, no allocation per update). */
class RateWindow {
  private readonly t = new Float64Array(32);
  private readonly v = new Float64Array(32);
  private n = 0;
  private head = 0;

  reset(): void {
    this.n = 0;
    this.head = 0;
  }

  add(t: number, value: number): void {
    this.t[this.head] = t;
    this.v[this.head] = value;
    this.head = (this.head + 1) % this.t.length;
    if (this.n < this.t.length) this.n++;
  }

  /** Per second, from the oldest sample not older than `windowMs` (at least 0.5 s of history), or undefined. */
  perSecond(now: number, value: number, windowMs: number): number | undefined {
    let oldest = -1;
    for (let k = 0; k < this.n; k++) {
      const i = (this.head - 1 - k + this.t.length) % this.t.length;
      if (now - this.t[i]! > windowMs) break;
      oldest = i;
    }
    if (oldest < 0) return undefined;
    const dt = (now - this.t[oldest]!) / 1000;
    return dt >= 0.5 ? (value - this.v[oldest]!) / dt : undefined;
  }
}

export class ProgressBar {
  private readonly mode: ProgressMode;
  private readonly intervalMs: number;
  private readonly clock: () => number;
  private label = '';
  private started = 0;
  private lastDraw = 0;
  private lastLine = 0;
  private shownDone = 0;
  private shownTotal = 0;
  private last: ProgressUpdate | undefined;
  private readonly window = new RateWindow();
  private lastSample = 0;

  /**
   * @param stream where progress goes (stderr)
   * @param mode 'tty' redraws one line, 'lines' writes a line now and then, 'off' writes nothing; `true`/`false`
   *   mean a terminal's line or nothing. Default: a line on a terminal, nothing elsewhere.
   */
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    mode: ProgressMode | boolean = stream.isTTY === true,
    o: ProgressOptions = {},
  ) {
    this.mode = mode === true ? 'tty' : mode === false ? 'off' : mode;
    this.intervalMs = o.intervalMs ?? defaultInterval();
    this.clock = o.now ?? (() => performance.now());
  }

  update(u: ProgressUpdate): void {
    if (this.mode === 'off') return;
    const now = this.clock();
    if (u.label !== this.label) {
      this.finishPhase(now);
      this.label = u.label;
      this.started = now;
      this.lastDraw = 0;
      this.lastLine = now;
      this.shownDone = 0;
      this.shownTotal = 0;
      this.window.reset();
      this.lastSample = 0;
    }
    // Never backwards, never past the total: a total that was too small grows to what was done. A total of 0 (or
    // less) is not known: the line then shows what was done and the rate, without a percentage.
    this.shownDone = Math.max(this.shownDone, u.done);
    this.shownTotal = u.total > 0 ? Math.max(this.shownTotal, u.total, this.shownDone) : 0;
    this.last = u;
    if (now - this.lastSample >= 200) {
      this.window.add(now, this.shownDone);
      this.lastSample = now;
    }
    if (this.mode === 'tty') {
      const finished = this.shownTotal > 0 && this.shownDone >= this.shownTotal;
      if (now - this.lastDraw < 100 && !finished) return;
      this.lastDraw = now;
      this.draw(this.line(now, this.stream.columns || 100));
    } else if (now - this.lastLine >= this.intervalMs && !(this.shownTotal > 0 && this.shownDone >= this.shownTotal)) {
      // (A phase that has just completed gets its line from finishPhase, once.)
      this.lastLine = now;
      this.stream.write(`${this.line(now, Infinity)}\n`);
    }
  }

  /** Ends the current phase: its final state stays on screen (or is logged once more off a terminal). */
  done(): void {
    if (this.mode === 'off') return;
    this.finishPhase(this.clock());
    this.label = '';
  }

  private finishPhase(now: number): void {
    if (!this.last || this.label === '') return;
    const line = this.line(now, this.mode === 'tty' ? this.stream.columns || 100 : Infinity, true);
    if (this.mode === 'tty') {
      this.draw(line);
      this.stream.write('\n');
    } else this.stream.write(`${line}\n`);
    this.last = undefined;
  }

  private draw(line: string): void {
    this.stream.write(`\r${line}\x1b[K`);
  }

  /** The line for the current state, at most `cols - 1` characters wide. */
  private line(now: number, cols: number, final = false): string {
    const u = this.last!;
    const secs = (now - this.started) / 1000;
    const label = u.label.padEnd(10);
    const detail = u.detail ?? '';
    if (u.unit === 'steps' && this.shownTotal <= 1) {
      // A phase of unknown length: how long it has run, or how long it took.
      const head = `${label} ${this.shownDone >= this.shownTotal ? `done in ${humanDuration(secs)}` : `… ${humanDuration(secs)}`}`;
      return this.fit(head, '', '', detail, cols);
    }
    const done = this.shownDone,
      total = this.shownTotal;
    const recent = this.window.perSecond(now, done, 5000);
    const rate = recent ?? (secs >= 0.5 ? done / secs : undefined);
    if (total <= 0) {
      const running = rate !== undefined && rate > 0 ? humanRate(rate, u.unit) : '';
      const tail = final ? `in ${humanDuration(secs)}${secs >= 0.5 ? `, ${humanRate(done / secs, u.unit)}` : ''}` : running;
      return this.fit(label, human(done, u.unit), tail, detail, cols);
    }
    const frac = done / total;
    const percent = `${Math.floor(frac * 100)
      .toString()
      .padStart(3)}%`;
    const counts = `${human(done, u.unit)}/${human(total, u.unit)}`;
    let tail: string;
    if (final || done >= total) tail = `in ${humanDuration(secs)}${secs >= 0.5 ? `, ${humanRate(done / secs, u.unit)}` : ''}`;
    else if (rate === undefined) tail = '';
    // Nothing moved over the last seconds (a download waiting on the network): no time left can be told.
    else tail = rate > 0 ? `${humanRate(rate, u.unit)}, ${humanDuration((total - done) / rate)} left` : 'stalled';
    return this.fit(label, `${percent} ${counts}`, tail, detail, cols, frac);
  }

  /** Label, bar (when there is room), figures and detail in `cols - 1` characters: the detail and bar give way. */
  private fit(label: string, figures: string, tail: string, detail: string, cols: number, frac?: number): string {
    const max = cols - 1;
    const text = [label, figures, tail].filter(Boolean).join(' ');
    const bar = (w: number): string => {
      if (frac === undefined || w <= 0) return '';
      const full = Math.round(frac * w);
      return `${'█'.repeat(full)}${'░'.repeat(w - full)}`;
    };
    const compose = (w: number, d: string): string => {
      const b = bar(w);
      const parts = frac === undefined ? [text] : [label, b, [figures, tail].filter(Boolean).join(' ')].filter(Boolean);
      return `${parts.join(' ')}${d ? `  ${d}` : ''}`;
    };
    if (!Number.isFinite(max)) return compose(24, detail);
    for (const w of [24, 12, 0]) {
      const base = compose(w, '');
      if (base.length > max) continue;
      const room = max - base.length - 2;
      return room >= 8 || !detail ? compose(w, detail ? elide(detail, Math.max(room, 0)) : '') : base;
    }
    return elide(compose(0, ''), max);
  }
}
