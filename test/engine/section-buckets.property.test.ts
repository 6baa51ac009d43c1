/**
 * Rule values shared across machines by bucket (section-memo.ts splits files by name, registry keys by path with
 * their ancestors, MSI products by code): machines built entry by entry from a few random parents — each file, each
 * registry key (ancestors included, whose subkey lists decide about unlisted keys) and each MSI product taken from
 * a different parent (some with another parent's patches of it, some keys with another parent's values), in any order —
 * must get from a sharing scanner exactly what an unsharing one and the reference evaluator give.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { CatalogBuilder } from '../../engine/catalog/builder.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { decodeCatalog, encodeCatalog } from '../../engine/catalog/file.js';
import type { Inventory } from '../../engine/inventory/types.js';
import type { RuleNode, UpdateRecord } from '../../engine/model.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { referenceScan } from '../reference/reference-evaluator.js';
import { catalogArb, inventoryArb } from '../reference/random-world.js';
import { updateRecord } from '../helpers/update-record.js';

// Property runs are CPU-bound: on a 2-core machine shared with other work one takes several times its quiet time.
vi.setConfig({ testTimeout: 120_000 });

/** Entry `k` of a parent's list, matched by a key (path, key path, product code), or none. */
function mix<T>(
  parents: readonly (readonly T[] | undefined)[],
  keyOf: (x: T) => string,
  picks: readonly number[],
  order: number,
): T[] | undefined {
  const base = parents[picks[0] % parents.length];
  if (base === undefined) return undefined;
  const keys = [...new Set(parents.flatMap((p) => (p ?? []).map(keyOf)))].sort();
  const out: T[] = [];
  keys.forEach((k, i) => {
    const from = parents[picks[(i + 1) % picks.length] % parents.length];
    const hit = from?.find((x) => keyOf(x) === k);
    if (hit !== undefined) out.push(hit);
  });
  return order % 2 === 0 ? out : out.reverse();
}

