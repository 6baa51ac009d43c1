/**
 * Engine ÷ reference evaluator, side by side on the same machines (issue #4): a random catalog in the shapes the
 * property test uses (the rule types the reference evaluator knows) and 1,000 random inventories. The reference
 * walks the parsed model for every machine; the engine scans the compiled catalog, without and with the result
 * cache. Both must agree on every state; the run fails if they do not.
 *
 *   node dist/bench/reference.bench.js [--leaves 400] [--machines 1000] [--profiles 0] [--seed 4]
 */
import fc from 'fast-check';
import { CatalogBuilder } from '../engine/catalog/builder.js';
import { Catalog } from '../engine/catalog/catalog.js';
import type { Inventory } from '../engine/inventory/types.js';
import { createScanner } from '../engine/pool/scanner-pool.js';
import { Scanner } from '../engine/scan/scan.js';
import { referenceScan } from '../test/reference/reference-evaluator.js';
import { catalogArbOf, inventoryArb } from '../test/reference/random-world.js';
import { numArg } from './args.js';

const leaves = numArg('leaves', '400');
const machines = numArg('machines', '1000');
const seed = numArg('seed', '4');

const records = fc.sample(catalogArbOf({ minLeaves: leaves, maxLeaves: leaves, maxBundles: Math.ceil(leaves / 10), maxSupersede: Math.ceil(leaves / 2) }), { numRuns: 1, seed })[0]!;
// --profiles 0: every machine random (no two alike); N: machines drawn from N random profiles, as fleets share
// images and patch levels.
const profiles = numArg('profiles', '0');
const pool = fc.sample(inventoryArb, { numRuns: profiles > 0 ? profiles : machines, seed });
const invs: Inventory[] = Array.from({ length: machines }, (_, k) => ({ ...pool[profiles > 0 ? (k * 7919) % profiles : k]!, computer: { name: `M${k}` } }));
const b = new CatalogBuilder();
for (const r of records) b.addRecord(r);
const catalog = new Catalog(b.build({ kind: 'records', path: 'bench', sha256: '' }));
console.log(`catalog: ${records.length} updates (random, seed ${seed}); ${invs.length} machines, ${profiles > 0 ? `drawn from ${profiles} profiles` : 'all different'}`);

const time = async <T>(f: () => T | Promise<T>): Promise<{ seconds: number; value: T }> => {
  const t = performance.now();
  const value = await f();
  return { seconds: (performance.now() - t) / 1000, value };
};

const ref = await time(() => invs.map((inv) => referenceScan(records, inv)));
const scanner = new Scanner(catalog);
// States and superseded flags of every update, as the fleet path computes them (no reason objects).
const engine = await time(() => invs.map((inv) => scanner.withSession(inv, (s) => Array.from({ length: catalog.size }, (_, i) => ({ index: i, state: s.state(i), superseded: s.isSuperseded(i) })))));
const poolScanner = await createScanner({ catalog, threads: 0, reasons: false, all: true });
const cached = await time(async () => {
  const out: string[][] = [];
  for await (const r of poolScanner.scanMany(invs)) if (r.ok) out.push(r.updates.map((u) => `${catalog.updateId(u.index)} ${u.state} ${u.superseded}`));
  return out;
});
await poolScanner.close();

let disagreements = 0;
invs.forEach((_, k) => {
  for (const r of engine.value[k]!) {
    const want = ref.value[k]!.get(catalog.updateId(r.index));
    if (!want || want.state !== r.state || want.superseded !== r.superseded) disagreements++;
  }
  const fromPool = cached.value[k]!;
  const direct = engine.value[k]!.map((r) => `${catalog.updateId(r.index)} ${r.state} ${r.superseded}`);
  if (fromPool.join('\n') !== direct.join('\n')) disagreements++;
});

const perMachine = (s: number): string => `${((s / invs.length) * 1e6).toFixed(1)} µs/machine`;
console.log(`  reference evaluator            ${ref.seconds.toFixed(3)} s (${perMachine(ref.seconds)})`);
console.log(`  engine, no cache, 1 thread     ${engine.seconds.toFixed(3)} s (${perMachine(engine.seconds)})  engine ÷ reference speed: ${(ref.seconds / engine.seconds).toFixed(0)}×`);
console.log(`  engine, fleet path with cache  ${cached.seconds.toFixed(3)} s (${perMachine(cached.seconds)})  engine ÷ reference speed: ${(ref.seconds / cached.seconds).toFixed(0)}×`);
console.log(`  disagreements: ${disagreements}`);
if (disagreements > 0) process.exitCode = 1;
