/** The compiler on hand-made records: relations in both directions, the fact dictionary, deduplication. */
import { describe, expect, it } from 'vitest';
import { CatalogBuilder } from '../../engine/catalog/builder.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import type { RuleNode, UpdateRecord } from '../../engine/model.js';
import { updateRecord } from '../helpers/update-record.js';

const G = (n: number): string => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;

const record = (n: number, over: Partial<UpdateRecord> = {}): UpdateRecord =>
  updateRecord({ updateId: G(n), revisionNumber: 100, revisionId: 1000 + n, explicitlyDeployable: false, ...over });

const fileRule = (path: string): RuleNode => ({
  kind: 'rule',
  type: 'FileVersion',
  family: 'base',
  attrs: { Path: path, Csidl: '37', Comparison: 'GreaterThanOrEqualTo', Version: '1.0.0.0' },
});

describe('CatalogBuilder', () => {
  const b = new CatalogBuilder();
  b.addRecord(
    record(1, {
      updateType: 'Category',
      isLeaf: false,
      deploymentAction: 'Evaluate',
      rules: { IsInstalled: { kind: 'const', value: true } },
    }),
  );
  b.addRecord(
    record(2, {
      updateType: 'Detectoid',
      isLeaf: false,
      prerequisites: [{ kind: 'atLeastOne', isCategory: true, updateIds: [G(1)] }],
      rules: { IsInstalled: { kind: 'rule', type: 'Processor', family: 'base', attrs: { Architecture: '9' } } },
    }),
  );
  b.addRecord(
    record(3, {
      isBundle: true,
      kb: '5000001',
      categories: [{ type: 'Product', id: G(1) }],
      prerequisites: [
        { kind: 'update', updateId: G(2) },
        { kind: 'atLeastOne', isCategory: true, updateIds: [G(1), G(99)] },
      ],
      bundledUpdates: [
        {
          kind: 'atLeastOne',
          children: [
            { updateId: G(4), revisionNumber: 100 },
            { updateId: G(5), revisionNumber: 100 },
          ],
        },
      ],
      supersedes: [G(6)],
      localized: [
        { language: 'en', title: 'Bundle' },
        { language: 'de', title: 'Paket' },
      ],
    }),
  );
  // Two children asking about the same file through differently written paths: one fact.
  b.addRecord(
    record(4, {
      deploymentAction: 'Bundle',
      prerequisites: [{ kind: 'update', updateId: G(2) }],
      rules: { IsInstalled: fileRule('\\NTOSKRNL.exe') },
    }),
  );
  b.addRecord(record(5, { deploymentAction: 'Bundle', rules: { IsInstalled: { kind: 'not', child: fileRule('ntoskrnl.exe') } } }));
  b.addRecord(record(6, { kb: '4000001' }));
  const c = new Catalog(b.build({ kind: 'records', path: 'test', sha256: '' }));

  it('indexes and looks up', () => {
    expect(c.size).toBe(6);
    expect(c.findByKb('KB5000001')).toEqual(c.findByUpdateId(G(3)));
    expect(c.title(c.findByUpdateId(G(3))[0], 'de')).toBe('Paket');
  });

  it('derives reverse relations: bundledBy, supersededBy, dependents', () => {
    const [bundle] = c.findByUpdateId(G(3));
    for (const k of [4, 5]) expect(c.bundledBy(c.findByUpdateId(G(k))[0])).toEqual([{ index: bundle, updateId: G(3) }]);
    expect(c.supersededBy(c.findByUpdateId(G(6))[0])).toEqual([{ index: bundle, updateId: G(3) }]);
    const detectoid = c.findByUpdateId(G(2))[0];
    expect(
      c
        .dependents(detectoid)
        .map((r) => r.updateId)
        .sort(),
    ).toEqual([G(3), G(4)]);
    // A group member the catalog lacks is kept by GUID and counted.
    expect(c.prerequisites(bundle)[1].members).toEqual([
      { index: c.findByUpdateId(G(1))[0], updateId: G(1) },
      { index: -1, updateId: G(99) },
    ]);
    expect(c.data.stats.unresolvedReferences).toBe(1);
  });

  it('types a category from the way package data uses it', () => {
    expect(c.categoryType(c.findByUpdateId(G(1))[0])).toBe('Product');
  });

  it('stores each distinct fact once, with canonical keys', () => {
    const files = Array.from({ length: c.data.facts.count }, (_, f) => c.fact(f)).filter((f) => f.kind === 'file');
    expect(files).toEqual([{ id: files[0].id, kind: 'file', args: ['37', 'ntoskrnl.exe'], uses: 2, loopRelative: false }]);
    const root4 = c.ruleRoot(c.findByUpdateId(G(4))[0], 'IsInstalled');
    const root5 = c.ruleRoot(c.findByUpdateId(G(5))[0], 'IsInstalled');
    expect(c.nodeFacts(root4)).toEqual([files[0].id]);
    expect(c.ruleTree(root5)).toEqual({ kind: 'not', child: fileRule('ntoskrnl.exe') });
  });
});

describe('identical rule subtrees are stored once', () => {
  it("shares nodes across updates, except rules that read the update's own Metadata", () => {
    const b = new CatalogBuilder();
    const tree = (): RuleNode => ({
      kind: 'and',
      children: [fileRule('\\a.dll'), { kind: 'rule', type: 'Processor', family: 'base', attrs: { Architecture: '9' } }],
    });
    b.addRecord(record(1, { rules: { IsInstalled: tree(), IsInstallable: fileRule('\\a.dll') } }));
    b.addRecord(record(2, { rules: { IsInstalled: tree() } }));
    const msi = (code: string): Partial<UpdateRecord> => ({
      rules: { IsInstalled: { kind: 'rule', type: 'MsiPatchInstalled', family: 'msi', attrs: {} } },
      metadata: { element: 'MsiPatchMetadata', attrs: { PatchCode: code } },
    });
    b.addRecord(record(3, msi('{11111111-1111-1111-1111-111111111111}')));
    b.addRecord(record(4, msi('{22222222-2222-2222-2222-222222222222}')));
    const c = new Catalog(b.build({ kind: 'records', path: 'test', sha256: '' }));
    const root = (n: number, slot: 'IsInstalled' | 'IsInstallable'): number => c.ruleRoot(c.findByUpdateId(G(n))[0], slot);
    expect(root(1, 'IsInstalled')).toBe(root(2, 'IsInstalled'));
    // The shared FileVersion leaf is one node whether it is a whole slot or part of a tree.
    expect(
      c.data.nodes.children.subarray(
        c.data.nodes.childOffsets[root(1, 'IsInstalled')],
        c.data.nodes.childOffsets[root(1, 'IsInstalled') + 1],
      ),
    ).toContain(root(1, 'IsInstallable'));
    expect(root(3, 'IsInstalled')).not.toBe(root(4, 'IsInstalled'));
    expect(c.data.nodes.count).toBe(5); // FileVersion, Processor, And, and one MsiPatchInstalled per patch code
  });
});
