/**
 * Scanning at fleet scale: a piscina pool whose workers share one compiled catalog (a SharedArrayBuffer built
 * once) and receive inventories in batches as transferable bytes. Results come back in input order; at most
 * `2 × threads` batches are in flight, so a slow consumer never lets memory grow.
 *
 * @example
 * const scanner = await createScanner({ catalog, threads: 2 });
 * for await (const r of scanner.scanMany(inventories)) if (r.ok) console.log(r.computer, r.updates.length);
 * await scanner.close();
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Packr, Unpackr } from 'msgpackr';
import { Piscina } from 'piscina';
import type { Catalog } from '../catalog/catalog.js';
import { PatchscanError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { Scanner } from '../scan/scan.js';
import type { MachineResult, ScanTask, ScanTaskOptions, ScanTaskResult } from './protocol.js';
import { decodeInventory } from '../inventory/validate.js';
import { fingerprint, ResultCache, relevantDetails, type CachedOutcomes } from '../scan/result-cache.js';
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
  /** Entries in each thread's result cache. Default 10,000. */
  readonly cacheSize?: number;
}

/** An inventory as an object, or as the raw JSON/msgpack bytes read from somewhere (validated in the worker). */
export type ScanInput = Inventory | Uint8Array | { readonly bytes: Uint8Array; readonly source: string };

export interface PooledScanner {
  readonly threads: number;
  /** Result-cache hits and misses so far. */
  cacheStats(): { hits: number; misses: number };
  scan(input: ScanInput): Promise<MachineResult>;
  scanMany(inputs: AsyncIterable<ScanInput> | Iterable<ScanInput>): AsyncIterable<MachineResult>;
  close(): Promise<void>;
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

function toItem(input: ScanInput, k: number): { bytes: Uint8Array; source: string } {
  if (input instanceof Uint8Array) return { bytes: input, source: `inventory ${k}` };
  if ('bytes' in input && input.bytes instanceof Uint8Array) return input as { bytes: Uint8Array; source: string };
  const inv = input as Inventory;
  return { bytes: Buffer.from(packr.pack(inv)), source: inv.computer?.name ?? `inventory ${k}` };
}

function workerFile(): { filename: string; execArgv: string[] } {
  const url = new URL('./worker.js', import.meta.url);
  const here = fileURLToPath(import.meta.url);
  // Under vitest the engine runs from its .ts sources: the worker needs tsx to load them.
  if (here.endsWith('.ts')) return { filename: fileURLToPath(new URL('./worker.ts', import.meta.url)), execArgv: ['--import', 'tsx'] };
  return { filename: fileURLToPath(url), execArgv: [] };
}

export async function createScanner(opts: ScannerOptions): Promise<PooledScanner> {
  const threads = opts.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 0) throw new PatchscanError('BAD_ARGUMENT', `threads must be a whole number ≥ 0, got ${String(opts.threads)}`);
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new PatchscanError('BAD_ARGUMENT', `batchSize must be a positive whole number, got ${String(opts.batchSize)}`);
  const options: ScanTaskOptions = { all: opts.all ?? false, reasons: opts.reasons ?? true, language: opts.language ?? 'en' };
  const useCache = opts.cache ?? true;
  const cacheSize = opts.cacheSize ?? 10_000;
  let hits = 0;
  let misses = 0;

  // The calling thread owns the result cache (scanManyCached); workers scan whatever they are sent.
  let runBatch: (items: { bytes: Uint8Array; source: string }[]) => Promise<MachineResult[]>;
  let closeFn: () => Promise<void>;
  if (threads === 0) {
    const scanner = new Scanner(opts.catalog);
    runBatch = async (items) => scanBatch(scanner, items.map((i) => i.bytes), items.map((i) => i.source), options);
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
    runBatch = async (items) => {
      const total = items.reduce((n, i) => n + i.bytes.length, 0);
      const bytes = new Uint8Array(total);
      const offsets = new Uint32Array(items.length + 1);
      let p = 0;
      items.forEach((it, k) => {
        bytes.set(it.bytes, p);
        p += it.bytes.length;
        offsets[k + 1] = p;
      });
      const task: ScanTask = { bytes, offsets, sources: items.map((i) => i.source), options };
      const res = (await pool.run(task, { transferList: [bytes.buffer as ArrayBuffer, offsets.buffer as ArrayBuffer] })) as ScanTaskResult;
      return unpackr.unpack(res.packed) as MachineResult[];
    };
    closeFn = () => pool.destroy();
  }

