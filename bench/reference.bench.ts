/**
 * Engine ÷ reference evaluator, side by side on the same machines (issue #4): a random catalog in the shapes the
 * property test uses (the rule types the reference evaluator knows) and 1,000 random inventories. The reference
 * walks the parsed model for every machine; the engine scans the compiled catalog — each machine from scratch, with
 * rule values shared between machines, and on the fleet path (msgpack input, one scan per profile). All must agree on
 * every state; the run fails if they do not.
 *
 *   node dist/bench/reference.bench.js [--leaves 400] [--machines 1000] [--profiles 0] [--seed 4]
 */
import fc from 'fast-check';
import { CatalogBuilder } from '../engine/catalog/builder.js';
import { Catalog } from '../engine/catalog/catalog.js';
import type { Inventory } from '../engine/inventory/types.js';
import { Packr } from 'msgpackr';
import type { MachineResult } from '../engine/pool/protocol.js';
import { createScannerPool } from '../engine/pool/scanner-pool.js';
import { Scanner } from '../engine/scanner/scanner.js';
import { supersedenceFlags } from '../engine/scanner/supersedence.js';
import { referenceScan } from '../test/reference/reference-evaluator.js';
import { catalogArbOf, inventoryArb } from '../test/reference/random-world.js';
import { numArg } from './args.js';

const leaves = numArg('leaves', '400');
const machines = numArg('machines', '1000');
const seed = numArg('seed', '4');

const records = fc.sample(
  catalogArbOf({ minLeaves: leaves, maxLeaves: leaves, maxBundles: Math.ceil(leaves / 10), maxSupersede: Math.ceil(leaves / 2) }),
  { numRuns: 1, seed },
)[0]!;
// --profiles 0: every machine random (no two alike); N: machines drawn from N random profiles, as fleets share
// images and patch levels.
const profiles = numArg('profiles', '0');
const pool = fc.sample(inventoryArb, { numRuns: profiles > 0 ? profiles : machines, seed });
const invs: Inventory[] = Array.from({ length: machines }, (_, k) => ({
  ...pool[profiles > 0 ? (k * 7919) % profiles : k]!,
  computer: { name: `M${k}` },
}));
const b = new CatalogBuilder();
for (const r of records) b.addRecord(r);
const catalog = new Catalog(b.build({ kind: 'records', path: 'bench', sha256: '' }));
console.log(
  `catalog: ${records.length} updates (random, seed ${seed}); ${invs.length} ` +
    `machines, ${profiles > 0 ? `drawn from ${profiles} profiles` : 'all different'}`,
);

/** Runs `f` twice and times the second run (the first compiles and warms up every path, for each contender). */
const time = async <T>(f: () => T | Promise<T>): Promise<{ seconds: number; value: T }> => {
  await f();
  const t = performance.now();
  const value = await f();
  return { seconds: (performance.now() - t) / 1000, value };
};

const ref = await time(() => invs.map((inv) => referenceScan(records, inv)));
// States and superseded flags of every update, as the fleet path computes them (no reason objects).
const statesOf = (scanner: Scanner): { index: number; state: string; superseded: boolean; possiblySuperseded: boolean }[][] =>
  invs.map((inv) =>
    scanner.withMachineScan(inv, (s) =>
      Array.from({ length: catalog.size }, (_, i) => ({ index: i, state: s.state(i), ...supersedenceFlags(s.supersedence(i)) })),
    ),
  );
const scratch = await time(() => statesOf(new Scanner(catalog, { shareRuleResults: false })));
// A new scanner per run: values shared between machines of this run only.
const engine = await time(() => statesOf(new Scanner(catalog)));
// The fleet path as a batch scan runs it: msgpack documents (as read from a fleet file) through createScannerPool,
// machines with the same profile sharing one result set. Results are turned into rows after the clock stops.
const packr = new Packr({ useRecords: false });
const docs = invs.map((inv) => ({ bytes: Uint8Array.from(packr.pack(inv)), source: inv.computer.name }));
const poolScanner = await createScannerPool({ catalog, threads: 0, reasons: false, all: true });
// Each scanMany() call has its own profile table: the second run shares nothing with the first.
const fleetRun = await time(async () => {
  const out: MachineResult[] = [];
  for await (const r of poolScanner.scanMany(docs)) out.push(r);
  return out;
});
await poolScanner.close();
const cached = {
  seconds: fleetRun.seconds,
  value: fleetRun.value.map((r) =>
    r.ok ? r.updates.map((u) => `${catalog.updateId(u.index)} ${u.state} ${u.superseded} ${u.possiblySuperseded}`) : [],
  ),
};

let disagreements = 0;
invs.forEach((_, k) => {
  for (const r of engine.value[k]!) {
    const want = ref.value[k]!.get(catalog.updateId(r.index));
    if (!want || want.state !== r.state || want.superseded !== r.superseded || want.possiblySuperseded !== r.possiblySuperseded)
      disagreements++;
  }
  const direct = engine.value[k]!.map((r) => `${catalog.updateId(r.index)} ${r.state} ${r.superseded} ${r.possiblySuperseded}`);
  if (cached.value[k]!.join('\n') !== direct.join('\n')) disagreements++;
  if (
    scratch.value[k]!.map((r) => `${catalog.updateId(r.index)} ${r.state} ${r.superseded} ${r.possiblySuperseded}`).join('\n') !==
    direct.join('\n')
  )
    disagreements++;
});

const perMachine = (s: number): string => `${((s / invs.length) * 1e6).toFixed(1)} µs/machine`;
console.log(`  reference evaluator            ${ref.seconds.toFixed(3)} s (${perMachine(ref.seconds)})`);
const ratio = (sec: number): string => `engine ÷ reference speed: ${(ref.seconds / sec).toFixed(0)}×`;
console.log(
  `  engine, each machine from scratch        ${scratch.seconds.toFixed(3)} s (${perMachine(scratch.seconds)})  ${ratio(scratch.seconds)}`,
);
console.log(
  `  engine, rule values shared by section    ${engine.seconds.toFixed(3)} s (${perMachine(engine.seconds)})  ${ratio(engine.seconds)}`,
);
console.log(
  `  engine, fleet path (msgpack, profiles)   ${cached.seconds.toFixed(3)} s (${perMachine(cached.seconds)})  ${ratio(cached.seconds)}`,
);
console.log(`  disagreements: ${disagreements}`);
if (disagreements > 0) process.exitCode = 1;
