/**
 * A new catalog without a full rescan (issue 14 item 4): a generated catalog (default 50,000 revisions), a "Patch
 * Tuesday" edit of ~1 % of its revisions (bench/patch-tuesday.ts), and N stored profiles (every machine distinct).
 * Side by side in one process, one thread, interleaved in chunks of 25 profiles: a full rescan of every profile on the
 * new catalog, and carrying each profile's old outcomes over (engine/fleet/carry-over.ts). Every carried-over result
 * set is checked equal to the full rescan's. Prints machines/s of both and the ratio, with and without the one-off cost
 * of the catalog diff.
 *
 *   npm run bench:catalog-delta -- [--revisions 50000] [--profiles 2000] [--percent 1] [--seed 7] [--carry-share yes] [--json]
 *
 * `--json`: the human lines go to stderr and one JSON line with the figures to stdout (bench/issue-14.bench.ts).
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Catalog } from '../engine/catalog/catalog.js';
import { catalogDelta } from '../engine/catalog/catalog-delta.js';
import { readCatalogFile } from '../engine/catalog/file.js';
import type { Inventory } from '../engine/inventory/types.js';
import { carryOverOutcomes } from '../engine/fleet/carry-over.js';
import { scanOutcomes } from '../engine/fleet/scan-outcomes.js';
import { Scanner } from '../engine/scanner/scanner.js';
import { FleetModel } from '../corpus/generate-fleet.js';
import { arg, jsonOut, numArg, printJson, say } from './args.js';
import { benchCatalog, load1, machineLine } from './inputs.js';
import { buildCatalog, catalogRecords, patchTuesday } from './patch-tuesday.js';

const revisions = numArg('revisions', '50000');
const profiles = numArg('profiles', '2000');
const percent = numArg('percent', '1');
const seed = numArg('seed', '7');
const work = arg('work', join(process.cwd(), 'bench', '.work'));
mkdirSync(work, { recursive: true });

const loadStart = load1();
say(`machine: ${machineLine()}`);
say(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (the machine is shared with other helpers' work)`,
);
const imported = new Catalog(readCatalogFile(benchCatalog(work, revisions)));

const seconds = (t: number): number => (performance.now() - t) / 1000;
let t = performance.now();
const records = catalogRecords(imported);
const before = buildCatalog(records, 'before');
const edit = patchTuesday(records, percent, seed);
const after = buildCatalog(edit.records, 'after');
say(
  `catalogs: ${before.size.toLocaleString('en-US')} → ${after.size.toLocaleString('en-US')} revisions; edit of ${percent} %: ` +
    `${edit.summary.added} new updates (each superseding one), ` +
    `${edit.summary.revised} new revisions (${JSON.stringify(edit.summary.revisedByType)}), ` +
    `${edit.summary.removed} expired; of the new and revised, ` +
    `${edit.summary.bundles} bundles and ${edit.summary.bundledOnly} only bundled ` +
    `(built in ${seconds(t).toFixed(1)} s)`,
);

// The stored profiles: every machine its own (the generator's `distinct` drift), scanned once on the old catalog.
const model = new FleetModel(imported);
const invs: Inventory[] = Array.from({ length: profiles }, (_, i) => model.machine(1, i, true));
const oldScanner = new Scanner(before);
const stored = invs.map((inv) => scanOutcomes(oldScanner, inv, { all: false, reasons: false }).outcomes);

// Both paths warmed on the same few profiles, each with a scanner of its own.
const fullScanner = new Scanner(after);
// The full rescan shares rule values between machines by inventory section (the fleet default: it pays there); the
// carry-over does not: digesting each machine's sections costs more than the few decisions it makes.
const carry = new Scanner(after, { shareRuleResults: arg('carry-share', 'no') === 'yes' });
t = performance.now();
const delta = catalogDelta(before, after);
const diffSeconds = seconds(t);
if (delta.fullRescan) throw new Error(delta.fullRescan);
say(
  `diff: ${delta.added.length} added, ${delta.changed.length} changed, ${delta.removed.length} removed → ` +
    `${delta.affectedList.length} updates to re-evaluate (${delta.stateAffected} may change state, ` +
    `${((delta.affectedList.length / after.size) * 100).toFixed(2)} % of the catalog), computed in ${(diffSeconds * 1000).toFixed(0)} ms`,
);
const warm = Math.min(50, profiles);
for (let k = 0; k < warm; k++) {
  scanOutcomes(fullScanner, invs[k]!, { all: false, reasons: false });
  carryOverOutcomes(carry, delta, invs[k]!, stored[k]!, { all: false });
}

// Interleaved in chunks of 25 profiles, each path timed on its own: both see the same load on a shared machine.
const full: Uint32Array[] = new Array<Uint32Array>(profiles);
const carried: Uint32Array[] = new Array<Uint32Array>(profiles);
// CPU time too (one thread: the process's user + system time, GC threads included): on a machine shared with other
// work it moves less with the load than wall time does.
const cpuSeconds = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1e6;
let fullSeconds = 0,
  carrySeconds = 0,
  fullCpu = 0,
  carryCpu = 0;
for (let at = 0; at < profiles; at += 25) {
  const end = Math.min(profiles, at + 25);
  t = performance.now();
  let c = process.cpuUsage();
  for (let k = at; k < end; k++) full[k] = scanOutcomes(fullScanner, invs[k]!, { all: false, reasons: false }).outcomes;
  fullCpu += cpuSeconds(process.cpuUsage(c));
  fullSeconds += seconds(t);
  t = performance.now();
  c = process.cpuUsage();
  for (let k = at; k < end; k++) carried[k] = carryOverOutcomes(carry, delta, invs[k]!, stored[k]!, { all: false });
  carryCpu += cpuSeconds(process.cpuUsage(c));
  carrySeconds += seconds(t);
}

let differing = 0,
  moved = 0;
for (let k = 0; k < profiles; k++) {
  const a = full[k]!,
    b = carried[k]!;
  if (a.length !== b.length || a.some((w, j) => w !== b[j])) differing++;
  if (a.length !== stored[k]!.length) moved++;
}
say(
  `profiles: ${profiles}, every one distinct; result sets differing from the full rescan: ${differing}; ` +
    `profiles whose number of outcomes changed with the new catalog: ${moved}`,
);
const rate = (s: number): string => `${Math.round(profiles / s).toLocaleString('en-US')} machines/s`;
const perMachine = (s: number): string => `${s.toFixed(2)} s, ${((s / profiles) * 1e3).toFixed(3)} ms per machine`;
say(`full rescan      ${rate(fullSeconds)} (${perMachine(fullSeconds)})`);
say(`carried over     ${rate(carrySeconds)} (${perMachine(carrySeconds)})`);
say(
  `ratio            ${(fullSeconds / carrySeconds).toFixed(1)} × (with the diff's ${(diffSeconds * 1000).toFixed(0)} ms: ` +
    `${(fullSeconds / (carrySeconds + diffSeconds)).toFixed(1)} ×)`,
);
say(
  `CPU time         full rescan ${((fullCpu / profiles) * 1e3).toFixed(3)} ms per machine, carried over ` +
    `${((carryCpu / profiles) * 1e3).toFixed(3)} ms per machine: ${(fullCpu / carryCpu).toFixed(1)} ×`,
);
say(
  `load average at end: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
if (jsonOut)
  printJson({
    bench: 'catalog-delta',
    machine: machineLine(),
    revisions: before.size,
    revisionsAfter: after.size,
    percent,
    seed,
    profiles,
    affected: delta.affectedList.length,
    diffSeconds,
    fullSeconds,
    carrySeconds,
    fullCpuSeconds: fullCpu,
    carryCpuSeconds: carryCpu,
    ratio: fullSeconds / carrySeconds,
    ratioWithDiff: fullSeconds / (carrySeconds + diffSeconds),
    cpuRatio: fullCpu / carryCpu,
    differing,
    loadStart,
    loadEnd: load1(),
  });
if (differing > 0) process.exitCode = 1;
