/**
 * The fleet path's flat decisions (engine/scanner/flat-decisions.ts): the layout is what its decisions assume (a
 * permutation; bundled updates before their bundle; every array the same update's), and deciding over it gives
 * exactly MachineScan's outcomes with exactly its rule evaluations (as lazy: no slot evaluated that the on-demand
 * path would not). scan-order.differential.test.ts compares both paths with the straightforward evaluation too.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { Catalog } from '../../engine/catalog/catalog.js';
import { scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import { flatLayout } from '../../engine/scanner/flat-decisions.js';
import { prerequisiteClasses } from '../../engine/scanner/prerequisite-classes.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import type { Inventory } from '../../engine/inventory/types.js';
import type { UpdateRecord } from '../../engine/model.js';
import { catalogArbOf, cyclicCatalogArb, inventoryArb } from '../reference/random-world.js';
import { loadedCatalogOf } from '../helpers/update-record.js';

vi.setConfig({ testTimeout: 120_000 });

const compile = (records: readonly UpdateRecord[]): Catalog => loadedCatalogOf(records, 'flat');
const seed = Number(process.env.PATCHSCAN_PROPERTY_SEED ?? Date.now() % 2 ** 31);

/** Catalog index i's bundled updates, in member order (-1: not in the catalog). */
function bundled(c: Catalog, i: number): number[] {
  const b = c.data.bundles;
  const out: number[] = [];
  for (let m = b.memberOffsets[b.groupOffsets[i]]; m < b.memberOffsets[b.groupOffsets[i + 1]]; m++) out.push(b.target[m]);
  return out;
}

function checkLayout(records: readonly UpdateRecord[]): void {
  const c = compile(records);
  const pc = prerequisiteClasses(c);
  const layout = flatLayout(c);
  if (pc.cycleOf.some((k) => k >= 0)) {
    expect(layout).toBeUndefined(); // a cycle: states depend on the order asked, MachineScan decides everything
    return;
  }
  expect(layout).toBeDefined();
  const l = layout!;
  const n = c.size;
  expect([...l.updateAt].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  const pos = new Int32Array(n);
  l.updateAt.forEach((i, p) => (pos[i] = p));
  const sb = c.data.supersededBy;
  for (let p = 0; p < n; p++) {
    const i = l.updateAt[p];
    expect(l.classAt[p]).toBe(pc.classOf[i]);
    const children = [...l.childPos.subarray(l.childOffsets[p], l.childOffsets[p + 1])];
    const want = bundled(c, i);
    // A detectoid is never decided from bundled updates (machine-scan.ts): its layout lists none.
    if (l.kindAt[p] === 2) {
      expect(children).toEqual(want.map((t) => (t < 0 ? -1 : pos[t])));
      for (const q of children) if (q >= 0) expect(q).toBeLessThan(p);
    } else expect(children).toEqual([]);
    expect([...l.supersederPos.subarray(l.supersederOffsets[p], l.supersederOffsets[p + 1])]).toEqual(
      [...sb.target.subarray(sb.offsets[i], sb.offsets[i + 1])].map((t) => pos[t]),
    );
  }
  expect([...l.rootPos].map((p) => l.updateAt[p])).toEqual([...pc.classReportable]);
}

function checkSameAsOnDemand(records: readonly UpdateRecord[], invs: readonly Inventory[]): void {
  const c = compile(records);
  for (const share of [true, false]) {
    const flat = new Scanner(c, { shareRuleResults: share });
    const onDemand = new Scanner(c, { shareRuleResults: share, flatDecisions: false });
    for (const inv of invs) {
      const o = { all: false, reasons: false };
      expect(scanOutcomes(flat, inv, o)).toEqual(scanOutcomes(onDemand, inv, o));
    }
    // As lazy as the on-demand path: the same slots evaluated, machine after machine.
    expect(flat.ruleValueStats()).toEqual(onDemand.ruleValueStats());
  }
}

describe('flat decisions', () => {
  it('lay out every update once, bundled updates before their bundle, on random catalogs (none with a cycle)', () => {
    fc.assert(fc.property(catalogArbOf({ maxLeaves: 12, maxBundles: 6 }), checkLayout), { numRuns: 200, seed });
  });

  it('have no layout when the catalog has a prerequisite cycle', () => {
    let cyclic = 0;
    fc.assert(
      fc.property(cyclicCatalogArb, (records) => {
        checkLayout(records);
        if (prerequisiteClasses(compile(records)).cycleOf.some((k) => k >= 0)) cyclic++;
      }),
      { numRuns: 150, seed: 5 },
    );
    expect(cyclic).toBeGreaterThan(10);
  });

  it('give the on-demand scan’s outcomes with its rule evaluations, on random catalogs × inventories', () => {
    fc.assert(
      fc.property(
        catalogArbOf({ maxLeaves: 10, maxBundles: 5 }),
        fc.array(inventoryArb, { minLength: 1, maxLength: 4 }),
        checkSameAsOnDemand,
      ),
      { numRuns: 200, seed },
    );
  });

  it('the catalogs exercise it: bundles with children placed before them, superseders, classes that hold', () => {
    let bundles = 0;
    let superseded = 0;
    let outcomes = 0;
    fc.assert(
      fc.property(catalogArbOf({ maxLeaves: 10, maxBundles: 5 }), inventoryArb, (records, inv) => {
        const c = compile(records);
        const l = flatLayout(c);
        if (l === undefined) return;
        for (let p = 0; p < c.size; p++) if (l.childOffsets[p + 1] > l.childOffsets[p]) bundles++;
        superseded += l.supersederPos.length;
        outcomes += scanOutcomes(new Scanner(c), inv, { all: false, reasons: false }).outcomes.length;
      }),
      { numRuns: 100, seed: 3 },
    );
    expect(bundles).toBeGreaterThan(50);
    expect(superseded).toBeGreaterThan(50);
    expect(outcomes).toBeGreaterThan(100);
  });
});
