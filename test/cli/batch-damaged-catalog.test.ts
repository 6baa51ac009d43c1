/**
 * A batch reads its catalog and starts scanning while a thread of its own verifies the file's checksum
 * (engine/catalog/file.ts readCatalogFileVerifying). With a byte damaged where decoding does not see it, the batch must
 * write nothing (no results, no partial file left) and fail with the checksum's error, in the pool and in the calling
 * thread alike; the same catalog whole gives its results.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFleet } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile, readCatalogFileVerifying } from '../../engine/catalog/file.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { runCli, runCliAsync } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

describe('a batch whose catalog does not verify', () => {
  const dir = tempDir();
  const fleet = join(dir, 'fleet.jsonl');
  generateFleet(new Catalog(readCatalogFile(bundledCatalogFile())), { clients: 300, seed: 3, out: fleet, distinct: 20 });

  /** The bundled catalog with one byte damaged where decoding does not see it (only the checksum can tell). */
  async function damagedCatalog(): Promise<string> {
    const whole = readFileSync(bundledCatalogFile());
    const file = join(dir, 'damaged.pscat');
    for (let k = 1; k < 32; k++) {
      const bytes = Buffer.from(whole);
      bytes[Math.floor((bytes.length * k) / 32)] ^= 0xff;
      writeFileSync(file, bytes);
      if (
        await readCatalogFileVerifying(file).then(
          () => true,
          () => false,
        )
      )
        return file;
    }
    throw new Error('no place in the catalog where damage decodes');
  }

  it.each([['2'], ['0']])(
    'writes nothing and says the file is damaged (--threads %s)',
    async (threads) => {
      const catalog = await damagedCatalog();
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
      expect((await reading).length).toBe(0);

      const whole = runCli(['scan', '-c', bundledCatalogFile(), '-i', fleet, '-o', out, '--threads', threads, '--quiet']);
      expect(whole.code).toBe(0);
      expect(whole.out).toMatch(/^Scanned 300 machine\(s\)/);
      expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(300);
    },
    60_000,
  );
});
