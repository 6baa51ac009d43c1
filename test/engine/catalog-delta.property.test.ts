/**
 * A new catalog without a full rescan (issue 14 item 4): random catalogs × random edits (revised detectoids, leaves
 * and bundle children, revision-only bumps, title-only changes, removed updates, new superseding updates) × random
 * inventories. Outcomes carried over from the old catalog (engine/fleet/carry-over.ts) must be word for word the
 * result set a full scan of the new catalog produces — every update, state and supersedence, in the same order —
 * both for default result sets and for `all` ones.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { type Catalog } from '../../engine/catalog/catalog.js';
import { catalogDelta } from '../../engine/catalog/catalog-delta.js';
import { decodeCatalogDelta, encodeCatalogDelta } from '../../engine/catalog/catalog-delta-file.js';
import type { RuleNode, UpdateRecord } from '../../engine/model.js';
import { carryOverOutcomes } from '../../engine/fleet/carry-over.js';
import { scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import { outcomeIndex, outcomeState, outcomeSupersedence } from '../../engine/fleet/result-set.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { allRulesCatalogArb, catalogArb, inventoryArb, richInventoryArb } from '../reference/random-world.js';
import { loadedCatalogOf } from '../helpers/update-record.js';

// Property runs are CPU-bound: on a 2-core machine shared with other work one takes several times its quiet time.
vi.setConfig({ testTimeout: 120_000 });

const G = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const compile = (records: readonly UpdateRecord[]): Catalog => loadedCatalogOf(records, 'delta');

type Edit =
  | { kind: 'revise'; at: number; rule: number; negate: boolean }
  | { kind: 'bump'; at: number }
  | { kind: 'retitle'; at: number }
  | { kind: 'remove'; at: number }
  | { kind: 'add'; prereq: number; supersedes: number; rule: number; negate: boolean };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('revise' as const), at: fc.nat(), rule: fc.nat(), negate: fc.boolean() }),
  fc.record({ kind: fc.constant('bump' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('retitle' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), prereq: fc.nat(), supersedes: fc.nat(), rule: fc.nat(), negate: fc.boolean() }),
);

/** Rule trees to give an edited update: taken from the catalog itself (any update's rules), or constants. */
function rulePool(records: readonly UpdateRecord[]): RuleNode[] {
  const pool: RuleNode[] = [
    { kind: 'const', value: true },
    { kind: 'const', value: false },
  ];
  for (const r of records) for (const v of Object.values(r.rules)) if (v) pool.push(v);
  return pool;
}

interface Applied {
  readonly records: UpdateRecord[];
  /** UpdateIds whose revision was raised (revised or bumped), added, removed, or only retitled. */
  readonly revised: Set<string>;
  readonly added: Set<string>;
  readonly removed: Set<string>;
  readonly retitled: Set<string>;
}

function applyEdits(records: readonly UpdateRecord[], edits: readonly Edit[]): Applied {
  let out = [...records];
  const pool = rulePool(records);
  const revised = new Set<string>(),
    added = new Set<string>(),
    removed = new Set<string>(),
    retitled = new Set<string>();
  let rev = 20000;
  edits.forEach((e, n) => {
    if (e.kind === 'add') {
      const dets = out.filter((r) => r.updateType === 'Detectoid');
      const software = out.filter((r) => r.updateType === 'Software');
      const rule = pool[e.rule % pool.length];
      const id = G(7000 + n);
      // Earlier edits may have removed every update: the new one is then made from one of the catalog's own.
      const base = software[0] ?? out[0] ?? records[0];
      if (base === undefined) return;
      out.push({
        ...base,
        updateId: id,
        revisionNumber: 1,
        revisionId: 30000 + n,
        updateType: 'Software',
        isLeaf: true,
        isBundle: false,
        deploymentAction: 'Install',
        bundledUpdates: [],
        bundledByRevisionIds: [],
        supersededByRevisionIds: [],
        prerequisites: dets.length > 0 ? [{ kind: 'update', updateId: dets[e.prereq % dets.length].updateId }] : [],
        supersedes: software.length > 0 ? [software[e.supersedes % software.length].updateId] : [],
        rules: { IsInstalled: e.negate ? { kind: 'not', child: rule } : rule },
        localized: [],
      });
      added.add(id);
      return;
    }
    if (out.length === 0) return;
    const k = e.at % out.length;
    const r = out[k];
    if (e.kind === 'remove') {
      out = out.filter((_, j) => j !== k);
      if (added.has(r.updateId)) added.delete(r.updateId);
      else removed.add(r.updateId);
      revised.delete(r.updateId);
      return;
    }
    if (e.kind === 'retitle') {
      out[k] = { ...r, localized: [{ language: 'en', title: `retitled ${n}`, description: '' }] };
      retitled.add(r.updateId);
      return;
    }
    const bumped = { ...r, revisionNumber: r.revisionNumber + 1, revisionId: rev++ };
    if (e.kind === 'bump') out[k] = bumped;
    else {
      const rule = pool[e.rule % pool.length];
      out[k] = { ...bumped, rules: { ...r.rules, IsInstalled: e.negate ? { kind: 'not', child: rule } : rule } };
    }
    if (!added.has(r.updateId)) revised.add(r.updateId);
  });
  return { records: out, revised, added, removed, retitled };
}

