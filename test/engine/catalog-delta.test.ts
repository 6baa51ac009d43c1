/**
 * Catalog deltas on a small hand-made catalog, one case per kind of change: which updates are re-evaluated (and which
 * are not: the point of the delta), the outcomes that move, and carried-over outcomes ≡ a full scan of the new catalog.
 */
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog/catalog.js';
import { decodeCatalog, encodeCatalog, fileDigestOf } from '../../engine/catalog/file.js';
import { Packr } from 'msgpackr';
import { catalogDelta } from '../../engine/catalog/catalog-delta.js';
import { decodeCatalogDelta, encodeCatalogDelta, idsDigest } from '../../engine/catalog/catalog-delta-file.js';
import { createHash } from 'node:crypto';
import { PatchscanError } from '../../engine/errors.js';
import type { UpdateRecord } from '../../engine/model.js';
import { carryOverOutcomes } from '../../engine/fleet/carry-over.js';
import { scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import { outcomeIndex, outcomeState, outcomeSupersedence } from '../../engine/fleet/result-set.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { SUPERSEDENCE } from '../../engine/scanner/supersedence.js';
import { inv } from '../helpers/scan-paths.js';
import { catalogOf, updateRecord } from '../helpers/update-record.js';

const T = { kind: 'const', value: true } as const;
const F = { kind: 'const', value: false } as const;
let nextRevision = 5000;

function rec(name: string, over: Partial<UpdateRecord>): UpdateRecord {
  const localized = [{ language: 'en', title: name, description: '' }];
  return updateRecord({
    updateId: id(name),
    revisionNumber: 100,
    revisionId: nextRevision++,
    explicitlyDeployable: false,
    localized,
    ...over,
  });
}
const NAMES = ['C1', 'D1', 'L1', 'L2', 'K1', 'B1', 'D2', 'M1', 'N1'];
function id(name: string): string {
  return `00000000-0000-4000-8000-${String(NAMES.indexOf(name) + 1).padStart(12, '0')}`;
}
const on = (name: string) => [{ kind: 'update' as const, updateId: id(name) }];

/** Product 1: detectoid D1, leaves L1 and L2, bundle B1 of child K1. Product 2: detectoid D2, leaf M1. */
const BASE: UpdateRecord[] = [
  rec('C1', { updateType: 'Category', isLeaf: false, deploymentAction: 'Evaluate', rules: { IsInstalled: T } }),
  rec('D1', { updateType: 'Detectoid', isLeaf: false, deploymentAction: 'Evaluate', rules: { IsInstalled: T } }),
  rec('L1', { prerequisites: on('D1'), rules: { IsInstalled: F } }),
  rec('L2', { prerequisites: on('D1'), rules: { IsInstalled: F } }),
  rec('K1', { prerequisites: on('D1'), deploymentAction: 'Bundle', rules: { IsInstalled: F } }),
  rec('B1', {
    isBundle: true,
    isLeaf: false,
    prerequisites: [{ kind: 'atLeastOne', isCategory: true, updateIds: [id('C1')] }],
    bundledUpdates: [{ kind: 'update', child: { updateId: id('K1'), revisionNumber: 100 } }],
  }),
  rec('D2', { updateType: 'Detectoid', isLeaf: false, deploymentAction: 'Evaluate', rules: { IsInstalled: T } }),
  rec('M1', { prerequisites: on('D2'), rules: { IsInstalled: F } }),
];
const N1 = rec('N1', { prerequisites: on('D1'), supersedes: [id('L1')], rules: { IsInstalled: F } });

/** A new revision of `name` with `over` applied. */
function revise(records: readonly UpdateRecord[], name: string, over: Partial<UpdateRecord>): UpdateRecord[] {
  const next = (r: UpdateRecord): UpdateRecord => ({ ...r, ...over, revisionNumber: r.revisionNumber + 1, revisionId: nextRevision++ });
  return records.map((r) => (r.updateId === id(name) ? next(r) : r));
}

const compile = (records: readonly UpdateRecord[]): Catalog => catalogOf(records, 'delta');

const INV = inv({ files: [], registry: [] }, 'T');

/** Outcomes by update name: `State` or `State/superseded-code`. */
function byName(c: Catalog, words: Uint32Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of words) {
    const sup = SUPERSEDENCE[outcomeSupersedence(w)];
    out[c.title(outcomeIndex(w))] = sup === 'no' ? outcomeState(w) : `${outcomeState(w)}/${sup}`;
  }
  return out;
}

const BEFORE = { L1: 'Required', L2: 'Required', B1: 'Required', M1: 'Required' };
const WITH_N1 = [...BASE, N1];

