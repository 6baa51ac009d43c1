/**
 * The msgpack profile reader answers a machine with a known profile without decoding it. That is only safe when its
 * quick check of the left-out fields (identity, collection time, unread file and processor details) never accepts
 * what full validation refuses — checked here with mutated left-out fields — and when the pool then turns a
 * machine with a known profile but a bad left-out field into an error row, not a shared result.
 */
import { Packr, Unpackr } from 'msgpackr';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { decodeInventory, validateInventory } from '../../engine/inventory/validate.js';
import { createScannerPool } from '../../engine/pool/scanner-pool.js';
import { MsgpackProfile } from '../../engine/fleet/msgpack-profile.js';
import { fingerprint } from '../../engine/fleet/fingerprint.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { NONE, base, mutate, oddValues } from '../helpers/left-out-mutations.js';

const odd = oddValues();

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

describe('msgpack profile reader', () => {
  it('its quick check never accepts a left-out field that full validation refuses', () => {
    const p = new MsgpackProfile();
    let accepted = 0,
      refused = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 14 }), odd, (where, v) => {
        const doc = mutate(base, where, v);
        const bytes = packr.pack(doc);
        if (!p.read(bytes, NONE) || !p.leftOutOk) {
          refused++;
          return;
        }
        accepted++;
        const decoded = unpackr.unpack(bytes) as Record<string, any>;
        expect(() => validateInventory(decoded, 'mutated')).not.toThrow();
        expect(p.computerName(bytes)).toBe(decoded.computer.name);
      }),
      { numRuns: 3000, seed: Number(process.env.PATCHSCAN_FUZZ_SEED ?? 7) },
    );
    // Both sides were exercised.
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });

  it('a left-out member given twice is never answered from a known profile (the slow path refuses it)', () => {
    const p = new MsgpackProfile();
    expect(p.read(packr.pack(base), NONE) && p.leftOutOk).toBe(true);
    const known = Array.from(p.fp).join(',');
    /** A msgpack map written by hand, so that a key can be given twice (packr cannot). */
    const mapOf = (entries: readonly (readonly [string, Uint8Array])[]): Buffer =>
      Buffer.concat([Buffer.from([0x80 | entries.length]), ...entries.flatMap(([k, v]) => [packr.pack(k), v])]);
    const pk = (v: unknown): Uint8Array => packr.pack(v);
    const doc = (over: Record<string, Uint8Array>, extra: readonly (readonly [string, Uint8Array])[] = []): Buffer =>
      mapOf([...Object.entries(base).map(([k, v]): [string, Uint8Array] => [k, over[k] ?? pk(v)]), ...extra]);
    const file = base.files[0];
    const cases = {
      'computer.name twice': doc({
        computer: mapOf([
          ['name', pk('A')],
          ['id', pk('x-1')],
          ['name', pk('B')],
        ]),
      }),
      'computer.id twice': doc({
        computer: mapOf([
          ['name', pk('A')],
          ['id', pk('x-1')],
          ['id', pk('x-2')],
        ]),
      }),
      'a processor detail twice': doc({
        processor: mapOf([
          ['architecture', pk(9)],
          ['level', pk(6)],
          ['level', pk(7)],
          ['count', pk(8)],
        ]),
      }),
      'a file detail twice': doc({
        files: Buffer.concat([
          Buffer.from([0x91]),
          mapOf([...Object.entries(file).map(([k, v]): [string, Uint8Array] => [k, pk(v)]), ['size', pk(1)]]),
        ]),
      }),
      'computer twice': doc({}, [['computer', pk({ name: 'OTHER' })]]),
      'collectedAt twice': doc({}, [['collectedAt', pk('2026-02-02T00:00:00Z')]]),
    };
    for (const [what, bytes] of Object.entries(cases)) {
      expect(() => decodeInventory(bytes, what, 'msgpack'), what).toThrowError(/is given twice in one object/);
      const answered = p.read(bytes, NONE) && p.leftOutOk && Array.from(p.fp).join(',') === known;
      expect(answered, what).toBe(false);
    }
  });

  it('a left-out key in a longer str format than needed is still that key (a second copy is a repeat)', () => {
    const p = new MsgpackProfile();
    const str16 = (t: string): Buffer => Buffer.concat([Buffer.from([0xda, 0, t.length]), Buffer.from(t)]);
    const str32 = (t: string): Buffer => Buffer.concat([Buffer.from([0xdb, 0, 0, 0, t.length]), Buffer.from(t)]);
    for (const [format, spell] of [
      ['str16', str16],
      ['str32', str32],
    ] as const) {
      const pairs = Object.entries(base).map(([k, v]) => Buffer.concat([k === 'computer' ? spell(k) : packr.pack(k), packr.pack(v)]));
      const once = Buffer.concat([Buffer.from([0x80 | pairs.length]), ...pairs]);
      // Valid: it passes the slow path, and the pool would keep its digest.
      expect(decodeInventory(once, format, 'msgpack').computer.name).toBe('PC-1');
      expect(p.read(once, NONE) && p.leftOutOk).toBe(true);
      const known = Array.from(p.fp).join(',');
      const twice = Buffer.concat([
        Buffer.from([0x80 | (pairs.length + 1)]),
        ...pairs,
        packr.pack('computer'),
        packr.pack({ name: 'EVIL' }),
      ]);
      expect(() => decodeInventory(twice, format, 'msgpack')).toThrowError(/"computer" is given twice/);
      expect(p.read(twice, NONE) && p.leftOutOk && Array.from(p.fp).join(',') === known, format).toBe(false);
    }
  });

  it("its digest never equals fingerprint.ts's, even for a map whose kept bytes spell that digest's text", () => {
    // fingerprint() hashes the JSON text of a machine's view; this map's kept pairs are one-byte integers (every ASCII
    // byte is a positive fixint) spelling that text, after the left-out computer and collectedAt.
    const v = { ...base, os: { ...base.os, build: 19045 } };
    // The text fingerprint() hashes with no file or processor detail read (NONE): the view it builds.
    const viewText = (): string =>
      JSON.stringify({
        ...v,
        computer: undefined,
        collectedAt: undefined,
        files: v.files.map((f) => ({ path: f.path, exists: f.exists, version: f.version })),
        processor: { architecture: v.processor.architecture },
      });
    let text = viewText();
    if (text.length % 2 === 1) {
      v.os = { ...v.os, build: 190451 };
      text = viewText();
    }
    expect(text.length % 2).toBe(0);
    const p = new MsgpackProfile();
    const crafted = Buffer.concat([
      Buffer.from([0xde, 0, 2 + text.length / 2]),
      packr.pack('computer'),
      packr.pack({ name: 'NOT-A-MACHINE' }),
      packr.pack('collectedAt'),
      packr.pack('2026-01-01T00:00:00Z'),
      Buffer.from(text, 'latin1'),
    ]);
    expect(p.read(crafted, NONE) && p.leftOutOk).toBe(true);
    expect(Array.from(p.fp)).not.toEqual(Array.from(fingerprint(v as never, NONE)));
    expect(() => decodeInventory(crafted, 'crafted', 'msgpack')).toThrowError(/schema/);
  });

  it('the digest leaves out exactly the left-out fields', () => {
    const p = new MsgpackProfile();
    const digest = (d: unknown, details = NONE): string => (p.read(packr.pack(d), details) ? Array.from(p.fp).join(',') : 'unreadable');
    const same = {
      ...base,
      computer: { name: 'OTHER', domain: 'corp' },
      collectedAt: '2026-05-05T10:00:00+02:00',
      processor: { architecture: 9, count: 64 },
      files: [{ ...base.files[0], size: 99, created: '2021-02-02T00:00:00Z', language: 1033 }],
    };
    expect(digest(same)).toBe(digest(base));
    expect(digest(same, { ...NONE, fileSize: true })).not.toBe(digest(base, { ...NONE, fileSize: true }));
    expect(digest({ ...base, files: [{ ...base.files[0], version: '10.0.19041.2' }] })).not.toBe(digest(base));
    expect(digest({ ...base, processor: { ...base.processor, architecture: 12 } })).not.toBe(digest(base));
    expect(digest({ ...base, os: { ...base.os, build: 22631 } })).not.toBe(digest(base));
    // Not a map, or trailing bytes: the reader declines, and the caller decodes the slow way.
    expect(p.read(packr.pack([1, 2]), NONE)).toBe(false);
    expect(p.read(Buffer.concat([packr.pack(base), Buffer.from([0x01])]), NONE)).toBe(false);
    expect(p.read(packr.pack(base).subarray(0, 40), NONE)).toBe(false);
  });

  it('accepts the plain encodings a fleet uses (so the fast path is the common one)', async () => {
    const model = new FleetModel(new Catalog(readCatalogFile(bundledCatalogFile())));
    const p = new MsgpackProfile();
    let ok = 0;
    for (let i = 0; i < 300; i++) if (p.read(packr.pack(model.machine(3, i)), NONE) && p.leftOutOk) ok++;
    expect(ok).toBe(300);
  });

  it('in the pool: a machine with a known profile but a bad left-out field is an error row, not a shared result', async () => {
    const catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
    const good = new FleetModel(catalog).machine(5, 0);
    const pack = (d: unknown): { bytes: Uint8Array; source: string } => ({ bytes: packr.pack(d), source: 'm' });
    const twin = { ...good, computer: { name: 'TWIN' } };
    const badDate = { ...good, computer: { name: 'BAD-DATE' }, collectedAt: 'yesterday' };
    // Of the right shape, on no calendar: the quick reader must refuse it as validate.ts does.
    const noDay = { ...good, computer: { name: 'NO-DAY' }, collectedAt: '2026-02-30T08:00:00Z' };
    const badSize = {
      ...good,
      computer: { name: 'BAD-SIZE' },
      files: (good.files ?? []).map((f, k) => (k === 0 ? { ...f, size: -5 } : f)),
    };
    const noName = { ...good, computer: { name: '' } };
    for (const threads of [0, 2]) {
      const s = await createScannerPool({ catalog, threads, batchSize: 2 });
      const results = [];
      for await (const r of s.scanMany([good, twin, badDate, noDay, badSize, noName].map(pack))) results.push(r);
      await s.close();
      expect(results.map((r) => r.ok)).toEqual([true, true, false, false, false, false]);
      const [first, second] = results;
      expect(first.ok && second.ok && second.resultSet.id === first.resultSet.id).toBe(true);
      expect(second.computer).toBe('TWIN');
      expect(results.slice(2).map((r) => (r.ok ? '' : r.error.message))).toEqual([
        expect.stringMatching(/collectedAt: must be an ISO 8601 date-time/),
        expect.stringMatching(/collectedAt: must be a real date and time/),
        expect.stringMatching(/files\[0\]\.size: must be an integer/),
        expect.stringMatching(/computer\.name: must be a name of 1 to 255 characters/),
      ]);
    }
  });
});
