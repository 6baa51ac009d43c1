/**
 * Differential property test: random catalogs (categories, detectoids, leaf updates with random rule trees,
 * bundles, supersedence, missing references) and random inventories (facts collected, absent, or missing) —
 * the engine (compiled catalog, closures, fact vector) and the reference evaluator (walks the model) must agree
 * on the state and the superseded flag of every update. fast-check prints the seed of any failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CatalogBuilder } from '../../engine/catalog/builder.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { decodeCatalog, encodeCatalog } from '../../engine/catalog/file.js';
import type { Inventory } from '../../engine/inventory/types.js';
import type { UpdateRecord } from '../../engine/model.js';
import { Scanner } from '../../engine/scan/scan.js';
import { supersedenceFlags } from '../../engine/scan/supersedence.js';
import { validateInventory } from '../../engine/inventory/validate.js';
import { referenceScan } from '../reference/reference-evaluator.js';
import { catalogArb, catalogArbOf, inventoryArb } from '../reference/random-world.js';

function engineStates(records: UpdateRecord[], invs: readonly Inventory[]): Map<string, { state: string; superseded: boolean; possiblySuperseded: boolean }>[] {
  const b = new CatalogBuilder();
  for (const r of records) b.addRecord(r);
  // Through the file format too: what is scanned is what a loaded catalog holds.
  const c = new Catalog(decodeCatalog(encodeCatalog(b.build({ kind: 'records', path: 'property', sha256: '' }))));
  const scanner = new Scanner(c);
  return invs.map((inv) => new Map(scanner.states(inv).map((r) => [c.updateId(r.index), { state: r.state, superseded: r.superseded, possiblySuperseded: r.possiblySuperseded }])));
}

describe('engine ≡ reference evaluator', () => {
  it('agrees on every state and supersedence (superseded, possibly superseded) of every update (random catalogs × inventories)', () => {
    fc.assert(
      fc.property(catalogArb, fc.array(inventoryArb, { minLength: 1, maxLength: 4 }), (records, invs) => {
        // Every generated inventory is valid: the validator accepts it as a client would send it.
        for (const inv of invs) validateInventory(JSON.parse(JSON.stringify(inv)), 'generated');
        const engine = engineStates(records, invs);
        invs.forEach((inv, k) => {
          const ref = referenceScan(records, inv);
          for (const r of records) expect(engine[k]!.get(r.updateId), `${r.updateId} ${JSON.stringify(r.rules)} prereqs=${JSON.stringify(r.prerequisites)} on ${JSON.stringify(inv)}`).toEqual(ref.get(r.updateId));
        });
      }),
      { numRuns: 400, seed: Number(process.env.PATCHSCAN_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
  });

  it('agrees when one scanner shares rule results across machines (sections recombined, UBR varied)', () => {
    // The fleet path (withSession) shares slot values between machines whose sections read by a rule are equal.
    // Machines built by recombining the sections of a few random ones make those hits frequent; UBR is varied
    // because the memo leaves it out (no rule reads it) — a rule that did would disagree with the reference here.
    const SECTIONS = ['os', 'processor', 'csidl', 'files', 'registry', 'msi', 'cbs'] as const;
    let shared = 0;
    fc.assert(
      fc.property(
        catalogArb,
        fc.array(inventoryArb, { minLength: 2, maxLength: 3 }),
        fc.array(fc.tuple(fc.array(fc.nat(), { minLength: SECTIONS.length, maxLength: SECTIONS.length }), fc.option(fc.nat({ max: 5000 }), { nil: undefined })), { minLength: 2, maxLength: 8 }),
        (records, parents, recipes) => {
          const invs: Inventory[] = [...parents];
          for (const [picks, ubr] of recipes) {
            const mixed: Record<string, unknown> = { ...parents[0]! };
            SECTIONS.forEach((s, k) => {
              const from = parents[picks[k]! % parents.length]! as unknown as Record<string, unknown>;
              if (from[s] === undefined) delete mixed[s];
              else mixed[s] = from[s];
            });
            if (ubr !== undefined && mixed.os) mixed.os = { ...(mixed.os as object), ubr };
            invs.push(mixed as unknown as Inventory);
          }
          const b = new CatalogBuilder();
          for (const r of records) b.addRecord(r);
          const c = new Catalog(decodeCatalog(encodeCatalog(b.build({ kind: 'records', path: 'property', sha256: '' }))));
          const scanner = new Scanner(c);
          const unshared = new Scanner(c, { shareRuleResults: false });
          // Memory bounds that drop values all the time (oldest first / everything, renumbering sections).
          const squeezed = [new Scanner(c, { shareRuleResultsLimits: { bytes: 1 } }), new Scanner(c, { shareRuleResultsLimits: { sectionTexts: 1 } })];
          for (const inv of invs) {
            const states = (sc: Scanner): Map<string, unknown> => sc.withSession(inv, (s) => new Map(records.map((_, i) => [c.updateId(i), { state: s.state(i), ...supersedenceFlags(s.supersedence(i)) }])));
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
            expect(engine[k]!.get(r.updateId), `${r.updateId} supersedes ${JSON.stringify(r.supersedes)} on ${JSON.stringify(inv)}`).toEqual(want);
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
    fc.assert(fc.property(catalogArb, inventoryArb, (records, inv) => {
      for (const v of referenceScan(records, inv).values()) seen.add(v.state + (v.superseded ? '+superseded' : v.possiblySuperseded ? '+possibly' : ''));
    }), { numRuns: 300, seed: 7 });
    for (const s of ['Installed', 'Required', 'NotApplicable', 'Unknown', 'Required+superseded', 'Installed+possibly', 'Unknown+possibly']) expect(seen).toContain(s);
    const dense = new Set<string>();
    fc.assert(fc.property(catalogArbOf({ maxLeaves: 8, maxSupersede: 14 }), inventoryArb, (records, inv) => {
      for (const v of referenceScan(records, inv).values()) dense.add(v.state + (v.superseded ? '+superseded' : v.possiblySuperseded ? '+possibly' : ''));
    }), { numRuns: 300, seed: 7 });
    expect(dense).toContain('Required+possibly');
  });
});
