/**
 * Section memo under drift: a base machine, then machines that each differ from it in ONE small thing a rule may
 * read (a file's version/exists/size/dates, a key's value/subkeys/exists/view, a product's patches/version, a
 * CSIDL folder, the processor, the UBR, a CBS applicability), scanned in sequence on one scanner (shared rule
 * values). Every machine must get what a fresh scanner gives it.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { Inventory } from '../../engine/inventory/types.js';
import { scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { allRulesCatalogArb, richInventoryArb } from '../reference/random-world.js';
import { compile } from '../helpers/scan-paths.js';

vi.setConfig({ testTimeout: 300_000 });

type Drift = (inv: Inventory, k: number) => Inventory;
const at = <T>(xs: readonly T[] | undefined, k: number): number => (xs && xs.length ? k % xs.length : -1);
const DRIFTS: Record<string, Drift> = {
  fileVersion: (i, k) => {
    const n = at(i.files, k);
    if (n < 0) return i;
    const files = i.files!.map((f, j) =>
      j === n ? { ...f, exists: true, version: ['1.0', '6.1.7601.23403', '10.0.0.1', 'x'][k % 4] } : f,
    );
    return { ...i, files };
  },
  fileExists: (i, k) => {
    const n = at(i.files, k);
    return n < 0 ? i : { ...i, files: i.files!.map((f, j) => (j === n ? { ...f, exists: !f.exists } : f)) };
  },
  fileGone: (i, k) => {
    const n = at(i.files, k);
    return n < 0 ? i : { ...i, files: i.files!.filter((_, j) => j !== n) };
  },
  fileDetail: (i, k) => {
    const n = at(i.files, k);
    return n < 0
      ? i
      : { ...i, files: i.files!.map((f, j) => (j === n ? { ...f, size: 100 + k, created: '2021-01-01T00:00:00Z', language: 1031 } : f)) };
  },
  regValue: (i, k) => {
    const n = at(i.registry, k);
    if (n < 0) return i;
    return {
      ...i,
      registry: i.registry!.map((r, j) =>
        j === n
          ? { ...r, exists: true, values: [{ name: ['Level', 'Dir', 'Ver', 'Name'][k % 4], type: 'REG_DWORD' as const, data: k % 5 }] }
          : r,
      ),
    };
  },
  regSubkeys: (i, k) => {
    const n = at(i.registry, k);
    return n < 0 ? i : { ...i, registry: i.registry!.map((r, j) => (j === n ? { ...r, subkeys: k % 2 ? [] : ['Sub', 'Other'] } : r)) };
  },
  regExists: (i, k) => {
    const n = at(i.registry, k);
    return n < 0 ? i : { ...i, registry: i.registry!.map((r, j) => (j === n ? { ...r, exists: !r.exists } : r)) };
  },
  regView: (i, k) => {
    const n = at(i.registry, k);
    return n < 0
      ? i
      : {
          ...i,
          registry: i.registry!.map((r, j) => (j === n ? { ...r, view: r.view === '32' ? ('native' as const) : ('32' as const) } : r)),
        };
  },
  regGone: (i, k) => {
    const n = at(i.registry, k);
    return n < 0 ? i : { ...i, registry: i.registry!.filter((_, j) => j !== n) };
  },
  msiPatches: (i, k) => {
    const n = at(i.msi?.products, k);
    if (n < 0) return i;
    return {
      ...i,
      msi: {
        products: i.msi!.products.map((p, j) => {
          if (j !== n) return p;
          if (k % 3 === 0) {
            const { patches: _p, ...rest } = p;
            return rest;
          }
          return { ...p, patches: k % 3 === 1 ? [] : [...(p.patches ?? []), '{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEE1}'] };
        }),
      },
    };
  },
  msiVersion: (i, k) => {
    const n = at(i.msi?.products, k);
    return n < 0
      ? i
      : { ...i, msi: { products: i.msi!.products.map((p, j) => (j === n ? { ...p, version: `${k % 20}.0.1`, language: 1031 } : p)) } };
  },
  msiGone: (i, k) => {
    const n = at(i.msi?.products, k);
    return n < 0 ? i : { ...i, msi: { products: i.msi!.products.filter((_, j) => j !== n) } };
  },
  csidl: (i, k) => ({ ...i, csidl: { ...(i.csidl ?? {}), '37': k % 2 ? 'C:\\Windows\\SysWOW64' : 'C:\\WINDOWS\\system32\\' } }),
  processor: (i, k) => ({
    ...i,
    processor: { ...(i.processor ?? { architecture: 9 }), architecture: [0, 5, 9, 12][k % 4], level: 6 + k },
  }),
  ubr: (i, k) => (i.os ? { ...i, os: { ...i.os, ubr: 1000 + k * 500 } } : i),
  cbsApplicable: (i, k) =>
    i.cbs ? { ...i, cbs: { ...i.cbs, applicable: Object.fromEntries(i.cbs.packages.map((p) => [p.identity, k % 2 === 0])) } } : i,
  cbsState: (i, k) => {
    const n = at(i.cbs?.packages, k);
    return n < 0
      ? i
      : {
          ...i,
          cbs: {
            ...i.cbs!,
            packages: i.cbs!.packages.map((p, j) => (j === n ? { ...p, state: ['Installed', 'Superseded', 'Staged'][k % 3] } : p)),
          },
        };
  },
};
const NAMES = Object.keys(DRIFTS);

describe('section memo: machines one drift away from an earlier one', () => {
  it('each drifted machine on a shared scanner ≡ a fresh scanner', () => {
    let sharedTotal = 0;
    fc.assert(
      fc.property(
        allRulesCatalogArb,
        richInventoryArb,
        fc.array(fc.tuple(fc.constantFrom(...NAMES), fc.nat(50), fc.boolean()), { minLength: 1, maxLength: 8 }),
        (records, base, drifts) => {
          const c = compile(records);
          const shared = new Scanner(c);
          scanOutcomes(shared, base, { all: true, reasons: false });
          let cur = base;
          for (const [name, k, chain] of drifts) {
            const m = DRIFTS[name](chain ? cur : base, k);
            if (chain) cur = m;
            for (const o of [
              { all: true, reasons: false },
              { all: false, reasons: true },
            ])
              expect(scanOutcomes(shared, m, o), `${name} ${k} ${JSON.stringify(o)}`).toEqual(scanOutcomes(new Scanner(c), m, o));
          }
          sharedTotal += shared.ruleValueStats().shared;
        },
      ),
      { numRuns: Number(process.env.RUNS ?? 300), seed: Number(process.env.PATCHSCAN_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
    // Values were shared between the drifted machines (else this compared fresh scans with fresh scans).
    expect(sharedTotal).toBeGreaterThan(1000);
  });
});
