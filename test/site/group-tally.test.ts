/**
 * GroupTally (adapters/site/result-groups.ts) numbers a catalog's classifications and products once and tallies into
 * typed arrays. Differential: random outcomes over the bundled catalog (property test) tallied by it and by the
 * obvious reading — a map keyed by kind and name, a group listed from its first outcome on, even one that only
 * NotApplicable outcomes reach — give the same rows in the same order, for two tallies sharing one catalog's numbers.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { importCatalog } from '../../adapters/catalog/import.js';
import { GroupTally } from '../../adapters/site/result-groups.js';
import type { ResultGroupRow } from '../../adapters/store/port.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { bucketOf, countOutcome, COUNT_BUCKETS, emptyCounts, type CountBucket } from '../../engine/scanner/counting.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';

function reference(c: Catalog, outcomes: readonly (readonly [number, CountBucket])[]): ResultGroupRow[] {
  const groups = new Map<string, ResultGroupRow & { installed: number; required: number; unknown: number }>();
  const bump = (kind: ResultGroupRow['kind'], name: string, b: CountBucket): void => {
    const key = JSON.stringify([kind, name]);
    const g = groups.get(key) ?? { kind, name, installed: 0, required: 0, unknown: 0 };
    groups.set(key, g);
    if (b === 'installed' || b === 'required' || b === 'unknown') g[b]++;
  };
  for (const [i, b] of outcomes) {
    bump('classification', c.classification(i) || 'Unclassified', b);
    for (const p of c.products(i)) bump('product', p, b);
  }
  return [...groups.values()];
}

/**
 * The bundled catalog, and Microsoft's small test cabinet (test/fixtures/wsusscn2), whose updates name classifications
 * it carries no category revision for: there a group is named by Microsoft's list (Catalog.categoryName), as the
 * reports that drill into it name it.
 */
const catalogs: [string, () => Catalog][] = [
  ['the bundled catalog', () => new Catalog(readCatalogFile(bundledCatalogFile()))],
  [
    'a catalog without its classification categories',
    () => new Catalog(importCatalog(join(FIXTURES, 'wsusscn2', 'wsusscn2.cab'), { out: join(tempDir(), 'fixture.pscat') }).catalog),
  ],
];

it.each(catalogs)('tallies outcomes per classification and product as the obvious map does, in first-seen order: %s', (_, open) => {
  const c = open();
  const outcome = fc.tuple(fc.integer({ min: 0, max: c.size - 1 }), fc.constantFrom(...COUNT_BUCKETS));
  let products = 0;
  fc.assert(
    fc.property(fc.array(outcome, { maxLength: 300 }), fc.array(outcome, { maxLength: 50 }), (a, b) => {
      for (const outcomes of [a, b]) {
        const t = new GroupTally(c);
        for (const [i, bucket] of outcomes) t.add(i, bucket);
        const rows = t.rows();
        expect(rows).toEqual(reference(c, outcomes));
        products += rows.filter((r) => r.kind === 'product').length;
      }
    }),
    { numRuns: 200 },
  );
  // The bundled catalog's updates have products: the product half was exercised, not only classifications.
  if (c.size > 100) expect(products).toBeGreaterThan(0);
  else {
    // The fixture's classifications are named, not left as GUIDs.
    const names = new Set(Array.from({ length: c.size }, (_, i) => c.classification(i)).filter((n) => n !== ''));
    expect([...names].sort()).toEqual(['Security Updates']);
  }
});

it('tallies packed outcomes (addWords) as it tallies their buckets, counts them by the rule, and refuses a word no outcome packs', () => {
  const c = new Catalog(readCatalogFile(bundledCatalogFile()));
  const word = fc.tuple(fc.integer({ min: 0, max: c.size - 1 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 }));
  fc.assert(
    fc.property(fc.array(word, { maxLength: 300 }), (outcomes) => {
      const byWords = new GroupTally(c);
      const byBucket = new GroupTally(c);
      const counts = emptyCounts();
      for (const [i, state, sup] of outcomes) {
        byBucket.add(i, bucketOf(state, sup));
        countOutcome(counts, state, sup);
      }
      expect(byWords.addWords(Uint32Array.from(outcomes, ([i, state, sup]) => ((i << 4) | (state << 2) | sup) >>> 0))).toEqual(counts);
      expect(byWords.rows()).toEqual(byBucket.rows());
    }),
    { numRuns: 200 },
  );
  expect(() => new GroupTally(c).addWords(Uint32Array.of((5 << 4) | 3))).toThrow(RangeError);
});
