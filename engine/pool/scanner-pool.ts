/**
 * Scanning at fleet scale: a piscina pool whose workers share one compiled catalog (a SharedArrayBuffer built
 * once) and receive inventories in batches as transferable bytes. Workers decode, validate and fingerprint each
 * machine; a profile table in shared memory lets every thread reuse the result set of the first machine with the
 * same profile, so each profile is scanned once per fleet. Results come back in input order.
 *
 * Memory is bounded whatever the fleet and the output (`memoryBudget`): scanMany() is pulled by its consumer, so a
 * slow writer stops the reading of inputs; batches in flight are limited by count and by the bytes their results are
 * expected to take (learned from the batches that landed, starting small); the result sets kept for sharing are
 * limited by bytes too — the least recently used go, and a machine that names one that went is scanned again.
 *
 * @example
 * const scanner = await createScannerPool({ catalog, threads: 2 });
 * for await (const r of scanner.scanMany(inventories)) if (r.ok) console.log(r.computer, r.updates.length);
 * await scanner.close();
 */
import { availableParallelism } from 'node:os';
import { Packr } from 'msgpackr';
import { Piscina } from 'piscina';
import type { Catalog } from '../catalog/catalog.js';
import { PatchscanError, type ErrorCode } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { Scanner } from '../scanner/scanner.js';
import { relevantDetails } from '../catalog/relevant-details.js';
import { ResultSet } from '../fleet/result-set.js';
import type { OutcomeOptions } from '../fleet/scan-outcomes.js';
import { ProfileTable, type ProfileTableHandle } from '../fleet/profile-table.js';
import { ReasonTable } from './reason-table.js';
import type { MachineResult, ScanTask, ScanTaskResult, ScannedMachine, TaskSet } from './protocol.js';
import { scanBatch } from './scan-batch.js';
import { sharedLayout } from './shared-catalog.js';
import { threadEntry } from './thread-entry.js';
import { valueKind } from '../value-kind.js';

export interface ScannerPoolOptions {
  readonly catalog: Catalog;
  /** Worker threads; 0 scans in the calling thread. Default: the machine's available parallelism. */
  readonly threads?: number;
  /** Inventories per task (one task costs ~80 µs of pool overhead). Default 256. */
  readonly batchSize?: number;
  /** Also NotApplicable updates, bundle children, detectoids and categories. */
  readonly all?: boolean;
  /** Compute a reason per outcome (slower). Default true. */
  readonly reasons?: boolean;
  /** Share whole-machine results between machines with the same rule inputs. Default true. */
  readonly cache?: boolean;
  /**
   * Most distinct machine profiles one scanMany() records for sharing (each kept as one packed result set,
   * ~8 KB for 2,000 outcomes; more with reasons). Past it, new profiles are scanned and not shared. Default 20,000.
   */
  readonly cacheSize?: number;
  /** With reasons: which outcomes get one (`reasonMask` of engine/fleet/scan-outcomes.ts). Default: every outcome. */
  readonly reasonMask?: number;
  /**
   * Bytes of results one scanMany() may hold: half for batches in flight or waiting to be read, up to half for
   * result sets kept for sharing (an eighth at first, more as machines name sets already let go). Default 128 MiB
   * ({@link DEFAULT_MEMORY_BUDGET}).
   */
  readonly memoryBudget?: number;
  /**
   * Old-generation heap of each worker thread, MiB (default {@link workerHeapMb}: 160, or three times the shared
   * catalog's size if larger). A worker's heap grows with what
   * building reasons leaves behind (V8 collects late when it may grow), not with what it keeps: the limit makes it
   * collect sooner. A worker that does exceed it fails the scan with an error saying so.
   */
  readonly workerHeapMb?: number;
  /** Bytes of results one task may build in its worker (machines per task are cut to fit). Default 8 MiB ({@link TASK_RESULT_BYTES}). */
  readonly taskResultBytes?: number;
}

