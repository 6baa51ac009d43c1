/**
 * The catalog's scan index (engine/catalog/scan-index.ts): written by the import, read back equal to one built again,
 * scanned with exactly the outcomes of a catalog without one, shipped to a pool's workers with the catalog, left
 * unread when of another version, and refused — COMPILED_BAD_FILE, never an index read past an array — when malformed.
 * A digest of the index of a fixed catalog fails the suite when the index changes under the same version (a file
 * written by an earlier build would then be read with the wrong meaning); the prepared leaves have a version and a
 * digest of their own.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importCatalog } from '../../adapters/catalog/import.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { generateFleet } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import type { CatalogData } from '../../engine/catalog/data.js';
import { decodeCatalog, encodeCatalog, readCatalogFile } from '../../engine/catalog/file.js';
import { splitArrays } from '../../engine/catalog/layout.js';
import {
  LEAF_CBS_INSTALLED,
  LEAF_FILE_VERSION,
  LEAF_MSI_PATCH,
  LEAF_REG_VALUE,
  LEAF_UNPREPARED,
  PREPARED_LEAVES_VERSION,
  SCAN_INDEX_VERSION,
  STORED_COMPARISONS,
  scanIndexOf,
  withoutScanIndex,
  type ScanIndex,
} from '../../engine/catalog/scan-index.js';
import { PatchscanError } from '../../engine/errors.js';
import { buildScanIndex } from '../../engine/fleet/scan-index.js';
import { flatLayout } from '../../engine/fleet/flat-decisions.js';
import { reasonMask, scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import type { Inventory } from '../../engine/inventory/types.js';
import { fromShared, toShared } from '../../engine/pool/shared-catalog.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { scanIndexFor, scanScheme, sectionPlaces } from '../../engine/scanner/section-memo.js';
import { tempDir } from '../helpers/tmp.js';
import { SCALAR_COMPARISONS } from '../../engine/eval/compare.js';
import { preparedLeavesScheme } from '../../engine/eval/leaf-scheme.js';
import { descriptionOf, version1File, withDescription } from '../helpers/catalog-file.js';
import { catalogOf, loadedCatalogOf } from '../helpers/update-record.js';
import { allRulesCatalogArb, catalogArb, cyclicCatalogArb } from '../reference/random-world.js';
import fc from 'fast-check';
import { inv as machine, key, leaf, rec, uid } from '../helpers/scan-paths.js';
import type { UpdateRecord } from '../../engine/model.js';

/**
 * Per scheme (scanner/section-memo.ts `scanScheme`: SCAN_INDEX_VERSION and the tables the index is built by), the
 * digest of the indexes of a fixed set of catalogs: the generated one below (600 revisions, seed 3) and random worlds
 * of fixed seeds — every rule type (loops, MSI, drivers…), prerequisite cycles, missing updates. When the digest
 * changes under the same scheme, the code that builds the index changed: bump SCAN_INDEX_VERSION (files written
 * before are then left unread, not read with a meaning they do not have) and record the new scheme's digest here.
 */
const DIGESTS: Readonly<Record<string, string>> = {
  '20463ff3c339bc2287499a5fe9b47e3c': 'd63e7ca382372f2b4d15f480d28455c6ed2b5ac0887f5b505b0a7501e7ef693d',
};

/**
 * Per scheme of prepared leaves (eval/leaf-scheme.ts: PREPARED_LEAVES_VERSION, the tables and parsers a leaf's form
 * is read with, as sample leaves show them), the digest of the prepared leaves of the same catalogs. When it changes
 * under the same scheme, leaves are numbered differently in a way the samples do not show: bump PREPARED_LEAVES_VERSION
 * (stored leaves of files written before are then left unread: each scan prepares its own) and record the new one.
 */
const LEAF_DIGESTS: Readonly<Record<string, string>> = {
  '0f4dea73c9d218e580e43d25812c8580': 'ce9685b06595f1a3fd5fdeeb2fe71c4ba14eb7c91e1b41bf076a089b2a493221',
};

