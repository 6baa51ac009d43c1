/**
 * The default batch output: JSON Lines, one line per machine — its counts by the counting rule and the updates it
 * needs or may need, each with its KB and update id (and its reason when asked):
 *
 *   {"computer":"PC-1","source":"fleet.jsonl:1","counts":{…},"required":[{"kb":"5034441","updateId":"…"}],
 *    "possiblySuperseded":[…],"unknown":[…]}
 *
 * A machine is ~100 bytes plus ~70 per listed update, where one row per update was ~1 MB. Written as bytes, on the
 * thread that also feeds the workers: each listed update's `{"kb":…,"updateId":…` is encoded once per catalog update
 * and copied, and a set shared by machines with the same profile keeps its line's bytes after the machine's name (they
 * go when the pool lets the set go; with reasons they are written again for each machine). Built from strings and
 * joined, and kept for every set, a distinct machine's line was ~7.5 KB of garbage on that thread: peak RSS of 20,000
 * distinct machines 614–627 MB then, 537–539 MB as bytes (bench/RESULTS.md, 2026-12-02 10:06–13:06).
 * Fields: docs/batch-output.md, schema docs/batch-machine.schema.json.
 */
import type { Catalog } from '../../engine/catalog/catalog.js';
import type { FailedMachine, ScannedMachine } from '../../engine/pool/protocol.js';
import type { OutcomeCounts } from '../../engine/scanner/counting.js';
import { PatchscanError } from '../../engine/errors.js';
import { BUCKET_OF_LOW, outcomeIndex, type ResultSet } from '../../engine/fleet/result-set.js';
import { ByteChunks, type BatchWriter } from './batch-output.js';

/**
 * What a machine's line lists, by the counting rule (engine/scanner/counting.ts): what it needs (Required, not
 * superseded), what it may need (Required, its superseding update Unknown; Unknown).
 */
export const LISTED = ['required', 'possiblySuperseded', 'unknown'] as const;
export type Listed = (typeof LISTED)[number];

/**
 * Per low 4 bits of an outcome word: 1 + the place in LISTED of its bucket by the counting rule, 0 when it is listed
 * nowhere or no outcome has those bits (a set with such an outcome is refused by its counts first).
 */
const LIST_OF_LOW = Int8Array.from(BUCKET_OF_LOW, (b) => 1 + LISTED.indexOf(b as Listed));

/** Bytes gathered before the batch loop takes them (as TextChunks: a machine's line with reasons fits in what is left). */
const CHUNK_BYTES = 1024 * 1024;

const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const LIST_OPENERS = LISTED.map((l, j) => ascii(`${j > 0 ? ',' : ''}"${l}":[`));
const COUNT_KEYS = ['installed', 'required', 'superseded', 'possiblySuperseded', 'unknown'] as const;
const COUNT_OPENERS = COUNT_KEYS.map((k, j) => ascii(`${j > 0 ? ',' : '"counts":{'}"${k}":`));
const NOT_APPLICABLE = ascii(',"notApplicable":');
const COMPUTER = ascii('{"computer":');
const SOURCE = ascii(',"source":');
const REASON = ascii(',"reason":');

export class MachineLinesWriter extends ByteChunks implements BatchWriter {
  /** The line's bytes after the machine's name, per shared result set without reasons. */
  private readonly tails = new WeakMap<ResultSet, Uint8Array>();
  /** `{"kb":…,"updateId":…` as UTF-8, per catalog update (the same in every line that lists it), made on first use. */
  private readonly heads: (Uint8Array | undefined)[];
  /** A line's listed outcomes (their places in the set), list after list; where each list ends, and is filled to. */
  private at = new Int32Array(1024);
  private readonly ends = new Int32Array(LISTED.length);
  private readonly fill = new Int32Array(LISTED.length);

  constructor(
    private readonly catalog: Catalog,
    private readonly options: { readonly all: boolean },
  ) {
    super(CHUNK_BYTES);
    this.heads = new Array<Uint8Array | undefined>(catalog.size);
  }

  finish(): void {}

  machine(m: ScannedMachine): void {
    const set = m.resultSet;
    const counts = set.stats.counts; // throws for an outcome no scan makes: before a byte of the line is written
    const kept = this.tails.get(set);
    if (kept === undefined) this.place(set.outcomes, counts); // so does a list that does not match its count
    this.bytes(COMPUTER);
    this.text(JSON.stringify(m.computer));
    this.bytes(SOURCE);
    this.text(JSON.stringify(m.source));
    this.byte(0x2c); // ,
    if (kept !== undefined) this.bytes(kept);
    else {
      const from = this.n;
      this.tail(set, counts);
      // Kept only for a set later machines may name, and only without reasons: with them a tail is as large as the
      // set's reasons (~0.3 MB), and keeping it would double what the pool keeps within its budget.
      if (set.shared && !set.hasReasons) this.tails.set(set, Uint8Array.prototype.slice.call(this.buf, from, this.n));
    }
    this.byte(0x0a); // \n
  }