describe('rule values shared by bucket', () => {
  it('machines mixed entry by entry get the unshared and the reference results', () => {
    let machines = 0;
    fc.assert(
      fc.property(
        catalogArb,
        fc.array(inventoryArb, { minLength: 2, maxLength: 3 }),
        fc.array(fc.tuple(fc.array(fc.nat(), { minLength: 4, maxLength: 8 }), fc.nat()), { minLength: 2, maxLength: 8 }),
        (records, parents, recipes) => {
          const invs: Inventory[] = [...parents];
          for (const [picks, order] of recipes) {
            const files = mix(
              parents.map((p) => p.files),
              (f) => f.path.toLowerCase(),
              picks,
              order,
            );
            // Keys mixed whole, and some given another parent's values of the same key: machines that differ in a
            // parent key's values but not in its subkeys (rules about the subkeys share values).
            const registry = mix(
              parents.map((p) => p.registry),
              (k) => k.key.toLowerCase(),
              [...picks].reverse(),
              order,
            )?.map((k, i) => {
              const other = parents[(picks[(i + 1) % picks.length] + 2) % parents.length]?.registry?.find(
                (q) => q.key.toLowerCase() === k.key.toLowerCase(),
              );
              return other === undefined || (order + i) % 3 === 1 ? k : { ...k, values: other.values };
            });
            // Products mixed whole, and some given another parent's patches of the same product: machines that differ
            // in a product's version or language but not its patches (rules reading only patches share values).
            const products = mix(
              parents.map((p) => p.msi?.products),
              (p) => p.productCode.toLowerCase(),
              picks.slice(1),
              order + 1,
            )?.map((p, i) => {
              const other = parents[(picks[i % picks.length] + 1) % parents.length]?.msi?.products.find(
                (q) => q.productCode.toLowerCase() === p.productCode.toLowerCase(),
              );
              return other === undefined || (order + i) % 3 === 0 ? p : { ...p, patches: other.patches };
            });
            const { files: _f, registry: _r, msi: _m, ...rest } = parents[picks[0] % parents.length];
            invs.push({
              ...rest,
              ...(files ? { files } : {}),
              ...(registry ? { registry } : {}),
              ...(products ? { msi: { products } } : {}),
            });
          }
          const b = new CatalogBuilder();
          for (const r of records) b.addRecord(r);
          const c = new Catalog(decodeCatalog(encodeCatalog(b.build({ kind: 'records', path: 'property', sha256: '' }))));
          const shared = new Scanner(c);
          const unshared = new Scanner(c, { shareRuleResults: false });
          for (const inv of invs) {
            const states = (sc: Scanner): Map<string, unknown> =>
              sc.withMachineScan(
                inv,
                (s) => new Map(records.map((_, i) => [c.updateId(i), { state: s.state(i), superseded: s.isSuperseded(i) }])),
              );
            const got = states(shared);
            expect(got).toEqual(states(unshared));
            const ref = referenceScan(records, inv);
            for (const r of records)
              expect((got.get(r.updateId) as { state: string }).state, `${r.updateId} on ${JSON.stringify(inv)}`).toEqual(
                ref.get(r.updateId)!.state,
              );
          }
          machines += invs.length;
          expect(shared.ruleValueStats().shared + shared.ruleValueStats().evaluated).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300, seed: Number(process.env.PATCHSCAN_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
    expect(machines).toBeGreaterThan(600);
  });
});

describe('MSI rules that read only a product’s patches', () => {
  const PRODUCT = '{90160000-0011-0000-0000-0000000FF1CE}';
  const PATCH = '{6A1B9F2C-1111-4222-8333-944455556666}';
  const rule = (attrs: Record<string, string>): RuleNode => ({
    kind: 'rule',
    type: 'MsiPatchInstalledForProduct',
    family: 'msi',
    attrs: { PatchCode: PATCH, ProductCode: PRODUCT, ...attrs },
  });
  const record = (n: number, isInstalled: RuleNode): UpdateRecord =>
    updateRecord({
      updateId: `00000000-0000-4000-8000-00000000000${n}`,
      revisionId: n,
      rules: { IsInstalled: isInstalled },
      localized: [{ language: 'en', title: `U${n}` }],
    });
  const machine = (name: string, version: string, patches: string[] | undefined): Inventory => ({
    schema: 'patchscan-inventory/1',
    computer: { name },
    collectedAt: '2026-11-24T00:00:00Z',
    msi: { products: [{ productCode: PRODUCT, version, language: 1033, ...(patches ? { patches } : {}) }] },
  });

  it('share values across product versions, never across patches or versions a filter reads', () => {
    const b = new CatalogBuilder();
    b.addRecord(record(1, rule({}))); // reads patches only
    b.addRecord(record(2, rule({ VersionMin: '16.0.5000.0' }))); // reads the version too
    const c = new Catalog(b.build({ kind: 'records', path: 'msi-patches', sha256: '' }));
    const shared = new Scanner(c);
    const unshared = new Scanner(c, { shareRuleResults: false });
    const states = (sc: Scanner, inv: Inventory): string[] => sc.withMachineScan(inv, (s) => [s.state(0), s.state(1)]);
    const fleet = [
      machine('A', '16.0.5100.1000', [PATCH]),
      machine('B', '16.0.4900.1000', [PATCH]), // another version, same patches: update 1 shares A's value, 2 does not
      machine('C', '16.0.5100.1000', []), // same version as A, patch missing
      machine('D', '16.0.5100.1000', undefined), // patches not collected
    ];
    const got = fleet.map((inv) => states(shared, inv));
    expect(got).toEqual(fleet.map((inv) => states(unshared, inv)));
    expect(got).toEqual([
      ['Installed', 'Installed'],
      ['Installed', 'Required'],
      ['Required', 'Required'],
      ['Unknown', 'Unknown'],
    ]);
    // A evaluates both; B takes update 1's value from A; C and D differ in patches and evaluate both.
    expect(shared.ruleValueStats()).toEqual({ shared: 1, evaluated: 7 });
  });
});

describe('registry rules and the values of parent keys', () => {
  const PARENT = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso';
  const KEY = `${PARENT}\\Agent`;
  const record: UpdateRecord = {
    updateId: '00000000-0000-4000-8000-000000000001',
    revisionNumber: 1,
    revisionId: 1,
    updateType: 'Software',
    isLeaf: true,
    isBundle: false,
    deploymentAction: 'Install',
    explicitlyDeployable: true,
    categories: [],
    prerequisites: [],
    bundledUpdates: [],
    bundledByRevisionIds: [],
    supersedes: [],
    supersededByRevisionIds: [],
    rules: {
      IsInstalled: {
        kind: 'rule',
        type: 'RegDword',
        family: 'base',
        attrs: {
          Key: 'HKEY_LOCAL_MACHINE',
          Subkey: 'SOFTWARE\\Contoso\\Agent',
          Value: 'Version',
          Comparison: 'GreaterThanOrEqualTo',
          Data: '5',
        },
      },
    },
    severity: '',
    cves: [],
    localized: [{ language: 'en', title: 'U' }],
  };
  const machine = (name: string, parentDword: number, subkeys: string[], agent: number | undefined): Inventory => ({
    schema: 'patchscan-inventory/1',
    computer: { name },
    collectedAt: '2026-11-24T00:00:00Z',
    registry: [
      { key: PARENT, exists: true, values: [{ name: 'Build', type: 'REG_DWORD', data: parentDword }], subkeys },
      ...(agent === undefined ? [] : [{ key: KEY, exists: true, values: [{ name: 'Version', type: 'REG_DWORD' as const, data: agent }] }]),
    ],
  });

  it("share a subkey's values across a parent's values, never across its subkeys", () => {
    const b = new CatalogBuilder();
    b.addRecord(record);
    const c = new Catalog(b.build({ kind: 'records', path: 'registry-tree', sha256: '' }));
    const shared = new Scanner(c);
    const unshared = new Scanner(c, { shareRuleResults: false });
    const fleet = [
      machine('A', 1, ['Agent'], 7),
      machine('B', 2, ['Agent'], 7), // the parent's DWORD drifted: shares A's value
      machine('C', 1, [], undefined), // the parent's complete subkey list lacks Agent: absent, False
      machine('D', 1, ['Agent'], undefined), // listed under the parent but not collected: Unknown
    ];
    const states = (sc: Scanner, inv: Inventory): string => sc.withMachineScan(inv, (s) => s.state(0));
    const got = fleet.map((inv) => states(shared, inv));
    expect(got).toEqual(fleet.map((inv) => states(unshared, inv)));
    expect(got).toEqual(['Installed', 'Installed', 'Required', 'Unknown']);
    expect(shared.ruleValueStats()).toEqual({ shared: 1, evaluated: 3 });
  });
});
