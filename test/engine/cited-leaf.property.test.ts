/**
 * A reason cites one leaf of a rule tree (engine/eval/reason.ts). RuleProgram.citedLeaf finds it without building the
 * tree's whole explanation; reason.ts citedLeafOf reads it off that explanation, the obviously-correct way. On random
 * catalogs (every rule type, constants, unsupported rules, nested And/Or/Not) × random inventories, both must give
 * the same sentence for every node of the catalog taken as a tree's root — and a scan's reasons must be those.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { CatalogBuilder } from '../../engine/catalog/builder.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { decodeCatalog, encodeCatalog } from '../../engine/catalog/file.js';
import { citedLeafOf, citedReason, slotReason } from '../../engine/eval/reason.js';
import type { Inventory } from '../../engine/inventory/types.js';
import type { RuleNode } from '../../engine/model.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { allRulesCatalogArb, catalogArb, inventoryArb, richInventoryArb } from '../reference/random-world.js';
import { catalogOf, updateRecord } from '../helpers/update-record.js';

vi.setConfig({ testTimeout: 120_000 });

function catalogFrom(records: Parameters<CatalogBuilder['addRecord']>[0][]): Catalog {
  const b = new CatalogBuilder();
  for (const r of records) b.addRecord(r);
  return new Catalog(decodeCatalog(encodeCatalog(b.build({ kind: 'records', path: 'property', sha256: '' }))));
}

/** Every node as a root: the cited sentence both ways, on one machine. */
function compareEveryNode(c: Catalog, scanner: Scanner, inv: Inventory): number {
  let compared = 0;
  scanner.withMachineScan(inv, (s) => {
    for (let id = 0; id < c.data.nodes.count; id++) {
      const tree = scanner.program.explain(id, s.ctx);
      const cited = scanner.program.citedLeaf(id, s.ctx);
      expect(citedReason(cited), `node ${id}: ${JSON.stringify(tree)}`).toBe(slotReason(tree));
      expect(cited).toEqual(citedLeafOf(tree));
      compared++;
    }
  });
  return compared;
}

describe('the leaf a reason cites, found without the whole explanation', () => {
  it.each([
    ['basic rule types', catalogArb, inventoryArb],
    ['every rule type', allRulesCatalogArb, richInventoryArb],
  ] as const)('equals the one read off explain() for every node (%s)', (_, catalogArb, inventoryArb) => {
    let compared = 0;
    fc.assert(
      fc.property(catalogArb, fc.array(inventoryArb, { minLength: 1, maxLength: 3 }), (records, invs) => {
        const c = catalogFrom(records);
        const scanner = new Scanner(c);
        for (const inv of invs) compared += compareEveryNode(c, scanner, inv);
      }),
      { numRuns: 150, seed: Number(process.env.PATCHSCAN_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
    expect(compared).toBeGreaterThan(1000);
  });

  it('cites the same leaf in the shapes the reason wording depends on', () => {
    const file = (name: string, version: string): RuleNode => ({
      kind: 'rule',
      type: 'FileVersion',
      family: 'base',
      attrs: { Path: `\\${name}`, Csidl: '37', Comparison: 'GreaterThanOrEqualTo', Version: version },
    });
    const T: RuleNode = { kind: 'const', value: true };
    const Fc: RuleNode = { kind: 'const', value: false };
    const trees: RuleNode[] = [
      { kind: 'and', children: [T, file('a.dll', '1.0.0.0')] }, // a constant beside a rule: the rule is cited
      { kind: 'and', children: [T, T] }, // only constants: the first one
      { kind: 'or', children: [Fc, file('a.dll', '9.0.0.0'), file('b.dll', '1.0.0.0')] },
      { kind: 'and', children: [{ kind: 'and', children: [file('a.dll', '1.0.0.0'), file('a.dll', '1.0.0.0')] }, T] }, // nested: counted flat
      { kind: 'not', child: { kind: 'not', child: file('b.dll', '1.0.0.0') } },
      { kind: 'not', child: { kind: 'or', children: [file('a.dll', '9.0.0.0'), file('b.dll', '9.0.0.0')] } },
      { kind: 'and', children: [file('missing.dll', '1.0.0.0'), file('a.dll', '9.0.0.0')] }, // Unknown beside False
    ];
    const c = catalogOf(
      trees.map((t, k) =>
        updateRecord({ updateId: `00000000-0000-0000-0000-00000000000${k}`, revisionId: k + 1, rules: { IsInstalled: t } }),
      ),
    );
    const scanner = new Scanner(c);
    const inv: Inventory = {
      schema: 'patchscan-inventory/1',
      computer: { name: 'PC' },
      collectedAt: '2026-11-30T00:00:00Z',
      csidl: { '37': 'C:\\Windows\\System32' },
      files: [
        { path: 'C:\\Windows\\System32\\a.dll', exists: true, version: '2.0.0.0' },
        { path: 'C:\\Windows\\System32\\b.dll', exists: true, version: '2.0.0.0' },
      ],
    };
    const reasons = scanner.withMachineScan(inv, (s) =>
      Array.from({ length: c.size }, (_, i) => {
        const root = c.ruleRoot(i, 'IsInstalled');
        return root < 0 ? '' : citedReason(scanner.program.citedLeaf(root, s.ctx));
      }),
    );
    expect(compareEveryNode(c, scanner, inv)).toBe(c.data.nodes.count);
    // The wording these shapes exist for, as read off the whole explanation.
    expect(reasons[0]).toContain('a.dll');
    expect(reasons[3]).toContain('and 2 other conditions hold');
    expect(reasons[4]).not.toContain('excludes');
    expect(reasons[5]).toContain('excludes');
  });
});
