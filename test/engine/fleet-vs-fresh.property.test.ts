/**
 * The fleet path (one Scanner reused across a sequence of machines: reused buffers, section memo, numbered leaves)
 * must give every machine exactly what a fresh one-off scan gives it, and what the reference evaluator gives. Machines
 * are the rich random world, then mutated in ways that must not change (or must change consistently) what rules read:
 * case of paths/keys/GUIDs, braces on GUIDs, trailing backslashes on keys, versions dropped or made unparsable.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { Inventory } from '../../engine/inventory/types.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { allRulesCatalogArb, richInventoryArb } from '../reference/random-world.js';
import { compile, fleetStates, oneOffStates, refStates } from '../helpers/scan-paths.js';
import { reasonMask, scanOutcomes, type OutcomeOptions } from '../../engine/fleet/scan-outcomes.js';
import { SUP_NO, SUP_POSSIBLY } from '../../engine/scanner/supersedence.js';

vi.setConfig({ testTimeout: 300_000 });

const flipCase = (s: string, how: number): string => (how === 0 ? s : how === 1 ? s.toUpperCase() : s.toLowerCase());

const mutationArb = fc.record({
  fileCase: fc.constantFrom(0, 1, 2),
  keyCase: fc.constantFrom(0, 1, 2),
  keyTrailing: fc.boolean(), // a key listed with a trailing backslash (RegKeyLoop built an empty step below it)
  guidBraces: fc.constantFrom(0, 1, 2),
  guidCase: fc.constantFrom(0, 1, 2),
  versionHavoc: fc.constantFrom('none', 'drop', 'garbage', 'short', 'spaces'),
  reorder: fc.boolean(),
});
type Mutation = typeof mutationArb extends fc.Arbitrary<infer T> ? T : never;

function mutate(inv: Inventory, m: Mutation): Inventory {
  const files = inv.files?.map((f, i) => {
    let g = { ...f, path: flipCase(f.path, m.fileCase) };
    if (f.version !== undefined && i % 2 === 0) {
      if (m.versionHavoc === 'drop') {
        const { version: _v, ...rest } = g;
        g = rest;
      } else if (m.versionHavoc === 'garbage') g = { ...g, version: '6.1.x' };
      else if (m.versionHavoc === 'short') g = { ...g, version: f.version.split('.').slice(0, 2).join('.') };
      else if (m.versionHavoc === 'spaces') g = { ...g, version: ` ${f.version} ` };
    }
    return g;
  });
  const registry = inv.registry?.map((k) => ({ ...k, key: flipCase(k.key, m.keyCase) + (m.keyTrailing ? '\\' : '') }));
  const guid = (g: string): string => {
    const bare = g.replace(/[{}]/g, '');
    const cased = flipCase(bare, m.guidCase);
    return m.guidBraces === 0 ? g : m.guidBraces === 1 ? cased : `{${cased}}`;
  };
  const msi = inv.msi && {
    products: inv.msi.products.map((p) => ({
      ...p,
      productCode: guid(p.productCode),
      ...(p.patches ? { patches: p.patches.map(guid) } : {}),
    })),
  };
  const out: Inventory = {
    ...inv,
    ...(files ? { files: m.reorder ? [...files].reverse() : files } : {}),
    ...(registry ? { registry } : {}),
    ...(msi ? { msi } : {}),
  };
  return out;
}

const OPTIONS: OutcomeOptions[] = [
  { all: false, reasons: false },
  { all: false, reasons: true },
  // The batch output's default: reasons for Required (not superseded, or possibly) and Unknown only.
  { all: false, reasons: true, reasonMask: reasonMask(['Required'], [SUP_NO, SUP_POSSIBLY]) | reasonMask(['Unknown']) },
  { all: true, reasons: true, reasonMask: 0x0f0f },
];

describe('fleet path ≡ fresh scan ≡ reference, over machine sequences', () => {
  it('every machine of a sequence, on one scanner', () => {
    let thrown = 0;
    fc.assert(
      fc.property(
        allRulesCatalogArb,
        fc.array(fc.tuple(richInventoryArb, mutationArb, fc.boolean()), { minLength: 2, maxLength: 6 }),
        (records, machines) => {
          const c = compile(records);
          const scanner = new Scanner(c);
          const tiny = new Scanner(c, { shareRuleResultsLimits: { bytes: 200, sectionTexts: 3 } });
          for (const [base, m, poison] of machines) {
            const i = mutate(base, m);
            if (poison) {
              // A machine whose scan throws mid-way (an unvalidated inventory: file versions that are numbers).
              const bad = { ...i, files: (i.files ?? []).map((f) => ({ ...f, version: 7 as unknown as string })) };
              for (const sc of [scanner, tiny])
                for (const o of OPTIONS)
                  try {
                    scanOutcomes(sc, bad, o);
                  } catch {
                    thrown++;
                  }
            }
            const fresh = oneOffStates(c, i);
            expect(fleetStates(scanner, i), 'fleet vs fresh').toEqual(fresh);
            expect(fleetStates(tiny, i), 'fleet (tiny memo limits) vs fresh').toEqual(fresh);
            expect(fresh, 'fresh vs reference').toEqual(refStates(records, i));
            for (const o of OPTIONS) {
              const fleet = scanOutcomes(scanner, i, o);
              expect(fleet, JSON.stringify(o)).toEqual(scanOutcomes(new Scanner(c), i, o));
              // The fleet path (states over flat-decisions.ts's layout, then the masked reasons) against MachineScan's
              // own path, which decides and words every outcome in one go.
              expect(fleet, `${JSON.stringify(o)}, flat vs MachineScan`).toEqual(
                scanOutcomes(new Scanner(c, { flatDecisions: false }), i, o),
              );
            }
          }
        },
      ),
      { numRuns: Number(process.env.RUNS ?? 150), seed: Number(process.env.PATCHSCAN_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
    // The poisoned machines did throw mid-scan: what followed them on the same scanner was checked clean.
    expect(thrown).toBeGreaterThan(0);
  });
});
