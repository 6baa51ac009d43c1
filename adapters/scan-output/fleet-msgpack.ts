/**
 * The msgpack fleet format, encoded straight into output chunks: each result set once —
 * `{ resultSet: N, updates: [[updateId, state, superseded(, reason)], …] }` (superseded: true, false, or nil when
 * possibly superseded — a superseding update is Unknown) — then one `{ computer, source,
 * resultSet: N }` record per machine. Written by hand rather than through a generic encoder because a million-machine
 * batch writes a million records and thousands of 2,000-row sets from the one thread that also feeds the workers:
 * no object per record or row, update ids encoded once per catalog update, no copy per record.
 */
import { Packr } from 'msgpackr';
import { PatchscanError } from '../../engine/errors.js';
import type { Catalog } from '../../engine/catalog/catalog.js';
import { outcomeIndex, outcomeStateCode, outcomeSupersedence, STATES, type ResultSet } from '../../engine/fleet/result-set.js';
import { SUP_POSSIBLY, SUP_YES } from '../../engine/scanner/supersedence.js';
import type { FailedMachine, ScannedMachine } from '../../engine/pool/protocol.js';
import { ByteChunks, type BatchWriter } from './batch-output.js';

/**
 * Bytes per output chunk. A fleet of distinct machines writes ~50 KiB per machine: chunks are reused once written
 * (ByteChunks), where a fresh 512 KiB buffer per chunk taken was a gigabyte of new memory per 10,000 machines on the
 * thread that feeds the workers.
 */
const CHUNK = 512 * 1024;
const packr = new Packr({ useRecords: false });

const outsideCatalog = (i: number, size: number): PatchscanError =>
  new PatchscanError(
    'INTERNAL',
    `a result set names update index ${i}, outside the catalog's ${size} updates (scanned against another catalog?)`,
  );

/** The longest row tail: 'NotApplicable' as a fixstr (14 bytes) and the supersedence byte. */
const TAIL_WIDEST = 15;

/**
 * Every (state, supersedence) a row can end with, encoded once: its state string, then true when superseded, nil when
 * possibly superseded (a superseding update is Unknown), false otherwise. Indexed by outcome & 15.
 */
function rowTails(): { bytes: Uint8Array; offsets: Uint8Array } {
  const parts: Uint8Array[] = [];
  const offsets = new Uint8Array(17);
  for (let low = 0; low < 16; low++) {
    const sup = outcomeSupersedence(low);
    const tail = [...packr.pack(STATES[outcomeStateCode(low)]), sup === SUP_YES ? 0xc3 : sup === SUP_POSSIBLY ? 0xc0 : 0xc2];
    if (tail.length > TAIL_WIDEST) throw new Error('a state name outgrew TAIL_WIDEST');
    parts.push(Uint8Array.from(tail));
    offsets[low + 1] = offsets[low]! + tail.length;
  }
  return { bytes: Buffer.concat(parts), offsets };
}

export class FleetMsgpackWriter extends ByteChunks {
  /** Every update's id, msgpack-encoded once, in one contiguous table (rows copy from it: no object per id). */
  private idTable: { bytes: Uint8Array; view: DataView; offsets: Uint32Array; widest: number; width: number } | undefined;
  private readonly keys = {
    resultSet: this.encoded('resultSet'),
    updates: this.encoded('updates'),
    computer: this.encoded('computer'),
    source: this.encoded('source'),
  };
  /** A row's state and supersedence, encoded, by the low 4 bits of its outcome word (state << 2 | supersedence). */
  private readonly tails = rowTails();

  constructor(private readonly catalog: Catalog) {
    super(CHUNK);
  }

  private ids(): { bytes: Uint8Array; view: DataView; offsets: Uint32Array; widest: number; width: number } {
    if (this.idTable) return this.idTable;
    const c = this.catalog;
    const offsets = new Uint32Array(c.size + 1);
    const parts: Uint8Array[] = [];
    let widest = 0;
    for (let i = 0; i < c.size; i++) {
      const e = packr.pack(c.updateId(i));
      parts.push(Uint8Array.from(e));
      offsets[i + 1] = offsets[i]! + e.length;
      widest = Math.max(widest, e.length);
    }
    const bytes = Buffer.concat(parts);
    // Update ids are GUIDs: every one encodes to the same width, and a row then finds its id at i × width without
    // reading the offsets (one cache miss fewer per row: the table is megabytes, a set's rows land all over it).
    const width = c.size > 0 && offsets[c.size] === widest * c.size ? widest : 0;
    this.idTable = { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offsets, widest, width };
    return this.idTable;
  }

