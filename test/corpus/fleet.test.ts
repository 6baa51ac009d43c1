/** The fleet generator: deterministic, valid, heterogeneous inventories that exercise the catalog. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Unpackr } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import type { Inventory } from '../../engine/inventory/types.js';
import { validateInventory } from '../../engine/inventory/validate.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { generateFleet } from '../../corpus/generate-fleet.js';
import { tempDir } from '../helpers/tmp.js';
import { bundledCatalogFile } from '../helpers/bundled.js';

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('fleet generator', () => {
  const dir = tempDir();
  let catalog: Catalog;
  let fleet: Inventory[];

  beforeAll(() => {
    catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
    generateFleet(catalog, { clients: 400, seed: 5, out: join(dir, 'a.jsonl') });
    fleet = readFileSync(join(dir, 'a.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Inventory);
  });

  it('is deterministic from the seed, and the seed matters', () => {
    generateFleet(catalog, { clients: 400, seed: 5, out: join(dir, 'b.jsonl') });
    generateFleet(catalog, { clients: 400, seed: 6, out: join(dir, 'c.jsonl') });
    expect(sha(join(dir, 'b.jsonl'))).toBe(sha(join(dir, 'a.jsonl')));
    expect(sha(join(dir, 'c.jsonl'))).not.toBe(sha(join(dir, 'a.jsonl')));
  });

  it('writes the same machines as a msgpack stream', () => {
    generateFleet(catalog, { clients: 400, seed: 5, out: join(dir, 'a.msgpack') });
    const docs = new Unpackr({ useRecords: false }).unpackMultiple(readFileSync(join(dir, 'a.msgpack'))) as Inventory[];
    expect(docs).toEqual(fleet);
  });

  it('every inventory is valid', () => {
    for (const inv of fleet) validateInventory(inv, inv.computer.name);
    expect(fleet).toHaveLength(400);
  });

  it('is heterogeneous: OS builds, architectures, patch levels, languages, products, missing sections', () => {
    const builds = new Set(fleet.map((i) => i.os?.build).filter(Boolean));
    const archs = new Set(fleet.map((i) => i.processor?.architecture));
    const ubrs = new Set(fleet.filter((i) => i.os?.build === 19045).map((i) => i.os?.ubr));
    const langs = new Set(fleet.map((i) => i.os?.installLanguage).filter(Boolean));
    expect(builds.size).toBeGreaterThanOrEqual(5);
    expect([...archs].sort()).toEqual(expect.arrayContaining([0, 9, 12]));
    expect(ubrs.size).toBeGreaterThanOrEqual(5);
    expect(langs.size).toBeGreaterThanOrEqual(3);
    expect(fleet.some((i) => (i.msi?.products.length ?? 0) > 0)).toBe(true);
    const missing = fleet.filter((i) => !i.os || !i.files || !i.registry || !i.cbs || !i.msi);
    expect(missing.length).toBeGreaterThan(5);
    expect(missing.length).toBeLessThan(60);
  });

  it('exercises the catalog: the fleet reaches every state', () => {
    const scanner = new Scanner(catalog);
    const states = new Set<string>();
    for (const inv of fleet.slice(0, 60)) for (const r of scanner.scan(inv)) states.add(r.state + (r.superseded ? '+superseded' : ''));
    for (const s of ['Installed', 'Required', 'Unknown', 'Required+superseded', 'Installed+superseded']) expect(states).toContain(s);
  });
});
