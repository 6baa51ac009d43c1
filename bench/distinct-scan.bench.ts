/**
 * The first-of-a-profile scan alone (issue 14, item 3): in-process, one thread, rule values shared as a worker shares
 * them, on machines of a `corpus fleet --distinct 100` fleet decoded beforehand — no decoding, digest or I/O in the
 * figure. Prints CPU per machine and the work per machine (rule slots evaluated and taken from earlier machines,
 * outcomes). To compare two builds, run each build's copy of this file on the same files, alternately:
 *
 *   node dist/bench/distinct-scan.bench.js --catalog catalog-50000-1.pscat --fleet fleet-50000-5000-d100.msgpack [--machines 600] [--warm 50]
 *
 * It also scans the same machines once more: every rule value is then shared, so that figure is what deciding the
 * updates costs apart from evaluating rules (a machine whose profile is new but whose rule inputs are all known).
 */
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile } from '../engine/catalog/file.js';
import { scanOutcomes } from '../engine/fleet/scan-outcomes.js';
import { Scanner } from '../engine/scanner/scanner.js';
import { arg, numArg } from './args.js';
import { fleetInventories } from './inputs.js';

const catalog = new Catalog(readCatalogFile(arg('catalog', 'bench/.work/catalog-50000-1.pscat')));
const machines = numArg('machines', '600');
const warm = numArg('warm', '50');
const invs = fleetInventories(arg('fleet', 'bench/.work/fleet-50000-5000-d100.msgpack'), machines);
const scanner = new Scanner(catalog);
const options = { all: false, reasons: false };
// The first machines warm the JIT and the shared rule values, as a worker's first machines do.
for (let k = 0; k < Math.min(warm, invs.length); k++) scanOutcomes(scanner, invs[k]!, options);
const before = scanner.ruleValueStats();
let outcomes = 0;
const cpu = process.cpuUsage();
for (let k = warm; k < invs.length; k++) outcomes += scanOutcomes(scanner, invs[k]!, options).outcomes.length;
const used = process.cpuUsage(cpu);
const after = scanner.ruleValueStats();
const again = process.cpuUsage();
for (let k = warm; k < invs.length; k++) scanOutcomes(scanner, invs[k]!, options);
const usedAgain = process.cpuUsage(again);
const n = Math.max(1, invs.length - warm);
console.log(
  JSON.stringify({
    machines: n,
    cpuMsPerMachine: +((used.user + used.system) / 1000 / n).toFixed(3),
    ruleSlotsEvaluatedPerMachine: +((after.evaluated - before.evaluated) / n).toFixed(1),
    ruleSlotsSharedPerMachine: +((after.shared - before.shared) / n).toFixed(1),
    outcomesPerMachine: +(outcomes / n).toFixed(1),
    cpuMsPerMachineScannedAgain: +((usedAgain.user + usedAgain.system) / 1000 / n).toFixed(3),
  }),
);
