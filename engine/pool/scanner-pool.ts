/**
 * Scanning at fleet scale: a piscina pool whose workers share one compiled catalog (a SharedArrayBuffer built
 * once) and receive inventories in batches as transferable bytes. Workers decode, validate and fingerprint each
 * machine; a profile table in shared memory lets every thread reuse the result set of the first machine with the
 * same profile, so each profile is scanned once per fleet. Results come back in input order; at most
 * `2 × threads` batches are in flight, so a slow consumer never lets memory grow.
 *
 * @example
 * const scanner = await createScanner({ catalog, threads: 2 });
 * for await (const r of scanner.scanMany(inventories)) if (r.ok) console.log(r.computer, r.updates.length);
 * await scanner.close();
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import { Piscina } from 'piscina';
import type { Catalog } from '../catalog/catalog.js';
import { PatchscanError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { Scanner } from '../scan/scan.js';
import { relevantDetails } from '../scan/result-cache.js';
import { ResultSet } from '../scan/result-set.js';
import { ProfileTable, type ProfileTableHandle } from './profile-table.js';
import type { MachineResult, ScanTask, ScanTaskOptions, ScanTaskResult, ScannedMachine } from './protocol.js';
import { scanBatch } from './scan-batch.js';
import { toShared } from './shared-catalog.js';

export interface ScannerOptions {
  readonly catalog: Catalog;
  /** Worker threads; 0 scans in the calling thread. Default: the machine's available parallelism. */
  readonly threads?: number;
  /** Inventories per task (one task costs ~80 µs of pool overhead). Default 256. */
  readonly batchSize?: number;
  /** Also NotApplicable updates, bundle children, detectoids and categories. */
  readonly all?: boolean;
  /** Compute a reason per outcome (slower). Default true. */
  readonly reasons?: boolean;
  readonly language?: string;
  /** Share whole-machine results between machines with the same rule inputs. Default true. */
  readonly cache?: boolean;
  /**
   * Most distinct machine profiles one scanMany() records for sharing (each kept as one packed result set,
   * ~8 KB for 2,000 outcomes; more with reasons). Past it, new profiles are scanned and not shared. Default 20,000.
   */
  readonly cacheSize?: number;
}

/** An inventory as an object, or as the raw JSON/msgpack bytes read from somewhere (validated in the worker). */
export type ScanInput = Inventory | Uint8Array | { readonly bytes: Uint8Array; readonly source: string };

export interface PooledScanner {
  readonly threads: number;
  /** Result-cache hits and misses so far. */
  cacheStats(): { hits: number; misses: number };
  /** Rule-slot values of first-of-a-profile scans taken from earlier machines with the same sections, and evaluated. */
  ruleValueStats(): { shared: number; evaluated: number };
  scan(input: ScanInput): Promise<MachineResult>;
  scanMany(inputs: AsyncIterable<ScanInput> | Iterable<ScanInput>): AsyncIterable<MachineResult>;
  close(): Promise<void>;
}

const packr = new Packr({ useRecords: false });

function toItem(input: ScanInput, k: number): { bytes: Uint8Array; source: string } {
  if (input instanceof Uint8Array) return { bytes: input, source: `inventory ${k}` };
  if ('bytes' in input && input.bytes instanceof Uint8Array) return input as { bytes: Uint8Array; source: string };
  const inv = input as Inventory;
  return { bytes: Buffer.from(packr.pack(inv)), source: inv.computer?.name ?? `inventory ${k}` };
}

/**
 * piscina loads a worker file with `require()` first and `import()` second. On Node 20.19+ `require()` of an ES
 * module is on by default, and a pool destroyed while a worker is still inside that synchronous load aborts the
 * whole process ("v8::Module::IsGraphAsync must be used on an instantiated module" — seen about once in 60 short
 * batches). Turning require(esm) off in the workers sends piscina straight to `import()`, which a terminated
 * worker abandons cleanly.
 */
const NO_REQUIRE_ESM: readonly string[] = (process.features as { require_module?: boolean }).require_module ? ['--no-experimental-require-module'] : [];

function workerFile(): { filename: string; execArgv: string[] } {
  const url = new URL('./worker.js', import.meta.url);
  const here = fileURLToPath(import.meta.url);
  // Under vitest the engine runs from its .ts sources: the worker needs tsx to load them.
  if (here.endsWith('.ts')) return { filename: fileURLToPath(new URL('./worker.ts', import.meta.url)), execArgv: [...NO_REQUIRE_ESM, '--import', 'tsx'] };
  return { filename: fileURLToPath(url), execArgv: [...NO_REQUIRE_ESM] };
}

/** A machine that was scanned: its outcomes live in a result set that may be shared. */
class Scanned implements ScannedMachine {
  readonly ok = true as const;
  constructor(readonly source: string, readonly computer: string, readonly resultSet: ResultSet, readonly micros: number) {}
  get updates(): ScannedMachine['updates'] {
    return this.resultSet.updates;
  }
}

