/**
 * Scanner.explain takes a catalog index: one that is not (undefined from `findByKb(kb)[0]` of a KB the catalog lacks,
 * a negative or fractional number, one past the end) is a BAD_ARGUMENT error, not an explanation of nothing with
 * `state: undefined`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { decodeInventory } from '../../engine/inventory/validate.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { FIXTURES } from '../helpers/tmp.js';

it('explains a catalog index, and refuses anything else naming the range', () => {
  const catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
  const scanner = new Scanner(catalog);
  const file = join(FIXTURES, 'inventories', 'win10-22h2-x64.json');
  const inventory = decodeInventory(readFileSync(file), file);
  const row = scanner.scan(inventory).find((r) => r.state === 'Required')!;
  const [index] = catalog.findByUpdateId(row.updateId);
  expect(scanner.explain(inventory, index)).toMatchObject({ state: 'Required', updateId: row.updateId });
  for (const bad of [catalog.findByKb('999999999')[0], -1, 1.5, catalog.size, Number.NaN])
    expect(() => scanner.explain(inventory, bad)).toThrow(
      expect.objectContaining({ code: 'BAD_ARGUMENT', message: expect.stringContaining(`in this catalog (0 to ${catalog.size - 1})`) }),
    );
});