  /** Without the cache: raw bytes go straight to the workers, which decode and validate them. */
  async function* scanManyUncached(inputs: AsyncIterable<ScanInput> | Iterable<ScanInput>): AsyncIterable<MachineResult> {
    const maxInFlight = Math.max(2, threads * 2);
    const inFlight: Promise<MachineResult[]>[] = [];
    let batch: { bytes: Uint8Array; source: string }[] = [];
    let k = 0;
    for await (const input of inputs as AsyncIterable<ScanInput>) {
      batch.push(toItem(input, k++));
      if (batch.length >= batchSize) {
        inFlight.push(runBatch(batch));
        batch = [];
        if (inFlight.length >= maxInFlight) yield* await inFlight.shift()!;
      }
    }
    if (batch.length > 0) inFlight.push(runBatch(batch));
    while (inFlight.length > 0) yield* await inFlight.shift()!;
  }

  /**
   * With the cache: the calling thread decodes and validates each inventory and looks its fingerprint up in one
   * cache shared by all threads; only misses go to the workers (each profile is scanned about once per fleet,
   * whatever the thread count). Results still come out in input order.
   */
  async function* scanManyCached(inputs: AsyncIterable<ScanInput> | Iterable<ScanInput>): AsyncIterable<MachineResult> {
    type Slot = { done?: MachineResult; batch?: Promise<MachineResult[]>; k?: number; fp?: string; follow?: Slot; source?: string; computer?: string; micros?: number };
    // A fingerprint already on its way to a worker: later machines with it wait for that answer.
    const inFlightByFp = new Map<string, Slot>();
    const maxInFlight = Math.max(2, threads * 2);
    const maxQueued = batchSize * maxInFlight * 4;
    const queue: Slot[] = [];
    const pendingBatches = new Set<Promise<MachineResult[]>>();
    let batch: { bytes: Uint8Array; source: string }[] = [];
    let batchSlots: Slot[] = [];
    let k = 0;
    const submit = (): void => {
      if (batch.length === 0) return;
      const p = runBatch(batch);
      pendingBatches.add(p);
      void p.then(() => pendingBatches.delete(p), () => pendingBatches.delete(p));
      for (const slot of batchSlots) slot.batch = p;
      batch = [];
      batchSlots = [];
    };
    async function* emit(force: boolean): AsyncGenerator<MachineResult> {
      while (queue.length > 0) {
        const head = queue[0]!;
        if (head.done === undefined && head.follow) {
          // The machine it follows is ahead in the queue, so it is done by now.
          const f = head.follow.done!;
          head.done = f.ok ? { ...f, source: head.source!, computer: head.computer!, micros: head.micros ?? 0 } : { ...f, source: head.source! };
        }
        if (head.done === undefined) {
          if (!head.batch) break; // still in the unsubmitted batch
          // Wait only when the pool is full, or when finished results pile up behind this one (bounded memory).
          if (!force && pendingBatches.size < maxInFlight && queue.length <= maxQueued && pendingBatches.has(head.batch)) break;
          const r = (await head.batch)[head.k!]!;
          if (r.ok && head.fp !== undefined) mainCache!.set(head.fp, { updates: r.updates });
          if (head.fp !== undefined) inFlightByFp.delete(head.fp);
          head.done = r;
        }
        queue.shift();
        yield head.done;
      }
    }
    for await (const input of inputs as AsyncIterable<ScanInput>) {
      const t0 = performance.now();
      const item = toItem(input, k++);
      let inv: Inventory;
      try {
        inv = decodeInventory(item.bytes, item.source);
      } catch (e) {
        const error = PatchscanError.is(e) ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: (e as Error).message };
        queue.push({ done: { ok: false, source: item.source, error } });
        yield* emit(false);
        continue;
      }
      const fp = fingerprint(inv, mainCache!.details);
      const hit = mainCache!.get(fp);
      const leader = hit ? undefined : inFlightByFp.get(fp);
      if (hit) {
        queue.push({ done: { ok: true, source: item.source, computer: inv.computer.name, updates: hit.updates, micros: Math.round((performance.now() - t0) * 1000) } });
      } else if (leader) {
        mainCache!.countHit();
        queue.push({ follow: leader, source: item.source, computer: inv.computer.name, micros: Math.round((performance.now() - t0) * 1000) });
      } else {
        const slot: Slot = { k: batch.length, fp };
        inFlightByFp.set(fp, slot);
        batch.push(item);
        batchSlots.push(slot);
        queue.push(slot);
        if (batch.length >= batchSize) submit();
      }
      // A head waiting in the unsubmitted batch would hold everything behind it: send that batch early.
      if (queue.length > batchSize * maxInFlight && queue[0]!.done === undefined && !queue[0]!.batch) submit();
      yield* emit(false);
      hits = mainCache!.hits;
      misses = mainCache!.misses;
    }
    submit();
    yield* emit(true);
    hits = mainCache!.hits;
    misses = mainCache!.misses;
  }

  const mainCache = useCache ? new ResultCache<CachedOutcomes>(relevantDetails(opts.catalog), cacheSize) : undefined;
  const scanMany = mainCache ? scanManyCached : scanManyUncached;

  return {
    threads,
    cacheStats: () => ({ hits, misses }),
    scan: async (input) => (await runBatch([toItem(input, 0)]))[0]!,
    scanMany,
    close: closeFn,
  };
}
