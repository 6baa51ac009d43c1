/**
 * The real-layout wsusscn2.cab fixture (vuls-data-update: real UpdateIds and titles, synthetic RevisionIds) imports
 * through the whole pipeline: outer CAB → index.xml → package.cab/package.xml → range CABs → compiled file.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importCatalog } from '../../adapters/catalog/import.js';
import { extractCab } from '../../adapters/cab/extract.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';

const CAB = join(FIXTURES, 'wsusscn2', 'wsusscn2.cab');

describe('import of the real-layout wsusscn2.cab fixture', () => {
  const dir = tempDir();
  const out = join(dir, 'fixture.pscat');
  let c: Catalog;
  let phases: Set<string>;

  beforeAll(() => {
    phases = new Set();
    importCatalog(CAB, { out, onProgress: (p) => phases.add(p.phase) });
    c = new Catalog(readCatalogFile(out));
  });

  it('reports progress through every phase', () => {
    expect([...phases]).toEqual(['hash', 'unpack', 'package', 'fragments', 'compile', 'write']);
  });

  it('holds the four package.xml updates, three with core fragments', () => {
    expect(c.size).toBe(4);
    expect(c.data.stats).toMatchObject({
      packageUpdates: 4,
      coreFragments: 3,
      extendedFragments: 5,
      localizedFragments: 3,
      missingCore: 1,
    });
    // x/000001 and x/000002 name RevisionIds package.xml does not list: counted, not attached to anything.
    expect(c.data.stats.orphanFragments).toBe(2);
    expect([0, 1, 2, 3].map((i) => c.revisionId(i))).toEqual([123456, 234567, 345678, 456789]);
    expect(c.hasCore(c.findByRevisionId(456789)!)).toBe(false);
  });

  it('records the source cabinet SHA-256 and the creation date', () => {
    const sha = createHash('sha256').update(readFileSync(CAB)).digest('hex');
    expect(c.data.source).toMatchObject({ kind: 'cab', sha256: sha });
    expect(Date.parse(c.data.createdAt)).toBeGreaterThan(Date.parse('2026-01-01'));
  });

  it('finds updates by KB, UpdateId and RevisionId', () => {
    const [i] = c.findByKb('KB765432');
    expect(c.updateId(i)).toBe('05a7711a-079e-4fbb-8d1a-9015c92a2ae0');
    expect(c.title(i)).toBe('2020-09 Security Monthly Quality Rollup for Windows Server 2012 R2 for x64-based Systems (KB4577066)');
    expect(c.severity(i)).toBe('Important');
    expect(c.findByUpdateId('0A51549B-4E86-4A26-97D4-9E3567F24EA1')).toEqual([c.findByRevisionId(123456)]);
    expect(c.find('876543')).toEqual([c.findByRevisionId(345678)]);
  });

  it('resolves supersedence in both directions: 123456 ← 234567 ← 345678 (package.xml SupersededBy)', () => {
    const a = c.findByRevisionId(123456)!;
    const b = c.findByRevisionId(234567)!;
    const d = c.findByRevisionId(345678)!;
    expect(c.supersededBy(a).map((r) => r.index)).toEqual([b]);
    expect(c.supersededBy(b).map((r) => r.index)).toEqual([d]);
    expect(c.supersededBy(d)).toEqual([]);
    // Core SupersededUpdates name GUIDs outside this small catalog: kept with the GUID, index -1.
    expect(c.supersedes(a)).toEqual([{ index: -1, updateId: '022f39ad-6b5c-4f5a-8667-b25f2f3f0069' }]);
    expect(c.supersedes(b)).toHaveLength(198);
  });

  it('keeps bundle relations and prerequisite groups from the core fragments', () => {
    const a = c.findByRevisionId(123456)!;
    expect(c.isBundle(a)).toBe(true);
    expect(c.bundledUpdates(a)).toEqual([
      { kind: 'update', members: [{ index: -1, updateId: 'daad7390-d95c-4fd5-99a0-790dc6a2dc2a', revisionNumber: 201 }] },
    ]);
    expect(c.prerequisites(a).map((g) => [g.kind, g.members.map((m) => m.updateId)])).toEqual([
      ['update', ['04437cf2-2157-44c9-96df-6cd88b0dc541']],
      ['update', ['59653007-e2e9-4f71-8525-2ff588527978']],
      ['atLeastOneCategory', ['0fa1201d-4330-4fa8-8ae9-b877473b6441']],
      ['atLeastOneCategory', ['d31bd4c3-d872-41c9-a2e7-231f372588cb']],
    ]);
    // Without a core fragment, package.xml's own prerequisites and categories are kept.
    const e = c.findByRevisionId(456789)!;
    expect(c.prerequisites(e).map((g) => g.members[0].updateId)).toEqual([
      '0fa1201d-4330-4fa8-8ae9-b877473b6441',
      '12c24e87-bd40-451b-9477-2c2bf501e0d7',
    ]);
    expect(c.categories(e).map((x) => x.type)).toEqual(['UpdateClassification', 'Product', 'ProductFamily', 'Company']);
  });

  it('imports the same catalog from the extracted folder', () => {
    const folder = join(dir, 'extracted');
    extractCab(CAB, folder);
    const out2 = join(dir, 'folder.pscat');
    importCatalog(folder, { out: out2 });
    const c2 = new Catalog(readCatalogFile(out2));
    expect(c2.size).toBe(4);
    expect(c2.data.source.kind).toBe('folder');
    for (let i = 0; i < 4; i++) {
      expect([c2.updateId(i), c2.kb(i), c2.title(i), c2.supersededBy(i)]).toEqual([c.updateId(i), c.kb(i), c.title(i), c.supersededBy(i)]);
    }
  });
});