/** Where the results of the pool are, for callers that watch its flow (tests of backpressure, progress). */
export interface PoolFlow {
  /** Inputs taken from the sources of running scanMany() calls and not yet handed back to their consumers. */
  readonly machinesOutstanding: number;
  /** Batches submitted whose results are not yet read to the end. */
  readonly tasksOutstanding: number;
  /** Of those, batches still in a worker. */
  readonly tasksRunning: number;
  /** Estimated bytes of the results of those batches. */
  readonly resultBytes: number;
  /** Estimated bytes of the result sets kept for sharing. */
  readonly keptBytes: number;
  /** Result sets let go to stay in budget, and machines scanned again because they named one. */
  readonly evictions: number;
  readonly rescans: number;
  /**
   * Of the tasks sized once what a machine's results weigh was known, the most bytes of results one built in its
   * worker ({@link ScannerPoolOptions.taskResultBytes}).
   */
  readonly heaviestTask: number;
}

/** An inventory as an object, or as the raw JSON/msgpack bytes read from somewhere (validated in the worker). */
export type ScanInput = Inventory | Uint8Array | { readonly bytes: Uint8Array; readonly source: string };

export interface ScannerPool {
  readonly threads: number;
  /** Result-cache hits and misses so far. */
  cacheStats(): { hits: number; misses: number };
  /** Rule-slot values of first-of-a-profile scans taken from earlier machines with the same sections, and evaluated. */
  ruleValueStats(): { shared: number; evaluated: number };
  flow(): PoolFlow;
  scan(input: ScanInput): Promise<MachineResult>;
  scanMany(inputs: AsyncIterable<ScanInput> | Iterable<ScanInput>): AsyncIterable<MachineResult>;
  close(): Promise<void>;
}

const packr = new Packr({ useRecords: false });

/**
 * The default old-generation limit of a worker thread: 160 MiB, or three times the shared catalog's bytes for a
 * larger catalog. What a worker keeps grows with the catalog (its view of it, compiled rules, memos: ~50 MiB for the
 * 50,000-revision catalog, 36 MiB shared) plus one task's results, at most {@link TASK_RESULT_BYTES} and a serialized
 * copy. The rest is what building reasons leaves behind, which V8 collects late while it may grow: at 256 MiB, with
 * tasks of ~32 machines, each worker's heap grew to ~300 MiB with a reason for every outcome; with tasks cut to
 * 8 MiB of results, 160 MiB cost no measurable CPU (issue-14 fleet, bench/RESULTS.md "Batch output that fits a fleet").
 */
export function workerHeapMb(sharedCatalogBytes: number): number {
  return Math.max(160, Math.ceil((3 * sharedCatalogBytes) / 1048576));
}

/**
 * The default memoryBudget: 128 MiB, the largest share of a batch scan's memory that is ours to choose (the rest: the
 * catalog, ~36 MiB shared; each worker's heap; a Parquet encoder's). A batch waits for its writer, so more results
 * held ahead of it do not make it faster: at 256 MiB a 5,000-machine distinct fleet with reasons held ~100 MiB more
 * (bench/RESULTS.md, run of 2026-12-01 06:14–09:14), and 160 MiB against 128 held 35–60 MiB more in `-f parquet
 * --reasons` on the issue-14 fleet, in the same time; the 1M fleet took the same time at 128.
 */
export const DEFAULT_MEMORY_BUDGET = 128 * 1048576;

/** First batches are small: until one lands, what a machine's results weigh is not known. */
const FIRST_BATCH = 16;

/**
 * Bytes of results one task may build in its worker (a worker holds its task's results until the task ends, then a
 * serialized copy). With a reason for every outcome a machine's results weighed ~1.3 MB as strings: 32 such machines
 * in a task kept ~45 MB live in each worker, and V8 grew each worker's heap to 2–3 × that (bench/RESULTS.md, "Batch
 * output that fits a fleet"). Reasons now leave a worker as UTF-8 bytes, outside its heap, but the cut stays: it is
 * also what one task brings to the batch loop at once.
 */
