/**
 * The catalog's scan index (engine/catalog/scan-index.ts): written by the import, read back equal to one built again,
 * scanned with exactly the outcomes of a catalog without one, shipped to a pool's workers with the catalog, left
 * unread when of another version, and refused — COMPILED_BAD_FILE, never an index read past an array — when malformed.
 * A digest of the index of a fixed catalog fails the suite when the index changes under the same version (a file
 * written by an earlier build would then be read with the wrong meaning).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import { importCatalog } from '../../adapters/catalog/import.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { generateFleet } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import type { CatalogData } from '../../engine/catalog/data.js';
import { decodeCatalog, encodeCatalog, readCatalogFile } from '../../engine/catalog/file.js';
import { splitArrays } from '../../engine/catalog/layout.js';
import { SCAN_INDEX_VERSION, withoutScanIndex, type ScanIndex } from '../../engine/catalog/scan-index.js';
import { PatchscanError } from '../../engine/errors.js';
import { buildScanIndex } from '../../engine/fleet/scan-index.js';
import { flatLayout } from '../../engine/fleet/flat-decisions.js';
import { reasonMask, scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import type { Inventory } from '../../engine/inventory/types.js';
import { fromShared, toShared } from '../../engine/pool/shared-catalog.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { sectionPlaces } from '../../engine/scanner/section-memo.js';
import { tempDir } from '../helpers/tmp.js';
import { loadedCatalogOf } from '../helpers/update-record.js';
import { inv as machine, key, leaf, rec, uid } from '../helpers/scan-paths.js';
import type { UpdateRecord } from '../../engine/model.js';

/**
 * The digest of the index of the catalog below (generateCatalog, 600 revisions, seed 3), per SCAN_INDEX_VERSION. When
 * this test fails after a change to how the index is built, bump SCAN_INDEX_VERSION and add the new digest here:
 * files written before then are left unread, not read with a meaning they do not have.
 */
const DIGESTS: Readonly<Record<number, string>> = {
  1: '5c53e66d1ee28bcf49bb77f0e9e623d5929e871f59ef433cfeb00317a80ae774',
};

/** SHA-256 over every part of an index: its numbers and each array by path, in path order. */
function digestOf(index: ScanIndex): string {
  const { rest, arrays } = splitArrays(index);
  const h = createHash('sha256').update(JSON.stringify(rest));
  for (const [path, a] of [...arrays].sort(([x], [y]) => (x < y ? -1 : 1)))
    h.update(path)
      .update(a.constructor.name)
      .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex');
}

/** A deep copy of `index` with `edit` applied (typed arrays copied, so the original stays good). */
function edited(index: ScanIndex, edit: (x: Record<string, Record<string, unknown>>) => void): ScanIndex {
  const copy = structuredClone(index) as unknown as Record<string, Record<string, unknown>>;
  edit(copy);
  return copy as unknown as ScanIndex;
}

