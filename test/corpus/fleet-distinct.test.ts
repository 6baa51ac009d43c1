/**
 * The fleet generator's diversity knob: `distinct` percent of the machines get a profile of their own (what the
 * catalog's rules can read differs from every other machine's), deterministic from the seed; 0 is the fleet of before.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import type { Inventory } from '../../engine/inventory/types.js';
import { validateInventory } from '../../engine/inventory/validate.js';
import { relevantDetails } from '../../engine/catalog/relevant-details.js';
import { fingerprint } from '../../engine/fleet/fingerprint.js';
import { FleetModel, generateFleet, isDistinctMachine } from '../../corpus/generate-fleet.js';
import { tempDir } from '../helpers/tmp.js';
import { bundledCatalogFile } from '../helpers/bundled.js';

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
const CLIENTS = 300;

describe('fleet generator --distinct', () => {
  const dir = tempDir();
  let catalog: Catalog;
  const read = (name: string): Inventory[] =>
    readFileSync(join(dir, name), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Inventory);
  /** Per machine: its profile digest, as the scanner's result sharing computes it. */
  const profiles = (fleet: readonly Inventory[]): string[] => {
    const d = relevantDetails(catalog);
    return fleet.map((inv) => Array.from(fingerprint(inv, d)).join(','));
  };
  const uniqueOnes = (ps: readonly string[]): Set<number> => {
    const n = new Map<string, number>();
    for (const p of ps) n.set(p, (n.get(p) ?? 0) + 1);
    return new Set(ps.flatMap((p, k) => (n.get(p) === 1 ? [k] : [])));
  };

  beforeAll(() => {
    catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
    for (const p of [0, 10, 50, 100]) generateFleet(catalog, { clients: CLIENTS, seed: 3, out: join(dir, `d${p}.jsonl`), distinct: p });
  });

  it('picks exactly the asked share of machines, evenly spread', () => {
    const table: [number, number, number][] = [
      [0, 1000, 0],
      [10, 1000, 100],
      [50, 1000, 500],
      [100, 1000, 1000],
      [33, 300, 99],
      [1, 250, 2],
    ];
    for (const [p, n, want] of table) {
      const picked = Array.from({ length: n }, (_, i) => i).filter((i) => isDistinctMachine(i, p));
      expect(picked.length, `${p} % of ${n}`).toBe(want);
      if (want > 1) expect(Math.max(...picked.slice(1).map((x, k) => x - picked[k]))).toBeLessThanOrEqual(Math.ceil(100 / p));
    }
  });

  it('0 % writes the same fleet as no knob at all', () => {
    generateFleet(catalog, { clients: CLIENTS, seed: 3, out: join(dir, 'plain.jsonl') });
    expect(sha(join(dir, 'd0.jsonl'))).toBe(sha(join(dir, 'plain.jsonl')));
  });

  it('is deterministic from the seed, and the seed matters', () => {
    generateFleet(catalog, { clients: CLIENTS, seed: 3, out: join(dir, 'again.jsonl'), distinct: 50 });
    generateFleet(catalog, { clients: CLIENTS, seed: 4, out: join(dir, 'other.jsonl'), distinct: 50 });
    expect(sha(join(dir, 'again.jsonl'))).toBe(sha(join(dir, 'd50.jsonl')));
    expect(sha(join(dir, 'other.jsonl'))).not.toBe(sha(join(dir, 'd50.jsonl')));
  });

  it("the chosen machines have a profile no other machine has; the others are the 0 % fleet's machines", () => {
    const base = read('d0.jsonl');
    for (const p of [10, 50, 100]) {
      const fleet = read(`d${p}.jsonl`);
      const unique = uniqueOnes(profiles(fleet));
      for (let i = 0; i < CLIENTS; i++) {
        if (isDistinctMachine(i, p)) expect(unique.has(i), `${p} %: machine ${i}`).toBe(true);
        else expect(fleet[i]).toEqual(base[i]);
      }
      // Machines with a profile of their own: the chosen ones, plus the others that are alone among the others
      // (a small fleet has some by chance) — no drifted machine ever shares a profile with another machine.
      const ps = profiles(fleet);
      const others = new Map<string, number>();
      ps.forEach((x, i) => {
        if (!isDistinctMachine(i, p)) others.set(x, (others.get(x) ?? 0) + 1);
      });
      const expected = ps.flatMap((x, i) => (isDistinctMachine(i, p) || others.get(x) === 1 ? [i] : []));
      expect([...unique].sort((a, b) => a - b)).toEqual(expected);
      expect(unique.size / CLIENTS).toBeGreaterThanOrEqual(p / 100);
    }
  });

  it('drifts what real machines drift (file, Office and DWORD versions), and every machine stays valid', () => {
    const base = read('d0.jsonl');
    const fleet = read('d100.jsonl');
    let files = 0,
      msi = 0;
    fleet.forEach((inv, i) => {
      validateInventory(inv, inv.computer.name);
      const b = base[i];
      const changed = (inv.files ?? []).filter((f, k) => f.version !== b.files?.[k]?.version).length;
      if (changed > 1) files++;
      if (JSON.stringify(inv.msi) !== JSON.stringify(b.msi)) msi++;
    });
    // Beyond the one value that marks the machine: more than one file and, often, the MSI products differ.
    expect(files).toBeGreaterThan(CLIENTS / 2);
    expect(msi).toBeGreaterThan(CLIENTS / 5);
  });

  it('a distinct machine is the same machine of its image, drifted (OS, architecture, CBS unchanged)', () => {
    const m = new FleetModel(catalog);
    for (let i = 0; i < 40; i++) {
      const plain = m.machine(9, i);
      const drifted = m.machine(9, i, true);
      expect([drifted.os, drifted.processor, drifted.cbs, drifted.computer]).toEqual([
        plain.os,
        plain.processor,
        plain.cbs,
        plain.computer,
      ]);
      expect(drifted).not.toEqual(plain);
    }
  });
});
