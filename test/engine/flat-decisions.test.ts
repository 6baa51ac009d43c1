/**
 * The fleet path's flat decisions (engine/fleet/flat-decisions.ts): the layout is what its decisions assume (a
 * permutation; bundled updates before their bundle; every array the same update's), and deciding over it gives
 * exactly MachineScan's outcomes with exactly its rule-slot reads and evaluations (as lazy: no slot asked for that the
 * on-demand path would not ask for) — while the section memo does not evict: under its memory bound, which values
 * stay depends on the order groups were first touched, which the two paths do not share (outcomes stay equal).
 * Worlds: the random catalogs of the reference tests, the cyclic ones (their acyclic half uses the layout), and "odd"
 * ones with software and bundle prerequisites, bundles of bundles, detectoid children and supersedence in any
 * direction (a red-team pass found the flat path deciding a software prerequisite a second time in 829 of 1,200 of
 * those; the existing worlds had none). scan-order.differential.test.ts compares both paths with the
 * straightforward evaluation too.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { Catalog } from '../../engine/catalog/catalog.js';
import { reasonMask, scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import { SUP_NO, SUP_POSSIBLY } from '../../engine/scanner/supersedence.js';
import { TYPE_CATEGORY, TYPE_DETECTOID, TYPE_SOFTWARE } from '../../engine/catalog/codes.js';
import { flatLayout } from '../../engine/fleet/flat-decisions.js';
import { prerequisiteClasses } from '../../engine/scanner/prerequisite-classes.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import type { Inventory } from '../../engine/inventory/types.js';
import type { Prerequisite, UpdateRecord } from '../../engine/model.js';
import { catalogArbOf, cyclicCatalogArb, inventoryArb } from '../reference/random-world.js';
import { loadedCatalogOf } from '../helpers/update-record.js';
import { compile as compileNamed, inv as machine, key, leaf, rec, uid } from '../helpers/scan-paths.js';

/** The batch output's default reasons: Required (not superseded, or possibly) and Unknown. */
const BATCH_REASONS = {
  all: false,
  reasons: true,
  reasonMask: reasonMask(['Required'], [SUP_NO, SUP_POSSIBLY]) | reasonMask(['Unknown']),
} as const;

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
  // What MachineScan decides while evaluating classes: software (not detectoid or category) prerequisites and,
  // recursively, what they bundle — computed here by catalog index, without the layout.
  const byScan = new Set<number>();
  const { type } = c.data.updates;
  const pre = c.data.prerequisites;
  const visit = (t: number): void => {
    if (t < 0 || byScan.has(t)) return;
    byScan.add(t);
    for (const k of bundled(c, t)) visit(k);
  };
  for (const t of pre.target) if (t >= 0 && type[t] !== TYPE_DETECTOID && type[t] !== TYPE_CATEGORY) visit(t);
  for (let p = 0; p < n; p++) {
    expect(l.decideAs[p]).toBe(byScan.has(l.updateAt[p]) ? 3 : l.kindAt[p]);
  }
}

function checkSameAsOnDemand(
  records: readonly UpdateRecord[],
  invs: readonly Inventory[],
  limits?: { bytes: number; sectionTexts?: number },
): void {
  const c = compile(records);
  for (const share of [true, false]) {
    const options = { shareRuleResults: share, ...(limits ? { shareRuleResultsLimits: limits } : {}) };
    const flat = new Scanner(c, options);
    const onDemand = new Scanner(c, { ...options, flatDecisions: false });
    const flatReasons = new Scanner(c, options);
    const onDemandReasons = new Scanner(c, { ...options, flatDecisions: false });
    for (const inv of invs) {
      const o = { all: false, reasons: false };
      expect(scanOutcomes(flat, inv, o)).toEqual(scanOutcomes(onDemand, inv, o));
      // Reasons for some outcomes (the batch output's mask): the states over the flat layout, then the masked
      // outcomes decided again by MachineScan for their reasons.
      expect(scanOutcomes(flatReasons, inv, BATCH_REASONS)).toEqual(scanOutcomes(onDemandReasons, inv, BATCH_REASONS));
    }
    // As lazy as the on-demand path: the same slots asked for and evaluated, machine after machine (not under a
    // memo that evicts: see the header).
    if (limits === undefined || limits.bytes >= 1e6 || limits.sectionTexts === 1) {
      expect(flat.ruleValueStats()).toEqual(onDemand.ruleValueStats());
      // With the mask, the same evaluations; deciding an outcome again for its reason reads values this machine read
      // already, which are not counted as shared — so never more sharing than the on-demand path counts.
      const [f, d] = [flatReasons.ruleValueStats(), onDemandReasons.ruleValueStats()];
      expect(f.evaluated).toBe(d.evaluated);
      expect(f.shared).toBeLessThanOrEqual(d.shared);
    }
  }
}

