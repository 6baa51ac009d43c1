/**
 * Differential property test: random catalogs (categories, detectoids, leaf updates with random rule trees,
 * bundles, supersedence, missing references) and random inventories (facts collected, absent, or missing) —
 * the engine (compiled catalog, closures, fact vector) and the reference evaluator (walks the model) must agree
 * on the state and the superseded flag of every update. fast-check prints the seed of any failure.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { CatalogBuilder } from '../../engine/catalog/builder.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { decodeCatalog, encodeCatalog } from '../../engine/catalog/file.js';
import { buildScanIndex } from '../../engine/fleet/scan-index.js';
import type { Inventory } from '../../engine/inventory/types.js';
import type { UpdateRecord } from '../../engine/model.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { supersedenceFlags } from '../../engine/scanner/supersedence.js';
import { validateInventory } from '../../engine/inventory/validate.js';
import { EVALUATORS } from '../../engine/eval/program.js';
import type { RuleNode } from '../../engine/model.js';
import { RULES } from '../../engine/rules/registry.js';
import { evalRule, referenceScan, type RTri } from '../reference/reference-evaluator.js';
import { allRulesCatalogArb, catalogArb, catalogArbOf, inventoryArb, richInventoryArb } from '../reference/random-world.js';
import { catalogOf, updateRecord } from '../helpers/update-record.js';

// Property runs are CPU-bound: on a 2-core machine shared with other work one takes several times its quiet time.
vi.setConfig({ testTimeout: 120_000 });

/**
 * Two worlds: the basic rule types (those of the engine ÷ reference benchmark) over sparse inventories, and every
 * rule type of the registry over inventories with every section filled in at random.
 */
const WORLDS = [
  {
    name: 'basic rule types',
    catalog: catalogArb,
    inventory: inventoryArb,
    sections: ['os', 'processor', 'csidl', 'files', 'registry', 'msi', 'cbs'],
  },
  {
    name: 'every rule type',
    catalog: allRulesCatalogArb,
    inventory: richInventoryArb,
    sections: [
      'os',
      'processor',
      'csidl',
      'files',
      'registry',
      'msi',
      'cbs',
      'systemMetrics',
      'licensing',
      'cluster',
      'wmi',
      'productReleases',
      'deviceAttributes',
    ],
  },
] as const;

function engineStates(
  records: UpdateRecord[],
  invs: readonly Inventory[],
): Map<string, { state: string; superseded: boolean; possiblySuperseded: boolean }>[] {
  const b = new CatalogBuilder();
  for (const r of records) b.addRecord(r);
  // Through the file format too, scan index included: what is scanned is what a loaded catalog holds.
  const data = b.build({ kind: 'records', path: 'property', sha256: '' });
  const c = new Catalog(decodeCatalog(encodeCatalog(data, { scanIndex: buildScanIndex })));
  const scanner = new Scanner(c);
  return invs.map(
    (inv) =>
      new Map(
        scanner
          .states(inv)
          .map((r) => [c.updateId(r.index), { state: r.state, superseded: r.superseded, possiblySuperseded: r.possiblySuperseded }]),
      ),
  );
}