/** SHA-256 over every part of an index but its prepared leaves (digested apart): its numbers and each array by path, in path order. */
function digestOf(index: ScanIndex): string {
  const { scheme: _, leaves: __, ...parts } = index;
  return digestOfParts(parts);
}

function digestOfParts(parts: object): string {
  const { rest, arrays } = splitArrays(parts);
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
    operatorData = data;
    generateFleet(new Catalog(data), { clients: 120, seed: 5, out: join(dir, 'fleet.jsonl'), distinct: 100 });
    fleet = readFileSync(join(dir, 'fleet.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Inventory);
  });

  it('is written by the import and read back equal to one built again from the data', () => {
    const back = readCatalogFile(path);
    const index = scanIndexOf(back);
    expect(index).toBeDefined();
    expect(index!.version).toBe(SCAN_INDEX_VERSION);
    expect(index!.scheme).toBe(scanScheme());
    expect(index).toEqual(buildScanIndex(data));
    expect(back).toEqual(data);
    // Its parts are views over the file's bytes, like the rest of the catalog.
    expect(index!.sections.slotPlace.buffer).toBe(back.updates.rules.buffer);
    // Kept beside the data, not in it: a copy of the data (one part replaced, say) has none.
    expect(scanIndexOf({ ...back })).toBeUndefined();
    expect(scanIndexOf(withoutScanIndex(back))).toBeUndefined();
    // Only the array kinds format 2 began with: a build from before the index reads the file (and ignores it).
    const kinds = new Set(splitArrays(index).arrays.map(([, a]) => a.constructor.name));
    expect([...kinds].sort()).toEqual(['Int32Array', 'Uint32Array', 'Uint8Array']);
    // Scans still read the classes of the decision layout in 16 bits where they fit.
    expect(flatLayout(new Catalog(back))!.classAt).toBeInstanceOf(Uint16Array);
  });

  it('gives scans exactly the outcomes (and reasons) of the same catalog without it', () => {
    const withIndex = new Catalog(readCatalogFile(path));
    const without = new Catalog(withoutScanIndex(readCatalogFile(path)));
    expect(scanIndexFor(withIndex)).toBeDefined();
    expect(scanIndexFor(without)).toBeUndefined();
    // Its prepared leaves are what a scanner starts with: every one the index numbers, before any machine.
    const stored = scanIndexOf(withIndex.data)!.leaves!;
    const numbered = stored.how.filter((h) => h !== LEAF_UNPREPARED).length;
    expect(numbered).toBeGreaterThan(100);
    for (const kind of [LEAF_MSI_PATCH, LEAF_FILE_VERSION, LEAF_CBS_INSTALLED, LEAF_REG_VALUE])
      expect(stored.how.includes(kind), `a leaf of kind ${kind}`).toBe(true);
    expect(new Scanner(withIndex).program.preparedLeafCount).toBe(numbered);
    expect(new Scanner(without).program.preparedLeafCount).toBe(0);
    // The stored parts are the ones scans use (not built again).
    expect(sectionPlaces(withIndex)).toBe(scanIndexOf(withIndex.data)!.sections);
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
    expect(scanIndexOf(fromShared(shared))).toEqual(buildScanIndex(data));
  });

  it('has no flat layout for a catalog with a prerequisite cycle, and scans it as without one', () => {
    const installed = (k: number): UpdateRecord['rules'] => ({
      IsInstalled: leaf('RegKeyExists', { Key: 'HKEY_LOCAL_MACHINE', Subkey: `SOFTWARE\\U${k}` }),
    });
    const needs = (k: number): Partial<UpdateRecord> => ({ prerequisites: [{ kind: 'update', updateId: uid(k) }] });
    const records = [rec(1, installed(1), needs(2)), rec(2, installed(2), needs(1)), rec(3, installed(3))];
    const c = loadedCatalogOf(records, 'cycle');
    const index = scanIndexOf(c.data);
    expect(index).toBeDefined();
    expect(index!.flat).toBeUndefined();
    expect(index!.classes.cycleOf.some((k) => k >= 0)).toBe(true);
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
    const meta = descriptionOf(readFileSync(path));
    (meta.rest.scanIndex as { version: number }).version = SCAN_INDEX_VERSION + 1;
    const out = withDescription(readFileSync(path), meta);
    const back = decodeCatalog(out, 'other-version');
    expect(scanIndexOf(back)).toBeUndefined();
    expect(back).toEqual(data);
    // Version 1 files had none: one found in such a file is not read.
    const strings = Array.from({ length: data.strings.offsets.length - 1 }, (_, k) => new Catalog(data).str(k));
    const v1 = decodeCatalog(version1File({ ...data, version: 1, strings, scanIndex: buildScanIndex(data) }), 'v1');
    expect(scanIndexOf(v1)).toBeUndefined();
    expect(new Catalog(v1).title(3)).toBe(new Catalog(data).title(3));
    // And an index this build cannot have made is never written.
    expect(() => encodeCatalog(data, { scanIndex: (d) => ({ ...buildScanIndex(d), version: SCAN_INDEX_VERSION + 1 }) })).toThrow(
      /scan index of version/,
    );
  });

  it('built under another scheme (the tables it is built by changed) is left unread: every part is built again', () => {
    const index = edited(buildScanIndex(data), (x) => {
      (x as Record<string, unknown>).scheme = 'another';
    });
    const c = new Catalog(decodeCatalog(encodeCatalog(data, { scanIndex: () => index }), 'scheme'));
    expect(scanIndexOf(c.data)!.scheme).toBe('another');
    expect(scanIndexFor(c)).toBeUndefined();
    const places = sectionPlaces(c);
    expect(places).not.toBe(scanIndexOf(c.data)!.sections);
    expect(places).toEqual(buildScanIndex(data).sections);
    expect(flatLayout(c)!.updateAt).not.toBe(scanIndexOf(c.data)!.flat!.updateAt);
  });

  it('stored with places of another section count: the places are built again', () => {
    const index = edited(buildScanIndex(data), (x) => {
      x.sections.sectionCount = 1000;
    });
    const c = new Catalog(decodeCatalog(encodeCatalog(data, { scanIndex: () => index }), 'sections'));
    expect(scanIndexOf(c.data)!.sections.sectionCount).toBe(1000);
    const places = sectionPlaces(c);
    expect(places).not.toBe(scanIndexOf(c.data)!.sections);
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
      ['a group larger than its slots', (x) => ((x.sections.groupSizes as Int32Array)[0] = 2 ** 31 - 1), /group 0 has 2147483647 places/],
      ['a bundle that is its own child', (x) => selfChild(x), /places a bundled update of update \d+ after it/],
      [
        'an update placed twice',
        (x) => ((x.flat.updateAt as Int32Array)[1] = (x.flat.updateAt as Int32Array)[0]!),
        /places update \d+ twice/,
      ],
      ['a position of another class', (x) => otherClass(x), /gives update \d+ another class/],
      ['superseders left out', (x) => (x.flat.supersederOffsets as Int32Array).fill(0), /(other superseding updates|do not run from 0)/],
      ['reported updates moved', (x) => (x.flat.rootPos as Int32Array).reverse(), /lists reported update \d+ elsewhere/],
      ['two classes for one update', (x) => ((x.classes.acyclicClassOf as Int32Array)[3] = -1), /gives update 3 two classes/],
      [
        'a layout beside a cycle',
        (x) => {
          (x.classes.cycleOf as Int32Array)[0] = 0;
          (x.classes.acyclicClassOf as Int32Array)[0] = -1;
        },
        /decision layout for a catalog with a prerequisite cycle/,
      ],
      ['a leaf of a kind past the stored ones', (x) => (leavesOf(x).how[firstLeaf(x, LEAF_FILE_VERSION)] = 6), /leaves\.how holds 6/],
      [
        'a leaf numbered past its table',
        (x) => (leavesOf(x).number[firstLeaf(x, LEAF_FILE_VERSION)] = 1e6),
        /numbers rule node \d+ past its table/,
      ],
      [
        'an MSI patch past the codes',
        (x) => (leavesOf(x).number[firstLeaf(x, LEAF_MSI_PATCH)] |= 0xffff),
        /numbers rule node \d+ past its table/,
      ],
      [
        'a leaf stored as another rule type',
        (x) => (leavesOf(x).how[firstLeaf(x, LEAF_FILE_VERSION)] = LEAF_REG_VALUE),
        /prepares rule node \d+ \(FileVersion\w*\) as another rule type/,
      ],
      ['an operator stored as a leaf', (x) => (leavesOf(x).how[firstOperator()] = LEAF_CBS_INSTALLED), /prepares rule node \d+ \(op \d\)/],
      [
        'a CBS leaf given another fact',
        (x) => (leavesOf(x).number[firstLeaf(x, LEAF_CBS_INSTALLED)] += 1),
        /gives rule node \d+ a fact it does not read|past its table/,
      ],
      ['an unprepared leaf with a number', (x) => (leavesOf(x).number[firstLeaf(x, LEAF_UNPREPARED)] = 3), /which it leaves unprepared/],
      ['a comparison past the known ones', (x) => (leavesOf(x).fileVersions[1] = 5), /fileVersions record 0 names no fact or comparison/],
      ['a record past the facts', (x) => (leavesOf(x).regValues[0] = 1e9), /regValues record 0 names no fact/],
      ['a record cut short', (x) => (leavesOf(x).fileVersions = leavesOf(x).fileVersions.subarray(1)), /not records of 6/],
      [
        'codes that are not strings',
        (x) => ((leavesOf(x) as unknown as { msiProducts: unknown }).msiProducts = [1]),
        /msiProducts is not a list of strings/,
      ],
      [
        'leaves of the wrong kind',
        (x) => ((leavesOf(x) as unknown as { number: unknown }).number = new Uint32Array(data.nodes.count)),
        /leaves\.number is not an array of the right kind/,
      ],
      [
        'a leaf stored as a closure',
        (x) => (leavesOf(x).how[firstLeaf(x, LEAF_FILE_VERSION)] = 1),
        /prepares rule node \d+ \(FileVersion\w*\) as another rule type/,
      ],
      [
        'an MSI code twice (the numbers after it would shift)',
        (x) => {
          const l = x.leaves as unknown as { msiPatches: string[] };
          l.msiPatches = [l.msiPatches[0], ...l.msiPatches];
        },
        /msiPatches holds "[^"]+" twice or not normalized/,
      ],
      [
        'an MSI code not normalized',
        (x) => {
          const l = x.leaves as unknown as { msiProducts: string[] };
          l.msiProducts = [`{${l.msiProducts[0].toLowerCase()}}`, ...l.msiProducts.slice(1)];
        },
        /msiProducts holds "[^"]+" twice or not normalized/,
      ],
      ['leaves without a scheme', (x) => delete x.leaves.scheme, /leaves\.scheme is not a string/],
      ['no scheme', (x) => delete (x as Record<string, unknown>).scheme, /scanIndex\.scheme is not a string/],
      ['not a table', (x) => ((x as Record<string, unknown>).sections = 5), /scanIndex\.sections is not a table/],
    ];
    for (const [why, edit, message] of cases) {
      const file = encodeCatalog(data, { scanIndex: () => edited(good, edit) });
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
    expect(scanIndexOf(decodeCatalog(encodeCatalog(data, { scanIndex: () => good }), 'good'))).toEqual(good);
  });

  it('with prepared leaves of another version: the rest is read, each scan prepares its own, with the same outcomes', () => {
    const index = edited(buildScanIndex(data), (x) => {
      x.leaves.version = PREPARED_LEAVES_VERSION + 1;
      // Nonsense in that version's leaves is not read.
      (x.leaves.number as Int32Array).fill(-5);
    });
    const c = new Catalog(decodeCatalog(encodeCatalog(data, { scanIndex: () => index }), 'leaves'));
    expect(scanIndexOf(c.data)!.leaves).toBeUndefined();
    expect(scanIndexFor(c)).toBeDefined();
    const scanner = new Scanner(c);
    expect(scanner.program.preparedLeafCount).toBe(0);
    const plain = new Scanner(new Catalog(withoutScanIndex(data)));
    for (const inv of fleet.slice(0, 20))
      expect(Array.from(scanOutcomes(scanner, inv, { all: true, reasons: false }).outcomes)).toEqual(
        Array.from(scanOutcomes(plain, inv, { all: true, reasons: false }).outcomes),
      );
  });

  it('numbers leaves in the order scans meet them: updates as the decision layout places them, each tree depth first', () => {
    const index = buildScanIndex(data);
    const leaves = index.leaves!;
    const { op, childOffsets, children } = data.nodes;
    // Every stored file version and registry value number, in the order a walk of the layout meets their leaves.
    const met: Record<number, number[]> = { [LEAF_FILE_VERSION]: [], [LEAF_REG_VALUE]: [] };
    const seen = new Set<number>();
    for (const u of index.flat!.updateAt)
      for (const slot of [0, 2, 1]) {
        const walk = (id: number): void => {
          if (seen.has(id)) return;
          seen.add(id);
          met[leaves.how[id]]?.push(leaves.number[id]);
          for (let k = childOffsets[id]; k < childOffsets[id + 1]; k++) walk(children[k]);
        };
        const root = data.updates.rules[u * 3 + slot];
        if (root >= 0) walk(root);
      }
    for (const kind of [LEAF_FILE_VERSION, LEAF_REG_VALUE]) {
      expect(met[kind].length, `leaves of kind ${kind}`).toBeGreaterThan(10);
      expect(met[kind], `kind ${kind} numbered as met`).toEqual(met[kind].map((_, k) => k));
    }
    expect(op.length).toBe(leaves.how.length);
  });

  it('with prepared leaves of version 1 (no scheme yet): the file is read, its leaves left unread', () => {
    const index = edited(buildScanIndex(data), (x) => {
      x.leaves.version = 1;
      delete x.leaves.scheme;
    });
    const c = new Catalog(decodeCatalog(encodeCatalog(data, { scanIndex: () => index }), 'leaves-1'));
    expect(scanIndexOf(c.data)!.leaves).toBeUndefined();
    expect(scanIndexFor(c)).toBeDefined();
    expect(new Scanner(c).program.preparedLeafCount).toBe(0);
  });

  it('with prepared leaves of another scheme (the parsers they were read with changed): scans prepare their own', () => {
    const index = edited(buildScanIndex(data), (x) => {
      x.leaves.scheme = 'another';
    });
    const c = new Catalog(decodeCatalog(encodeCatalog(data, { scanIndex: () => index }), 'leaf-scheme'));
    expect(scanIndexOf(c.data)!.leaves!.scheme).toBe('another');
    expect(new Scanner(c).program.preparedLeafCount).toBe(0);
    expect(new Scanner(new Catalog(readCatalogFile(path))).program.preparedLeafCount).toBeGreaterThan(100);
    const a = new Scanner(c);
    const b = new Scanner(new Catalog(readCatalogFile(path)));
    for (const inv of fleet.slice(0, 20))
      expect(Array.from(scanOutcomes(a, inv, { all: true, reasons: false }).outcomes)).toEqual(
        Array.from(scanOutcomes(b, inv, { all: true, reasons: false }).outcomes),
      );
  });

  it('stores comparisons by their place in SCALAR_COMPARISONS, as many as it has', () => {
    expect(STORED_COMPARISONS).toBe(SCALAR_COMPARISONS.length);
    expect(preparedLeavesScheme()).toMatch(/^[0-9a-f]{32}$/);
    expect(buildScanIndex(data).leaves!.scheme).toBe(preparedLeavesScheme());
  });

  it('prepared leaves are numbered the same as when their scheme was recorded (else: bump PREPARED_LEAVES_VERSION)', () => {
    const worlds = fc.sample(allRulesCatalogArb, { seed: 21, numRuns: 40 });
    const parts = (i: ScanIndex): object => {
      const { scheme: _, ...rest } = i.leaves!;
      return rest;
    };
    const h = createHash('sha256').update(digestOfParts(parts(buildScanIndex(data))));
    for (const records of worlds) h.update(digestOfParts(parts(buildScanIndex(catalogOf(records, 'leaf-digest').data))));
    const digest = h.digest('hex');
    const scheme = preparedLeavesScheme();
    expect(LEAF_DIGESTS[scheme], `no digest recorded for the leaves' scheme ${scheme}: record ${digest}`).toBeDefined();
    expect(digest, `leaves are numbered differently under scheme ${scheme}: bump PREPARED_LEAVES_VERSION`).toBe(LEAF_DIGESTS[scheme]);
  });

  it('is built the same as when its scheme was recorded (else: bump SCAN_INDEX_VERSION)', () => {
    const worlds = [
      ...fc.sample(allRulesCatalogArb, { seed: 11, numRuns: 30 }),
      ...fc.sample(cyclicCatalogArb, { seed: 12, numRuns: 30 }),
      ...fc.sample(catalogArb, { seed: 13, numRuns: 30 }),
    ];
    const h = createHash('sha256').update(digestOf(buildScanIndex(data)));
    let cycles = 0;
    for (const records of worlds) {
      const world = catalogOf(records, 'digest').data;
      const index = buildScanIndex(world);
      if (index.flat === undefined) cycles++;
      h.update(digestOf(index));
    }
    expect(cycles, 'the worlds include catalogs with prerequisite cycles').toBeGreaterThan(5);
    const digest = h.digest('hex');
    const scheme = scanScheme();
    expect(
      DIGESTS[scheme],
      `no digest recorded for scheme ${scheme} (SCAN_INDEX_VERSION or the tables changed): record ${digest}`,
    ).toBeDefined();
    expect(digest, 'the scan index is built differently under the same scheme: bump SCAN_INDEX_VERSION').toBe(DIGESTS[scheme]);
  });
});

