/** The compiled file: versioned, checksummed, written atomically, loaded without XML. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importCatalog } from '../../adapters/catalog/import.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { decodeCatalog, encodeCatalog, readCatalogFile, writeCatalogFile } from '../../engine/catalog/file.js';
import type { CatalogData } from '../../engine/catalog/data.js';
import { PatchscanError } from '../../engine/errors.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { collectGarbage } from '../helpers/gc.js';
import { tempDir } from '../helpers/tmp.js';

describe('compiled catalog file', () => {
  const dir = tempDir();
  let data: CatalogData;
  let path: string;

  beforeAll(() => {
    generateCatalog({ revisions: 600, seed: 3, out: join(dir, 'g.cab') });
    path = join(dir, 'g.pscat');
    data = importCatalog(join(dir, 'g.cab'), { out: path }).catalog;
  });

  it('keeps nothing of the file it decoded: only the catalog (msgpackr would hold its last input)', async () => {
    let bytes: Buffer | undefined = Buffer.from(readFileSync(path));
    const file = new WeakRef(bytes.buffer);
    const back = decodeCatalog(bytes, path);
    bytes = undefined;
    await collectGarbage();
    expect(file.deref()).toBeUndefined();
    expect(back.updates.rules).toBeInstanceOf(Int32Array);
  });

  it('round-trips exactly', () => {
    const back = readCatalogFile(path);
    expect(back).toEqual(data);
    expect(back.updates.rules).toBeInstanceOf(Int32Array);
    expect(back.nodes.op).toBeInstanceOf(Uint8Array);
  });

  it('keeps the fact dictionary: every rule node that reads facts points at valid entries', () => {
    const c = new Catalog(data);
    expect(data.facts.count).toBeGreaterThan(10);
    for (let n = 0; n < data.nodes.count; n++) for (const f of c.nodeFacts(n)) expect(f).toBeLessThan(data.facts.count);
    const kinds = new Set(Array.from({ length: data.facts.count }, (_, f) => c.fact(f).kind));
    for (const k of ['os', 'processor', 'file', 'regValue', 'cbsPackage', 'msiProduct', 'fileUnderRegSz']) expect(kinds).toContain(k);
    // One UBR registry value is asked by many rules but stored once.
    const ubr = Array.from({ length: data.facts.count }, (_, f) => c.fact(f)).find((f) => f.kind === 'regValue' && f.args[2] === 'ubr');
    expect(ubr?.args).toEqual(['native', 'HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion', 'ubr']);
    expect(ubr!.uses).toBeGreaterThan(10);
  });

  it('refuses a damaged file with COMPILED_BAD_FILE', () => {
    const bytes = readFileSync(path);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 100] ^= 0xff;
    expect(() => decodeCatalog(flipped, 'x')).toThrowError(/checksum mismatch/);
    expect(() => decodeCatalog(bytes.subarray(0, bytes.length - 1), 'x')).toThrowError(/truncated/);
    expect(() => decodeCatalog(Buffer.from('not a catalog at all, clearly not at all, no no no no no no'), 'x')).toThrowError(/bad magic/);
    const v2 = Buffer.from(bytes);
    v2.writeUInt32LE(99, 8);
    let err: unknown;
    try {
      decodeCatalog(v2, 'x');
    } catch (e) {
      err = e;
    }
    expect(PatchscanError.is(err, 'COMPILED_BAD_FILE')).toBe(true);
    expect((err as Error).message).toMatch(/version 99 is not the supported version 1; re-import/);
  });

  it('writes atomically: no temporary file is left, and a failed write keeps the old file', () => {
    const target = join(dir, 'atomic.pscat');
    writeCatalogFile(target, data);
    const before = readFileSync(target);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    // A write that fails (target is a directory) leaves the previous catalog untouched.
    expect(() => writeCatalogFile(dir, data)).toThrowError(PatchscanError);
    expect(readFileSync(target).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('encodes deterministically apart from the creation date', () => {
    const again = importCatalog(join(dir, 'g.cab'), { out: join(dir, 'g2.pscat') }).catalog;
    const strip = (d: CatalogData): Buffer => encodeCatalog({ ...d, createdAt: '' });
    expect(strip(again).equals(strip(data))).toBe(true);
  });
});
