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
import { ResultCache, relevantDetails } from '../scan/result-cache.js';
import { scanBatch, type CachedOutcomes } from './scan-batch.js';
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
  const options: ScanTaskOptions = { all: opts.all ?? false, reasons: opts.reasons ?? true, language: opts.language ?? 'en', cache: opts.cache ?? true };
  const cacheSize = opts.cacheSize ?? 10_000;
  let hits = 0;
  let misses = 0;

  let runBatch: (items: { bytes: Uint8Array; source: string }[]) => Promise<MachineResult[]>;
  let closeFn: () => Promise<void>;
  if (threads === 0) {
    const scanner = new Scanner(opts.catalog);
    const cache = new ResultCache<CachedOutcomes>(relevantDetails(opts.catalog), cacheSize);
    runBatch = async (items) => {
      const r = scanBatch(scanner, items.map((i) => i.bytes), items.map((i) => i.source), options, options.cache ? cache : undefined);
      hits = cache.hits;
      misses = cache.misses;
      return r;
    };
    closeFn = async () => undefined;
  } else {
    const { filename, execArgv } = workerFile();
    const pool = new Piscina({
      filename,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      execArgv,
      workerData: { catalog: toShared(opts.catalog.data), cacheSize },
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
      hits += res.hits;
      misses += res.misses;
      return unpackr.unpack(res.packed) as MachineResult[];
    };
    closeFn = () => pool.destroy();
  }

  async function* scanMany(inputs: AsyncIterable<ScanInput> | Iterable<ScanInput>): AsyncIterable<MachineResult> {
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

  return {
    threads,
    cacheStats: () => ({ hits, misses }),
    scan: async (input) => (await runBatch([toItem(input, 0)]))[0]!,
    scanMany,
    close: closeFn,
  };
}