interface Case {
  readonly name: string;
  readonly from: UpdateRecord[];
  readonly to: UpdateRecord[];
  /** The updates re-evaluated, and how many of them may change state (the rest: their supersedence only). */
  readonly affected: string[];
  readonly stateAffected: number;
  /** The default result set on the new catalog. */
  readonly after: Record<string, string>;
}

const CASES: Case[] = [
  {
    name: 'a prerequisite detectoid changed: its dependents and the bundle of a dependent child',
    from: BASE,
    to: revise(BASE, 'D1', { rules: { IsInstalled: F } }),
    affected: ['D1', 'L1', 'L2', 'K1', 'B1'],
    stateAffected: 5,
    after: { M1: 'Required' },
  },
  {
    name: 'a bundle child changed: the bundle follows it',
    from: BASE,
    to: revise(BASE, 'K1', { rules: { IsInstalled: T } }),
    affected: ['K1', 'B1'],
    stateAffected: 2,
    after: { ...BEFORE, B1: 'Installed' },
  },
  {
    name: 'a new superseding update: the update it supersedes is re-flagged, not re-decided',
    from: BASE,
    to: WITH_N1,
    affected: ['L1', 'N1'],
    stateAffected: 1,
    after: { ...BEFORE, L1: 'Required/yes', N1: 'Required' },
  },
  {
    name: 'a superseding update removed: the update it superseded is superseded no more',
    from: WITH_N1,
    to: BASE,
    affected: ['L1'],
    stateAffected: 0,
    after: BEFORE,
  },
  {
    name: 'report-only fields changed (title, CVEs): nothing to re-evaluate',
    from: BASE,
    to: BASE.map((r) => (r.updateId !== id('L2') ? r : { ...r, cves: ['CVE-1'], localized: [{ ...r.localized[0], description: 'new' }] })),
    affected: [],
    stateAffected: 0,
    after: BEFORE,
  },
];