export const TASK_RESULT_BYTES = 8 * 1048576;

/** Estimated bytes of a result set as it lands: its outcomes and its reasons' bytes. */
function landedBytes(d: TaskSet): number {
  return d.outcomes.byteLength + 96 + (d.reasons ? d.reasons.utf8.byteLength + d.reasons.ends.byteLength : 0);
}

/** Estimated heap bytes of a kept set whose reasons are interned: the ReasonTable counts the texts, once each. */
function internedBytes(set: ResultSet): number {
  return set.outcomes.byteLength + 96 + set.size * 8;
}

function toItem(input: ScanInput, k: number): { bytes: Uint8Array; source: string } {
  if (input instanceof Uint8Array) return { bytes: input, source: `inventory ${k}` };
  if (input instanceof ArrayBuffer) return { bytes: new Uint8Array(input), source: `inventory ${k}` };
  // A caller's mistake (JSON text, null, a number), not a bad inventory: said with its type, never its content (an
  // inventory's text in an error message ends up in logs).
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new PatchscanError(
      'BAD_ARGUMENT',
      `scan input ${k} is ${valueKind(input)}: give an ` +
        `inventory as its bytes (a Uint8Array or Buffer of JSON or msgpack), as { bytes, source }, or as a decoded object`,
    );
  if ('bytes' in input && input.bytes instanceof Uint8Array) return input;
  const inv = input as Inventory;
  return { bytes: Buffer.from(packr.pack(inv)), source: inv.computer?.name ?? `inventory ${k}` };
}

/** A machine that was scanned: its outcomes live in a result set that may be shared. */
class Scanned implements ScannedMachine {
  readonly ok = true as const;
  constructor(
    readonly source: string,
    readonly computer: string,
    readonly resultSet: ResultSet,
    readonly micros: number,
  ) {}
  get updates(): ScannedMachine['updates'] {
    return this.resultSet.updates;
  }
}

