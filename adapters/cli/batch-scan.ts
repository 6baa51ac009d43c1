/**
 * `patchscan scan --inventories SRC --out FILE`: any number of inventories, streamed through the worker pool,
 * written as they come back in the chosen format (adapters/scan-output/batch-output.ts). Memory stays bounded whatever
 * the fleet and the output: the loop awaits the file's drain before it asks the pool for the next machine, the pool
 * reads no input while its results wait (engine/pool/scanner-pool.ts), so a slow disk or a paused reader of a pipe
 * slows the input instead of filling memory. A bad inventory becomes an error record for that machine; SIGINT stops
 * reading, finishes what is in flight, writes it and reports.
 */
import {
  closeSync,
  createWriteStream,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  type WriteStream,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { ioError } from '../../engine/errors.js';
import { dirname } from 'node:path';
import { syncDirectory } from '../../engine/io/atomic-file.js';
import type { Catalog } from '../../engine/catalog/catalog.js';
import { createScannerPool, type PoolFlow } from '../../engine/pool/scanner-pool.js';
import type { MachineResult } from '../../engine/pool/protocol.js';
import type { ResultSetStats } from '../../engine/fleet/result-set.js';
import { COUNT_BUCKETS, emptyCounts, type OutcomeCounts } from '../../engine/scanner/counting.js';
import { ALL_REASONS, reasonMask } from '../../engine/fleet/scan-outcomes.js';
import { SUP_NO, SUP_POSSIBLY } from '../../engine/scanner/supersedence.js';
import type { UpdateState } from '../../engine/scanner/machine-scan.js';
import { inventorySource, type RawInventory } from '../inventory/sources.js';
import { DEFAULT_ROW_STATES, type BatchFormat, type BatchWriter } from '../scan-output/batch-output.js';
import { FleetMsgpackBatchWriter } from '../scan-output/fleet-msgpack.js';
import { MachineLinesWriter } from '../scan-output/machine-lines.js';
import { RowCsvWriter, RowLinesWriter, StateFilter } from '../scan-output/row-writers.js';
import { ProgressBar } from './progress.js';

export type { BatchFormat } from '../scan-output/batch-output.js';

export interface BatchScanOptions {
  readonly catalog: Catalog;
  /** A source spec (adapters/inventory/sources.ts), or the inventories themselves. */
  readonly inventories: string | AsyncIterable<RawInventory>;
  readonly out: string;
  readonly format: BatchFormat;
  /** Worker threads; 0 = the calling thread. Default: {@link defaultThreads}. */
  readonly threads?: number;
  /** A reason for each update the output shows (rows: each row written; jsonl: each update listed). */
  readonly reasons: boolean;
  readonly all: boolean;
  /** Row formats (rows, csv, parquet): the states written. Default Required and Unknown. */
  readonly states?: readonly UpdateState[];
  readonly quiet?: boolean;
  /** Share results between machines with the same rule inputs (default true). */
  readonly cache?: boolean;
  /** Bytes of results the pool may hold (engine/pool/scanner-pool.ts memoryBudget). */
  readonly memoryBudget?: number;
  /** Called when the loop starts waiting for the file to drain, with the pool's flow to watch (tests of backpressure). */
  readonly onWriteWait?: (flow: () => PoolFlow) => void;
}

export interface BatchSummary {
  readonly machines: number;
  readonly scanned: number;
  readonly errors: number;
  /** Outcomes of every machine counted by the counting rule (engine/scanner/counting.ts): what every report counts. */
  readonly counts: OutcomeCounts;
  /** Updates counted as Required (not superseded, not possibly superseded) on the most machines. */
  readonly topRequired: { kb: string; title: string; machines: number }[];
  readonly seconds: number;
  readonly interrupted: boolean;
  readonly firstErrors: { source: string; code: string; message: string }[];
  readonly cache: { hits: number; misses: number };
  /** Rule values of first-of-a-profile scans taken from earlier machines with the same inventory sections. */
  readonly ruleValues: { shared: number; evaluated: number };
  /** Worker threads the machines were scanned in (0: the calling thread). */
  readonly threads: number;
}

/**
 * Bytes of one machine's inventory at the small end of what fleets hold (the generator's: ~3.7 KB as msgpack, ~4.3 KB
 * as JSON Lines): an estimate of how many machines a file holds errs towards more.
 */
const SMALL_INVENTORY_BYTES = 3_000;

/**
 * Machines below which a light batch (see {@link defaultThreads}) on a machine of two cores or fewer is scanned in the
 * calling thread when no thread count is given: starting the pool — the catalog laid out in shared memory, each
 * worker's first machines — costs more there than a second thread gives back (bench/RESULTS.md, "Threads for a
 * batch", 2026-12-01: `patchscan scan` of 500 machines each with a profile of its own 2.8 s in the calling thread
 * against 4.1 s with two workers, of 2,000 4.3–4.5 against 5.2–5.5 s, of 5,000 the same either way, of 20,000 17.0
 * against 12.5 s). On more cores the pool pays for itself sooner, and stays the default.
 */
export const IN_THREAD_BELOW = 4_000;

/**
 * The thread count for a batch whose caller gave none: 0 (the calling thread) for a light batch read from a file or
 * directory that holds fewer than {@link IN_THREAD_BELOW} machines — by its size, or its number of files — on two
 * cores or fewer; else undefined (the pool's default: one worker per core). Light: no `all`, and no reasons but the
 * few a machine line lists (`jsonl`). Reasons for every row written and `all` make each machine several times the
 * work, which two workers share (2,000 machines: `-f rows --reasons` 25.2 s in the calling thread against 18.2 s,
 * `--all` 22.0 against 14.9 s; `jsonl --reasons` 5.8 against 6.7 s, `-f rows` 5.2 against 6.0 s). Standard input,
 * pipes and streams: undefined (their size is not known beforehand).
 */
export function defaultThreads(
  o: Pick<BatchScanOptions, 'inventories' | 'reasons' | 'all' | 'format'>,
  cores = availableParallelism(),
): number | undefined {
  const light = !o.all && (!o.reasons || o.format === 'jsonl');
  if (!light || cores > 2 || typeof o.inventories !== 'string' || o.inventories === '-') return undefined;
  let machines: number;
  try {
    const st = statSync(o.inventories);
    // A pipe or a device has no size to tell: the pool, as for standard input.
    if (!st.isDirectory() && !st.isFile()) return undefined;
    machines = st.isDirectory() ? readdirSync(o.inventories).length : st.size / SMALL_INVENTORY_BYTES;
  } catch {
    return undefined; // reading the source says what is wrong with it
  }
  return machines < IN_THREAD_BELOW ? 0 : undefined;
}

/** Makes a finished file durable and gives it its real name in one rename. */
function publish(from: string, to: string): void {
  const fd = openSync(from, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(from, to);
  syncDirectory(dirname(to));
}

/**
 * Writes a chunk, waiting for the stream to drain (backpressure); a write error (disk full…) rejects. `written` is told
 * when the file has the chunk (its memory may then be reused), never after an error.
 */
function write(
  out: WriteStream,
  chunk: string | Uint8Array,
  onWait?: () => void,
  written?: (chunk: Uint8Array) => void,
): Promise<void> | undefined {
  if (out.errored) return Promise.reject(out.errored);
  const ok =
    written === undefined || typeof chunk === 'string'
      ? out.write(chunk)
      : out.write(chunk, (e) => {
          if (!e) written(chunk);
        });
  if (ok) return undefined;
  onWait?.();
  return new Promise((resolve, reject) => {
    const done = (e?: Error): void => {
      out.off('drain', done);
      out.off('error', done);
      if (e) reject(e);
      else resolve();
    };
    out.once('drain', done);
    out.once('error', done);
  });
}

/** The writer of a format. Parquet's writer library (~50 modules) is loaded only when that format is asked for. */
async function writerFor(o: BatchScanOptions, filter: StateFilter): Promise<BatchWriter> {
  switch (o.format) {
    case 'jsonl':
      return new MachineLinesWriter(o.catalog, { all: o.all });
    case 'rows':
      return new RowLinesWriter(o.catalog, filter);
    case 'csv':
      return new RowCsvWriter(o.catalog, filter);
    case 'parquet':
      return (await import('../scan-output/parquet-rows.js')).ParquetRowsWriter.open(o.catalog, filter, {
        reasons: o.reasons,
        thread: o.threads !== 0, // --threads 0: nothing but the calling thread
      });
    case 'msgpack':
      return new FleetMsgpackBatchWriter(o.catalog);
  }
}

/** Reasons for what the output shows only: a reason costs far more than a state, and most are never shown. */
function reasonsFor(o: BatchScanOptions, states: readonly UpdateState[]): number {
  switch (o.format) {
    case 'jsonl':
      return reasonMask(['Required'], [SUP_NO, SUP_POSSIBLY]) | reasonMask(['Unknown']);
    case 'msgpack':
      return ALL_REASONS;
    default:
      return reasonMask(states);
  }
}

/** Result sets whose machines are added up at the end, at most this many at a time (then folded into the totals). */
const TALLY_SETS = 4096;

export async function runBatchScan(o: BatchScanOptions): Promise<BatchSummary> {
  const c = o.catalog;
  const started = performance.now();
  const source = typeof o.inventories === 'string' ? inventorySource(o.inventories) : o.inventories;
  let stop = false;
  const onSigint = (): void => {
    stop = true;
  };
  async function* guarded(): AsyncGenerator<RawInventory> {
    for await (const item of source) {
      if (stop) return;
      yield item;
    }
  }
  const states = o.states ?? DEFAULT_ROW_STATES;
  const filter = new StateFilter(states);
  const writer = await writerFor(o, filter);
  let scanner: Awaited<ReturnType<typeof createScannerPool>>;
  const threads = o.threads ?? defaultThreads(o);
  try {
    scanner = await createScannerPool({
      catalog: c,
      ...(threads !== undefined ? { threads } : {}),
      reasons: o.reasons,
      reasonMask: reasonsFor(o, states),
      all: o.all,
      cache: o.cache ?? true,
      ...(o.memoryBudget !== undefined ? { memoryBudget: o.memoryBudget } : {}),
    });
  } catch (e) {
    await writer.close?.(); // the Parquet thread must not outlive a call that scanned nothing
    throw e;
  }
  process.once('SIGINT', onSigint);
  // Results go to OUT.partial and become OUT only when the batch ends (completed or interrupted and drained): a
  // killed run never leaves a half-written file under the name a user reads. Devices and pipes are written directly.
  const direct = existsSync(o.out) && !statSync(o.out).isFile();
  const writing = direct ? o.out : `${o.out}.partial`;
  const out = createWriteStream(writing);
  // Errors surface through write() and end(); this listener only keeps an early one from being "unhandled".
  out.on('error', () => undefined);
  let finished = false;
  const bar = new ProgressBar(process.stderr, !o.quiet && process.stderr.isTTY === true);
  // The input is a stream: how many machines it holds is not known until its end, so no total (no percentage, which
  // would read 100 % all along), only the count and the rate.
  const progress = (): void => bar.update({ label: 'scanning', done: machines, total: 0, unit: 'items', detail: `${errors} error(s)` });
  const counts = emptyCounts();
  const required = new Map<number, number>();
  // Machines per shared result set: their states and Required updates are added up once per set (a set's stats,
  // not the set: the pool may let the set go).
  const perSet = new Map<number, { stats: ResultSetStats; machines: number }>();
  let machines = 0,
    errors = 0;
  let cacheStats = { hits: 0, misses: 0 };
  let ruleValues = { shared: 0, evaluated: 0 };
  const firstErrors: BatchSummary['firstErrors'] = [];
  const onWait = o.onWriteWait ? (): void => o.onWriteWait!(() => scanner.flow()) : undefined;
  // Output is gathered and written in chunks of ~256 KiB (one write per record would cost more than the record).
  const flush = async (): Promise<void> => {
    if (writer.size > 0) await write(out, writer.take(), onWait, writer.recycle?.bind(writer));
  };
  try {
    progress(); // the phase (its time and rate) starts here, not at the 256th machine
    for await (const r of scanner.scanMany(guarded())) {
      machines++;
      emit(r);
      const held = writer.backlog?.();
      if (held) await held;
      if (writer.size >= 1 << 18) await flush();
      if ((machines & 255) === 0) progress();
    }
    await writer.finish();
    finished = true;
  } finally {
    process.removeListener('SIGINT', onSigint);
    progress(); // the last machines since the last update, then the line stays
    bar.done();
    await flush().catch(() => undefined); // a write error is reported by end() below
    await writer.close?.();
    cacheStats = scanner.cacheStats();
    ruleValues = scanner.ruleValueStats();
    await scanner.close();
    try {
      await new Promise<void>((resolve, reject) =>
        out.end((e?: Error | null) => (e ? reject(e) : out.errored ? reject(out.errored) : resolve())),
      );
      if (finished && !direct) publish(writing, o.out);
      else if (!direct) rmSync(writing, { force: true }); // the batch failed: its error is thrown on; half a file is not kept
    } catch (e) {
      if (!direct) rmSync(writing, { force: true }); // an incomplete result is not kept
      throw ioError('write the results to', o.out, out.errored ?? e);
    }
  }

  function emit(r: MachineResult): void {
    if (!r.ok) {
      errors++;
      if (firstErrors.length < 10) firstErrors.push({ source: r.source, ...r.error });
      writer.error(r);
      return;
    }
    const set = r.resultSet;
    if (set.shared) {
      const e = perSet.get(set.id);
      if (e) e.machines++;
      else {
        if (perSet.size >= TALLY_SETS) foldTallies();
        perSet.set(set.id, { stats: set.stats, machines: 1 });
      }
    } else tally(set.stats, 1);
    writer.machine(r);
  }

  function tally(st: ResultSetStats, n: number): void {
    for (const b of COUNT_BUCKETS) counts[b] += st.counts[b] * n;
    for (const i of st.required) required.set(i, (required.get(i) ?? 0) + n);
  }
  function foldTallies(): void {
    for (const { stats, machines: n } of perSet.values()) tally(stats, n);
    perSet.clear();
  }
  foldTallies();

  const topRequired = [...required.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([i, n]) => ({ kb: c.kb(i), title: c.title(i), machines: n }));
  return {
    machines,
    scanned: machines - errors,
    errors,
    counts,
    topRequired,
    seconds: (performance.now() - started) / 1000,
    interrupted: stop,
    firstErrors,
    cache: cacheStats,
    ruleValues,
    threads: scanner.threads,
  };
}

const num = (n: number): string => n.toLocaleString('en-US');

/** Counts as the reports word them: Required first, superseded ones apart (docs/semantics.md, "Counting"). */
export function formatCounts(c: OutcomeCounts): string {
  return (
    `Required ${num(c.required)}, Installed ${num(c.installed)}, Unknown ` +
    `${num(c.unknown)}${c.notApplicable ? `, NotApplicable ${num(c.notApplicable)}` : ''}; ` +
    `Required but superseded ${num(c.superseded)}, possibly superseded ${num(c.possiblySuperseded)}`
  );
}

export function formatBatchSummary(s: BatchSummary, out: string): string {
  const lines = [
    `${s.interrupted ? 'Interrupted: ' : ''}Scanned ` +
      `${s.scanned.toLocaleString('en-US')} machine(s) in ${s.seconds.toFixed(2)} s (` +
      // The rate counts machines scanned: a refused inventory costs a fraction of a scan and would flatter it.
      `${(s.scanned / Math.max(s.seconds, 1e-9)).toFixed(0)} machines/s, ` +
      `${s.threads === 0 ? 'in the calling thread' : `${s.threads} worker thread(s)`}); ${s.errors} ` +
      `error(s); results in ${out}`,
    `Result cache: ${s.cache.hits + s.cache.misses > 0 ? `${((100 * s.cache.hits) / (s.cache.hits + s.cache.misses)).toFixed(1)} % of ` + `machines shared an earlier machine's results` : 'off'}`,
    ...(s.ruleValues.shared + s.ruleValues.evaluated > 0
      ? [
          `Rule values: ${((100 * s.ruleValues.shared) / (s.ruleValues.shared + s.ruleValues.evaluated)).toFixed(1)}` +
            ` % of those the first machine of a profile needed came from machines with the ` +
            `same inventory sections`,
        ]
      : []),
    `Updates: ${formatCounts(s.counts)}`,
  ];
  if (s.topRequired.length) {
    lines.push('Most needed (Required, not superseded):');
    for (const t of s.topRequired)
      lines.push(`  ${t.kb ? `KB${t.kb}` : '-'}  ${t.machines.toLocaleString('en-US')} machine(s)  ${t.title}`);
  }
  if (s.firstErrors.length) {
    lines.push('Errors (first 10):');
    for (const e of s.firstErrors) lines.push(`  ${e.code}: ${e.message}`);
  }
  return lines.join('\n');
}
