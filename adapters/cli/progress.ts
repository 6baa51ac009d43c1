/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal (so logs and pipes stay clean),
 * throttled to ten redraws a second: count or bytes, rate, ETA, and what is being worked on.
 */

export interface ProgressUpdate {
  readonly label: string;
  readonly done: number;
  readonly total: number;
  readonly unit: 'bytes' | 'files' | 'steps' | 'items';
  readonly detail?: string;
}

function human(n: number, unit: ProgressUpdate['unit']): string {
  if (unit !== 'bytes') return n.toLocaleString('en-US');
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KiB`;
  return `${n} B`;
}

export class ProgressBar {
  private lastDraw = 0;
  private label = '';
  private started = performance.now();
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly enabled = stream.isTTY === true) {}

  update(u: ProgressUpdate): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (u.label !== this.label) {
      if (this.drawn) this.stream.write('\n');
      this.label = u.label;
      this.started = now;
      this.lastDraw = 0;
    }
    if (now - this.lastDraw < 100 && u.done < u.total) return;
    this.lastDraw = now;
    const frac = u.total > 0 ? Math.min(1, u.done / u.total) : 0;
    const width = 24;
    const full = Math.round(frac * width);
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? u.done / secs : 0;
    const eta = rate > 0 && u.total > u.done ? `ETA ${Math.ceil((u.total - u.done) / rate)}s` : '';
    const rateText = rate > 0 ? `${human(rate, u.unit)}/s` : '';
    const line = `${u.label.padEnd(10)} ${'█'.repeat(full)}${'░'.repeat(width - full)} ${(frac * 100).toFixed(0).padStart(3)}% ${human(u.done, u.unit)}/${human(u.total, u.unit)} ${rateText} ${eta} ${u.detail ?? ''}`;
    const cols = this.stream.columns ?? 100;
    this.stream.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length))}\x1b[K`);
    this.drawn = true;
  }

  done(): void {
    if (this.enabled && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
