/**
 * A batch whose catalog file is damaged writes nothing — no results, no partial file, not a byte to a pipe — and fails
 * with the checksum's error, in the pool and in the calling thread alike; the same catalog whole gives its results.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, createReadStream, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFleet } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { runCli, runCliAsync } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

describe('a batch whose catalog does not verify', () => {
  const dir = tempDir();
  const fleet = join(dir, 'fleet.jsonl');
  generateFleet(new Catalog(readCatalogFile(bundledCatalogFile())), { clients: 300, seed: 3, out: fleet, distinct: 20 });

  /** The bundled catalog with one byte damaged in the middle. */
  function damagedCatalog(): string {
    const bytes = Buffer.from(readFileSync(bundledCatalogFile()));
    bytes[bytes.length >> 1] ^= 0xff;
    const file = join(dir, 'damaged.pscat');
    writeFileSync(file, bytes);
    return file;
  }

  it.each([['2'], ['0']])(
    'writes nothing and says the file is damaged (--threads %s)',
    async (threads) => {
      const catalog = damagedCatalog();
      const out = join(dir, `rows-${threads}.jsonl`);
      const r = runCli(['scan', '-c', catalog, '-i', fleet, '-o', out, '--threads', threads, '--quiet']);
      expect(r.err).toContain(`COMPILED_BAD_FILE: ${catalog}: checksum mismatch: the file is damaged`);
      expect(r.code).not.toBe(0);
      expect(r.out).not.toMatch(/Scanned/);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir).filter((n) => n.endsWith('.partial'))).toEqual([]);

      // A named pipe is written as results come (no partial file): not one byte before the check.
      const fifo = join(dir, `pipe-${threads}`);
      execFileSync('mkfifo', [fifo]);
      const reading = new Promise<Buffer>((resolve, reject) => {
        const parts: Buffer[] = [];
        createReadStream(fifo)
          .on('data', (b) => parts.push(b as Buffer))
          .on('end', () => resolve(Buffer.concat(parts)))
          .on('error', reject);
      });
      const piped = await runCliAsync(['scan', '-c', catalog, '-i', fleet, '-o', fifo, '--threads', threads, '--quiet']);
      expect(piped.err).toContain('checksum mismatch: the file is damaged');
      // The batch may fail before it opens the pipe: our reader is then let go by a writer of nothing.
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader any more: the batch opened the pipe and closed it
      }
      expect((await reading).length).toBe(0);

      const whole = runCli(['scan', '-c', bundledCatalogFile(), '-i', fleet, '-o', out, '--threads', threads, '--quiet']);
      expect(whole.code).toBe(0);
      expect(whole.out).toMatch(/^Scanned 300 machine\(s\)/);
      expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(300);
    },
    60_000,
  );
});