describe.each(WORLDS)('engine ≡ reference evaluator: $name', ({ catalog: catalogArb, inventory: inventoryArb, sections: SECTIONS }) => {
  it('agrees on every state and supersedence (superseded, possibly superseded) of every update (random catalogs × inventories)', () => {
    fc.assert(
      fc.property(catalogArb, fc.array(inventoryArb, { minLength: 1, maxLength: 4 }), (records, invs) => {
        // Every generated inventory is valid: the validator accepts it as a client would send it.
        for (const inv of invs) validateInventory(JSON.parse(JSON.stringify(inv)), 'generated');
        const engine = engineStates(records, invs);
        invs.forEach((inv, k) => {
          const ref = referenceScan(records, inv);
          for (const r of records)
            expect(
              engine[k].get(r.updateId),
              `${r.updateId} ${JSON.stringify(r.rules)} prereqs=${JSON.stringify(r.prerequisites)} on ${JSON.stringify(inv)}`,
            ).toEqual(ref.get(r.updateId));
        });
      }),
      { numRuns: 400, seed: Number(process.env.PATCHSCAN_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
  });

  it('agrees when one scanner shares rule results across machines (sections recombined, UBR varied)', () => {
    // The fleet path (withMachineScan) shares slot values between machines whose sections read by a rule are equal.
    // Machines built by recombining the sections of a few random ones make those hits frequent; UBR is varied
    // because the memo keys only CbsPackageInstallable by it — another rule reading it would disagree here.
    let shared = 0;
    fc.assert(
      fc.property(
        catalogArb,
        fc.array(inventoryArb, { minLength: 2, maxLength: 3 }),
        fc.array(
          fc.tuple(
            fc.array(fc.nat(), { minLength: SECTIONS.length, maxLength: SECTIONS.length }),
            fc.option(fc.oneof(fc.constantFrom(1900, 1936, 2003), fc.nat({ max: 5000 })), { nil: undefined }),
          ),
          { minLength: 2, maxLength: 8 },
        ),
        (records, parents, recipes) => {
          const invs: Inventory[] = [...parents];
          for (const [picks, ubr] of recipes) {
            const mixed: Record<string, unknown> = { ...parents[0] };
            SECTIONS.forEach((s, k) => {
              const from = parents[picks[k] % parents.length] as unknown as Record<string, unknown>;
              if (from[s] === undefined) delete mixed[s];
              else mixed[s] = from[s];
            });
            if (ubr !== undefined && mixed.os) mixed.os = { ...mixed.os, ubr };
            invs.push(mixed as unknown as Inventory);
          }
          const b = new CatalogBuilder();
          for (const r of records) b.addRecord(r);
          const data = b.build({ kind: 'records', path: 'property', sha256: '' });
          const c = new Catalog(decodeCatalog(encodeCatalog(data, { scanIndex: buildScanIndex })));
          const scanner = new Scanner(c);
          const unshared = new Scanner(c, { shareRuleResults: false });
          // Memory bounds that drop values all the time (oldest first / everything, renumbering sections).
          const squeezed = [
            new Scanner(c, { shareRuleResultsLimits: { bytes: 1 } }),
            new Scanner(c, { shareRuleResultsLimits: { sectionTexts: 1 } }),
          ];
          for (const inv of invs) {
            const states = (sc: Scanner): Map<string, unknown> =>
              sc.withMachineScan(
                inv,
                (s) => new Map(records.map((_, i) => [c.updateId(i), { state: s.state(i), ...supersedenceFlags(s.supersedence(i)) }])),
              );
            const got = states(scanner);
            expect(got).toEqual(states(unshared));
            for (const sc of squeezed) expect(states(sc)).toEqual(got);
            const ref = referenceScan(records, inv);
            for (const r of records) expect(got.get(r.updateId), `${r.updateId} on ${JSON.stringify(inv)}`).toEqual(ref.get(r.updateId));
          }
          shared += invs.length;
        },
      ),
      { numRuns: 300, seed: Number(process.env.PATCHSCAN_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
    expect(shared).toBeGreaterThan(300);
  });
});

describe('engine ≡ reference evaluator', () => {
  it('shares no CbsPackageInstallable value between machines that differ only in their UBR', () => {
    // Real cumulative updates: IsInstalled CbsPackageInstalled, IsInstallable CbsPackageInstallable, a rollup package
    // as metadata. One scanner sees the same machine at several UBRs around the packages' revision (1936).
    const PACKAGES = ['19041.1936.1.1', '19041.2003.1.1'].map((v) => `Package_for_RollupFix~31bf3856ad364e35~amd64~~${v}`);
    const records: UpdateRecord[] = PACKAGES.map((identity, k) =>
      updateRecord({
        updateId: `00000000-0000-4000-8000-00000000010${k}`,
        revisionId: 100 + k,
        metadata: { element: 'CbsPackageApplicabilityMetadata', attrs: { identity } },
        rules: {
          IsInstalled: { kind: 'rule', type: 'CbsPackageInstalled', family: 'cbs', attrs: {} },
          IsInstallable: { kind: 'rule', type: 'CbsPackageInstallable', family: 'cbs', attrs: {} },
        },
      }),
    );
    const c = catalogOf(records, 'ubr');
    const ubrs = fc.array(fc.option(fc.constantFrom(1, 1935, 1936, 1937, 2003, 2004, 9999), { nil: undefined }), {
      minLength: 2,
      maxLength: 6,
    });
    fc.assert(
      fc.property(ubrs, fc.constantFrom(19041, 19045, 22000), (machineUbrs, build) => {
        const scanner = new Scanner(c);
        for (const ubr of machineUbrs) {
          const inv: Inventory = {
            schema: 'patchscan-inventory/1',
            computer: { name: 'UBR' },
            collectedAt: '2026-11-24T00:00:00Z',
            os: { major: 10, minor: 0, build, productType: 1, ...(ubr !== undefined ? { ubr } : {}) },
            processor: { architecture: 9 },
            cbs: { packages: [] },
          };
          const got = scanner.withMachineScan(inv, (s) => records.map((_, i) => s.state(i)));
          const ref = referenceScan(records, inv);
          expect(got, `UBR ${ubr} build ${build}`).toEqual(records.map((r) => ref.get(r.updateId)!.state));
        }
      }),
      { numRuns: 100, seed: Number(process.env.PATCHSCAN_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
  });

  it('agrees on supersedence where supersedence is dense (superseders Unknown, Installed, Required, chained)', () => {
    // Possibly superseded (a superseder Unknown) is rare in the default worlds; many supersedence links make it common.
    const dense = catalogArbOf({ maxLeaves: 8, maxSupersede: 14 });
    let possiblyRequired = 0;
    fc.assert(
      fc.property(dense, fc.array(inventoryArb, { minLength: 1, maxLength: 3 }), (records, invs) => {
        const engine = engineStates(records, invs);
        invs.forEach((inv, k) => {
          const ref = referenceScan(records, inv);
          for (const r of records) {
            const want = ref.get(r.updateId)!;
            expect(engine[k].get(r.updateId), `${r.updateId} supersedes ${JSON.stringify(r.supersedes)} on ${JSON.stringify(inv)}`).toEqual(
              want,
            );
            if (want.state === 'Required' && want.possiblySuperseded) possiblyRequired++;
          }
        });
      }),
      { numRuns: 300, seed: Number(process.env.PATCHSCAN_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
    expect(possiblyRequired).toBeGreaterThan(0);
  });

  it('the generators reach every state (the test is not vacuous)', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(catalogArb, inventoryArb, (records, inv) => {
        for (const v of referenceScan(records, inv).values())
          seen.add(v.state + (v.superseded ? '+superseded' : v.possiblySuperseded ? '+possibly' : ''));
      }),
      { numRuns: 300, seed: 7 },
    );
    for (const s of ['Installed', 'Required', 'NotApplicable', 'Unknown', 'Required+superseded', 'Installed+possibly', 'Unknown+possibly'])
      expect(seen).toContain(s);
    const dense = new Set<string>();
    fc.assert(
      fc.property(catalogArbOf({ maxLeaves: 8, maxSupersede: 14 }), inventoryArb, (records, inv) => {
        for (const v of referenceScan(records, inv).values())
          dense.add(v.state + (v.superseded ? '+superseded' : v.possiblySuperseded ? '+possibly' : ''));
      }),
      { numRuns: 300, seed: 7 },
    );
    expect(dense).toContain('Required+possibly');
  });

  it('a machine with a section not collected never gets another definite answer (not known never becomes definite)', () => {
    // Kleene logic is monotone: less information may turn True or False into Unknown, never into the other. So every
    // update's state with one section left out is Unknown or the state with it.
    const SECTIONS = WORLDS[1].sections;
    let turnedUnknown = 0;
    fc.assert(
      fc.property(allRulesCatalogArb, richInventoryArb, fc.constantFrom(...SECTIONS), (records, inv, section) => {
        const less = { ...inv } as Record<string, unknown>;
        delete less[section];
        const [full, partial] = engineStates(records, [inv, less as unknown as Inventory]);
        for (const r of records) {
          const a = full.get(r.updateId)!.state;
          const b = partial.get(r.updateId)!.state;
          if (b === a) continue;
          expect(b, `${r.updateId} without ${section}: ${a} became ${b}; rules ${JSON.stringify(r.rules)} on ${JSON.stringify(inv)}`).toBe(
            'Unknown',
          );
          turnedUnknown++;
        }
      }),
      { numRuns: 400, seed: Number(process.env.PATCHSCAN_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
    expect(turnedUnknown).toBeGreaterThan(0);
  });

  it('every rule type of the registry is generated, and each one the engine evaluates is seen True, False and Unknown', () => {
    const seen = new Map<string, Set<RTri>>();
    const visit = (n: RuleNode, inv: Parameters<typeof evalRule>[1], meta: Parameters<typeof evalRule>[2]): void => {
      if (n.kind === 'rule') {
        const s = seen.get(n.type) ?? new Set<RTri>();
        s.add(evalRule(n, inv, meta));
        seen.set(n.type, s);
        if (n.child) visit(n.child, inv, meta);
      } else if (n.kind === 'and' || n.kind === 'or') n.children.forEach((k) => visit(k, inv, meta));
      else if (n.kind === 'not') visit(n.child, inv, meta);
    };
    fc.assert(
      fc.property(allRulesCatalogArb, richInventoryArb, (records, inv) => {
        for (const r of records) for (const root of Object.values(r.rules)) if (root) visit(root, inv, r.metadata);
      }),
      { numRuns: 1500, seed: 7 },
    );
    const gaps = Object.keys(RULES).flatMap((type) => {
      const values = seen.get(type);
      if (!values) return [`${type}: never generated`];
      const want: RTri[] = Object.hasOwn(EVALUATORS, type) ? ['T', 'F', 'U'] : ['U'];
      return want.filter((v) => !values.has(v)).map((v) => `${type}: never ${v}`);
    });
    expect(gaps).toEqual([]);
  });
});
