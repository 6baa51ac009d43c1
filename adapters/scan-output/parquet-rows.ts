/**
 * The rows of a batch scan as Apache Parquet (`-f parquet`), for analytics tools that read it directly (DuckDB,
 * Spark, pandas/pyarrow): one row per update a machine has or needs, filtered by state like `rows`, with the same
 * columns. A machine that failed is one row with state "Error", the reason "CODE: message", the update columns null.
 *
 * The batch loop's side (this writer) only gathers rows, compactly (parquet-encoder.ts RowGroupBatch); a full row
 * group goes to an encoding thread (parquet-thread.ts) while the next one gathers, and its bytes come back to be
 * written. Encoded in the loop's thread, a group's garbage (arrays the size of the group, V8 "large objects" freed
 * only by a full collection) grew the loop's heap: 5,000 machines of the issue-14 fleet with reasons peaked at
 * 1,134 MiB of RSS, against 936 MiB with the thread's heap limited. Where cores outnumber the scan threads, encoding
 * also runs beside the scan instead of after it. Memory holds two groups with the encoder (and those of one machine
 * larger than a group) and the one gathering, whatever the fleet: backlog() holds the loop while the thread is
 * behind. Columns: docs/batch-output.md.
 */
import { Worker } from 'node:worker_threads';
import type { Catalog } from '../../engine/catalog/catalog.js';
import { PatchscanError } from '../../engine/errors.js';
import type { FailedMachine, ScannedMachine } from '../../engine/pool/protocol.js';
import { threadScript } from '../../engine/pool/thread-entry.js';
import { outcomeIndex, outcomeStateCode, outcomeSupersedence } from '../../engine/fleet/result-set.js';
import { scanRow } from '../../engine/scanner/scanner.js';
import { SUP_POSSIBLY, SUP_YES } from '../../engine/scanner/supersedence.js';
import type { BatchWriter } from './batch-output.js';
import {
  ERROR_STATE,
  FLAG_POSSIBLY_SUPERSEDED,
  FLAG_SUPERSEDED,
  ParquetFileEncoder,
  type CatalogColumns,
  type ParquetFileMeta,
  type RowGroupBatch,
} from './parquet-encoder.js';
import type { FromEncoder, ToEncoder } from './parquet-thread.js';
import type { StateFilter } from './row-writers.js';

export { PARQUET_COLUMNS } from './parquet-encoder.js';

/**
 * Rows per row group. Fewer make larger files (each group has its own dictionaries): 25,000 wrote 28 % more bytes and
 * took 1.4 × the time on 2,000 machines of the issue-14 fleet with reasons, for 60 MiB less peak RSS.
 */
export const ROW_GROUP = 50_000;
/**
 * Characters of distinct text (names, reasons) a row group may hold before it is closed short of ROW_GROUP rows (it
 * closes at the row that reaches them, so by one text more at most): the
 * encoding thread's memory follows the text it encodes, and reasons run to ~770 characters. On 5,000 machines of the
 * issue-14 fleet with reasons some groups reach it: 4.7 % more bytes than at 16 M (where none does), for a peak RSS of
 * 937–945 MiB against 973 MiB. A fleet whose every reason differs would otherwise send the thread 35 M per group.
 */
export const GROUP_TEXT = 8 * 1024 * 1024;
/**
 * Groups with the encoder before the loop is held: one encoding, one waiting. The loop is held between machines, so a
 * machine with more rows than a group adds its groups beyond this (compact ones: 13 bytes a row and its texts).
 */
const IN_FLIGHT = 2;

/** Encodes row groups, in the order given; the file's bytes come back in that order. */
export interface RowGroupEncoder {
  encode(b: RowGroupBatch): Promise<Uint8Array>;
  /** The footer. */
  finish(): Promise<Uint8Array>;
  /** Releases the thread, if any (after finish, or to give up). */
  close(): Promise<void>;
}

