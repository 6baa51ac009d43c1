/**
 * What the section memo keys a machine by (section-memo.ts MachineSectionTexts): each whole section and each bucket
 * of files, registry keys and MSI products as a text of its own, built as a scan asks for it. Equal texts share rule
 * values between machines, so a change to a machine must change the text of the section that holds it — and only
 * that one: a change that shows in no text, or in a text of the wrong bucket, would share a rule value between
 * machines that differ in what the rule reads.
 */
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import type { Inventory, InventoryFile, InventoryMsiProduct, InventoryRegistryKey } from '../../engine/inventory/types.js';
import { SECTION_COUNT, SectionMemo } from '../../engine/scanner/section-memo.js';
import { bundledCatalogFile } from '../helpers/bundled.js';

const memo = new SectionMemo(new Catalog(readCatalogFile(bundledCatalogFile())));

/** The sections whose texts differ between two machines, every text built in a shuffled order. */
function differing(a: Inventory, b: Inventory): number[] {
  const ta = memo.textsOf(a),
    tb = memo.textsOf(b);
  const order = Array.from({ length: SECTION_COUNT }, (_, s) => (s * 89) % SECTION_COUNT);
  return order.filter((s) => ta.text(s) !== tb.text(s)).sort((x, y) => x - y);
}

const N = 240;
const files: InventoryFile[] = Array.from({ length: N }, (_, k) => ({
  path: `C:\\Program Files\\Vendor ${k % 7}\\module${k}.dll`,
  exists: true,
  version: `1.0.${k}.0`,
}));
const keys: InventoryRegistryKey[] = Array.from({ length: N }, (_, k) => ({
  key: `HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor${k % 5}\\Product${k}`,
  exists: true,
  values: [{ name: 'Version', type: 'REG_SZ', data: `${k}.0` }],
  subkeys: [`Sub${k}`],
}));
const products: InventoryMsiProduct[] = Array.from({ length: N }, (_, k) => ({
  productCode: `{${(0x10000000 + k * 7919).toString(16).toUpperCase()}-0000-0000-0000-000000000000}`,
  version: `16.0.${k}`,
  patches: [],
}));
const base: Inventory = {
  schema: 'patchscan-inventory/1',
  computer: { name: 'PC' },
  collectedAt: '2026-11-30T00:00:00Z',
  os: { major: 10, minor: 0, build: 19045, ubr: 3000, productType: 1 },
  processor: { architecture: 9 },
  csidl: {},
  files,
  registry: keys,
  msi: { products },
} as unknown as Inventory;

const replaced = <T>(list: readonly T[], k: number, item: T): T[] => list.map((x, j) => (j === k ? item : x));

describe('section texts', () => {
  it('a file changed: exactly one file bucket, and the files spread over most buckets', () => {
    const seen = new Set<number>();
    for (let k = 0; k < N; k++) {
      const d = differing(base, { ...base, files: replaced(files, k, { ...files[k], version: '9.9.9.9' }) });
      expect(d, files[k].path).toHaveLength(1);
      seen.add(d[0]);
    }
    expect(seen.size).toBeGreaterThan(56); // of 64 buckets
  });

  it("a key's value changed: exactly its bucket of keys, not the tree's; its subkeys changed: both", () => {
    const values = new Set<number>();
    const apart = new Set<number>();
    for (let k = 0; k < N; k++) {
      const v = differing(base, { ...base, registry: replaced(keys, k, { ...keys[k], values: [] }) });
      expect(v, keys[k].key).toHaveLength(1);
      values.add(v[0]);
      const t = differing(base, { ...base, registry: replaced(keys, k, { ...keys[k], subkeys: [] }) });
      expect(t, keys[k].key).toHaveLength(2);
      expect(t[0]).toBe(v[0]);
      apart.add(t[1] - t[0]);
    }
    expect(values.size).toBeGreaterThan(28); // of 32 buckets
    expect(apart.size, "a key's tree text sits at its bucket's place in a range of its own").toBe(1);
  });

  it("a product's version changed: exactly its bucket; its patches changed: its bucket and its patches' bucket", () => {
    const seen = new Set<number>();
    const apart = new Set<number>();
    for (let k = 0; k < N; k++) {
      const v = differing(base, { ...base, msi: { products: replaced(products, k, { ...products[k], version: '1' }) } });
      expect(v, products[k].productCode).toHaveLength(1);
      seen.add(v[0]);
      const p = differing(base, { ...base, msi: { products: replaced(products, k, { ...products[k], patches: ['{P}'] }) } });
      expect(p).toHaveLength(2);
      expect(p[0]).toBe(v[0]);
      apart.add(p[1] - p[0]);
    }
    expect(seen.size).toBeGreaterThan(13); // of 16 buckets
    expect(apart.size).toBe(1);
  });

  it('the OS build and its UBR are sections apart; a missing section differs from an empty one', () => {
    const build = differing(base, { ...base, os: { ...base.os!, build: 22631 } });
    const ubr = differing(base, { ...base, os: { ...base.os!, ubr: 3001 } });
    expect(build).toHaveLength(1);
    expect(ubr).toHaveLength(1);
    expect(build[0]).not.toBe(ubr[0]);
    const noFiles = differing({ ...base, files: [] }, { ...base, files: undefined });
    expect(noFiles).toHaveLength(64);
  });
});
