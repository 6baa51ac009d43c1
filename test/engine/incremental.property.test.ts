/**
 * Differential property test of incremental scans (engine/scanner/incremental.ts): a machine decided from an earlier
 * machine's state (only what its differing sections reach re-decided) must get exactly the outcomes, supersedence
 * and reasons of a full scan. Machines are built by recombining the sections of a few random parents (so bases
 * differ in one section or several, OS and architecture included) and by drifting one file version, registry value
 * or MSI product version; catalogs are random (bundles, supersedence, detectoids, missing references, every rule
 * type, rules the engine does not evaluate) and some have prerequisite cycles between software updates.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { type Catalog } from '../../engine/catalog/catalog.js';
import type { Inventory } from '../../engine/inventory/types.js';
import type { UpdateRecord } from '../../engine/model.js';
import { scanOutcomes, type OutcomeOptions } from '../../engine/fleet/scan-outcomes.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { allRulesCatalogArb, catalogArbOf, cyclicCatalogArb, inventoryArb, richInventoryArb } from '../reference/random-world.js';
import { loadedCatalogOf } from '../helpers/update-record.js';

// Property runs are CPU-bound: on a 2-core machine shared with other work one takes several times its quiet time.
vi.setConfig({ testTimeout: 180_000 });

const compile = (records: readonly UpdateRecord[]): Catalog => loadedCatalogOf(records, 'property');

const SECTIONS = ['os', 'processor', 'csidl', 'files', 'registry', 'msi', 'cbs', 'systemMetrics', 'licensing', 'wmi'] as const;

/** One small drift, as a fleet's distinct machines have: a file version, a DWORD, an MSI product's version. */
function drift(inv: Inventory, pick: number, bump: number): Inventory {
  const out = JSON.parse(JSON.stringify(inv)) as { -readonly [K in keyof Inventory]: Inventory[K] };
  const files = (out.files ?? []).filter((f) => f.version !== undefined);
  const keys = (out.registry ?? []).filter((k) => k.values?.some((v) => typeof v.data === 'number'));
  const products = out.msi?.products ?? [];
  const what = pick % 3;
  if (what === 0 && files.length > 0) {
    const f = files[pick % files.length] as { version?: string };
    const p = (f.version ?? '1.0.0.0').split('.');
    p[p.length - 1] = String((Number(p[p.length - 1]) || 0) + bump);
    f.version = p.join('.');
  } else if (what === 1 && keys.length > 0) {
    const v = keys[pick % keys.length].values!.find((x) => typeof x.data === 'number') as { data: number };
    v.data += bump;
  } else if (products.length > 0) {
    (products[pick % products.length] as { version?: string }).version = `16.0.${bump}.1`;
  }
  return out;
}

const machinesArb = (inventory: fc.Arbitrary<Inventory>) =>
  fc
    .tuple(
      fc.array(inventory, { minLength: 2, maxLength: 3 }),
      fc.array(
        fc.tuple(fc.array(fc.nat(), { minLength: SECTIONS.length, maxLength: SECTIONS.length }), fc.nat(), fc.integer({ min: 0, max: 3 })),
        { minLength: 2, maxLength: 8 },
      ),
    )
    .map(([parents, recipes]) => {
      const invs: Inventory[] = [...parents];
      for (const [picks, pick, bump] of recipes) {
        const mixed: Record<string, unknown> = { ...parents[0] };
        SECTIONS.forEach((s, k) => {
          const from = parents[picks[k] % parents.length] as unknown as Record<string, unknown>;
          if (from[s] === undefined) delete mixed[s];
          else mixed[s] = from[s];
        });
        invs.push(bump === 0 ? (mixed as unknown as Inventory) : drift(mixed as unknown as Inventory, pick, bump));
      }
      return invs;
    });

const OPTIONS: readonly OutcomeOptions[] = [
  { all: false, reasons: false },
  { all: false, reasons: true },
];

/** Work the incremental scanners did over a whole run (so the test knows it compared something). */
const seen = { incremental: 0, redecided: 0, recomputed: 0 };

function check(records: readonly UpdateRecord[], invs: readonly Inventory[]): void {
  const c = compile(records);
  const full = new Scanner(c, { incremental: false });
  // Every machine from a base whatever its distance, another OS or architecture included: one base (always the last
  // machine kept), or a few (kept only when scanned in full); and the defaults (a base of the same image only).
  const scanners = [
    new Scanner(c, { incremental: { sameImage: false, maxShare: Infinity, bases: 1, keepShare: 0 } }),
    new Scanner(c, { incremental: { sameImage: false, maxShare: Infinity, bases: 3 } }),
    new Scanner(c, { incremental: true }),
  ];
  invs.forEach((inv, k) => {
    const o = OPTIONS[k % OPTIONS.length];
    const want = scanOutcomes(full, inv, o);
    for (const sc of scanners) expect(scanOutcomes(sc, inv, o), `machine ${k} ${JSON.stringify(o)}`).toEqual(want);
  });
  for (const sc of scanners) {
    const st = sc.bases?.stats;
    seen.incremental += st?.incremental ?? 0;
    seen.redecided += st?.redecided ?? 0;
    seen.recomputed += st?.recomputed ?? 0;
  }
}

describe('incremental scans ≡ full scans (outcomes, supersedence, reasons)', () => {
  const seed = Number(process.env.PATCHSCAN_PROPERTY_SEED ?? Date.now() % 2 ** 31);

  it('on random catalogs, machines recombined from a few and drifted', () => {
    fc.assert(fc.property(catalogArbOf({ maxLeaves: 10, maxBundles: 5 }), machinesArb(inventoryArb), check), { numRuns: 150, seed });
  });

  it('with every rule type over full inventories', () => {
    fc.assert(fc.property(allRulesCatalogArb, machinesArb(richInventoryArb), check), { numRuns: 80, seed });
  });

  it('with prerequisites between software updates, cycles included', () => {
    fc.assert(fc.property(cyclicCatalogArb, machinesArb(inventoryArb), check), { numRuns: 150, seed });
  });

  it('the runs above started machines from bases and re-decided some of their updates', () => {
    expect(seen.incremental).toBeGreaterThan(500);
    expect(seen.redecided).toBeGreaterThan(100);
    expect(seen.recomputed).toBeGreaterThan(100);
  });
});