type Leaves = { how: Uint8Array; number: Int32Array; fileVersions: Uint32Array; regValues: Uint32Array };

function leavesOf(x: Record<string, Record<string, unknown>>): Leaves {
  return x.leaves as unknown as Leaves;
}

/** The first rule node the index's leaves give kind `how` (LEAF_UNPREPARED: the first unprepared leaf, not an operator). */
function firstLeaf(x: Record<string, Record<string, unknown>>, how: number): number {
  const l = leavesOf(x);
  for (let id = 0; id < l.how.length; id++) if (l.how[id] === how && (how !== LEAF_UNPREPARED || !isOperator(id))) return id;
  throw new Error(`no leaf of kind ${how}`);
}

let operatorData: CatalogData | undefined;
const isOperator = (id: number): boolean => operatorData!.nodes.op[id] < 5;
function firstOperator(): number {
  for (let id = 0; ; id++) if (isOperator(id)) return id;
}

/** Makes the first bundle's first child the bundle itself (the layout puts children before their bundle). */
function selfChild(x: Record<string, Record<string, unknown>>): void {
  const offsets = x.flat.childOffsets as Int32Array;
  const pos = x.flat.childPos as Int32Array;
  for (let p = 0; p + 1 < offsets.length; p++)
    if (offsets[p + 1] > offsets[p]) {
      pos[offsets[p]] = p;
      return;
    }
  throw new Error('no bundle');
}

/** Gives a position the class of another (the catalog has more than one). */
function otherClass(x: Record<string, Record<string, unknown>>): void {
  const classAt = x.flat.classAt as Int32Array;
  const other = classAt.findIndex((c) => c !== classAt[0]);
  if (other < 0) throw new Error('one class only');
  classAt[0] = classAt[other]!;
}

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