describe('scan index', () => {
  const dir = tempDir();
  let data: CatalogData;
  let path: string;
  let fleet: Inventory[];

  beforeAll(() => {
    generateCatalog({ revisions: 600, seed: 3, out: join(dir, 'g.cab') });
    path = join(dir, 'g.pscat');
    data = importCatalog(join(dir, 'g.cab'), { out: path }).catalog;
    generateFleet(new Catalog(data), { clients: 120, seed: 5, out: join(dir, 'fleet.jsonl'), distinct: 100 });
    fleet = readFileSync(join(dir, 'fleet.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Inventory);
  });

  it('is written by the import and read back equal to one built again from the data', () => {
    const back = readCatalogFile(path);
    expect(back.scanIndex).toBeDefined();
    expect(back.scanIndex!.version).toBe(SCAN_INDEX_VERSION);
    expect(back.scanIndex).toEqual(buildScanIndex(data));
    expect(withoutScanIndex(back)).toEqual(data);
    // Its parts are views over the file's bytes, like the rest of the catalog.
    expect(back.scanIndex!.sections.slotPlace.buffer).toBe(back.updates.rules.buffer);
    // Only the array kinds format 2 began with: a build from before the index reads the file (and ignores it).
    const kinds = new Set(splitArrays(back.scanIndex).arrays.map(([, a]) => a.constructor.name));
    expect([...kinds].sort()).toEqual(['Int32Array', 'Uint8Array']);
    // Scans still read the classes of the decision layout in 16 bits where they fit.
    expect(flatLayout(new Catalog(back))!.classAt).toBeInstanceOf(Uint16Array);
  });

  it('gives scans exactly the outcomes (and reasons) of the same catalog without it', () => {
    const withIndex = new Catalog(readCatalogFile(path));
    const without = new Catalog(withoutScanIndex(readCatalogFile(path)));
    expect(withIndex.data.scanIndex).toBeDefined();
    expect(without.data.scanIndex).toBeUndefined();
    // The stored parts are the ones scans use (not built again).
    expect(sectionPlaces(withIndex)).toBe(withIndex.data.scanIndex!.sections);
    const options = [
      { all: false, reasons: false },
      { all: false, reasons: true, reasonMask: reasonMask(['Required', 'Unknown']) },
      { all: true, reasons: false },
    ] as const;
    for (const o of options) {
      const a = new Scanner(withIndex);
      const b = new Scanner(without);
      let outcomes = 0;
      for (const inv of fleet) {
        const x = scanOutcomes(a, inv, o);
        const y = scanOutcomes(b, inv, o);
        expect(Array.from(x.outcomes), inv.computer.name).toEqual(Array.from(y.outcomes));
        expect(x.reasons).toEqual(y.reasons);
        outcomes += x.outcomes.length;
      }
      expect(outcomes).toBeGreaterThan(fleet.length * 10);
    }
  });

  it('goes to a pool’s workers with the catalog’s shared memory', () => {
    const shared = toShared(readCatalogFile(path, { shared: true }));
    expect(Object.keys(shared.arrays)).toContain('scanIndex.sections.slotPlace');
    expect(Object.keys(shared.arrays)).toContain('scanIndex.flat.updateAt');
    expect(fromShared(shared).scanIndex).toEqual(buildScanIndex(data));
  });

  it('has no flat layout for a catalog with a prerequisite cycle, and scans it as without one', () => {
    const installed = (k: number): UpdateRecord['rules'] => ({
      IsInstalled: leaf('RegKeyExists', { Key: 'HKEY_LOCAL_MACHINE', Subkey: `SOFTWARE\\U${k}` }),
    });
    const needs = (k: number): Partial<UpdateRecord> => ({ prerequisites: [{ kind: 'update', updateId: uid(k) }] });
    const records = [rec(1, installed(1), needs(2)), rec(2, installed(2), needs(1)), rec(3, installed(3))];
    const c = loadedCatalogOf(records, 'cycle');
    expect(c.data.scanIndex).toBeDefined();
    expect(c.data.scanIndex!.flat).toBeUndefined();
    expect(c.data.scanIndex!.classes.cycleOf.some((k) => k >= 0)).toBe(true);
    const machines = [
      machine({}),
      machine({ registry: [key('HKEY_LOCAL_MACHINE\\SOFTWARE\\U1'), key('HKEY_LOCAL_MACHINE\\SOFTWARE\\U3')] }),
    ];
    const plain = new Catalog(withoutScanIndex(c.data));
    for (const m of machines)
      expect(Array.from(scanOutcomes(new Scanner(c), m, { all: true, reasons: false }).outcomes)).toEqual(
        Array.from(scanOutcomes(new Scanner(plain), m, { all: true, reasons: false }).outcomes),
      );
  });

  it('of another version is left unread (scans build their own), as is one in a version 1 file', () => {
    const bytes = readFileSync(path);
    const m = bytes.readUInt32LE(56);
    const packr = new Packr({ useRecords: false, moreTypes: true });
    const meta = packr.unpack(bytes.subarray(60, 60 + m)) as { rest: { scanIndex: { version: number } }; places: unknown };
    meta.rest.scanIndex.version = SCAN_INDEX_VERSION + 1;
    const again = packr.pack(meta);
    const region = (4 + again.length + 7) & ~7;
    const oldRegion = (4 + m + 7) & ~7;
    const out = Buffer.alloc(56 + region + (bytes.length - 56 - oldRegion));
    bytes.copy(out, 0, 0, 24);
    out.writeBigUInt64LE(BigInt(out.length - 56), 16);
    out.writeUInt32LE(again.length, 56);
    again.copy(out, 60);
    bytes.copy(out, 56 + region, 56 + oldRegion);
    createHash('sha256').update(out.subarray(56)).digest().copy(out, 24);
    const back = decodeCatalog(out, 'other-version');
    expect(back.scanIndex).toBeUndefined();
    expect(back).toEqual(data);
    // Version 1 files had none: one found in such a file is not read.
    const strings = Array.from({ length: data.strings.offsets.length - 1 }, (_, k) => new Catalog(data).str(k));
    const payload = packr.pack({ ...data, version: 1, strings, scanIndex: buildScanIndex(data) });
    const header = Buffer.alloc(56);
    header.write('PSCATLG\0', 0, 'latin1');
    header.writeUInt32LE(1, 8);
    header.writeBigUInt64LE(BigInt(payload.length), 16);
    createHash('sha256').update(payload).digest().copy(header, 24);
    const v1 = decodeCatalog(Buffer.concat([header, payload]), 'v1');
    expect(v1.scanIndex).toBeUndefined();
    expect(new Catalog(v1).title(3)).toBe(new Catalog(data).title(3));
    // And an index this build cannot have made is never written.
    expect(() => encodeCatalog(data, { scanIndex: { ...buildScanIndex(data), version: SCAN_INDEX_VERSION + 1 } })).toThrow(
      /scan index of version/,
    );
  });

  it('stored with places of another section scheme: the places are built again', () => {
    const index = edited(buildScanIndex(data), (x) => {
      x.sections.sectionCount = 1000;
    });
    const c = new Catalog(decodeCatalog(encodeCatalog(data, { scanIndex: index }), 'scheme'));
    expect(c.data.scanIndex!.sections.sectionCount).toBe(1000);
    const places = sectionPlaces(c);
    expect(places).not.toBe(c.data.scanIndex!.sections);
    expect(places).toEqual(buildScanIndex(data).sections);
  });

  it('refuses a malformed index with COMPILED_BAD_FILE, naming the part', () => {
    const good = buildScanIndex(data);
    const n = data.updates.count;
    const cases: [string, (x: Record<string, Record<string, unknown>>) => void, RegExp][] = [
      ['a class past the count', (x) => ((x.classes.classOf as Int32Array)[7] = 1e6), /classes\.classOf holds 1000000 at 7/],
      ['a negative update', (x) => ((x.classes.representative as Int32Array)[0] = -1), /classes\.representative holds -1/],
      ['offsets that decrease', (x) => swapOffsets(x.classes.classReportableOffsets as Int32Array), /classReportableOffsets decrease/],
      ['offsets past the list', (x) => bumpLast(x.flat.childOffsets as Int32Array), /flat\.childOffsets (do not run from 0|holds)/],
      [
        'a short array',
        (x) => (x.flat.updateAt = (x.flat.updateAt as Int32Array).subarray(1)),
        new RegExp(`updateAt holds ${n - 1} numbers, not ${n}`),
      ],
      ['the wrong kind', (x) => (x.classes.classOf = new Uint8Array(n)), /classes\.classOf is not an array of the right kind/],
      ['a kind past the known ones', (x) => ((x.flat.kindAt as Uint8Array)[0] = 9), /flat\.kindAt holds 9/],
      ['a slot in no group', (x) => firstRuledSlot(x, (sp, k) => (sp[2 * k] = -1)), /places rule slot \d+ outside its groups/],
      ['a slot past its group', (x) => firstRuledSlot(x, (sp, k) => (sp[2 * k + 1] = 1e6)), /places rule slot \d+ outside its groups/],
      ['a section past the count', (x) => ((x.sections.groupSections as Int32Array)[0] = 1e6), /sections\.groupSections holds 1000000/],
      ['no count', (x) => delete x.classes.count, /classes\.count is not a count/],
      ['not a table', (x) => ((x as Record<string, unknown>).sections = 5), /scanIndex\.sections is not a table/],
    ];
    for (const [why, edit, message] of cases) {
      const file = encodeCatalog(data, { scanIndex: edited(good, edit) });
      let err: unknown;
      try {
        decodeCatalog(file, 'tampered');
      } catch (e) {
        err = e;
      }
      expect(PatchscanError.is(err, 'COMPILED_BAD_FILE'), why).toBe(true);
      expect((err as Error).message, why).toMatch(message);
    }
    // The good index itself passes: the cases fail for their edit alone.
    expect(decodeCatalog(encodeCatalog(data, { scanIndex: good }), 'good').scanIndex).toEqual(good);
  });

  it('is built the same as when its version was set (else: bump SCAN_INDEX_VERSION)', () => {
    const digest = digestOf(buildScanIndex(data));
    expect(DIGESTS[SCAN_INDEX_VERSION], `no digest recorded for scan index version ${SCAN_INDEX_VERSION}: ${digest}`).toBeDefined();
    expect(digest, 'the scan index is built differently than its version says: bump SCAN_INDEX_VERSION').toBe(DIGESTS[SCAN_INDEX_VERSION]);
  });
});

function swapOffsets(a: Int32Array): void {
  for (let k = 1; k + 1 < a.length; k++)
    if (a[k] < a[k + 1]) {
      a[k] = a[k + 1] + 1;
      return;
    }
  throw new Error('no offsets to swap');
}

function bumpLast(a: Int32Array): void {
  a[a.length - 1]++;
}

/** Applies `edit` to the first rule slot (k: update × 3 + slot) that has a rule. */
function firstRuledSlot(x: Record<string, Record<string, unknown>>, edit: (slotPlace: Int32Array, k: number) => void): void {
  const sp = x.sections.slotPlace as Int32Array;
  for (let k = 0; 2 * k < sp.length; k++)
    if (sp[2 * k] >= 0) {
      edit(sp, k);
      return;
    }
  throw new Error('no rule slot');
}
