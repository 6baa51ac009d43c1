/**
 * Every cabinet in the test set (libmspack's suite, hostile cases included, and Microsoft-made LZX/MSZIP cabinets)
 * either extracts to exactly the bytes `cabextract` yields, or fails with a clear CAB_* error and leaves nothing
 * behind. `cabextract -t` is the oracle: it prints an MD5 per file, or "failed".
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractCab } from '../../adapters/cab/extract.js';
import { PatchscanError } from '../../engine/errors.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';

const CAB_DIR = join(FIXTURES, 'cab');

interface OracleResult {
  readonly ok: boolean;
  readonly files: Map<string, string>; // name → md5
}

function oracle(path: string): OracleResult {
  let out: string;
  let ok = true;
  try {
    out = execFileSync('cabextract', ['-t', path], { encoding: 'latin1', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? '');
    ok = false;
  }
  const files = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^ {2}(.+?) {2,}OK {2,}([0-9a-f]{32})$/.exec(line.trimEnd());
    if (m) files.set(m[1], m[2]);
    if (/ failed \(/.test(line)) ok = false;
  }
  return { ok: ok && /All done, no errors/.test(out), files };
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? listFiles(join(dir, d.name), `${prefix}${d.name}/`) : [`${prefix}${d.name}`],
  );
}

const cabs = readdirSync(CAB_DIR)
  .filter((f) => f.endsWith('.cab'))
  .sort();

describe('CAB reader against cabextract', () => {
  it('has the whole test set (libmspack + Microsoft cabinets)', () => {
    expect(cabs.length).toBeGreaterThanOrEqual(61);
  });

  it.each(cabs)('%s', (name) => {
    const path = join(CAB_DIR, name);
    const expected = oracle(path);
    const target = tempDir('patchscan-cab-');
    let error: unknown;
    try {
      extractCab(path, target);
    } catch (e) {
      error = e;
    }
    if (error === undefined) {
      // We succeeded: cabextract must have succeeded too, with the very same bytes for every file.
      expect(expected.ok, `cabextract fails on ${name} but patchscan extracted it`).toBe(true);
      const ours = new Map(
        listFiles(target).map((f) => [
          f,
          createHash('md5')
            .update(readFileSync(join(target, f)))
            .digest('hex'),
        ]),
      );
      expect(ours).toEqual(expected.files);
    } else {
      expect(PatchscanError.is(error), `non-patchscan error on ${name}: ${String(error)}`).toBe(true);
      const pe = error as PatchscanError;
      expect(pe.code).toMatch(/^CAB_/);
      expect(pe.message).toContain(name);
      if (expected.ok) {
        // Refusing a cabinet cabextract reads is allowed only for what we document as unsupported: Quantum.
        expect(pe.code).toBe('CAB_UNSUPPORTED');
        expect(pe.message).toMatch(/Quantum/);
      }
      // All or nothing: no file, no staging directory left behind.
      expect(listFiles(target)).toEqual([]);
      expect(readdirSync(target)).toEqual([]);
    }
  });

  it('reads real LZX (2^15 and 2^21 windows) and MSZIP cabinets made by Microsoft cabarc', () => {
    const target = tempDir();
    for (const n of ['lzx-15.cab', 'lzx-21.cab', 'mszip.cab', 'none.cab']) {
      const files = extractCab(join(CAB_DIR, n), join(target, n));
      expect(files.map((f) => f.name).sort()).toEqual(['README.md', 'foldername/somefile.txt']);
    }
    const a = readFileSync(join(target, 'lzx-21.cab', 'README.md'));
    expect(a.equals(readFileSync(join(target, 'none.cab', 'README.md')))).toBe(true);
  });
});