  error(m: FailedMachine): void {
    this.text(`${JSON.stringify({ computer: m.computer ?? null, source: m.source, error: m.error })}\n`);
  }

  private head(i: number): Uint8Array {
    let h = this.heads[i];
    if (h === undefined) {
      const c = this.catalog;
      h = Buffer.from(`{"kb":${JSON.stringify(c.kb(i))},"updateId":${JSON.stringify(c.updateId(i))}`, 'utf8');
      this.heads[i] = h;
    }
    return h;
  }

  /**
   * One pass over the outcomes puts each listed one's place in its list's run of `at`, list after list (each list's
   * length is its count: LISTED are count buckets), instead of a pass per list: three passes were most of a line's
   * time. A list that does not fill its count exactly (outcomes changed after the set was counted: no code does) throws.
   */
  private place(outcomes: Uint32Array, counts: OutcomeCounts): void {
    const { ends, fill } = this;
    for (let j = 0, start = 0; j < LISTED.length; j++) {
      fill[j] = start;
      start = ends[j] = start + counts[LISTED[j]!];
    }
    const total = ends[LISTED.length - 1]!;
    if (this.at.length < total) this.at = new Int32Array(Math.max(total, 2 * this.at.length));
    const at = this.at;
    if (total > 0) {
      for (let k = 0; k < outcomes.length; k++) {
        const list = LIST_OF_LOW[outcomes[k]! & 15]!;
        if (list !== 0) at[fill[list - 1]!++] = k;
      }
    }
    for (let j = 0; j < LISTED.length; j++) {
      const start = j > 0 ? ends[j - 1]! : 0;
      if (fill[j] !== ends[j])
        throw new PatchscanError(
          'INTERNAL',
          `a result set lists ${fill[j]! - start} ${LISTED[j]} update(s) but counts ${ends[j]! - start}; report it`,
        );
    }
  }

  /** The line after the machine's name: counts, then each list in outcome order (placed by {@link place}). */
  private tail(set: ResultSet, counts: OutcomeCounts): void {
    const { outcomes } = set;
    const reasons = set.hasReasons;
    for (let j = 0; j < COUNT_KEYS.length; j++) {
      this.bytes(COUNT_OPENERS[j]!);
      this.uint(counts[COUNT_KEYS[j]!]);
    }
    if (this.options.all) {
      this.bytes(NOT_APPLICABLE);
      this.uint(counts.notApplicable);
    }
    this.byte(0x7d); // }
    this.byte(0x2c);
    const { at, ends } = this;
    let from = 0;
    for (let j = 0; j < LISTED.length; j++) {
      this.bytes(LIST_OPENERS[j]!);
      for (let r = from; r < ends[j]!; r++) {
        const k = at[r]!;
        if (r > from) this.byte(0x2c);
        this.bytes(this.head(outcomeIndex(outcomes[k]!)));
        if (reasons) {
          this.bytes(REASON);
          this.text(JSON.stringify(set.reason(k)));
        }
        this.byte(0x7d);
      }
      from = ends[j]!;
      this.byte(0x5d); // ]
    }
    this.byte(0x7d);
  }

  private byte(b: number): void {
    if (this.n + 1 > this.buf.length) this.grow(1);
    this.buf[this.n++] = b;
  }

  private bytes(b: Uint8Array): void {
    if (this.n + b.length > this.buf.length) this.grow(b.length);
    const buf = this.buf;
    let n = this.n;
    // The short openers are copied in a loop (set() has a fixed cost); a head (~70 bytes) by set(): a line of ~108
    // listed updates took 24 µs with heads copied in the loop, 12.5 µs with set() (in-process, 400 real sets).
    if (b.length <= 16) for (let i = 0; i < b.length; i++) buf[n++] = b[i]!;
    else {
      buf.set(b, n);
      n += b.length;
    }
    this.n = n;
  }

  /** `s` as UTF-8 (whole strings only: a surrogate pair split across two calls would become two U+FFFD). */
  private text(s: string): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes (a surrogate pair, 2 units, is 4).
    if (this.n + 3 * s.length > this.buf.length) this.grow(3 * s.length);
    this.n += this.buf.write(s, this.n, 'utf8');
  }

  /** A count, in decimal. */
  private uint(v: number): void {
    if (v < 10) this.byte(0x30 + v);
    else this.text(String(v));
  }
}