/**
 * catalogArbOf's worlds with odd relations added: prerequisites on any earlier update (software updates, bundles,
 * detectoids; alone or in a group with an update the catalog lacks), new bundles of anything earlier (bundles,
 * detectoids, categories), some bundled updates made bundle-only or reportable, supersedence in any direction.
 */
const G = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const oddWorldArb = fc
  .tuple(
    catalogArbOf({ maxLeaves: 20, maxBundles: 8, maxSupersede: 20 }),
    fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean()), { maxLength: 8 }),
    fc.array(fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.boolean(), fc.nat(), fc.boolean()), { maxLength: 6 }),
    fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 12 }),
    fc.array(fc.nat(), { maxLength: 3 }),
  )
  .map(([records, prerequisites, bundles, supersedes, reportable]) => {
    const out = [...records];
    for (const [a, b, alone] of prerequisites) {
      const i = a % out.length;
      if (i === 0) continue;
      const target = out[b % i].updateId; // an earlier update: no cycle
      const p: Prerequisite = alone
        ? { kind: 'update', updateId: target }
        : { kind: 'atLeastOne', isCategory: false, updateIds: [target, G(7777)] };
      out[i] = { ...out[i], prerequisites: [...out[i].prerequisites, p] };
    }
    let next = 5000;
    for (const [kids, group, pre, bundleOnly] of bundles) {
      const ids = [...new Set(kids.map((k) => out[k % out.length].updateId))];
      const children = ids.map((updateId) => ({ updateId, revisionNumber: 100 }));
      out.push({
        ...out[0],
        updateId: G(next),
        revisionId: 1000 + next++,
        revisionNumber: 100,
        updateType: 'Software',
        isLeaf: false,
        isBundle: true,
        deploymentAction: 'Install',
        explicitlyDeployable: false,
        categories: [],
        rules: {},
        supersedes: [],
        supersededByRevisionIds: [],
        bundledByRevisionIds: [],
        prerequisites: pre % 3 === 0 ? [] : [{ kind: 'update', updateId: out[pre % out.length].updateId }],
        bundledUpdates: group ? [{ kind: 'atLeastOne', children }] : children.map((child) => ({ kind: 'update' as const, child })),
      });
      if (bundleOnly)
        for (const id of ids) {
          const k = out.findIndex((r) => r.updateId === id);
          if (out[k].updateType === 'Software') out[k] = { ...out[k], deploymentAction: 'Bundle' };
        }
    }
    for (const [a, b] of supersedes) {
      const i = a % out.length;
      out[i] = { ...out[i], supersedes: [...new Set([...out[i].supersedes, out[b % out.length].updateId])] };
    }
    for (const f of reportable) {
      const k = f % out.length;
      if (out[k].deploymentAction === 'Bundle') out[k] = { ...out[k], deploymentAction: 'Install' };
    }
    return out;
  });

