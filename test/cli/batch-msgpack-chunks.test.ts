/**
 * The msgpack fleet output of a batch that spans many written chunks, as a user runs it (the built binary, worker
 * threads): the writer reuses the memory of chunks the output already has (recycle), so a chunk given back too early
 * would show as rows of one machine's set inside another's. The output is a named pipe read slowly, so that the
 * batch waits on its reader as it does on a slow disk or a busy consumer. Every machine's set must equal an in-process
 * scan of its inventory. (Giving chunks back as soon as they are handed to the stream passes too, as long as the batch
 * waits for the stream to drain after each chunk: the writer's own test holds the reuse itself.)
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, createReadStream, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Unpackr } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { outcomeIndex, outcomeState, outcomeSupersedence } from '../../engine/fleet/result-set.js';
import { scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import { msgpackValueEnd } from '../../engine/inventory/msgpack-frames.js';
import { decodeInventory } from '../../engine/inventory/validate.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { tempDir } from '../helpers/tmp.js';
import { BIN, runCli, type CliRun } from '../helpers/serve.js';

const run = (args: string[]): CliRun => runCli(args, { timeout: 240_000 });

type Row = [string, string, boolean | null];

describe('msgpack batch output over many chunks', () => {
  const dir = tempDir();
  const cab = join(dir, 'c.cab');
  const catalogFile = join(dir, 'c.pscat');
  const fleet = join(dir, 'fleet.msgpack');
  const out = join(dir, 'out.fifo');

  beforeAll(() => {
    expect(run(['corpus', 'catalog', '-n', '3000', '-s', '5', '-o', cab]).code).toBe(0);
    expect(run(['catalog', 'import', cab, '-o', catalogFile]).code).toBe(0);
    expect(run(['corpus', 'fleet', '-c', catalogFile, '-n', '400', '-s', '9', '--distinct', '100', '-o', fleet]).code).toBe(0);
  }, 240_000);

  it('holds, for every machine, the outcomes an in-process scan gives', async () => {
    // --all: every update a row, ~3,000 rows per set, so the file is many times the 256 KiB the batch writes at once.
    execFileSync('mkfifo', [out]);
    const child = spawn(
      process.execPath,
      [BIN, 'scan', '-c', catalogFile, '-i', fleet, '-f', 'msgpack', '--all', '--no-cache', '-t', '2', '-q', '-o', out],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    const parts: Buffer[] = [];
    const reader = createReadStream(out, { highWaterMark: 64 * 1024 });
    reader.on('data', (d) => {
      parts.push(d as Buffer);
      reader.pause();
      setTimeout(() => reader.resume(), 2);
    });
    const read = new Promise<void>((resolve, reject) => reader.on('end', () => resolve()).on('error', reject));
    // A scan that fails before it opens the pipe would leave the reader waiting for a writer: open it (without
    // blocking) and close it, so the reader ends and the assertions below say what went wrong.
    void exited.then(() => {
      try {
        closeSync(openSync(out, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader any more: it has ended
      }
    });
    await read;
    expect(err).toBe('');
    expect(await exited).toBe(0);
    const output = Buffer.concat(parts);
    expect(output.length).toBeGreaterThan(40 * (1 << 18));

    const sets = new Map<number, Row[]>();
    const byMachine = new Map<string, Row[]>();
    for (const v of new Unpackr({ useRecords: false }).unpackMultiple(output) as Record<string, unknown>[]) {
      if ('updates' in v) sets.set(v.resultSet as number, v.updates as Row[]);
      else byMachine.set(v.source as string, sets.get(v.resultSet as number)!);
    }

    const catalog = new Catalog(readCatalogFile(catalogFile));
    const scanner = new Scanner(catalog, { shareRuleResults: false });
    const bytes = readFileSync(fleet);
    let k = 0;
    for (let at = 0; at < bytes.length; k++) {
      const end = msgpackValueEnd(bytes, at);
      const source = `${fleet}#${k + 1}`;
      const want = Array.from(
        scanOutcomes(scanner, decodeInventory(bytes.subarray(at, end), source), { all: true, reasons: false }).outcomes,
        (w): Row => [catalog.updateId(outcomeIndex(w)), outcomeState(w), [false, true, null][outcomeSupersedence(w)]!],
      );
      expect(byMachine.get(source), source).toEqual(want);
      at = end;
    }
    expect(k).toBe(400);
    expect(byMachine.size).toBe(400);
  }, 240_000);
});