/** Encoding in the calling thread (`--threads 0`). */
class InlineEncoder implements RowGroupEncoder {
  private readonly file: ParquetFileEncoder;
  constructor(meta: ParquetFileMeta) {
    this.file = new ParquetFileEncoder(meta);
  }
  encode(b: RowGroupBatch): Promise<Uint8Array> {
    try {
      return Promise.resolve(this.file.group(b));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }
  finish(): Promise<Uint8Array> {
    return Promise.resolve(this.file.finish());
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The encoding thread's old generation (MiB): its live data is the row group and pages it encodes, the catalog columns
 * of the updates named so far and the file's index of row groups (a catalog of 50,000 updates, all named, fits), and a
 * limit makes V8 collect before the heap grows far past that. At 80 the thread took 1.2 × its
 * time at 128 (collecting over and over), and 256 saved 10 % of its time for 24 MiB more RSS (5,000 machines of the
 * issue-14 fleet, measured while values still went to the library as bytes).
 */
export const THREAD_HEAP_MB = 128;
/**
 * Its young generation (MiB). On the 5,000 machines of the issue-14 fleet with reasons: 16 gave a peak RSS of 936 MiB
 * for 88 s of CPU, 48 gave 1,022 MiB for 79 s, 4 gave 919 MiB for 92 s.
 */
const THREAD_YOUNG_SPACE_MB = 16;

/** Encoding on a thread of its own. */
class ThreadEncoder implements RowGroupEncoder {
  private readonly worker: Worker;
  private readonly waiting: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }[] = [];
  private failed: Error | undefined;
  private closed = false;

  constructor(meta: ParquetFileMeta, heapMb: number) {
    this.worker = new Worker(threadScript(import.meta.url, 'parquet-thread'), {
      eval: true,
      workerData: meta,
      resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: THREAD_YOUNG_SPACE_MB },
    });
    this.worker.on('message', (m: FromEncoder) => {
      const w = this.waiting.shift();
      if (!w) return;
      if ('bytes' in m) return w.resolve(m.bytes);
      // The file is unusable past a group that failed: this answer and every later one fail.
      this.fail(new PatchscanError('INTERNAL', `the Parquet encoding thread failed: ${m.error.message}`, { stack: m.error.stack ?? '' }));
      w.reject(this.failed!);
    });
    this.worker.on('error', (e: Error & { code?: string }) =>
      this.fail(
        e.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new PatchscanError(
              'INTERNAL',
              `the Parquet encoding thread ran out of its ${heapMb} MiB heap (${e.message}); ` +
                `encode in the calling thread instead (--threads 0), or report it`,
              {},
              { cause: e },
            )
          : new PatchscanError('INTERNAL', `the Parquet encoding thread failed: ${e.message}`, {}, { cause: e }),
      ),
    );
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new PatchscanError('INTERNAL', `the Parquet encoding thread stopped (exit code ${code})`));
    });
  }

  encode(b: RowGroupBatch): Promise<Uint8Array> {
    return this.send({ kind: 'group', batch: b }, [b.update.buffer, b.flags.buffer, b.computer.buffer, b.reason.buffer] as ArrayBuffer[]);
  }

  finish(): Promise<Uint8Array> {
    return this.send({ kind: 'finish' }, []);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new PatchscanError('INTERNAL', 'the Parquet encoding thread was closed'));
    await this.worker.terminate();
  }

  private send(m: ToEncoder, transfer: ArrayBuffer[]): Promise<Uint8Array> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(m, transfer);
    });
  }

  /** Every answer still awaited fails, and every later request. */
  private fail(e: Error): void {
    const failed = (this.failed ??= e);
    for (const w of this.waiting.splice(0)) w.reject(failed);
  }
}

/** The encoder `options` ask for: on its thread (default) or in the calling thread. */
export function rowGroupEncoder(meta: ParquetFileMeta, options: Pick<ParquetRowsOptions, 'thread' | 'threadHeapMb'>): RowGroupEncoder {
  return (options.thread ?? true) ? new ThreadEncoder(meta, options.threadHeapMb ?? THREAD_HEAP_MB) : new InlineEncoder(meta);
}

/** The row group being gathered. */
class GroupBuilder {
  rows = 0;
  textChars = 0;
  readonly update: Int32Array;
  readonly flags: Uint8Array;
  readonly computer: Int32Array;
  readonly reason: Int32Array;
  readonly texts: string[] = [];
  readonly catalog: [number, CatalogColumns][] = [];
  private readonly textIds = new Map<string, number>();

  constructor(capacity: number) {
    this.update = new Int32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.computer = new Int32Array(capacity);
    this.reason = new Int32Array(capacity);
  }

  text(s: string): number {
    let id = this.textIds.get(s);
    if (id === undefined) {
      id = this.texts.length;
      this.texts.push(s);
      this.textIds.set(s, id);
      this.textChars += s.length;
    }
    return id;
  }

  row(update: number, flags: number, computer: number, reason: number): void {
    const r = this.rows++;
    this.update[r] = update;
    this.flags[r] = flags;
    this.computer[r] = computer;
    this.reason[r] = reason;
  }

  /** The group as sent: its arrays cut to its rows (the copy owns its memory, which is transferred). */
  batch(): RowGroupBatch {
    const n = this.rows;
    return {
      rows: n,
      update: this.update.slice(0, n),
      flags: this.flags.slice(0, n),
      computer: this.computer.slice(0, n),
      reason: this.reason.slice(0, n),
      texts: this.texts,
      catalog: this.catalog,
    };
  }
}

export interface ParquetRowsOptions {
  readonly reasons: boolean;
  /** Encode on a thread of its own (default) or in the calling thread. */
  readonly thread?: boolean;
  /** Rows per row group (ROW_GROUP unless a test asks for small ones). */
  readonly rowGroup?: number;
  /** Characters of distinct text per row group (GROUP_TEXT unless a test asks for less). */
  readonly groupText?: number;
  /** The encoding thread's old generation, MiB (THREAD_HEAP_MB). */
  readonly threadHeapMb?: number;
}