describe('catalog delta: what is re-evaluated, what moves', () => {
  it.each(CASES)('$name', ({ from: fromRecords, to: toRecords, affected, stateAffected, after }) => {
    const from = compile(fromRecords);
    const to = compile(toRecords);
    const delta = catalogDelta(from, to);
    expect(Array.from(delta.affectedList, (i) => to.title(i)).sort()).toEqual([...affected].sort());
    expect(delta.stateAffected).toBe(stateAffected);
    const scanner = new Scanner(to);
    const oldScanner = new Scanner(from);
    for (const all of [false, true]) {
      const old = scanOutcomes(oldScanner, INV, { all, reasons: false }).outcomes;
      const carried = carryOverOutcomes(scanner, delta, INV, old, { all });
      expect(Array.from(carried)).toEqual(Array.from(scanOutcomes(scanner, INV, { all, reasons: false }).outcomes));
      if (!all) {
        expect(byName(from, old)).toEqual(fromRecords === BASE ? BEFORE : { ...BEFORE, L1: 'Required/yes', N1: 'Required' });
        expect(byName(to, carried)).toEqual(after);
      }
    }
  });

  it('a catalog with a prerequisite cycle asks for a full rescan, and carrying over refuses with a stable code', () => {
    const cyclic = revise(BASE, 'D1', { prerequisites: on('L2') });
    const from = compile(BASE);
    const to = compile(cyclic);
    const delta = catalogDelta(from, to);
    expect(delta.fullRescan).toMatch(/cycle/);
    const old = scanOutcomes(new Scanner(from), INV, { all: false, reasons: false }).outcomes;
    const call = () => carryOverOutcomes(new Scanner(to), delta, INV, old, { all: false });
    expect(call).toThrow(PatchscanError);
    expect(call).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('a scanner of another catalog is refused', () => {
    const from = compile(BASE);
    const delta = catalogDelta(from, compile(WITH_N1));
    const call = () => carryOverOutcomes(new Scanner(from), delta, INV, new Uint32Array(0), { all: false });
    expect(call).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('names the added, changed and removed UpdateIds', () => {
    const to = revise(WITH_N1, 'M1', { rules: { IsInstalled: T } }).filter((r) => r.updateId !== id('L2'));
    const delta = catalogDelta(compile(BASE), compile(to));
    expect(delta).toMatchObject({ added: [id('N1')], changed: [id('M1')], removed: [id('L2')] });
  });
});

describe('a stored delta (catalog-delta-file.ts)', () => {
  const from = catalogOf(BASE);
  const to = catalogOf(revise([...BASE, N1], 'L2', { rules: { IsInstalled: T } }));

  it('reads back as the delta it was, for the catalog it was made for', () => {
    const delta = catalogDelta(from, to);
    const back = decodeCatalogDelta(encodeCatalogDelta(delta), to);
    expect(back.to).toBe(to);
    expect({ ...back, to: undefined }).toEqual({ ...delta, to: undefined });
    expect(back.changed).toEqual([id('L2')]);
  });

  it('ties a delta to its catalog by the SHA-256 of its decoded update ids, each with a newline (as stored deltas were made)', () => {
    // Hashed from the string table's bytes; must equal the digest of the ids as strings, which deltas stored before
    // carry: non-ASCII, a lone surrogate (stored as U+FFFD) and an empty id included.
    const odd = ['é-ü-🙂-0000-000000000001', 'x\ud800y', ''];
    const c = catalogOf([...BASE, ...odd.map((updateId, k) => ({ ...N1, updateId, revisionId: 9000 + k }))]);
    const ids = Array.from({ length: c.size }, (_, i) => c.updateId(i));
    expect(ids).toContain('x\ufffdy');
    const expected = createHash('sha256')
      .update(ids.map((u) => `${u}\n`).join(''))
      .digest('hex');
    expect(idsDigest(c)).toBe(expected);
    expect(idsDigest(to)).toBe(
      createHash('sha256')
        .update(Array.from({ length: to.size }, (_, i) => `${to.updateId(i)}\n`).join(''))
        .digest('hex'),
    );
  });

  it('between catalogs read from files, ties a delta to the new one by its file digest first (its ids hashed only when that differs)', () => {
    const fromFile = (c: Catalog): Catalog => new Catalog(decodeCatalog(encodeCatalog(c.data)));
    const toRead = fromFile(to);
    const digest = fileDigestOf(toRead.data);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(fileDigestOf(to.data)).toBeUndefined(); // compiled in memory: no file names it
    const packr = new Packr({ useRecords: false, moreTypes: true });
    const stored = packr.unpack(encodeCatalogDelta(catalogDelta(fromFile(from), toRead))) as Record<string, unknown>;
    expect(stored.toFile).toBe(digest);
    const edited = (edit: Record<string, unknown>): Uint8Array => Buffer.from(packr.pack({ ...stored, ...edit }));
    // The same file: its digest decides (ids that would not match are not even hashed).
    const wrongIds = edited({ toIds: '0'.repeat(64) });
    expect(decodeCatalogDelta(wrongIds, toRead).to).toBe(toRead);
    // Without the file digest (the catalog in memory; a record from before it was stored), the ids decide.
    expect(() => decodeCatalogDelta(wrongIds, to)).toThrowError(/made for another catalog/);
    expect(decodeCatalogDelta(edited({ toFile: undefined }), toRead).to).toBe(toRead);
    // Another file with the same ids (the same catalog written again): the ids decide, and match.
    expect(decodeCatalogDelta(edited({ toFile: 'f'.repeat(64) }), toRead).to).toBe(toRead);
    expect(() => decodeCatalogDelta(edited({ toFile: 'f'.repeat(64), toIds: '0'.repeat(64) }), toRead)).toThrowError(
      /made for another catalog/,
    );
    // Another catalog's file: refused.
    expect(() => decodeCatalogDelta(edited({}), fromFile(from))).toThrowError(/made for another catalog/);
  });

  it('is refused (COMPILED_BAD_FILE) for another catalog, and when it does not decode or does not fit', () => {
    const delta = catalogDelta(from, to);
    const bytes = encodeCatalogDelta(delta);
    const refused = (b: Uint8Array, c: Catalog, why: RegExp): void => {
      let err: unknown;
      try {
        decodeCatalogDelta(b, c);
      } catch (e) {
        err = e;
      }
      expect(PatchscanError.is(err, 'COMPILED_BAD_FILE'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(why);
    };
    refused(bytes, from, /made for another catalog/);
    // Same size, other update ids.
    const sameSize = catalogOf([...BASE, { ...N1, updateId: '00000000-0000-4000-8000-000000000099' }]);
    expect(sameSize.size).toBe(to.size);
    refused(bytes, sameSize, /made for another catalog/);
    refused(bytes.subarray(0, bytes.length >> 1), to, /does not decode/);
    refused(encodeCatalogDelta({ ...delta, oldIndex: delta.oldIndex.map(() => 99) }), to, /oldIndex\[0\] = 99 is out of range/);
    refused(encodeCatalogDelta({ ...delta, affected: delta.affected.subarray(1) }), to, /affected has \d+ entries/);
    refused(encodeCatalogDelta({ ...delta, stateOrder: Int32Array.of(-5) }), to, /stateOrder\[0\] = -5/);
  });
});
