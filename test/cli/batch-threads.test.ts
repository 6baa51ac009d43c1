/**
 * The thread count of a batch given none (`defaultThreads`): on two cores or fewer an input file or directory of fewer
 * than IN_THREAD_BELOW machines is scanned in the calling thread (the pool's start costs more than a second thread
 * gives back there: bench/RESULTS.md, "Threads for a batch"); everything else goes to the pool's default. Then a batch
 * as a user runs it: the summary says where it was scanned, and the results are the pool's, byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultThreads, formatBatchSummary, IN_THREAD_BELOW, runBatchScan } from '../../adapters/cli/batch-scan.js';
import { generateFleet } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir();
/** A sparse file of `bytes` bytes (its size is all defaultThreads reads). */
function fileOf(name: string, bytes: number): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}
const SMALL_INVENTORY_BYTES = 3_000; // batch-scan.ts: what a fleet file's size is divided by
const folder = join(dir, 'folder');
mkdirSync(folder);
for (let k = 0; k < 3; k++) writeFileSync(join(folder, `pc${k}.json`), '{}');

async function* stream(): AsyncGenerator<never> {
  // never read: defaultThreads does not consume a stream
}

describe('defaultThreads', () => {
  const small = fileOf('small.msgpack', 1_000 * SMALL_INVENTORY_BYTES);
  const below = fileOf('below.jsonl', IN_THREAD_BELOW * SMALL_INVENTORY_BYTES - 1);
  const at = fileOf('at.msgpack', IN_THREAD_BELOW * SMALL_INVENTORY_BYTES);
  const pipe = join(dir, 'fleet.jsonl');
  execFileSync('mkfifo', [pipe]);
  const light = { reasons: false, all: false, format: 'jsonl' } as const;
  it.each([
    ['a small file on 2 cores: the calling thread', { ...light, inventories: small }, 2, 0],
    ['a small file on 1 core', { ...light, inventories: small }, 1, 0],
    ['a file just below the bound', { ...light, inventories: below }, 2, 0],
    ['a file of IN_THREAD_BELOW machines or more: the pool', { ...light, inventories: at }, 2, undefined],
    ['a small file on 4 cores: the pool', { ...light, inventories: small }, 4, undefined],
    ['a directory of 3 inventories on 2 cores', { ...light, inventories: folder }, 2, 0],
    ['rows without reasons: light', { ...light, format: 'rows', inventories: small }, 2, 0],
    ['machine lines with their few reasons: light', { ...light, reasons: true, inventories: small }, 2, 0],
    ['rows with a reason each: the pool', { ...light, format: 'rows', reasons: true, inventories: small }, 2, undefined],
    ['the fleet format with every reason: the pool', { ...light, format: 'msgpack', reasons: true, inventories: small }, 2, undefined],
    ['--all: the pool', { ...light, all: true, inventories: small }, 2, undefined],
    ['standard input (its size is not known)', { ...light, inventories: '-' }, 2, undefined],
    ['a named pipe (its size is not known)', { ...light, inventories: pipe }, 2, undefined],
    ['a path that does not exist (reading it says so)', { ...light, inventories: join(dir, 'missing.jsonl') }, 2, undefined],
  ] as const)('%s', (_, o, cores, want) => {
    expect(defaultThreads(o, cores)).toBe(want);
  });
  it('a stream of inventories: the pool', () => {
    expect(defaultThreads({ ...light, inventories: stream() }, 2)).toBeUndefined();
  });
});

describe('a batch given no thread count', () => {
  it('is scanned where defaultThreads says, says so, and writes what two workers write', async () => {
    const catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
    const fleet = join(dir, 'fleet.msgpack');
    generateFleet(catalog, { clients: 60, seed: 4, out: fleet, distinct: 50 });
    const run = async (out: string, threads?: number) =>
      runBatchScan({
        catalog,
        inventories: fleet,
        out,
        format: 'jsonl',
        reasons: true,
        all: false,
        quiet: true,
        ...(threads !== undefined ? { threads } : {}),
      });
    const byDefault = await run(join(dir, 'default.jsonl'));
    const pooled = await run(join(dir, 'pooled.jsonl'), 2);
    // On this machine: the calling thread on two cores or fewer, else one worker per core.
    const cores = availableParallelism();
    expect(byDefault.threads).toBe(cores <= 2 ? 0 : cores);
    expect(formatBatchSummary(byDefault, 'default.jsonl')).toContain(
      cores <= 2 ? 'machines/s, in the calling thread)' : `machines/s, ${cores} worker thread(s))`,
    );
    expect(pooled.threads).toBe(2);
    expect(formatBatchSummary(pooled, 'pooled.jsonl')).toContain('machines/s, 2 worker thread(s))');
    expect(byDefault.machines).toBe(60);
    // The rate is machines scanned a second: inventories refused count as errors, not as speed.
    const slow = { ...pooled, seconds: 2, machines: 60, scanned: 20, errors: 40 };
    expect(formatBatchSummary(slow, 'x')).toContain('Scanned 20 machine(s) in 2.00 s (10 machines/s, 2 worker thread(s)); 40 error(s)');
    expect(byDefault.counts).toEqual(pooled.counts);
    expect(readFileSync(join(dir, 'default.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'pooled.jsonl'), 'utf8'));
  }, 120_000);
});