export class ParquetRowsWriter implements BatchWriter {
  private readonly ready: Uint8Array[] = [];
  private readyBytes = 0;
  private group: GroupBuilder;
  private inFlight = 0;
  private failure: Error | undefined;
  /** Whoever awaits a group's return (backlog, finish): woken on each. */
  private readonly waiters: (() => void)[] = [];
  /** Updates whose catalog columns the encoder has (sent with the first group naming them). */
  private readonly sent: Uint8Array;
  private readonly rowGroup: number;
  private readonly groupText: number;

  private constructor(
    private readonly catalog: Catalog,
    private readonly filter: StateFilter,
    private readonly encoder: RowGroupEncoder,
    options: ParquetRowsOptions,
  ) {
    this.rowGroup = options.rowGroup ?? ROW_GROUP;
    this.groupText = options.groupText ?? GROUP_TEXT;
    this.group = new GroupBuilder(this.rowGroup);
    this.sent = new Uint8Array(catalog.size);
  }

  static open(catalog: Catalog, filter: StateFilter, options: ParquetRowsOptions): ParquetRowsWriter {
    const meta: ParquetFileMeta = { states: filter.states, reasons: options.reasons };
    return new ParquetRowsWriter(catalog, filter, rowGroupEncoder(meta, options), options);
  }

  get size(): number {
    return this.readyBytes;
  }

  take(): Uint8Array {
    const out = this.ready.length === 1 ? this.ready[0]! : Buffer.concat(this.ready);
    this.ready.length = 0;
    this.readyBytes = 0;
    return out;
  }

  machine(m: ScannedMachine): void {
    const set = m.resultSet;
    const { outcomes } = set;
    const reasons = set.hasReasons;
    let computer = -1;
    for (let k = 0; k < outcomes.length; k++) {
      const w = outcomes[k]!;
      if (!this.filter.has(w)) continue;
      const g = this.group;
      if (computer < 0) computer = g.text(m.computer);
      const i = outcomeIndex(w);
      if (this.sent[i] === 0) {
        this.sent[i] = 1;
        g.catalog.push([i, this.columnsOf(i)]);
      }
      const sup = outcomeSupersedence(w);
      const flags = outcomeStateCode(w) | (sup === SUP_YES ? FLAG_SUPERSEDED : sup === SUP_POSSIBLY ? FLAG_POSSIBLY_SUPERSEDED : 0);
      g.row(i, flags, computer, g.text(reasons ? set.reason(k) : ''));
      if (this.full(g)) {
        this.send();
        computer = -1; // ids are per group
      }
    }
  }

  error(m: FailedMachine): void {
    const g = this.group;
    g.row(-1, ERROR_STATE, g.text(m.computer ?? m.source), g.text(`${m.error.code}: ${m.error.message}`));
    if (this.full(g)) this.send();
  }

  /** While IN_FLIGHT groups or more are with the encoder, a promise to await before giving more machines. */
  backlog(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.inFlight < IN_FLIGHT) return undefined;
    return this.returned().then(() => this.backlog());
  }

  /** Groups sent to the encoder and not yet back. */
  get groupsInFlight(): number {
    return this.inFlight;
  }

  async finish(): Promise<void> {
    if (this.group.rows > 0) this.send();
    while (this.inFlight > 0 && this.failure === undefined) await this.returned();
    if (this.failure !== undefined) throw this.failure;
    this.push(await this.encoder.finish());
  }

  close(): Promise<void> {
    return this.encoder.close();
  }

  private full(g: GroupBuilder): boolean {
    return g.rows === this.rowGroup || g.textChars >= this.groupText;
  }

  private send(): void {
    const b = this.group.batch();
    this.group = new GroupBuilder(this.rowGroup);
    this.inFlight++;
    this.encoder.encode(b).then(
      (bytes) => {
        this.inFlight--;
        this.push(bytes);
        for (const w of this.waiters.splice(0)) w();
      },
      (e: unknown) => {
        this.inFlight--;
        this.failure ??= e instanceof Error ? e : new Error(String(e));
        for (const w of this.waiters.splice(0)) w();
      },
    );
  }

  /** Settles when the next group comes back (or fails). */
  private returned(): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private push(bytes: Uint8Array): void {
    this.ready.push(bytes);
    this.readyBytes += bytes.length;
  }

  /** The catalog's columns of update i, as the rows of `patchscan scan` have them (scanRow). */
  private columnsOf(i: number): CatalogColumns {
    const outcome = { index: i, state: 'Installed', superseded: false, possiblySuperseded: false } as const;
    const { computer: _c, state: _s, superseded: _u, possiblySuperseded: _p, reason: _r, ...fields } = scanRow(this.catalog, '', outcome);
    return fields;
  }
}
