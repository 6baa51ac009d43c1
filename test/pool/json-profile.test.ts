/**
 * The JSON profile reader answers a machine with a known profile without parsing it (json-profile.ts). That is only
 * safe when its check of the left-out fields (identity, collection time, unread file and processor details) and of
 * the JSON around them never accepts what JSON.parse and validation refuse — checked here with mutated fields,
 * JSON spelled every way (whitespace, escapes, duplicates) and broken bytes (ill-formed UTF-8, control characters,
 * cut short) — and when the pool then turns a machine with a known profile but a bad field into an error row.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { decodeInventory } from '../../engine/inventory/validate.js';
import { createScannerPool } from '../../engine/pool/scanner-pool.js';
import { JsonProfile } from '../../engine/fleet/json-profile.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { NONE, base, mutate, oddValues } from '../helpers/left-out-mutations.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

const odd = oddValues(['a"b', 'tab\there', '\u0000']);

/** The same document spelled differently, or broken at the byte level. */
function respell(text: string, how: number, at: number): Uint8Array {
  const cut = at % (text.length + 1);
  switch (how) {
    case 0:
      return enc(text);
    case 1:
      return enc(JSON.stringify(JSON.parse(text), null, 2)); // whitespace everywhere
    case 2:
      return enc(text.replace('"name"', '"n\\u0061me"')); // an escaped member name
    case 3:
      return enc(text.replace('{', '{"computer":{"name":"DUP"},')); // a duplicated left-out member
    case 4:
      return enc(`${text.slice(0, cut)}${text.slice(cut + 1)}`); // a byte missing
    case 5:
      return Uint8Array.from([...enc(text.slice(0, cut)), 0xff, ...enc(text.slice(cut))]); // ill-formed UTF-8
    case 6:
      return Uint8Array.from([...enc(text.slice(0, cut)), 0xc3, ...enc(text.slice(cut))]); // cut-short UTF-8
    case 7:
      return enc(`${text.slice(0, cut)}\u0001${text.slice(cut)}`); // a control character
    case 8:
      return enc(`${text}x`); // trailing garbage
    case 9:
      return enc(`\uFEFF${text}`); // byte-order mark
    case 10:
      return enc(text.replace(/,/, ',,')); // a doubled comma
    case 11:
      return enc(`${text}\r\n`); // trailing whitespace (allowed)
    // Left-out members given twice inside their objects (JSON.parse keeps the last; the slow path refuses them).
    case 12:
      return enc(text.replace('"computer":{', '"computer":{"name":"DUP",'));
    case 13:
      return enc(text.replace('"processor":{', '"processor":{"level":7,'));
    case 14:
      return enc(text.replace('"size":', '"size":1,"size":'));
    default:
      return enc(text);
  }
}

const accepts = (bytes: Uint8Array): boolean => {
  try {
    decodeInventory(bytes, 'mutated', 'json');
    return true;
  } catch {
    return false;
  }
};

describe('JSON profile reader', () => {
  it('never answers from a known profile a document that JSON.parse or validation refuses', () => {
    const p = new JsonProfile();
    // The known profile: base's, digested after base passed parsing and validation (as the pool records it).
    expect(accepts(enc(JSON.stringify(base)))).toBe(true);
    expect(p.read(enc(JSON.stringify(base)), NONE)).toBe(true);
    const known = Array.from(p.fp).join(',');
    let fast = 0,
      slow = 0,
      broken = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 14 }), odd, fc.integer({ min: 0, max: 17 }), fc.nat(), (where, v, how, at) => {
        const bytes = respell(JSON.stringify(mutate(base, where, v)), how, at);
        const valid = accepts(bytes);
        if (!valid) broken++;
        if (!p.read(bytes, NONE) || !p.leftOutOk || Array.from(p.fp).join(',') !== known) {
          slow++;
          return;
        }
        fast++;
        expect(valid, new TextDecoder().decode(bytes)).toBe(true);
        const parsed = decodeInventory(bytes, 'ok', 'json');
        expect(p.computerName(bytes)).toBe(parsed.computer.name);
      }),
      { numRuns: 6000, seed: Number(process.env.PATCHSCAN_FUZZ_SEED ?? 7) },
    );
    expect(fast).toBeGreaterThan(150);
    expect(slow).toBeGreaterThan(300);
    expect(broken).toBeGreaterThan(300);
  });

  it('the digest leaves out exactly the left-out fields, and does not depend on them', () => {
    const p = new JsonProfile();
    const digest = (d: unknown, details = NONE): string =>
      p.read(enc(JSON.stringify(d)), details) ? Array.from(p.fp).join(',') : 'unreadable';
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
    // Members moved between neighbours digest differently (each kept member is length-prefixed).
    expect(digest({ ...base, os: { major: 10 }, x: 1 })).not.toBe(digest({ ...base, os: { major: 10, x: 1 } }));
    expect(p.read(enc('[1,2]'), NONE)).toBe(false);
    expect(p.read(enc(JSON.stringify(base).slice(0, 40)), NONE)).toBe(false);
  });

  it('accepts the plain JSON a fleet uses (so the fast path is the common one)', () => {
    const model = new FleetModel(new Catalog(readCatalogFile(bundledCatalogFile())));
    const p = new JsonProfile();
    let ok = 0;
    for (let i = 0; i < 300; i++) if (p.read(enc(JSON.stringify(model.machine(3, i, i % 2 === 0))), NONE) && p.leftOutOk) ok++;
    expect(ok).toBe(300);
  });

  it('in the pool: JSON twins share a result set; a known profile with a bad field or ill-formed UTF-8 is an error row', async () => {
    const catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
    const good = new FleetModel(catalog).machine(5, 0);
    const json = (d: unknown): { bytes: Uint8Array; source: string } => ({ bytes: enc(JSON.stringify(d)), source: 'm' });
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
    const text = JSON.stringify({ ...good, computer: { name: 'BAD-UTF8-X' } });
    const at = text.indexOf('BAD-UTF8-X') + 9;
    const badUtf8 = { bytes: Uint8Array.from([...enc(text.slice(0, at)), 0xc0, 0xaf, ...enc(text.slice(at + 1))]), source: 'm' };
    for (const threads of [0, 2]) {
      const s = await createScannerPool({ catalog, threads, batchSize: 2 });
      const results = [];
      for await (const r of s.scanMany([json(good), json(twin), json(badDate), json(noDay), json(badSize), json(noName), badUtf8]))
        results.push(r);
      await s.close();
      expect(results.map((r) => r.ok)).toEqual([true, true, false, false, false, false, false]);
      const [first, second] = results;
      expect(first.ok && second.ok && second.resultSet.id === first.resultSet.id).toBe(true);
      expect(second.computer).toBe('TWIN');
      expect(s.cacheStats().hits).toBeGreaterThanOrEqual(1);
      expect(results.slice(2).map((r) => (r.ok ? '' : r.error.message))).toEqual([
        expect.stringMatching(/collectedAt: must be an ISO 8601 date-time/),
        expect.stringMatching(/collectedAt: must be a real date and time/),
        expect.stringMatching(/files\[0\]\.size: must be an integer/),
        expect.stringMatching(/computer\.name: must be a name of 1 to 255 characters/),
        expect.stringMatching(/not valid UTF-8/),
      ]);
    }
  }, 120_000);
});