export async function createScanner(opts: ScannerOptions): Promise<PooledScanner> {
  const threads = opts.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 0) throw new PatchscanError('BAD_ARGUMENT', `threads must be a whole number ≥ 0, got ${String(opts.threads)}`);
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new PatchscanError('BAD_ARGUMENT', `batchSize must be a positive whole number, got ${String(opts.batchSize)}`);
  const cacheSize = opts.cacheSize ?? 20_000;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) throw new PatchscanError('BAD_ARGUMENT', `cacheSize must be a whole number ≥ 0, got ${String(opts.cacheSize)}`);
  const options: ScanTaskOptions = { all: opts.all ?? false, reasons: opts.reasons ?? true, language: opts.language ?? 'en' };
  const profiles = (opts.cache ?? true) ? cacheSize : 0;
  const details = relevantDetails(opts.catalog);
  let hits = 0;
  let misses = 0;
  let ruleShared = 0;
  let ruleEvaluated = 0;

  let run: (task: ScanTask) => Promise<ScanTaskResult>;
  let closeFn: () => Promise<void>;
  if (threads === 0) {
    const scanner = new Scanner(opts.catalog);
    run = async (task) => scanBatch(scanner, task);
    closeFn = async () => undefined;
  } else {
    const { filename, execArgv } = workerFile();
    const pool = new Piscina({
      filename,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      execArgv,
      workerData: { catalog: toShared(opts.catalog.data) },
    });
    run = async (task) => (await pool.run(task, { transferList: [task.bytes.buffer as ArrayBuffer, task.offsets.buffer as ArrayBuffer] })) as ScanTaskResult;
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

  /**
   * Batches go out in input order and come back in any order; each one's shared result sets are recorded as it
   * lands. A machine may name a result set another batch is still scanning (its profile was claimed first there):
   * emitting it then waits for that batch, which is already in flight.
   */
  async function* scanMany(inputs: AsyncIterable<ScanInput> | Iterable<ScanInput>): AsyncIterable<MachineResult> {
    const table = ProfileTable.create(profiles);
    const sharedSets = new Map<number, ResultSet>();
    const pending = new Set<Promise<unknown>>();
    // Results leave in input order, so a batch with many first-of-a-profile scans holds back those behind it: enough
    // batches in flight keep every worker busy meanwhile (each is ~1 MB of inventories: memory stays bounded).
    const maxInFlight = Math.max(2, threads * 8);
    const inFlight: { items: { bytes: Uint8Array; source: string }[]; result: Promise<ScanTaskResult> }[] = [];

    const submit = (items: { bytes: Uint8Array; source: string }[]): void => {
      const result = run(task(items, table));
      const landed = result.then((r) => {
        for (const d of r.sets) if (d.shared) sharedSets.set(d.id, new ResultSet(d));
        if (profiles > 0) {
          hits += r.shared;
          misses += r.sets.length;
        }
        ruleShared += r.ruleValues.shared;
        ruleEvaluated += r.ruleValues.evaluated;
      });
      pending.add(landed);
      const forget = (): boolean => pending.delete(landed);
      landed.then(forget, forget);
      inFlight.push({ items, result });
    };

    async function* drainOne(): AsyncGenerator<MachineResult> {
      const { items, result } = inFlight.shift()!;
      const r = await result;
      const own = new Map<number, ResultSet>();
      for (const d of r.sets) own.set(d.id, sharedSets.get(d.id) ?? new ResultSet(d));
      const failed = new Map(r.errors.map((e) => [e.k, e]));
      for (let k = 0; k < items.length; k++) {
        const source = items[k]!.source;
        const e = failed.get(k);
        if (e) {
          yield { ok: false, source, ...(r.computers[k] ? { computer: r.computers[k]! } : {}), error: { code: e.code, message: e.message } };
          continue;
        }
        const id = r.setIds[k]!;
        let set = own.get(id) ?? sharedSets.get(id);
        while (set === undefined) {
          if (pending.size === 0) throw new PatchscanError('INTERNAL', `result set ${id} was named but never scanned`);
          await Promise.race(pending);
          set = sharedSets.get(id);
        }
        const computer = r.computers[k]!;
        if (set.error) yield { ok: false, source, computer, error: set.error };
        else yield new Scanned(source, computer, set, r.micros[k]!);
      }
    }

    let batch: { bytes: Uint8Array; source: string }[] = [];
    let k = 0;
    for await (const input of inputs as AsyncIterable<ScanInput>) {
      batch.push(toItem(input, k++));
      if (batch.length >= batchSize) {
        submit(batch);
        batch = [];
        if (inFlight.length >= maxInFlight) yield* drainOne();
      }
    }
    if (batch.length > 0) submit(batch);
    while (inFlight.length > 0) yield* drainOne();
  }

  return {
    threads,
    cacheStats: () => ({ hits, misses }),
    ruleValueStats: () => ({ shared: ruleShared, evaluated: ruleEvaluated }),
    scan: async (input) => {
      for await (const r of scanMany([input])) return r;
      throw new PatchscanError('INTERNAL', 'no result for one inventory');
    },
    scanMany,
    close: closeFn,
  };
}