const readable = (c: Catalog, words: Uint32Array): string[] =>
  Array.from(words, (w) => `${c.updateId(outcomeIndex(w))} ${outcomeState(w)} sup=${outcomeSupersedence(w)}`);

/** How often the runs met each case the brief names (asserted non-zero below: the property exercised them). */
const seen = { detectoidChanged: 0, bundleChildChanged: 0, supersederAdded: 0, removed: 0, outcomeMoved: 0 };

const WORLDS = [
  { name: 'basic rule types', catalog: catalogArb, inventory: inventoryArb },
  { name: 'every rule type', catalog: allRulesCatalogArb, inventory: richInventoryArb },
] as const;

describe.each(WORLDS)('carried-over outcomes ≡ full rescan of the new catalog: $name', ({ catalog: catalogArb, inventory: invArb }) => {
  it('for every update, state and supersedence, default and `all` result sets (random catalogs × edits × inventories)', () => {
    fc.assert(
      fc.property(
        catalogArb,
        fc.array(editArb, { minLength: 1, maxLength: 4 }),
        fc.array(invArb, { minLength: 1, maxLength: 3 }),
        (records, edits, invs) => {
          const edited = applyEdits(records, edits);
          const from = compile(records);
          const to = compile(edited.records);
          const delta = catalogDelta(from, to);
          expect(delta.fullRescan).toBeUndefined(); // the random world has no cycles
          expect(new Set(delta.added)).toEqual(edited.added);
          expect(new Set(delta.removed)).toEqual(edited.removed);
          for (const id of edited.revised) expect(delta.changed).toContain(id);
          for (const id of edited.retitled) if (!edited.revised.has(id)) expect(delta.changed).not.toContain(id);

          // The builder orders a catalog by RevisionId and an unchanged update keeps its own: the moved words stay in order.
          expect(delta.keepsOrder).toBe(true);
          // The same delta as if the order were not kept: the carry-over sorts every word instead of merging.
          const unordered = { ...delta, keepsOrder: false };
          // The delta as stored and read back without the old catalog (catalog-delta-file.ts): the same carry-over.
          const stored = decodeCatalogDelta(encodeCatalogDelta(delta), to);
          const oldScanner = new Scanner(from);
          const newScanner = new Scanner(to);
          for (const inv of invs) {
            for (const all of [false, true]) {
              const old = scanOutcomes(oldScanner, inv, { all, reasons: false }).outcomes;
              const full = scanOutcomes(newScanner, inv, { all, reasons: false }).outcomes;
              const carried = carryOverOutcomes(newScanner, delta, inv, old, { all });
              expect(readable(to, carried), `edits ${JSON.stringify(edits)}`).toEqual(readable(to, full));
              expect(Array.from(carried)).toEqual(Array.from(full));
              expect(Array.from(carryOverOutcomes(newScanner, unordered, inv, old, { all }))).toEqual(Array.from(full));
              expect(Array.from(carryOverOutcomes(newScanner, stored, inv, old, { all }))).toEqual(Array.from(full));
              if (all) count(from, to, delta.changed, edited, old, full);
            }
          }
        },
      ),
      { numRuns: 300, seed: Number(process.env.PATCHSCAN_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
  });
});

/** Tallies the cases of `seen` a run exercised, where the change reached an outcome. */
function count(from: Catalog, to: Catalog, changed: readonly string[], edited: Applied, old: Uint32Array, full: Uint32Array): void {
  const before = new Map(Array.from(old, (w) => [from.updateId(outcomeIndex(w)), w & 15]));
  const after = new Map(Array.from(full, (w) => [to.updateId(outcomeIndex(w)), w & 15]));
  const moved = new Set<string>();
  for (const [id, v] of after) if (before.has(id) && before.get(id) !== v) moved.add(id);
  if (moved.size === 0) return;
  seen.outcomeMoved++;
  const changedSet = new Set(changed);
  for (let i = 0; i < to.size; i++) {
    const id = to.updateId(i);
    if (!moved.has(id) || changedSet.has(id)) continue; // an outcome that moved only through what it depends on
    const changedDetectoid = (m: { updateId: string; index: number }): boolean =>
      changedSet.has(m.updateId) && m.index >= 0 && to.updateType(m.index) === 'Detectoid';
    if (to.prerequisites(i).some((g) => g.members.some(changedDetectoid))) seen.detectoidChanged++;
    if (to.bundledUpdates(i).some((g) => g.members.some((m) => changedSet.has(m.updateId)))) seen.bundleChildChanged++;
    if (to.supersededBy(i).some((s) => edited.added.has(s.updateId))) seen.supersederAdded++;
    if (from.findByUpdateId(id).some((o) => from.supersededBy(o).some((s) => edited.removed.has(s.updateId)))) seen.removed++;
  }
}

describe('the property met every case', () => {
  it('a prerequisite detectoid changed, a bundle child changed, a superseding update added, an update removed', () => {
    expect(seen.outcomeMoved).toBeGreaterThan(0);
    expect(seen.detectoidChanged).toBeGreaterThan(0);
    expect(seen.bundleChildChanged).toBeGreaterThan(0);
    expect(seen.supersederAdded).toBeGreaterThan(0);
    expect(seen.removed).toBeGreaterThan(0);
  });
});
