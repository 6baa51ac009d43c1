/**
 * A result set's reasons as UTF-8 in one byte array, for the trip from a worker to the thread that writes them.
 *
 * As strings, a task's reasons (megabytes of them with a reason per row: ~400 KB a machine on a fleet whose machines
 * share nothing) were cloned into the batch loop's heap as one object per reason, lived there until their machines'
 * turn to be written (behind the batches ahead of them), and so were promoted to the old generation, which V8 let
 * grow to ~2.5 × what was live: a 5,000-machine distinct fleet written with `-f rows --reasons` peaked at 1 GB of
 * RSS. As bytes they are two typed arrays a set, outside the heap and freed with it; a reason becomes a string only
 * when it is written, and dies young.
 *
 * UTF-8 holds every string but one with a lone surrogate (a reason can quote one only from a JSON escape in an
 * inventory): it reads back as U+FFFD. The msgpack, CSV and Parquet outputs wrote U+FFFD for it before too; the JSON
 * outputs wrote an escape (\udxxx), now the replacement character.
 */

export interface ReasonBytes {
  /** Every reason's UTF-8, one after the other. */
  readonly utf8: Uint8Array;
  /** Reason k is utf8[ends[k - 1] .. ends[k]) (from 0 for k = 0); an outcome without a reason is empty. */
  readonly ends: Uint32Array;
}

/**
 * Encodes sets' reasons as they are made, through scratch memory reused from set to set (a worker scans one machine at
 * a time): begin(), push() each reason, end(). Each reason is copied out as soon as it is made, so the strings die
 * young instead of living in an array until the machine's scan ends (which got them promoted to the old generation).
 */
export class ReasonEncoder {
  private scratch = Buffer.allocUnsafe(1 << 16);
  private ends = new Uint32Array(1024);
  private n = 0;
  private count = 0;
  /** Reasons pushed since begin() that are not empty. */
  given = 0;

  begin(): void {
    this.n = 0;
    this.count = 0;
    this.given = 0;
  }

  push(r: string): void {
    // A UTF-16 unit is at most 3 bytes of UTF-8: room for that, checked once per reason instead of measured.
    if (this.n + r.length * 3 > this.scratch.length) this.grow(this.n + r.length * 3);
    if (this.count === this.ends.length) {
      const ends = new Uint32Array(this.ends.length * 2);
      ends.set(this.ends);
      this.ends = ends;
    }
    if (r.length > 0) {
      this.n += this.scratch.write(r, this.n, 'utf8');
      this.given++;
    }
    this.ends[this.count++] = this.n;
  }

  /** The reasons pushed since begin(), in memory of their own (a view of the scratch would carry all of it along). */
  end(): ReasonBytes {
    const utf8 = new Uint8Array(this.n);
    utf8.set(this.scratch.subarray(0, this.n));
    return { utf8, ends: this.ends.slice(0, this.count) };
  }

  private grow(need: number): void {
    let size = this.scratch.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.scratch.copy(next, 0, 0, this.n);
    this.scratch = next;
  }
}

/** Reads reasons back, one at a time, as strings. */
export class ReasonReader {
  private readonly view: Buffer;
  constructor(private readonly r: ReasonBytes) {
    this.view = Buffer.from(r.utf8.buffer, r.utf8.byteOffset, r.utf8.byteLength);
  }

  get length(): number {
    return this.r.ends.length;
  }

  at(k: number): string {
    const from = k === 0 ? 0 : this.r.ends[k - 1]!;
    const to = this.r.ends[k]!;
    return from === to ? '' : this.view.toString('utf8', from, to);
  }

  /** Bytes held (the arrays' own: they are not views of anything larger). */
  get bytes(): number {
    return this.r.utf8.byteLength + this.r.ends.byteLength;
  }
}

export const isReasonBytes = (r: readonly string[] | ReasonBytes): r is ReasonBytes => !Array.isArray(r);