  resultSet(set: ResultSet): void {
    const outcomes = set.outcomes;
    const reasons = set.hasReasons;
    const { bytes: ids, view: idView, offsets, widest, width } = this.ids();
    // A row of an update the catalog does not hold (a set scanned against another catalog) would have no id to copy:
    // refused before a byte of the set is written, rather than a row that desynchronizes the stream.
    const size = offsets.length - 1;
    for (let k = 0; k < outcomes.length; k++)
      if (outcomeIndex(outcomes[k]!) >= size) throw outsideCatalog(outcomeIndex(outcomes[k]!), size);
    this.byte(0x82);
    this.bytes(this.keys.resultSet);
    this.uint(set.id);
    this.bytes(this.keys.updates);
    this.arrayHeader(outcomes.length);
    const { bytes: tails, offsets: tailAt } = this.tails;
    if (!reasons) {
      // Without reasons a row has a known largest size: one room check for the whole set, then a loop that only copies
      // (this runs on the thread that feeds the workers, once per distinct machine: ~1,900 rows each).
      this.room(outcomes.length * (1 + widest + TAIL_WIDEST));
      const b = this.buf;
      // Ids (38 bytes) are copied four bytes at a time: copied byte by byte, this loop was 15 % of this thread's time
      // on a fleet of distinct machines (6 % now).
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      let n = this.n;
      for (let k = 0; k < outcomes.length; k++) {
        const w = outcomes[k]!;
        const i = outcomeIndex(w);
        b[n++] = 0x93;
        let p = width > 0 ? i * width : offsets[i]!;
        const to = width > 0 ? p + width : offsets[i + 1]!;
        for (; p + 4 <= to; p += 4, n += 4) view.setUint32(n, idView.getUint32(p, true), true);
        for (; p < to; p++) b[n++] = ids[p]!;
        for (let p = tailAt[w & 15]!, to = tailAt[(w & 15) + 1]!; p < to; p++) b[n++] = tails[p]!;
      }
      this.n = n;
      return;
    }
    for (let k = 0; k < outcomes.length; k++) {
      const w = outcomes[k]!;
      const i = outcomeIndex(w);
      const from = offsets[i]!,
        to = offsets[i + 1]!;
      const tail = tailAt[w & 15]!,
        tailEnd = tailAt[(w & 15) + 1]!;
      this.room(1 + to - from + tailEnd - tail);
      const b = this.buf;
      let n = this.n;
      b[n++] = 0x94;
      for (let p = from; p < to; p++) b[n++] = ids[p]!;
      for (let p = tail; p < tailEnd; p++) b[n++] = tails[p]!;
      this.n = n;
      this.str(set.reason(k));
    }
  }

  machine(computer: string, source: string, resultSet: number): void {
    this.byte(0x83);
    this.bytes(this.keys.computer);
    this.str(computer);
    this.bytes(this.keys.source);
    this.str(source);
    this.bytes(this.keys.resultSet);
    this.uint(resultSet);
  }

  /** Anything else (error rows: rare), through the generic encoder. */
  value(v: unknown): void {
    this.bytes(packr.pack(v));
  }

  private encoded(s: string): Uint8Array {
    return Uint8Array.from(packr.pack(s));
  }

  private room(len: number): void {
    if (this.n + len > this.buf.length) this.grow(len);
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.n++] = b;
  }

  private bytes(b: Uint8Array): void {
    this.room(b.length);
    if (b.length <= 48) for (let i = 0; i < b.length; i++) this.buf[this.n + i] = b[i]!;
    else this.buf.set(b, this.n);
    this.n += b.length;
  }

  /**
   * A msgpack value header carrying `n`: the fix form (`fix | n`) below `fixLimit`, else the 8-bit form when the
   * type has one (`c8` ≥ 0), else 16 or 32 bits, big-endian. Unsigned integers, strings and arrays all take this shape.
   */
  private header(n: number, fix: number, fixLimit: number, c8: number, c16: number, c32: number): void {
    this.room(5);
    const b = this.buf;
    if (n < fixLimit) b[this.n++] = fix | n;
    else if (c8 >= 0 && n < 0x100) {
      b[this.n++] = c8;
      b[this.n++] = n;
    } else if (n < 0x10000) {
      b[this.n++] = c16;
      b.writeUInt16BE(n, this.n);
      this.n += 2;
    } else {
      b[this.n++] = c32;
      b.writeUInt32BE(n, this.n);
      this.n += 4;
    }
  }

  private uint(v: number): void {
    this.header(v, 0x00, 0x80, 0xcc, 0xcd, 0xce);
  }

  private arrayHeader(count: number): void {
    this.header(count, 0x90, 16, -1, 0xdc, 0xdd);
  }

  private str(s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    this.header(len, 0xa0, 32, 0xd9, 0xda, 0xdb);
    this.room(len);
    this.n += this.buf.write(s, this.n, len, 'utf8');
  }
}

/** The fleet format as a batch output: each shared result set before the first machine that names it. */
export class FleetMsgpackBatchWriter implements BatchWriter {
  private readonly w: FleetMsgpackWriter;
  /** Shared sets already written (ids only: the file grows with profiles, this with them). */
  private readonly written = new Set<number>();

  constructor(catalog: Catalog) {
    this.w = new FleetMsgpackWriter(catalog);
  }

  get size(): number {
    return this.w.size;
  }

  take(): Buffer {
    return this.w.take();
  }

  recycle(chunk: Uint8Array): void {
    this.w.recycle(chunk);
  }

  finish(): void {}

  machine(m: ScannedMachine): void {
    const set = m.resultSet;
    if (!this.written.has(set.id)) {
      this.w.resultSet(set);
      if (set.shared) this.written.add(set.id);
    }
    this.w.machine(m.computer, m.source, set.id);
  }

  error(m: FailedMachine): void {
    this.w.value({ computer: m.computer ?? null, source: m.source, error: m.error });
  }
}