export async function createScannerPool(opts: ScannerPoolOptions): Promise<ScannerPool> {
  const threads = opts.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 0)
    throw new PatchscanError('BAD_ARGUMENT', `threads must be a whole number ≥ 0, got ${String(opts.threads)}`);
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new PatchscanError('BAD_ARGUMENT', `batchSize must be a positive whole number, got ${String(opts.batchSize)}`);
  const cacheSize = opts.cacheSize ?? 20_000;
  if (!Number.isInteger(cacheSize) || cacheSize < 0)
    throw new PatchscanError('BAD_ARGUMENT', `cacheSize must be a whole number ≥ 0, got ${String(opts.cacheSize)}`);
  const memoryBudget = opts.memoryBudget ?? DEFAULT_MEMORY_BUDGET;
  if (!(memoryBudget > 0))
    throw new PatchscanError('BAD_ARGUMENT', `memoryBudget must be a positive number of bytes, got ${String(opts.memoryBudget)}`);
  const options: OutcomeOptions = {
    all: opts.all ?? false,
    reasons: opts.reasons ?? true,
    ...(opts.reasonMask !== undefined ? { reasonMask: opts.reasonMask } : {}),
  };
  const profiles = (opts.cache ?? true) ? cacheSize : 0;
  const details = relevantDetails(opts.catalog);
  let hits = 0;
  let misses = 0;
  let ruleShared = 0;
  let ruleEvaluated = 0;
  const taskResultBytes = opts.taskResultBytes ?? TASK_RESULT_BYTES;
  if (!(taskResultBytes > 0))
    throw new PatchscanError('BAD_ARGUMENT', `taskResultBytes must be a positive number of bytes, got ${String(opts.taskResultBytes)}`);
  const flow = {
    machinesOutstanding: 0,
    tasksOutstanding: 0,
    tasksRunning: 0,
    resultBytes: 0,
    keptBytes: 0,
    evictions: 0,
    rescans: 0,
    heaviestTask: 0,
  };
  /** For machines that name a result set that was let go: scanned alone, not looked up. */
  const noTable = ProfileTable.create(0);

  let run: (task: ScanTask) => Promise<ScanTaskResult>;
  let closeFn: () => Promise<void>;
  if (threads === 0) {
    const scanner = new Scanner(opts.catalog);
    run = async (task) => scanBatch(scanner, task);
    closeFn = async () => undefined;
  } else {
    const { filename, execArgv } = threadEntry(import.meta.url, 'worker');
    const catalog = sharedLayout(opts.catalog);
    const heapMb = opts.workerHeapMb ?? workerHeapMb(catalog.buffer.byteLength);
    if (!(heapMb > 0)) throw new PatchscanError('BAD_ARGUMENT', `workerHeapMb must be a positive number, got ${String(opts.workerHeapMb)}`);
    const pool = new Piscina({
      filename,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      execArgv,
      workerData: { catalog },
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    });
    // A worker that dies outside a task (its heap limit while it loads, say) fails the tasks waiting for it and the
    // next ones, instead of leaving them waiting for a worker that will not come (piscina starts no other). Each task
    // waiting is told by its own rejecter, dropped when it settles: racing every task against one promise that never
    // settles kept a reaction per task on it, and with it the task's results (reasons included) for the whole scan —
    // ~110 MiB per 1,000 distinct machines with reasons.
    // The pool is then done: every later scan fails with the same error. Piscina starts no worker in place of one that
    // failed to start, and may start one for a worker that died later; either way the death is a bug or the heap, and
    // a pool that goes on after it would hide that.
    let failed: PatchscanError | undefined;
    const waiting = new Set<(e: unknown) => void>();
    pool.on('error', (e) => {
      failed ??= workerDied(e, ' This pool scans nothing more: close it and create another.');
      for (const reject of waiting) reject(failed);
      waiting.clear();
    });
    const outOfMemory = (e: unknown): boolean => (e as { code?: unknown })?.code === 'ERR_WORKER_OUT_OF_MEMORY';
    const workerDied = (e: unknown, after = ''): PatchscanError =>
      outOfMemory(e)
        ? new PatchscanError(
            'INTERNAL',
            `a scan worker thread ran out of its ${heapMb} MiB heap (${(e as Error).message}` +
              `); scan in the calling thread instead (threads: 0, or --threads 0), or report it.${after}`,
            { workerHeapMb: heapMb },
            { cause: e },
          )
        : new PatchscanError(
            'INTERNAL',
            `a scan worker thread failed (${e instanceof Error ? e.message : String(e)}): please report it.${after}`,
            {},
            { cause: e },
          );
    run = (task) => {
      if (failed !== undefined) return Promise.reject(failed);
      return new Promise<ScanTaskResult>((resolve, reject) => {
        const fail = (e: unknown): void => {
          waiting.delete(fail);
          // Closed meanwhile: piscina's own error, which scanManyOpen says with a code. Else the thread's failure, coded.
          reject(closed || PatchscanError.is(e) ? (e instanceof Error ? e : new Error(String(e))) : workerDied(e));
        };
        waiting.add(fail);
        pool
          .run(task, { transferList: [task.bytes.buffer as ArrayBuffer, task.offsets.buffer as ArrayBuffer] })
          .then((r: ScanTaskResult) => {
            waiting.delete(fail);
            resolve(r);
          }, fail);
      });
    };
    closeFn = () => pool.destroy();
  }

  function task(items: readonly { bytes: Uint8Array; source: string }[], table: ProfileTableHandle): ScanTask {
    const total = items.reduce((n, i) => n + i.bytes.length, 0);
    const bytes = new Uint8Array(total);
    const offsets = new Uint32Array(items.length + 1);
    let p = 0;
    items.forEach((it, k) => {
      bytes.set(it.bytes, p);
      p += it.bytes.length;
      offsets[k + 1] = p;
    });
    return { bytes, offsets, sources: items.map((i) => i.source), options, table, details };
  }

  // A closed pool scans nothing more: without this a call after close() started new worker threads.
  let closed = false;
  async function* scanManyOpen(inputs: AsyncIterable<ScanInput> | Iterable<ScanInput>): AsyncIterable<MachineResult> {
    if (closed) throw new PatchscanError('BAD_ARGUMENT', 'the scanner pool is closed: create another one to scan again');
    try {
      yield* scanMany(inputs);
    } catch (e) {
      // Closed while this ran: piscina's "Terminating worker thread", said with a code.
      if (closed && !PatchscanError.is(e))
        throw new PatchscanError(
          'BAD_ARGUMENT',
          'the scanner pool was closed while it scanned: machines not returned yet were not scanned',
          {},
          { cause: e },
        );
      throw e;
    }
  }

  /**
   * Batches go out in input order and come back in any order; each one's shared result sets are recorded as it
   * lands. A machine may name a result set another batch is still scanning (its profile was claimed first there):
   * emitting it then waits for that batch, which is already in flight.
   */
  async function* scanMany(inputs: AsyncIterable<ScanInput> | Iterable<ScanInput>): AsyncIterable<MachineResult> {
    const table = ProfileTable.create(profiles);
    // Shared result sets by id, least recently used first; ids let go are remembered, to tell them from ids whose
    // batch has not landed yet.
    // A kept set's reasons stay as their worker sent them (bytes) until a second machine names the set: then they are
    // decoded once and interned (`interned`), as its reasons will be written again and texts repeat across profiles.
    // On a fleet where sets are named again (an eighth of them or more, a rescan counting as one), sets are interned as
    // they land instead: as bytes each holds its own copy of texts other sets share, fewer fit the kept share, and the
    // machines that named one let go were scanned again (the first 2,000 of the issue-14 fleet with reasons: 720
    // rescans against 139 this way).
    type Kept = { set: ResultSet; bytes: number; uses: number; interned: boolean };
    const kept = new Map<number, Kept>();
    const evicted = new Set<number>();
    let keptBytes = 0;
    // Reason texts of the interned sets, one copy each: counted with the kept sets.
    const texts = new ReasonTable();
    const intern = (e: Kept): void => {
      const reasons = e.set.reasonTexts();
      e.interned = true;
      if (!reasons) return;
      const bytes = internedBytes(e.set);
      keptBytes += bytes - e.bytes;
      flow.keptBytes += bytes - e.bytes + texts.intern(reasons);
      e.bytes = bytes;
    };
    const release = (e: Kept): void => {
      if (!e.interned) return;
      const reasons = e.set.reasonTexts();
      if (reasons) flow.keptBytes -= texts.release(reasons);
    };
    // The kept sets' share of the budget is earned: it starts at an eighth and grows by a sixteenth each time a
    // machine names a set already let go (a rescan: a bigger share would have answered it). On a fleet whose
    // machines share nothing, sets kept for sharing are never named again; with reasons they weigh ~50 KB each, and
    // the whole half of the budget was filled with sets no machine read. Fleets that share grow it back at the cost
    // of a few rescans (the 1M fleet: the same time, bench/RESULTS.md).
    const keptBudget = memoryBudget / 2;
    let keptLimit = keptBudget / 8;
    const flightBudget = memoryBudget / 2;
    const pending = new Set<Promise<unknown>>();
    // Results leave in input order, so a batch with many first-of-a-profile scans holds back those behind it: enough
    // batches in flight keep every worker busy meanwhile — as many as the budget allows.
    const maxInFlight = Math.max(2, threads * 8);
    type Item = { bytes: Uint8Array; source: string };
    type Flight = {
      items: Item[];
      result: Promise<ScanTaskResult>;
      bytes: number;
      landed: boolean;
      sized: boolean;
      /** The sets the batch scanned, once it landed: its own machines read them here, kept or not. */
      sets: Map<number, ResultSet>;
    };
    const inFlight: Flight[] = [];
    /** Bytes of the results of one machine: the most a recent batch took per machine (decaying); 0 = not known yet. */
    let perMachine = 0;
    let flightBytes = 0; // landed batches: measured; running ones: estimated
    let machines = 0;
    let done = false; // the consumer stopped: batches that land after that only free their results

    /** Lets the least recently used sets go while the kept ones weigh more than their share. */
    const trim = (): void => {
      for (const [old, e] of kept) {
        if (keptBytes + texts.bytes <= keptLimit || kept.size <= 1) break;
        kept.delete(old);
        evicted.add(old);
        keptBytes -= e.bytes;
        flow.keptBytes -= e.bytes;
        release(e);
        flow.evictions++;
      }
    };
    let keptSets = 0;
    let namedAgain = 0;
    const internOnLanding = (): boolean => keptSets >= 16 && namedAgain * 8 >= keptSets;
    const keep = (id: number, set: ResultSet, bytes: number, uses: number): void => {
      const e: Kept = { set, bytes, uses, interned: false };
      kept.set(id, e);
      keptSets++;
      keptBytes += bytes;
      flow.keptBytes += bytes;
      if (set.hasReasons && internOnLanding()) intern(e);
      trim();
    };
    const use = (id: number): ResultSet | undefined => {
      const e = kept.get(id);
      if (!e) return undefined;
      kept.delete(id); // most recently used goes last
      kept.set(id, e);
      if (++e.uses === 2) {
        namedAgain++;
        if (!e.interned && e.set.hasReasons) {
          intern(e);
          trim();
        }
      }
      return e.set;
    };
    const estimate = (n: number): number => n * perMachine;

    const submit = (items: Item[]): void => {
      const sized = perMachine > 0;
      const f: Flight = { items, result: run(task(items, table)), bytes: estimate(items.length), landed: false, sized, sets: new Map() };
      flightBytes += f.bytes;
      flow.resultBytes += f.bytes;
      flow.tasksOutstanding++;
      flow.tasksRunning++;
      const landed = f.result.then((r) => {
        flow.tasksRunning--;
        f.landed = true;
        if (done) return;
        let bytes = 0;
        for (const d of r.sets) {
          const b = landedBytes(d);
          bytes += b;
          const set = new ResultSet(d);
          f.sets.set(d.id, set);
          if (d.shared) {
            evicted.delete(d.id);
            keep(d.id, set, b, 0);
          }
        }
        const each = bytes / items.length;
        perMachine = Math.max(each, perMachine * 0.9);
        if (f.sized) flow.heaviestTask = Math.max(flow.heaviestTask, bytes);
        flightBytes += bytes - f.bytes;
        flow.resultBytes += bytes - f.bytes;
        f.bytes = bytes;
        if (profiles > 0) {
          hits += r.shared;
          misses += r.sets.length;
        }
        ruleShared += r.ruleValues.shared;
        ruleEvaluated += r.ruleValues.evaluated;
      });
      pending.add(landed);
      const forget = (): void => {
        pending.delete(landed);
      };
      landed.then(forget, () => {
        forget();
        if (!f.landed) flow.tasksRunning--;
      });
      inFlight.push(f);
    };

    /** Room for one more batch of `n` machines: by count, and by what its results are expected to weigh. */
    const room = (n: number): boolean =>
      inFlight.length === 0 || (inFlight.length < maxInFlight && flightBytes + estimate(n) <= flightBudget);
    /**
     * Machines per batch: as configured, fewer when results are heavy (reasons), so a few batches fit the budget and
     * a task's results fit {@link TASK_RESULT_BYTES} in its worker.
     */
    const nextBatchSize = (): number => {
      if (perMachine === 0) return Math.min(batchSize, FIRST_BATCH);
      const byBudget = Math.floor(flightBudget / (maxInFlight * perMachine));
      const byWorker = Math.floor(taskResultBytes / perMachine);
      return Math.max(1, Math.min(batchSize, byBudget, byWorker));
    };

    /** A machine whose shared result set was let go: scanned again, alone; the set is kept again under its id. */
    const rescan = async (item: Item, id: number): Promise<ResultSet | { error: { code: ErrorCode; message: string } }> => {
      flow.rescans++;
      namedAgain++; // a machine named a set let go: sets are named again on this fleet
      keptLimit = Math.min(keptBudget, keptLimit + keptBudget / 16);
      const r = await run(task([item], noTable));
      const d = r.sets[0];
      if (!d) return { error: r.errors[0] ?? { code: 'INTERNAL', message: `rescan of ${item.source} gave no result` } };
      const set = new ResultSet({ ...d, id, shared: true });
      evicted.delete(id);
      keep(id, set, landedBytes(d), 1);
      return set;
    };

    async function* drainOne(): AsyncGenerator<MachineResult> {
      const f = inFlight[0]!;
      const { items } = f;
      const r = await f.result; // its landing (submit) ran first: f.sets is filled
      const failed = new Map(r.errors.map((e) => [e.k, e]));
      try {
        for (let k = 0; k < items.length; k++) {
          const source = items[k]!.source;
          const e = failed.get(k);
          machines--;
          flow.machinesOutstanding--;
          if (e) {
            const computer = r.computers[k] ? { computer: r.computers[k]! } : {};
            yield { ok: false, source, ...computer, error: { code: e.code, message: e.message } };
            continue;
          }
          const id = r.setIds[k]!;
          // A set this batch scanned is read from the batch even if the kept ones let it go meanwhile (the machine that
          // claimed a profile must not be scanned twice); use() first, for its place among the kept and its readers.
          let set: ResultSet | { error: { code: ErrorCode; message: string } } | undefined = use(id) ?? f.sets.get(id);
          while (set === undefined) {
            if (evicted.has(id)) set = await rescan(items[k]!, id);
            else {
              if (pending.size === 0) throw new PatchscanError('INTERNAL', `result set ${id} was named but never scanned`);
              await Promise.race(pending);
              set = use(id);
            }
          }
          const computer = r.computers[k]!;
          if (set.error) yield { ok: false, source, computer, error: set.error };
          else yield new Scanned(source, computer, set as ResultSet, r.micros[k]!);
        }
      } finally {
        inFlight.shift();
        flightBytes -= f.bytes;
        flow.resultBytes -= f.bytes;
        flow.tasksOutstanding--;
      }
    }

    try {
      let batch: Item[] = [];
      let size = nextBatchSize();
      let k = 0;
      for await (const input of inputs as AsyncIterable<ScanInput>) {
        batch.push(toItem(input, k++));
        machines++;
        flow.machinesOutstanding++;
        if (batch.length >= size) {
          // Backpressure: no new batch until there is room; making room means handing results to the consumer,
          // which does not ask for the next one until it has written this one.
          while (!room(batch.length)) yield* drainOne();
          submit(batch);
          batch = [];
          size = nextBatchSize();
        }
      }
      if (batch.length > 0) {
        while (!room(batch.length)) yield* drainOne();
        submit(batch);
      }
      while (inFlight.length > 0) yield* drainOne();
    } finally {
      // A consumer that stopped early: what it did not read is no longer outstanding.
      done = true;
      flow.machinesOutstanding -= machines;
      flow.tasksOutstanding -= inFlight.length;
      flow.resultBytes -= flightBytes;
      flow.keptBytes -= keptBytes + texts.bytes;
      // Batches still in a worker finish before this returns: a pool closed right after is not handed results late.
      await Promise.allSettled(inFlight.map((f) => f.result));
    }
  }

  return {
    threads,
    cacheStats: () => ({ hits, misses }),
    ruleValueStats: () => ({ shared: ruleShared, evaluated: ruleEvaluated }),
    flow: () => ({ ...flow }),
    scan: async (input) => {
      for await (const r of scanManyOpen([input])) return r;
      throw new PatchscanError('INTERNAL', 'no result for one inventory');
    },
    scanMany: scanManyOpen,
    close: async () => {
      closed = true;
      await closeFn();
    },
  };
}
