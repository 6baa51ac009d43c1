/**
 * Catalog.classification and Catalog.products are kept per update once asked for (a site tallies them for every
 * outcome it stores): what they return must be what the update's categories say, whatever order updates are asked in,
 * and the kept list must not be changeable by a caller.
 */
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../../engine/catalog/catalog.js';
import { classificationName } from '../../../engine/catalog/classifications.js';
import { readCatalogFile } from '../../../engine/catalog/file.js';
import { bundledCatalogFile } from '../../helpers/bundled.js';

describe('classification and product names', () => {
  const file = bundledCatalogFile();
  const named = (c: Catalog, i: number, type: string): string[] =>
    c
      .categories(i)
      .filter((k) => k.type === type)
      .map(
        (k) =>
          (k.ref.index >= 0 && c.title(k.ref.index)) ||
          (type === 'UpdateClassification' ? classificationName(k.ref.updateId) : undefined) ||
          k.ref.updateId,
      );

  it('are the titles of the update categories of each kind, asked in any order, again and again', () => {
    const c = new Catalog(readCatalogFile(file));
    const order = Array.from({ length: c.size }, (_, i) => (i * 7919) % c.size);
    let withProducts = 0;
    for (const i of [...order, ...order]) {
      expect(c.classification(i)).toBe(named(c, i, 'UpdateClassification')[0] ?? '');
      expect(c.products(i)).toEqual(named(c, i, 'Product'));
      if (c.products(i).length > 0) withProducts++;
    }
    expect(withProducts).toBeGreaterThan(0);
    expect(new Set(Array.from({ length: c.size }, (_, i) => c.classification(i))).size).toBeGreaterThan(2);
  });

  it('hand out a list no caller can change', () => {
    const c = new Catalog(readCatalogFile(file));
    const i = Array.from({ length: c.size }, (_, k) => k).find((k) => c.products(k).length > 0)!;
    const before = [...c.products(i)];
    expect(() => (c.products(i) as string[]).push('x')).toThrow(TypeError);
    expect(c.products(i)).toEqual(before);
  });
});
