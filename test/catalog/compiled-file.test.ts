/** The compiled file: versioned, checksummed, written atomically, loaded without XML. */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importCatalog } from '../../adapters/catalog/import.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import {
  decodeCatalog,
  encodeCatalog,
  fileDigestOf,
  readCatalogFile,
  readCatalogFileInPieces,
  writeCatalogFile,
} from '../../engine/catalog/file.js';
import type { CatalogData } from '../../engine/catalog/data.js';
import { scanIndexOf } from '../../engine/catalog/scan-index.js';
import { PatchscanError } from '../../engine/errors.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { fromShared, toShared } from '../../engine/pool/shared-catalog.js';
import { descriptionOf, version1File, withDescription } from '../helpers/catalog-file.js';
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

  it('makes the arrays views over the bytes read (nothing copied), and holds them no longer than the catalog', async () => {
    let bytes: Buffer | undefined = Buffer.from(readFileSync(path));
    const file = new WeakRef(bytes.buffer);
    let back: CatalogData | undefined = decodeCatalog(bytes, path);
    expect(back.updates.rules).toBeInstanceOf(Int32Array);
    expect(back.updates.rules.buffer).toBe(bytes.buffer);
    expect(back.strings.bytes.buffer).toBe(bytes.buffer);
    bytes = undefined;
    back = undefined;
    // msgpackr holds its last input until it decodes another: the file must not stay alive through it.
    await collectGarbage();
    expect(file.deref()).toBeUndefined();
  });

  it('reads a file that starts off an 8-byte boundary in memory, and a file read into shared memory as it is', () => {
    const bytes = readFileSync(path);
    const off = Buffer.alloc(bytes.length + 3);
    bytes.copy(off, 3);
    expect(decodeCatalog(off.subarray(3), path)).toEqual(data);
    const shared = readCatalogFile(path, { shared: true });
    expect(shared).toEqual(data);
    // The scan index the import wrote is read with it (test/catalog/scan-index.test.ts), over the same memory.
    expect(scanIndexOf(shared)!.classes.classOf.buffer).toBe(shared.updates.rules.buffer);
    expect(shared.updates.rules.buffer).toBeInstanceOf(SharedArrayBuffer);
    // A pool lays it out where it is: no second copy.
    expect(toShared(shared).buffer).toBe(shared.updates.rules.buffer);
    expect(new Catalog(fromShared(toShared(shared))).title(5)).toBe(new Catalog(data).title(5));
  });

  it('still reads version 1 files (the data as one msgpack value, its strings a list): the same catalog', () => {
    const c = new Catalog(data);
    const strings = Array.from({ length: data.strings.offsets.length - 1 }, (_, k) => c.str(k));
    expect(strings.length).toBeGreaterThan(100);
    const v1 = version1File({ ...data, version: 1, strings });
    const back = decodeCatalog(v1, 'v1');
    expect(back).toEqual(data);
    expect(back.version).toBe(2);
    // Read into shared memory too (patchscan scan's batches and a site's scan pool read so), and shared by a pool.
    const file = join(dir, 'v1.pscat');
    writeFileSync(file, v1);
    const shared = readCatalogFile(file, { shared: true });
    expect(shared).toEqual(data);
    expect(new Catalog(fromShared(toShared(shared))).title(7)).toBe(c.title(7));
  });

  it('refuses a version 2 layout that places an array outside the file, unaligned, anywhere but in the data, or nowhere', () => {
    const bytes = readFileSync(path);
    const meta = descriptionOf(bytes);
    const tamper = (edit: (places: Record<string, unknown>) => void): Buffer => {
      const places = structuredClone(meta.places);
      edit(places);
      return withDescription(bytes, { rest: meta.rest, places });
    };
    expect(
      decodeCatalog(
        tamper(() => undefined),
        'x',
      ),
    ).toEqual(data); // the tampering itself keeps a good file good
    const cases: [string, (p: Record<string, unknown>) => void, RegExp][] = [
      ['past the end', (p) => (p['updates.rules'] = ['Int32Array', 0, 1e9]), /updates\.rules lies outside the file/],
      ['unaligned', (p) => (p['updates.rules'] = ['Int32Array', 2, 1]), /updates\.rules lies outside the file or unaligned/],
      ['an unknown kind', (p) => (p['updates.rules'] = ['Float64Array', 0, 1]), /updates\.rules has no valid place/],
      ['a negative offset', (p) => (p['updates.rules'] = ['Int32Array', -8, 1]), /updates\.rules has no valid place/],
      ['on the prototype', (p) => (p['__proto__.polluted'] = ['Uint8Array', 0, 1]), /__proto__\.polluted has no place in the data/],
      ['over a value that is not an array', (p) => (p['format'] = ['Uint8Array', 0, 1]), /format has no place in the data/],
      ['under nothing', (p) => (p['nowhere.at.all'] = ['Uint8Array', 0, 1]), /nowhere\.at\.all has no place in the data/],
      ['left out', (p) => delete p['updates.rules'], /updates\.rules has no place in the file/],
    ];
    for (const [why, edit, message] of cases) {
      let err: unknown;
      try {
        decodeCatalog(tamper(edit), 'x');
      } catch (e) {
        err = e;
      }
      expect(PatchscanError.is(err, 'COMPILED_BAD_FILE'), why).toBe(true);
      expect((err as Error).message, why).toMatch(message);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
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
    expect((err as Error).message).toMatch(/version 99 is not one this version reads \(1 or 2\); import the catalog again/);
  });

  describe('readCatalogFileInPieces (the file read in pieces at once, into shared memory)', () => {
    const damagedCopy = (at: number, name: string): string => {
      const bytes = Buffer.from(readFileSync(path));
      bytes[at] ^= 0xff;
      const out = join(dir, name);
      writeFileSync(out, bytes);
      return out;
    };

    it('reads the same catalog as readCatalogFile, every byte in place, in shared memory', async () => {
      const read = await readCatalogFileInPieces(path);
      expect(read.updates.updateId.buffer).toBeInstanceOf(SharedArrayBuffer);
      const a = new Catalog(read),
        b = new Catalog(readCatalogFile(path));
      expect(a.size).toBe(b.size);
      for (let i = 0; i < a.size; i++) expect([a.updateId(i), a.title(i)]).toEqual([b.updateId(i), b.title(i)]);
      expect(fileDigestOf(read)).toBe(readFileSync(path).subarray(24, 56).toString('hex'));
    });

    it('refuses damage anywhere — in the first, a middle and the last piece — before decoding, as readCatalogFile does', async () => {
      const length = readFileSync(path).length;
      for (const [k, at] of [100, length >> 1, length - 100].entries()) {
        const file = damagedCopy(at, `damaged-${k}.pscat`);
        expect(() => readCatalogFile(file)).toThrowError(`${file}: checksum mismatch: the file is damaged`);
        await expect(readCatalogFileInPieces(file)).rejects.toThrowError(`${file}: checksum mismatch: the file is damaged`);
      }
    });

    it('hashes the pieces as they come in, in file order, whatever the piece size: the same catalog and digest', async () => {
      const bytes = readFileSync(path);
      // Pieces ending inside the header, exactly at its end (56), one past it, odd sizes, and one piece or more.
      for (const pieceBytes of [40, 56, 57, 1000, 4093, bytes.length - 1, bytes.length, bytes.length + 1]) {
        const read = await readCatalogFileInPieces(path, { pieceBytes });
        expect(fileDigestOf(read), `pieces of ${pieceBytes} bytes`).toBe(bytes.subarray(24, 56).toString('hex'));
        expect(new Catalog(read).updateId(7)).toBe(new Catalog(data).updateId(7));
      }
    });

    it('small pieces: damage in the first, at a piece boundary, inside one and in the last piece is refused', async () => {
      const length = readFileSync(path).length;
      for (const [k, at] of [60, 4096, 4095, 8192 + 17, length >> 1, length - 1].entries()) {
        const file = damagedCopy(at, `damaged-small-${k}.pscat`);
        await expect(readCatalogFileInPieces(file, { pieceBytes: 4096 }), `byte ${at}`).rejects.toThrowError(
          `${file}: checksum mismatch: the file is damaged`,
        );
      }
      // The header's own digest damaged (in the first piece, outside what is hashed): refused too.
      const file = damagedCopy(30, 'damaged-header-digest.pscat');
      await expect(readCatalogFileInPieces(file, { pieceBytes: 4096 })).rejects.toThrowError(`${file}: checksum mismatch`);
    });

    it('a truncated file, an empty one, a missing one: the errors readCatalogFile gives', async () => {
      const bytes = readFileSync(path);
      writeFileSync(join(dir, 'short.pscat'), bytes.subarray(0, bytes.length - 1));
      await expect(readCatalogFileInPieces(join(dir, 'short.pscat'))).rejects.toThrowError(/truncated or padded/);
      writeFileSync(join(dir, 'empty.pscat'), '');
      await expect(readCatalogFileInPieces(join(dir, 'empty.pscat'))).rejects.toThrowError(/bad magic/);
      await expect(readCatalogFileInPieces(join(dir, 'none.pscat'))).rejects.toMatchObject({ code: 'IO' });
    });
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