describe('flat decisions', () => {
  it('lay out every update once, bundled updates before their bundle, on random catalogs (none with a cycle)', () => {
    fc.assert(fc.property(catalogArbOf({ maxLeaves: 12, maxBundles: 6 }), checkLayout), { numRuns: 200, seed });
    fc.assert(fc.property(oddWorldArb, checkLayout), { numRuns: 100, seed });
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
      fc.property(catalogArbOf({ maxLeaves: 10, maxBundles: 5 }), fc.array(inventoryArb, { minLength: 1, maxLength: 4 }), (r, i) =>
        checkSameAsOnDemand(r, i),
      ),
      { numRuns: 200, seed },
    );
  });

  it('give the on-demand scan’s outcomes and rule reads on odd worlds and on the acyclic ones of the cyclic worlds', () => {
    const invs = fc.array(inventoryArb, { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(oddWorldArb, invs, (r, i) => checkSameAsOnDemand(r, i)),
      { numRuns: 200, seed },
    );
    fc.assert(
      fc.property(cyclicCatalogArb, invs, (r, i) => checkSameAsOnDemand(r, i)),
      { numRuns: 200, seed },
    );
    // A memo that starts over at every new section text shares nothing between machines: reads still match.
    fc.assert(
      fc.property(oddWorldArb, invs, (r, i) => checkSameAsOnDemand(r, i, { bytes: 1, sectionTexts: 1 })),
      { numRuns: 100, seed },
    );
    // Under a small budget the kept values differ between the paths (the header): the outcomes may not.
    fc.assert(
      fc.property(oddWorldArb, invs, (r, i) => checkSameAsOnDemand(r, i, { bytes: 200 })),
      { numRuns: 100, seed },
    );
  });

  it('odd worlds exercise what the others lack: software and bundle prerequisites, bundles of bundles, detectoid children', () => {
    let softwarePrerequisites = 0;
    let bundlePrerequisites = 0;
    let bundlesOfBundles = 0;
    let detectoidChildren = 0;
    for (const records of fc.sample(oddWorldArb, { numRuns: 300, seed: 11 })) {
      const c = compile(records);
      const l = flatLayout(c);
      if (l === undefined) continue;
      const { type } = c.data.updates;
      const pre = c.data.prerequisites;
      for (let m = 0; m < pre.target.length; m++) {
        const t = pre.target[m];
        if (t < 0) continue;
        if (type[t] === TYPE_SOFTWARE && bundled(c, t).length === 0) softwarePrerequisites++;
        if (bundled(c, t).length > 0) bundlePrerequisites++;
      }
      for (let i = 0; i < c.size; i++)
        for (const t of bundled(c, i)) {
          if (t >= 0 && bundled(c, t).length > 0) bundlesOfBundles++;
          if (t >= 0 && l.kindAt[l.updateAt.indexOf(t)] === 1) detectoidChildren++;
        }
    }
    expect(softwarePrerequisites).toBeGreaterThan(50);
    expect(bundlePrerequisites).toBeGreaterThan(20);
    expect(bundlesOfBundles).toBeGreaterThan(20);
    expect(detectoidChildren).toBeGreaterThan(20);
  });

  const o = { all: false, reasons: false };
  const reg = (k: string) => leaf('RegKeyExists', { Key: 'HKEY_LOCAL_MACHINE', Subkey: k });
  const sameAsOnDemand = (records: UpdateRecord[], m: Inventory): void => {
    const c = compileNamed(records);
    const flat = new Scanner(c);
    const onDemand = new Scanner(c, { flatDecisions: false });
    expect(scanOutcomes(flat, m, o)).toEqual(scanOutcomes(onDemand, m, o));
    expect(flat.ruleValueStats()).toEqual(onDemand.ruleValueStats());
  };

  it('decide a software update that is also a prerequisite once (MachineScan decides it for the class)', () => {
    sameAsOnDemand(
      [
        rec(0, { IsInstalled: reg('SOFTWARE\\A'), IsInstallable: reg('SOFTWARE\\AI') }),
        rec(1, { IsInstalled: reg('SOFTWARE\\B') }, { prerequisites: [{ kind: 'update', updateId: uid(0) }] }),
      ],
      machine({ registry: [key('HKEY_LOCAL_MACHINE\\SOFTWARE\\A')] }),
    );
  });

  it('decide a bundle that is a prerequisite, and its bundled updates, once', () => {
    sameAsOnDemand(
      [
        rec(0, { IsInstalled: reg('SOFTWARE\\A') }, { deploymentAction: 'Bundle' }),
        rec(1, { IsInstalled: reg('SOFTWARE\\B') }, { deploymentAction: 'Bundle' }),
        rec(
          2,
          {},
          {
            isBundle: true,
            isLeaf: false,
            bundledUpdates: [
              { kind: 'update', child: { updateId: uid(0) } },
              { kind: 'update', child: { updateId: uid(1) } },
            ],
          },
        ),
        rec(3, { IsInstalled: reg('SOFTWARE\\C') }, { prerequisites: [{ kind: 'update', updateId: uid(2) }] }),
      ],
      machine({ registry: [key('HKEY_LOCAL_MACHINE\\SOFTWARE\\A'), key('HKEY_LOCAL_MACHINE\\SOFTWARE\\B')] }),
    );
  });

  it('leave nothing behind when a machine throws mid-scan: the next machine on the scanner gets its own outcomes', () => {
    const c = compileNamed([
      rec(0, { IsInstallable: reg('SOFTWARE\\A') }), // Required where the key exists: an outcome put before the throw
      rec(9, { IsInstalled: { kind: 'const', value: true } }, { updateType: 'Detectoid', deploymentAction: 'Evaluate', isLeaf: false }),
      rec(
        2,
        { IsInstalled: leaf('FileExists', { Path: 'x.dll', Csidl: '37' }) },
        { prerequisites: [{ kind: 'update', updateId: uid(9) }] },
      ),
    ]);
    for (const share of [true, false]) {
      const flat = new Scanner(c, { shareRuleResults: share });
      const bad = machine({ registry: [key('HKEY_LOCAL_MACHINE\\SOFTWARE\\A')], files: [{ path: 5 } as never], csidl: { '37': 'C:\\W' } });
      expect(() => scanOutcomes(flat, bad, o)).toThrow();
      const good = machine({ registry: [key('HKEY_LOCAL_MACHINE\\SOFTWARE\\A', { exists: false })], files: [], csidl: { '37': 'C:\\W' } });
      const want = scanOutcomes(new Scanner(c, { flatDecisions: false }), good, o);
      expect(scanOutcomes(flat, good, o)).toEqual(want);
      expect(want.outcomes.length).toBeGreaterThan(0);
    }
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
