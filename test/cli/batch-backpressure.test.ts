/**
 * Bounded memory in batch scans, shown by what is outstanding rather than by timing: a consumer that stops reading
 * stops the input (the pool takes no more inventories than its window), a writer whose reader pauses stops the pool,
 * and a small memory budget gives exactly the results of a large one (result sets let go are scanned again).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runBatchScan } from '../../adapters/cli/batch-scan.js';
import type { RawInventory } from '../../adapters/inventory/sources.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import type { Inventory } from '../../engine/inventory/types.js';
import type { MachineResult } from '../../engine/pool/protocol.js';
import { createScannerPool, type PoolFlow, type ScannerPoolOptions } from '../../engine/pool/scanner-pool.js';
import { tempDir } from '../helpers/tmp.js';
import { bundledCatalogFile } from '../helpers/bundled.js';

const view = (r: MachineResult): unknown => (r.ok ? { source: r.source, computer: r.computer, updates: r.updates } : r);

describe('batch scan backpressure', () => {
  const dir = tempDir();
  let catalog: Catalog;
  let fleet: Inventory[];
  let model: FleetModel;

  beforeAll(() => {
    catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
    model = new FleetModel(catalog);
    fleet = Array.from({ length: 400 }, (_, i) => model.machine(11, i));
  });

  /** Every result of `inputs` as a user sees it, through a pool made with `options`, and the pool's flow at the end. */
  const scanAll = async (
    options: Omit<ScannerPoolOptions, 'catalog'>,
    inputs: Inventory[],
  ): Promise<{ results: unknown[]; flow: PoolFlow }> => {
    const s = await createScannerPool({ catalog, ...options });
    const results: unknown[] = [];
    for await (const r of s.scanMany(inputs)) results.push(view(r));
    const flow = s.flow();
    await s.close();
    return { results, flow };
  };

  it('a consumer that stops reading stops the input: an endless source is taken only as far as the window', async () => {
    const batchSize = 8;
    const threads = 1;
    const window = Math.max(2, threads * 8) * batchSize; // batches in flight × machines per batch
    const s = await createScannerPool({ catalog, threads, batchSize });
    let taken = 0;
    function* endless(): Generator<Inventory> {
      for (let i = 0; ; i++) {
        taken++;
        yield { ...fleet[i % fleet.length], computer: { name: `PC-${i}` } };
      }
    }
    const results = s.scanMany(endless())[Symbol.asyncIterator]();
    try {
      let read = 0;
      for (; read < 600; read++) {
        const r = await results.next();
        expect(r.done).toBe(false);
        // Taken and not yet handed over: at most the window and the batch being filled.
        expect(taken - (read + 1)).toBeLessThanOrEqual(window + batchSize);
        expect(s.flow().machinesOutstanding).toBe(taken - (read + 1));
        expect(s.flow().tasksOutstanding).toBeLessThanOrEqual(window / batchSize);
      }
      // The consumer pauses. Once every batch taken has come back from the worker, nothing is left to move.
      await vi.waitFor(() => expect(s.flow().tasksRunning).toBe(0), { timeout: 50_000, interval: 20 });
      const paused = taken;
      for (let i = 0; i < 50; i++) await tick();
      expect(taken).toBe(paused);
      expect(paused - read).toBeLessThanOrEqual(window + batchSize);
      // Reading again takes more input, a batch at a time.
      for (let i = 0; i < 200; i++) await results.next();
      expect(taken).toBeGreaterThan(paused);
    } finally {
      await results.return?.();
      await s.close();
    }
    expect(s.flow()).toMatchObject({ machinesOutstanding: 0, tasksOutstanding: 0, resultBytes: 0, keptBytes: 0 });
  });

  it('a small memory budget gives exactly the results of a large one: result sets let go are scanned again', async () => {
    // Reasons make result sets heavy; a budget of a few sets forces small batches, evictions and rescans.
    const inputs = [...fleet, ...fleet.slice(0, 200)];
    type Run = { results: unknown[]; flow: PoolFlow; peak: { kept: number; results: number } };
    const collect = async (memoryBudget: number): Promise<Run> => {
      const s = await createScannerPool({ catalog, threads: 2, reasons: true, memoryBudget });
      const results: unknown[] = [];
      const peak = { kept: 0, results: 0 };
      for await (const r of s.scanMany(inputs)) {
        results.push(view(r));
        const f = s.flow();
        peak.kept = Math.max(peak.kept, f.keptBytes);
        peak.results = Math.max(peak.results, f.resultBytes);
      }
      const flow = s.flow();
      await s.close();
      return { results, flow, peak };
    };
    const large = await collect(1 << 30);
    // Half of a budget is for kept sets: a quarter of what every profile's set takes makes it hold an eighth of them.
    const budget = Math.round(large.peak.kept / 4);
    const small = await collect(budget);
    expect(small.results).toEqual(large.results);
    expect(large.flow.evictions).toBe(0);
    expect(small.flow.evictions).toBeGreaterThan(0);
    expect(small.flow.rescans).toBeGreaterThan(0);
    expect(small.peak.kept).toBeLessThan(budget);
    // The kept sets' share starts at an eighth of their half of the budget and grows with each rescan: it did grow,
    // within its half.
    // (Held at an eighth, the kept sets peaked under a quarter of the budget here: one set can weigh more than an eighth.)
    expect(small.peak.kept).toBeGreaterThan(budget / 4);
    expect(small.peak.kept).toBeLessThanOrEqual(budget / 2);
    expect(small.peak.results).toBeLessThan(large.peak.results);
  });

  it('a machine is never scanned twice for its own profile: on a fleet of distinct machines sets are let go, none rescanned', async () => {
    // Every machine claims a profile of its own; with room for a few sets, the kept ones are let go while later
    // batches land — before the machine that claimed one is read. It reads its set from its own batch.
    const inputs = Array.from({ length: 160 }, (_, i) => model.machine(12, i, true));
    const collect = (memoryBudget: number): ReturnType<typeof scanAll> =>
      scanAll({ threads: 2, reasons: true, memoryBudget, batchSize: 8 }, inputs);
    const large = await collect(1 << 30);
    const small = await collect(64 * 1024);
    expect(small.results).toEqual(large.results);
    expect(large.flow.evictions).toBe(0);
    expect(small.flow.evictions).toBeGreaterThan(0);
    expect(small.flow.rescans).toBe(0);
  });

  it('tasks are cut to what their results weigh in the worker: none past the cap once weights are known, same results', async () => {
    // A reason for every outcome: what makes results heavy (~1.3 MB a machine on the 50,000-revision catalog).
    const inputs = fleet.slice(0, 200);
    const collect = (taskResultBytes?: number): ReturnType<typeof scanAll> =>
      scanAll({ threads: 0, reasons: true, ...(taskResultBytes ? { taskResultBytes } : {}) }, inputs);
    const free = await collect(1 << 30);
    // Heaviest unlimited task: every later task sized to a tenth of it must stay near that tenth (estimates are
    // averages over landed tasks, so a task of heavier machines than before may pass it by a little).
    const cap = Math.round(free.flow.heaviestTask / 10);
    const capped = await collect(cap);
    expect(capped.results).toEqual(free.results);
    expect(capped.flow.heaviestTask).toBeGreaterThan(0);
    expect(capped.flow.heaviestTask).toBeLessThanOrEqual(2 * cap);
    expect(capped.flow.heaviestTask).toBeLessThan(free.flow.heaviestTask / 4);
  });

  it('a writer whose reader pauses stops the pool: inventories taken stay bounded until the reader reads again', async () => {
    const fifo = join(dir, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    const total = 20_000;
    let taken = 0;
    let stopAt = Infinity;
    async function* inventories(): AsyncGenerator<RawInventory> {
      for (let i = 0; i < total && taken < stopAt; i++) {
        taken++;
        const inv = { ...fleet[i % fleet.length], computer: { name: `PC-${i}` } };
        yield { bytes: Buffer.from(JSON.stringify(inv)), source: `gen:${i + 1}` };
      }
    }
    // The reader takes the first chunk, then pauses: the pipe fills, then the file stream's buffer.
    const reader = createReadStream(fifo);
    const chunks: Buffer[] = [];
    let firstChunk = false;
    reader.on('data', (d: string | Buffer) => {
      chunks.push(Buffer.from(d));
      if (!firstChunk) {
        firstChunk = true;
        reader.pause();
      }
    });
    const ended = new Promise<void>((resolve) => reader.on('end', () => resolve()));
    let flow: (() => PoolFlow) | undefined;
    const batchSize = 256;
    const run = runBatchScan({
      catalog,
      inventories: inventories(),
      out: fifo,
      format: 'jsonl',
      reasons: true,
      all: false,
      threads: 1,
      quiet: true,
      onWriteWait: (f) => (flow ??= f),
    });
    // Blocked on the pipe, and every batch taken has come back: nothing can move until the reader reads.
    await vi.waitFor(() => expect(flow !== undefined && flow().tasksRunning === 0).toBe(true), { timeout: 50_000, interval: 20 });
    const blocked = taken;
    for (let i = 0; i < 50; i++) await tick();
    expect(taken).toBe(blocked);
    // At most 8 batches in flight (one thread) of at most 256 machines, the batch being filled, and what the
    // writer had gathered (<256 KiB: a few hundred lines) — far from the 20,000 the source holds.
    expect(blocked).toBeLessThanOrEqual(9 * batchSize + 1000);
    expect(flow!().machinesOutstanding).toBeLessThanOrEqual(9 * batchSize);
    // The reader reads again; the source stops soon after: every machine taken is written, in order.
    stopAt = blocked + 500;
    reader.resume();
    const summary = await run;
    await ended;
    const text = Buffer.concat(chunks).toString('utf8').trim();
    const lines = text.split('\n').map((l) => JSON.parse(l) as { computer: string; source: string });
    expect(summary.machines).toBe(taken);
    expect(lines).toHaveLength(taken);
    expect(lines.map((l) => l.source)).toEqual(Array.from({ length: taken }, (_, i) => `gen:${i + 1}`));
    expect(taken).toBeLessThan(total);
  });

  it('a batch that fails part-way keeps no half file: neither OUT nor OUT.partial, whatever the format', async () => {
    for (const format of ['jsonl', 'parquet'] as const) {
      const out = join(dir, `failed.${format}`);
      async function* breaks(): AsyncGenerator<RawInventory> {
        for (let i = 0; i < 600; i++) {
          const inv = { ...fleet[i % fleet.length], computer: { name: `PC-${i}` } };
          yield { bytes: Buffer.from(JSON.stringify(inv)), source: `gen:${i + 1}` };
        }
        throw Object.assign(new Error('the inventory share went away'), { code: 'EIO' });
      }
      await expect(
        runBatchScan({ catalog, inventories: breaks(), out, format, reasons: true, all: false, threads: 1, quiet: true }),
      ).rejects.toThrow('the inventory share went away');
      expect([existsSync(out), existsSync(`${out}.partial`)]).toEqual([false, false]);
    }
  });

  it('a batch that cannot start (a bad option) leaves nothing running: the process exits by itself', () => {
    // A child process, so a thread left running shows as a process that does not end.
    const script = join(dir, 'cannot-start.mts'); // an ES module wherever the directory is
    const repo = new URL('../../', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { runBatchScan } from '${repo}adapters/cli/batch-scan.ts';
import { Catalog } from '${repo}engine/catalog/catalog.ts';
import { readCatalogFile } from '${repo}engine/catalog/file.ts';
const catalog = new Catalog(readCatalogFile(${JSON.stringify(bundledCatalogFile())}));
async function* none() {}
for (const format of ['parquet', 'jsonl']) {
  await runBatchScan({ catalog, inventories: none(), out: ${JSON.stringify(join(dir, 'never'))}, format, threads: 1.5, reasons: false, all: false, quiet: true })
    .then(() => console.log('scanned'), (e) => console.log(e.code));
}
`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: repo, encoding: 'utf8', timeout: 40_000 });
    expect({ status: r.status, signal: r.signal, out: r.stdout.trim().split('\n'), err: r.stderr }).toEqual({
      status: 0,
      signal: null,
      out: ['BAD_ARGUMENT', 'BAD_ARGUMENT'],
      err: '',
    });
  });
});
